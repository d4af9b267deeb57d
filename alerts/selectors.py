"""Reads of alerts shared by the API, the pages and the e-mail tasks."""

import uuid

from django.db.models import Q, QuerySet

from accounts import permissions
from accounts.models import AlertMail, Role, User
from accounts.permissions import AnyUser
from alerts.models import UNRESOLVED, LowStockAlert


def visible_alerts(user: AnyUser) -> QuerySet[LowStockAlert]:
    """The alerts of the branches ``user`` may see, newest first, ready to list."""
    return permissions.scope(
        LowStockAlert.objects.select_related(
            "branch", "product", "stock_level", "acknowledged_by"
        ).order_by("-raised_at", "pk"),
        user,
    )


def people_to_alert(branch_id: uuid.UUID | str | None, *, mail: tuple[str, ...]) -> QuerySet[User]:
    """Who hears about a branch's low stock (any branch's, for ``None``): its active
    MANAGERs, and the active ADMINs who asked for every branch's mail, whose ``alert_mail``
    choice is one of ``mail`` and who have an address to write to."""
    managing = {"memberships__role": Role.MANAGER}
    if branch_id is not None:
        managing["memberships__branch_id"] = branch_id
    return (
        User.objects.filter(is_active=True, alert_mail__in=mail)
        .exclude(email="")
        .filter(Q(**managing) | Q(is_superuser=True, alert_mail_all_branches=True))
        .distinct()
        .order_by("email")
    )


def digest_recipients() -> QuerySet[User]:
    """Everyone who takes the daily digest: whoever hears about some branch's low stock
    and chose EACH or DIGEST."""
    return people_to_alert(None, mail=(AlertMail.EACH, AlertMail.DIGEST))


def open_alerts_for(user: User) -> QuerySet[LowStockAlert]:
    """The unresolved alerts of the branches ``user`` manages (every branch for an ADMIN
    who takes every branch's mail), by branch then product."""
    alerts = LowStockAlert.objects.filter(
        status__in=UNRESOLVED, branch__is_active=True
    ).select_related("branch", "product", "stock_level")
    if not (user.is_superuser and user.alert_mail_all_branches):
        alerts = alerts.filter(
            branch__memberships__user=user, branch__memberships__role=Role.MANAGER
        )
    return alerts.order_by("branch__code", "product__name", "pk")
