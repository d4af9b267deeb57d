from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.shortcuts import redirect

from accounts import services
from accounts.models import ApiToken, Membership, User

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


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["branch"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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
                "fields": ["email", "full_name", "usable_password", "password1", "password2"],
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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.deactivate_user(actor=request.user, user_id=obj.pk)
        elif change and {"is_active", "is_superuser"} & set(form.changed_data):
            services.announce_access_changed(user=obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.sync_branch_permissions(user=form.instance)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "branch", "role", "created_at"]
    list_filter = ["role", "branch"]
    list_select_related = ["user", "branch"]
    ordering = ["branch__code", "role", "user__email"]
    search_fields = ["user__email", "user__full_name", "branch__code", "branch__name"]
    autocomplete_fields = ["user", "branch"]

    # Every change of a role re-derives that person's branch permissions.
    def save_model(self, request, obj, form, change):
        previous_user = Membership.objects.filter(pk=obj.pk).values_list("user", flat=True).first()
        super().save_model(request, obj, form, change)
        for user in User.objects.filter(pk__in={obj.user_id, previous_user} - {None}):
            services.sync_branch_permissions(user=user)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.sync_branch_permissions(user=obj.user)

    def delete_queryset(self, request, queryset):
        users = list(User.objects.filter(pk__in=queryset.values("user")))
        super().delete_queryset(request, queryset)
        for user in users:
            services.sync_branch_permissions(user=user)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Devices signed in to the API. Tokens are issued by signing in; deleting one signs that
    device out."""

    list_display = ["device", "user", "created", "last_used_at", "expiry"]
    list_select_related = ["user"]
    search_fields = ["device", "user__email", "user__full_name"]
    ordering = ["-created"]
    fields = ["device", "user", "created", "last_used_at", "expiry"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def response_delete(self, request, obj_display, obj_id):
        super().response_delete(request, obj_display, obj_id)
        # Back to the devices, not the admin index (which Django picks for read-only models).
        return redirect("admin:accounts_apitoken_changelist")
