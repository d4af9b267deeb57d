"""Every write the back office offers on domain data goes through a service: each model
admin of a domain app is read-only or names the services it calls."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accounts.tests.factories import AdminFactory
from inventory_project.kernel.admin import ServiceAdmin, ServiceInline

DOMAIN_APPS = {"accounts", "branches", "catalog", "stock", "transfers", "alerts", "kernel"}

pytestmark = pytest.mark.django_db


def writes(model_admin, request) -> set[str]:
    """The operations ``model_admin`` offers an ADMIN, named as ServiceAdmin's services are."""
    if isinstance(model_admin, admin.options.InlineModelAdmin):
        allowed = {
            "create": model_admin.has_add_permission(request, None),
            "update": model_admin.has_change_permission(request, None),
            "delete": model_admin.has_delete_permission(request, None),
        }
    else:
        allowed = {
            "create": model_admin.has_add_permission(request),
            "update": model_admin.has_change_permission(request),
            "delete": model_admin.has_delete_permission(request),
        }
    return {operation for operation, offered in allowed.items() if offered}


def unrouted(model_admin, request, *, through: type) -> list[str]:
    """What ``model_admin`` writes past the services: operations it offers without naming a
    service for them."""
    offered = writes(model_admin, request)
    if not offered:
        return []
    declared = getattr(model_admin, "services", {}) if isinstance(model_admin, through) else {}
    name = type(model_admin).__name__
    problems = [
        f"{name} offers {operation} without a service"
        for operation in sorted(offered)
        if not callable(declared.get(operation))
    ]
    for inline_class in getattr(model_admin, "inlines", []):
        inline = inline_class(model_admin.model, model_admin.admin_site)
        if inline.model._meta.app_label not in DOMAIN_APPS:
            continue
        problems += unrouted(inline, request, through=ServiceInline)
        if writes(inline, request) and not isinstance(model_admin, ServiceAdmin):
            problems.append(f"{name} saves its inline {type(inline).__name__} itself")
    return problems


def domain_admins(site):
    return [
        (model, model_admin)
        for model, model_admin in site._registry.items()
        if model._meta.app_label in DOMAIN_APPS
    ]


@pytest.fixture
def admin_request():
    request = RequestFactory().get("/admin/")
    request.user = AdminFactory()
    return request


def test_every_domain_admin_is_read_only_or_names_its_services(admin_request):
    problems = [
        problem
        for _, model_admin in domain_admins(admin.site)
        for problem in unrouted(model_admin, admin_request, through=ServiceAdmin)
    ]

    assert problems == []


def test_the_check_sees_every_domain_app_with_an_admin():
    labels = {model._meta.app_label for model, _ in domain_admins(admin.site)}

    assert labels == DOMAIN_APPS - {"kernel"}


def test_a_plain_model_admin_of_a_domain_model_is_caught(admin_request):
    from branches.models import Branch

    site = admin.AdminSite(name="elsewhere")
    site.register(Branch, admin.ModelAdmin)

    [(_, model_admin)] = domain_admins(site)
    problems = unrouted(model_admin, admin_request, through=ServiceAdmin)

    assert problems == [
        "ModelAdmin offers create without a service",
        "ModelAdmin offers delete without a service",
        "ModelAdmin offers update without a service",
    ]


def test_a_service_admin_offering_more_than_it_names_is_caught(admin_request):
    from catalog.models import Category

    class Partly(ServiceAdmin):
        services = {"update": lambda **kwargs: None}

        def has_add_permission(self, request):
            return True

    problems = unrouted(Partly(Category, admin.site), admin_request, through=ServiceAdmin)

    assert problems == ["Partly offers create without a service"]


def test_a_writable_inline_outside_the_services_is_caught(admin_request):
    from accounts.models import Membership, User

    class Roles(admin.TabularInline):
        model = Membership

    class People(ServiceAdmin):
        services = {"update": lambda **kwargs: None}
        inlines = [Roles]

    problems = unrouted(People(User, admin.site), admin_request, through=ServiceAdmin)

    assert problems == [
        "Roles offers create without a service",
        "Roles offers delete without a service",
        "Roles offers update without a service",
    ]
