"""What the back office's model admins share: every change to domain data goes through a
service, so an admin is either read-only or routes its writes to the owning service."""

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as confirm_delete_selected
from django.contrib.admin.utils import model_ngettext
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.db.models import Model
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.text import capfirst

from inventory_project.kernel.errors import DomainError

# The operations an admin may offer, each the name of a service in ``services``.
CREATE, UPDATE, DELETE = "create", "update", "delete"


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records the domain writes (the ledger, transfers, alerts): the back office reads
    them, and changes them only through the services, in actions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ServiceAdmin(admin.ModelAdmin):
    """For domain data the back office edits: adding, changing and deleting call the owning
    service with the signed-in ADMIN as ``actor``, so the admin keeps the API's rules and
    effects (locks, checks, alerts, live events).

    ``services`` names the functions used, under ``create``, ``update`` and ``delete``; an
    operation without one is not offered. By default ``create`` gets the form's fields,
    ``update`` the id (``service_id``) and the fields that changed, ``delete`` the id; a
    relation goes by its id (``category_id``). Override ``create``, ``update`` or ``delete``
    where a service wants something else.

    A service's refusal (DomainError) rolls the whole save back and shows the same form
    again, the message beside the field it names or above the form.
    """

    services: Mapping[str, Callable[..., Any]] = {}
    # The keyword the update and delete services take the object's id by; <model>_id if blank.
    service_id = ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return CREATE in self.services and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return UPDATE in self.services and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return DELETE in self.services and super().has_delete_permission(request, obj)

    # What the services are called with ---------------------------------------------------

    def service_arguments(self, form: BaseForm, *, change: bool) -> dict[str, Any]:
        """The form's model fields as the services' keywords; on a change only those that
        changed (disabled fields never do)."""
        names = form.changed_data if change else list(form.fields)
        arguments = {}
        for name in names:
            if name not in form.cleaned_data:
                continue
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:  # a form-only field, such as a password's confirmation
                continue
            value = form.cleaned_data[name]
            if field.is_relation:
                arguments[field.attname] = None if value is None else value.pk
            else:
                arguments[name] = value
        return arguments

    def object_id_argument(self, obj: Model) -> dict[str, Any]:
        return {self.service_id or f"{self.model._meta.model_name}_id": obj.pk}

    def create(self, request: HttpRequest, form: BaseForm) -> Model:
        return self.services[CREATE](
            actor=request.user, **self.service_arguments(form, change=False)
        )

    def update(self, request: HttpRequest, obj: Model, form: BaseForm) -> Model | None:
        changes = self.service_arguments(form, change=True)
        if not changes:
            return None
        return self.services[UPDATE](actor=request.user, **self.object_id_argument(obj), **changes)

    def delete(self, request: HttpRequest, obj: Model) -> None:
        self.services[DELETE](actor=request.user, **self.object_id_argument(obj))

    # Django's hooks, routed ----------------------------------------------------------------

    def save_model(self, request, obj, form, change) -> None:
        saved = self.update(request, obj, form) if change else self.create(request, form)
        if saved is not None:
            # The admin goes on with ``obj`` (history, redirect, inlines): give it what the
            # service saved.
            for field in obj._meta.concrete_fields:
                setattr(obj, field.attname, getattr(saved, field.attname))
            obj._state.adding = False
            obj._state.db = saved._state.db

    def save_related(self, request, form, formsets, change) -> None:
        # No form.save_m2m(): a many-to-many field would be written past the services.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change) -> None:
        inline = getattr(formset, "service_inline", None)
        if inline is not None:
            inline.save_through_services(request, form.instance, formset)
        elif formset.has_changed():
            raise ImproperlyConfigured(
                f"{type(self).__name__}: the inline of {formset.model.__name__} writes past "
                "the services; make it a ServiceInline."
            )

    def delete_model(self, request, obj) -> None:
        self.delete(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete(request, obj)

    # A refusal, shown ----------------------------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as refusal:
            # The attempt's transaction is rolled back by now; validating the same input again
            # shows the form as it was typed, with the refusal on it.
            request._service_refusal = refusal
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        # Unique values and constraints are the service's to check: it names the field in
        # its own words.
        attributes: dict[str, Any] = {
            "validate_unique": _leave_to_the_service,
            "validate_constraints": _leave_to_the_service,
        }
        refusal = getattr(request, "_service_refusal", None)
        if refusal is not None:
            attributes["_post_clean"] = _refused(form, refusal)
        return type(form.__name__, (form,), attributes)

    def get_deleted_objects(self, objs, request):
        # Whether an object may go, and what goes with it, is the delete service's to say:
        # the confirmation lists the objects themselves.
        objs = list(objs)
        opts = self.model._meta
        count = {opts.verbose_name_plural: len(objs)} if objs else {}
        return [f"{capfirst(opts.verbose_name)}: {obj}" for obj in objs], count, set(), []

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(
                    f"admin:{opts.app_label}_{opts.model_name}_change",
                    args=[object_id],
                    current_app=self.admin_site.name,
                )
            )

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            description = actions["delete_selected"][2]
            actions["delete_selected"] = (_delete_selected, "delete_selected", description)
        return actions


def _leave_to_the_service(form: BaseForm) -> None:
    pass


def _refused(form_class: type[BaseForm], refusal: DomainError) -> Callable[[BaseForm], None]:
    def _post_clean(self: BaseForm) -> None:
        form_class._post_clean(self)
        field = refusal.field
        if field and field not in self.fields and field.removesuffix("_id") in self.fields:
            field = field.removesuffix("_id")
        self.add_error(field if field in self.fields else None, refusal.message)

    return _post_clean


def _delete_selected(modeladmin: ServiceAdmin, request: HttpRequest, queryset) -> None:
    """Django's bulk delete, one object at a time through the delete service: what a
    service refuses stays, with its reason shown, and the rest go."""
    _, _, perms_needed, protected = modeladmin.get_deleted_objects(queryset, request)
    if not request.POST.get("post") or protected:
        return confirm_delete_selected(modeladmin, request, queryset)
    if perms_needed:
        raise PermissionDenied
    deleted = 0
    for obj in queryset:
        try:
            with transaction.atomic():
                modeladmin.delete(request, obj)
                modeladmin.log_deletions(request, [obj])
        except DomainError as refusal:
            modeladmin.message_user(request, refusal.message, messages.ERROR)
        else:
            deleted += 1
    if deleted:
        modeladmin.message_user(
            request,
            f"Deleted {deleted} {model_ngettext(modeladmin.opts, deleted)}.",
            messages.SUCCESS,
        )
    return None


class ServiceInline(admin.TabularInline):
    """An inline whose rows are added, changed and removed through services, as
    ServiceAdmin's objects are; its parent must be a ServiceAdmin. Subclasses implement
    ``create``, ``update`` and ``delete`` for the operations named in ``services``."""

    services: Mapping[str, Callable[..., Any]] = {}

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return CREATE in self.services and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return UPDATE in self.services and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return DELETE in self.services and super().has_delete_permission(request, obj)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (formset,), {"service_inline": self})

    def create(self, request: HttpRequest, parent: Model, form: BaseForm) -> Model:
        raise NotImplementedError

    def update(self, request: HttpRequest, parent: Model, form: BaseForm) -> None:
        raise NotImplementedError

    def delete(self, request: HttpRequest, parent: Model, obj: Model) -> None:
        raise NotImplementedError

    def save_through_services(self, request: HttpRequest, parent: Model, formset) -> None:
        # What formset.save() would have noted, for the admin's history.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        deleted = formset.deleted_forms
        for form in formset.initial_forms:
            if form in deleted:
                self.delete(request, parent, form.instance)
                formset.deleted_objects.append(form.instance)
            elif form.has_changed():
                self.update(request, parent, form)
                formset.changed_objects.append((form.instance, form.changed_data))
        for form in formset.extra_forms:
            if form.has_changed() and form not in deleted:
                formset.new_objects.append(self.create(request, parent, form))
