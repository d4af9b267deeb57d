from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse

from accounts import services
from accounts.models import ApiToken, Membership, User
from inventory_project.kernel.admin import ServiceAdmin, ServiceInline
from inventory_project.kernel.errors import DomainError

# Roles are branch memberships, not permission groups.
admin.site.unregister(Group)


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "full_name"]


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class MembershipInline(ServiceInline):
    """A person's roles, given, changed and taken away through the membership services,
    which keep their branch permissions in step."""

    model = Membership
    extra = 0
    autocomplete_fields = ["branch"]
    services = {
        "create": services.add_membership,
        "update": services.change_membership_role,
        "delete": services.remove_membership,
    }

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class Formset(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                # A role stays at its branch; another branch is another membership.
                if index is not None and index < self.initial_form_count():
                    form.fields["branch"].disabled = True

        return Formset

    def create(self, request, parent, form):
        return self.services["create"](
            actor=request.user,
            email=parent.email,
            branch_id=form.cleaned_data["branch"].pk,
            role=form.cleaned_data["role"],
        )

    def update(self, request, parent, form):
        if "role" in form.changed_data:
            self.services["update"](
                actor=request.user, membership_id=form.instance.pk, role=form.cleaned_data["role"]
            )

    def delete(self, request, parent, obj):
        self.services["delete"](actor=request.user, membership_id=obj.pk)


@admin.register(User)
class UserAdmin(ServiceAdmin, BaseUserAdmin):
    """Accounts are added, changed and switched off through the account services: rights,
    sessions and API tokens follow as they do in the app. Accounts are deactivated, not
    deleted."""

    services = {"create": services.create_user, "update": services.update_user}
    form = UserEditForm
    add_form = UserCreationForm
    list_display = ["email", "full_name", "is_superuser", "is_active", "last_login"]
    list_filter = ["is_superuser", "is_active", "memberships__role", "memberships__branch"]
    search_fields = ["email", "full_name"]
    ordering = ["email"]
    inlines = [MembershipInline]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name"]}),
        ("Access", {"fields": ["is_active", "is_superuser"]}),
        ("Low-stock e-mail", {"fields": ["alert_mail", "alert_mail_all_branches"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "full_name", "password1", "password2"],
            },
        ),
    ]
    filter_horizontal = []

    def get_inlines(self, request, obj):
        # Roles are given once the account exists, on its change page.
        return self.inlines if obj else []

    def get_readonly_fields(self, request, obj=None):
        # No one switches off their own account or administrator rights by accident.
        if obj is not None and obj.pk == request.user.pk:
            return [*self.readonly_fields, "is_active", "is_superuser"]
        return self.readonly_fields

    def create(self, request, form):
        return self.services["create"](
            actor=request.user,
            email=form.cleaned_data["email"],
            full_name=form.cleaned_data.get("full_name", ""),
            password=form.cleaned_data.get("password1") or "",
        )

    def update(self, request, obj, form):
        changed = set(form.changed_data)
        data = form.cleaned_data
        user = obj
        profile = {
            keyword: data[name]
            for name, keyword in [("email", "email"), ("full_name", "full_name")]
            if name in changed
        }
        if "is_superuser" in changed:
            profile["is_admin"] = data["is_superuser"]
        if profile:
            user = self.services["update"](actor=request.user, user_id=obj.pk, **profile)
        if {"alert_mail", "alert_mail_all_branches"} & changed:
            user = services.set_alert_mail(
                user=user,
                alert_mail=data["alert_mail"] if "alert_mail" in changed else None,
                all_branches=(
                    data["alert_mail_all_branches"]
                    if "alert_mail_all_branches" in changed
                    else None
                ),
            )
        if "is_active" in changed:
            switch = services.reactivate_user if data["is_active"] else services.deactivate_user
            user = switch(actor=request.user, user_id=obj.pk)
        return user if changed else None

    def user_change_password(self, request, id, form_url=""):
        """Django's password page, with the new password set by the account service."""
        user = self.get_object(request, unquote(id))
        if (
            request.method != "POST"
            or user is None
            or not self.has_change_permission(request, user)
        ):
            return super().user_change_password(request, id, form_url)
        form = self.change_password_form(user, request.POST)
        if not form.is_valid():
            return super().user_change_password(request, id, form_url)
        usable = form.cleaned_data["set_usable_password"]
        if not usable and "unset-password" not in request.POST:
            # Django's page says what is wrong with conflicting buttons.
            return super().user_change_password(request, id, form_url)
        try:
            user = services.set_user_password(
                actor=request.user,
                user_id=user.pk,
                password=form.cleaned_data["password1"] if usable else None,
            )
        except DomainError as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        self.log_change(request, user, self.construct_change_message(request, form, None))
        if usable:
            self.message_user(request, "Password changed successfully.", messages.SUCCESS)
        else:
            self.message_user(
                request, "Password-based authentication was disabled.", messages.SUCCESS
            )
        if user.pk == request.user.pk:
            update_session_auth_hash(request, user)
        return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))


@admin.register(Membership)
class MembershipAdmin(ServiceAdmin):
    """Roles at branches, through the membership services, which keep each person's branch
    permissions in step."""

    services = {
        "create": services.add_membership,
        "update": services.change_membership_role,
        "delete": services.remove_membership,
    }
    list_display = ["user", "branch", "role", "created_at"]
    list_filter = ["role", "branch"]
    list_select_related = ["user", "branch"]
    ordering = ["branch__code", "role", "user__email"]
    search_fields = ["user__email", "user__full_name", "branch__code", "branch__name"]
    autocomplete_fields = ["user", "branch"]

    def get_readonly_fields(self, request, obj=None):
        # A role stays with its person and branch; another is another membership.
        return ["user", "branch"] if obj is not None else []

    def create(self, request, form):
        return self.services["create"](
            actor=request.user,
            email=form.cleaned_data["user"].email,
            branch_id=form.cleaned_data["branch"].pk,
            role=form.cleaned_data["role"],
        )

    def update(self, request, obj, form):
        if "role" not in form.changed_data:
            return None
        return self.services["update"](
            actor=request.user, membership_id=obj.pk, role=form.cleaned_data["role"]
        )


@admin.register(ApiToken)
class ApiTokenAdmin(ServiceAdmin):
    """Devices signed in to the API. Tokens are issued by signing in; deleting one signs that
    device out."""

    services = {"delete": services.sign_out_device}
    service_id = "token_id"
    list_display = ["device", "user", "created", "last_used_at", "expiry"]
    list_select_related = ["user"]
    search_fields = ["device", "user__email", "user__full_name"]
    ordering = ["-created"]
    fields = ["device", "user", "created", "last_used_at", "expiry"]
    readonly_fields = fields

    def response_delete(self, request, obj_display, obj_id):
        super().response_delete(request, obj_display, obj_id)
        # Back to the devices, not the admin index (which Django picks for read-only models).
        return redirect("admin:accounts_apitoken_changelist")
