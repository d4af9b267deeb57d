from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group

from accounts.models import Membership, User

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
    list_display = ["email", "full_name", "is_superuser", "is_staff", "is_active", "last_login"]
    list_filter = ["is_superuser", "is_staff", "is_active", "memberships__branch"]
    search_fields = ["email", "full_name"]
    ordering = ["email"]
    inlines = [MembershipInline]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
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


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "branch", "role", "created_at"]
    list_filter = ["role", "branch"]
    list_select_related = ["user", "branch"]
    ordering = ["branch__code", "role", "user__email"]
    search_fields = ["user__email", "user__full_name", "branch__code", "branch__name"]
    autocomplete_fields = ["user", "branch"]
