"""Managers may now order stock: grant the new branch permission to every manager of a
branch, as ``accounts.services.sync_branch_permissions`` would (it stays the one that keeps
them in step from here on)."""

from django.db import migrations


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Membership = apps.get_model("accounts", "Membership")
    BranchPermission = apps.get_model("accounts", "BranchPermission")
    # The permission row is normally made after migrating (post_migrate); it is needed now.
    branch_type, _ = ContentType.objects.get_or_create(app_label="branches", model="branch")
    permission, _ = Permission.objects.get_or_create(
        content_type=branch_type,
        codename="order_stock",
        defaults={"name": "Draft, send and cancel purchase orders for the branch"},
    )
    BranchPermission.objects.bulk_create(
        [
            BranchPermission(user_id=user_id, content_object_id=branch_id, permission=permission)
            for user_id, branch_id in Membership.objects.filter(role="MANAGER").values_list(
                "user_id", "branch_id"
            )
        ],
        ignore_conflicts=True,
    )


def revoke(apps, schema_editor):
    BranchPermission = apps.get_model("accounts", "BranchPermission")
    BranchPermission.objects.filter(permission__codename="order_stock").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_user_language"),
        ("branches", "0005_order_stock_permission"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
