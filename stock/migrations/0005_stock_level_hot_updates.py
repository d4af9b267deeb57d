"""Movements update stock levels in place (HOT): no index covers a column a movement changes,
and on PostgreSQL each page keeps room for the new row version.

``fillfactor`` applies to pages written from now on (a ``VACUUM FULL`` or ``pg_repack`` of
the table applies it to existing ones). The autovacuum thresholds are a fraction of the
table: with the default 20 % a 1,000,000-level table would wait for 200,000 dead row
versions; 2 % vacuums (and refreshes the visibility map that index-only counts rely on)
after 20,000.
"""

from django.db import migrations

STORAGE = {
    "fillfactor": "85",
    "autovacuum_vacuum_scale_factor": "0.02",
    "autovacuum_analyze_scale_factor": "0.02",
}


def set_storage(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    options = ", ".join(f"{name} = {value}" for name, value in STORAGE.items())
    schema_editor.execute(f"ALTER TABLE stock_stocklevel SET ({options})")


def reset_storage(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE stock_stocklevel RESET ({', '.join(STORAGE)})")


class Migration(migrations.Migration):
    dependencies = [
        ("stock", "0004_idempotent_request_moves_to_kernel"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="stocklevel", name="stock_level_branch_on_hand_idx"),
        migrations.RemoveIndex(model_name="stocklevel", name="stock_level_branch_updated_idx"),
        migrations.RunPython(set_storage, reset_storage, elidable=False),
    ]
