"""Every change to people, their roles and their access goes through these functions.

Memberships decide what a user may do at a branch; ``sync_branch_permissions`` turns them
into django-guardian object permissions and is called by every function that changes a
membership, in the same transaction.
"""

import uuid
from dataclasses import dataclass
from functools import partial

from axes import utils as axes_utils
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.settings import knox_settings

from accounts import authentication, permissions, tasks
from accounts.models import AlertMail, ApiToken, BranchPermission, Membership, Role, User
from accounts.permissions import Action, AnyUser
from branches.models import Branch
from inventory_project.kernel import realtime
from inventory_project.kernel.errors import Conflict, InvalidInput, NotFound, NotPermitted


@dataclass(frozen=True)
class PermissionSync:
    granted: int
    revoked: int


def sync_branch_permissions(*, user: User) -> PermissionSync:
    """Make ``user``'s object permissions on branches exactly what their memberships grant.

    The one place that grants and revokes them. Idempotent; a no-op when already in step.
    """
    with transaction.atomic():
        # Serialises syncs of one person; each then reads the memberships committed so far.
        _lock_user(user.pk)
        return _sync_branch_permissions(user)


def _sync_branch_permissions(user: User) -> PermissionSync:
    wanted = {
        (branch_id, action.value)
        for branch_id, role in user.memberships.values_list("branch_id", "role")
        for action in permissions.ROLE_ACTIONS[role]
    }
    held = {
        (branch_id, codename): pk
        for pk, branch_id, codename in BranchPermission.objects.filter(user=user).values_list(
            "pk", "content_object_id", "permission__codename"
        )
    }
    stale = [pk for key, pk in held.items() if key not in wanted]
    missing = wanted - held.keys()
    if stale:
        BranchPermission.objects.filter(pk__in=stale).delete()
    if missing:
        by_codename = _branch_permissions()
        BranchPermission.objects.bulk_create(
            [
                BranchPermission(
                    user=user, content_object_id=branch_id, permission=by_codename[codename]
                )
                for branch_id, codename in missing
            ],
            ignore_conflicts=True,
        )
    if stale or missing:
        permissions.forget_noted_rights()
        # Other processes note rights with a remembered token: it is forgotten.
        _user_changed(user.pk)
        realtime.notify_access_changed(user.pk)
    return PermissionSync(granted=len(missing), revoked=len(stale))


def announce_access_changed(*, user: User) -> None:
    """Say that ``user``'s rights changed other than through these services (the back
    office edits ``is_superuser`` and ``is_active`` on the form itself)."""
    _user_changed(user.pk)
    realtime.notify_access_changed(user.pk)


def sync_all_branch_permissions() -> PermissionSync:
    """Re-derive every user's branch permissions from memberships (after a role's
    permissions change, or to repair drift)."""
    granted = revoked = 0
    users = User.objects.filter(pk__in=Membership.objects.values("user")) | User.objects.filter(
        pk__in=BranchPermission.objects.values("user")
    )
    for user in users.distinct().order_by("pk"):
        result = sync_branch_permissions(user=user)
        granted += result.granted
        revoked += result.revoked
    return PermissionSync(granted=granted, revoked=revoked)


def create_user(
    *,
    actor: AnyUser,
    email: str,
    password: str | None,
    full_name: str = "",
    is_admin: bool = False,
    branch_id: uuid.UUID | str | None = None,
    role: str | None = None,
    language: str = "",
) -> User:
    """Create an account, optionally with a first membership.

    ADMINs create anyone. A MANAGER creates STAFF of a branch they manage, and nothing else:
    ``branch_id`` and ``role=STAFF`` are then required. ``password=None`` creates the
    account without a usable password (an invitation: the person chooses one from a link).
    """
    if is_admin and not permissions.is_admin(actor):
        raise permissions.deny(actor, "Only an administrator can create administrators.")
    if (branch_id is None) != (role is None):
        raise InvalidInput("Give both a branch and a role, or neither.")
    if branch_id is None and not permissions.is_admin(actor):
        raise permissions.deny(actor, "Name the branch and role of the new staff member.")
    # Who may do this is settled before the input is judged, so that a refusal says nothing
    # about the input.
    branch = (
        None if branch_id is None else _membership_branch(actor, branch_id=branch_id, role=role)
    )
    email = _clean_email(email)
    user = User(
        email=email,
        full_name=full_name.strip(),
        is_superuser=is_admin,
        language=_check_language(language),
    )
    if password is None:
        user.set_unusable_password()
    else:
        _check_password(password, user)
        user.set_password(password)
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise Conflict(f"A user with the e-mail address {email} already exists.")
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise Conflict(f"A user with the e-mail address {email} already exists.") from None
        if branch is not None:
            Membership.objects.create(user=user, branch=branch, role=role)
            sync_branch_permissions(user=user)
    return user


def update_user(
    *,
    actor: AnyUser,
    user_id: uuid.UUID | str,
    email: str | None = None,
    full_name: str | None = None,
    is_admin: bool | None = None,
) -> User:
    """Change a user's e-mail address, name or ADMIN status (ADMINs only)."""
    permissions.require_admin(actor, "Only an administrator can change accounts.")
    with transaction.atomic():
        user = _lock_user(user_id)
        if email is not None:
            email = _clean_email(email)
            if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
                raise Conflict(f"A user with the e-mail address {email} already exists.")
            user.email = email
        if full_name is not None:
            user.full_name = full_name.strip()
        if is_admin is not None:
            if not is_admin and user.pk == actor.pk:
                raise InvalidInput("You cannot take away your own administrator rights.")
            user.is_superuser = is_admin
            # Every branch's mail is an administrator's option; it goes with the rights.
            user.alert_mail_all_branches = user.alert_mail_all_branches and is_admin
        user.save(update_fields=["email", "full_name", "is_superuser", "alert_mail_all_branches"])
        _user_changed(user.pk)
        if is_admin is not None:
            realtime.notify_access_changed(user.pk)
    return user


def set_alert_mail(
    *, user: User, alert_mail: str | None = None, all_branches: bool | None = None
) -> User:
    """Choose one's own low-stock e-mail: each alert and the digest, the digest only, or none;
    ADMINs may also take every branch's mail (``all_branches``)."""
    if alert_mail is not None and alert_mail not in AlertMail.values:
        choices = ", ".join(AlertMail.values)
        raise InvalidInput(
            _("Low-stock e-mail must be one of: %(choices)s.") % {"choices": choices},
            field="alert_mail",
        )
    if all_branches and not permissions.is_admin(user):
        raise InvalidInput(
            _("Only administrators get the low-stock e-mail of every branch."),
            field="alert_mail_all_branches",
        )
    with transaction.atomic():
        user = _lock_user(user.pk)
        if alert_mail is not None:
            user.alert_mail = alert_mail
        if all_branches is not None:
            user.alert_mail_all_branches = all_branches
        user.save(update_fields=["alert_mail", "alert_mail_all_branches"])
        _user_changed(user.pk)
    return user


def set_language(*, actor: User, language: str) -> User:
    """Choose the language of one's own pages and e-mails: a code of ``settings.LANGUAGES``,
    or ``""`` to follow what the browser asks for."""
    language = _check_language(language)
    if not (actor.is_authenticated and actor.is_active):
        raise NotPermitted(_("Only a signed-in person chooses their own language."))
    with transaction.atomic():
        user = _lock_user(actor.pk)
        user.language = language
        user.save(update_fields=["language"])
        _user_changed(user.pk)
    return user


def deactivate_user(*, actor: AnyUser, user_id: uuid.UUID | str) -> User:
    """Switch an account off at once: sessions stop working and every API token is revoked."""
    with transaction.atomic():
        user = _lock_visible_user(actor, user_id)
        if not permissions.may_change_account(actor, user):
            raise permissions.deny(actor, f"You may not deactivate {user.email}.")
        user.is_active = False
        user.sessions_revoked_at = timezone.now()
        user.save(update_fields=["is_active", "sessions_revoked_at"])
        _delete_tokens(ApiToken.objects.filter(user=user))
        realtime.notify_access_changed(user.pk)
    return user


def reactivate_user(*, actor: AnyUser, user_id: uuid.UUID | str) -> User:
    """Let a deactivated account sign in again; sessions and API tokens from before stay
    revoked."""
    with transaction.atomic():
        user = _lock_visible_user(actor, user_id)
        if not permissions.may_change_account(actor, user):
            raise permissions.deny(actor, f"You may not reactivate {user.email}.")
        user.is_active = True
        user.save(update_fields=["is_active"])
        _user_changed(user.pk)
        realtime.notify_access_changed(user.pk)
    return user


def set_user_password(*, actor: AnyUser, user_id: uuid.UUID | str, password: str | None) -> User:
    """Give someone a new password (ADMINs only), or none: ``None`` switches signing in with
    a password off. Their browser sessions end with the old password."""
    permissions.require_admin(actor, "Only an administrator can set passwords.")
    with transaction.atomic():
        user = _lock_user(user_id)
        if password is None:
            user.set_unusable_password()
        else:
            _check_password(password, user)
            user.set_password(password)
        user.save(update_fields=["password"])
        _user_changed(user.pk)
    return user


def add_membership(
    *, actor: AnyUser, email: str, branch_id: uuid.UUID | str, role: str
) -> Membership:
    """Give the user with ``email`` a role at a branch (ADMINs: any; MANAGERs: STAFF of a
    branch they manage)."""
    with transaction.atomic():
        branch = _membership_branch(actor, branch_id=branch_id, role=role)
        target = User.objects.filter(email__iexact=email.strip()).first()
        if target is None:
            raise NotFound(f"No user with the e-mail address {email.strip()}.")
        user = _lock_user(target.pk)
        if Membership.objects.filter(user=user, branch=branch).exists():
            raise Conflict(f"{user.email} already has a role at {branch.code}.")
        membership = Membership.objects.create(user=user, branch=branch, role=role)
        sync_branch_permissions(user=user)
    return membership


def change_membership_role(
    *, actor: AnyUser, membership_id: uuid.UUID | str, role: str
) -> Membership:
    """Change a role at a branch; both the old and the new role must be the actor's to give."""
    _check_role(role)
    with transaction.atomic():
        membership = _visible_membership(actor, membership_id)
        user = _lock_user(membership.user_id)
        membership = Membership.objects.select_related("branch").get(pk=membership.pk)
        for each in {membership.role, role}:
            if not permissions.may_manage_membership(actor, branch=membership.branch, role=each):
                raise permissions.deny(
                    actor, f"You may not change {each.lower()} roles at {membership.branch.code}."
                )
        membership.role = role
        membership.save(update_fields=["role"])
        sync_branch_permissions(user=user)
    return membership


def remove_membership(*, actor: AnyUser, membership_id: uuid.UUID | str) -> None:
    """Take a user's role at a branch away; their permissions there go with it."""
    with transaction.atomic():
        membership = _visible_membership(actor, membership_id)
        if not permissions.may_manage_membership(
            actor, branch=membership.branch, role=membership.role
        ):
            raise permissions.deny(
                actor,
                f"You may not remove {membership.get_role_display()}s at {membership.branch.code}.",
            )
        user = _lock_user(membership.user_id)
        membership.delete()
        sync_branch_permissions(user=user)


def invite_user(
    *,
    actor: AnyUser,
    email: str,
    full_name: str,
    branch_id: uuid.UUID | str,
    role: str,
    language: str = "",
) -> User:
    """Create an account without a password, with a role at a branch, and e-mail its owner
    an invitation with a link to choose a password (once this commits).

    The rules of ``create_user``: ADMINs invite anyone to any branch, a MANAGER invites
    STAFF of a branch they manage. An address that already has an account is refused
    (a Conflict on ``email``): that person is given a role with ``add_membership``.
    """
    if branch_id is None or role is None:
        raise InvalidInput(_("Name the branch and the role of the person invited."))
    # Who may do this is settled before the input is judged.
    _membership_branch(actor, branch_id=branch_id, role=role)
    email = _clean_email(email)
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise Conflict(_already_has_account(email), field="email")
        try:
            user = create_user(
                actor=actor,
                email=email,
                password=None,
                full_name=full_name,
                branch_id=branch_id,
                role=role,
                language=language,
            )
        except Conflict:
            # Someone else took the address between the check and the insert.
            raise Conflict(_already_has_account(email), field="email") from None
        transaction.on_commit(partial(tasks.queue_invitation_email, user.pk, actor.pk))
    return user


def resend_invitation(*, actor: AnyUser, user_id: uuid.UUID | str) -> User:
    """E-mail a new invitation to someone who has not chosen a password yet (the links
    already sent keep working until they expire or one is used)."""
    with transaction.atomic():
        user = _lock_visible_user(actor, user_id)
        if not permissions.may_change_account(actor, user):
            raise permissions.deny(
                actor, _("You may not invite %(email)s again.") % {"email": user.email}
            )
        if user.has_usable_password():
            raise Conflict(_("%(email)s has already chosen a password.") % {"email": user.email})
        if not user.is_active:
            raise Conflict(
                _("%(email)s is deactivated: reactivate the account first.") % {"email": user.email}
            )
        transaction.on_commit(partial(tasks.queue_invitation_email, user.pk, actor.pk))
    return user


def _already_has_account(email: str) -> str:
    return _("%(email)s already has an account: add a membership instead.") % {"email": email}


def sign_in_device(*, user: User, device: str) -> tuple[ApiToken, str]:
    """Issue an API token for one device of an authenticated, active user.

    Returns the stored token and the token itself; only the token's digest is kept, so this is
    the one time it can be shown.
    """
    device = device.strip()
    if not device:
        raise InvalidInput("Name the device this token is for.")
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    with transaction.atomic():
        user = _lock_user(user.pk)
        now = timezone.now()
        # Expired tokens are refused on sight; the ones no device presents again go here.
        ApiToken.objects.filter(user=user, expiry__lte=now).delete()
        working = ApiToken.objects.filter(user=user).filter(
            Q(expiry__isnull=True) | Q(expiry__gt=now)
        )
        if limit is not None and working.count() >= limit:
            raise Conflict(
                f"You are signed in on {limit} devices, the most allowed; sign one out first."
            )
        return ApiToken.objects.create(user, expiry=knox_settings.TOKEN_TTL, device=device)


def revoke_api_token(*, actor: User, token_id: uuid.UUID | str) -> None:
    """Sign one of the actor's own devices out."""
    try:
        deleted = _delete_tokens(ApiToken.objects.filter(user=actor, pk=token_id))
    except (ValidationError, ValueError):
        deleted = 0
    if not deleted:
        raise NotFound(f"No API token with id {token_id}.")


def sign_out_device(*, actor: AnyUser, token_id: uuid.UUID | str) -> None:
    """Sign anyone's device out by revoking its API token (ADMINs only, in the back office)."""
    permissions.require_admin(actor, "Only an administrator can sign others' devices out.")
    try:
        deleted = _delete_tokens(ApiToken.objects.filter(pk=token_id))
    except (ValidationError, ValueError):
        deleted = 0
    if not deleted:
        raise NotFound(f"No API token with id {token_id}.")


def reset_password(*, user_id: uuid.UUID | str, password: str) -> User:
    """Set the password of whoever followed a reset link (the link proved who they are; the
    form checked the password against the validators). Their browser sessions end (the
    session hash follows the password), every device's API token is signed out (someone who
    resets may well suspect their password was taken), and the failed sign-ins counted
    against the address are forgotten, so that they can sign in at once even if someone had
    locked the address out."""
    with transaction.atomic():
        user = _lock_user(user_id)
        user.set_password(password)
        user.save(update_fields=["password"])
        revoke_all_api_tokens(actor=user)
        _user_changed(user.pk)
        # Counted as the sign-in form names the address (accounts.authentication).
        axes_utils.reset(username=user.email.strip().lower())
    return user


def revoke_all_api_tokens(*, actor: User) -> int:
    """Sign every one of the actor's devices out; returns how many tokens were revoked."""
    return _delete_tokens(ApiToken.objects.filter(user=actor))


def create_first_admin(*, email: str, password: str, full_name: str = "") -> User | None:
    """Create an ADMIN when there is none yet (first start); otherwise do nothing."""
    with transaction.atomic():
        if User.objects.filter(is_superuser=True).exists():
            return None
        email = _clean_email(email)
        user = User(email=email, full_name=full_name.strip(), is_superuser=True)
        _check_password(password, user)
        user.set_password(password)
        if User.objects.filter(email__iexact=email).exists():
            raise Conflict(f"{email} already exists but is not an administrator.")
        user.save()
    return user


def _delete_tokens(tokens: QuerySet[ApiToken]) -> int:
    """Revoke ``tokens``; every process stops accepting them once this commits. Returns how
    many were revoked. (A token issued meanwhile is not among them.)"""
    digests = list(tokens.values_list("digest", flat=True))
    if not digests:
        return 0
    deleted, _by_model = ApiToken.objects.filter(digest__in=digests).delete()
    _forget(digests)
    return deleted


def _user_changed(user_id: uuid.UUID) -> None:
    """After commit, every process reads ``user_id``'s tokens, and with them the user, from
    the database again rather than what it remembered of them."""
    _forget(list(ApiToken.objects.filter(user_id=user_id).values_list("digest", flat=True)))


def _forget(digests: list[str]) -> None:
    if not digests:
        return
    # Now, for whoever reads within this transaction; and once the change is visible to
    # everyone, since another process may have read the old rows in between.
    authentication.forget(digests)
    transaction.on_commit(partial(authentication.forget, digests))


def _membership_branch(actor: AnyUser, *, branch_id: uuid.UUID | str, role: str | None) -> Branch:
    _check_role(role)
    branch = permissions.require(actor, Action.VIEW, branch_id)
    if not permissions.may_manage_membership(actor, branch=branch, role=role):
        if role == Role.STAFF:
            raise permissions.deny(actor, f"You may not manage staff at {branch.code}.")
        raise permissions.deny(actor, "Only an administrator can appoint managers.")
    return branch


def _check_language(language: str | None) -> str:
    language = (language or "").strip()
    codes = [code for code, _name in settings.LANGUAGES]
    if language and language not in codes:
        raise InvalidInput(
            _("Language must be one of: %(codes)s, or empty to follow the browser.")
            % {"codes": ", ".join(codes)},
            field="language",
        )
    return language


def _check_role(role: str | None) -> None:
    if role not in Role.values:
        raise InvalidInput(f"Role {role!r} is not one of: {', '.join(Role.values)}.")


def _visible_membership(actor: AnyUser, membership_id: uuid.UUID | str) -> Membership:
    memberships = permissions.managed_memberships(actor).select_related("branch")
    try:
        return memberships.get(pk=membership_id)
    except (Membership.DoesNotExist, ValidationError, ValueError):
        raise NotFound(f"No membership with id {membership_id}.") from None


def _lock_visible_user(actor: AnyUser, user_id: uuid.UUID | str) -> User:
    managed = permissions.managed_users(actor)
    try:
        exists = managed.filter(pk=user_id).exists()
    except (ValidationError, ValueError):
        exists = False
    if not exists:
        raise NotFound(f"No user with id {user_id}.")
    return _lock_user(user_id)


def _lock_user(user_id: uuid.UUID | str) -> User:
    # Serialises changes to one person's memberships, so permission syncs never interleave.
    try:
        return User.objects.select_for_update().get(pk=user_id)
    except (User.DoesNotExist, ValidationError, ValueError):
        raise NotFound(f"No user with id {user_id}.") from None


def _clean_email(email: str) -> str:
    email = User.objects.normalize_email((email or "").strip()).lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(f"{email!r} is not a valid e-mail address.") from None
    return email


def _check_password(password: str, user: User) -> None:
    if not password:
        raise InvalidInput("A password is required.")
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages)) from None


def _branch_permissions() -> dict:
    content_type = ContentType.objects.get_for_model(Branch)
    return {
        permission.codename: permission
        for permission in content_type.permission_set.filter(codename__in=list(Action))
    }
