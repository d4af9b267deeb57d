"""Trigram indexes behind the case-insensitive partial search of products (PostgreSQL).

Django answers ``icontains`` with ``UPPER(col::text) LIKE UPPER('%term%')``, which no
B-tree index can serve; a GIN trigram index on the same expression can. SQLite, the
embedded default, scans instead.
"""

from django.db import migrations

COLUMNS = ("name", "sku", "barcode")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS product_{column}_trgm_idx ON catalog_product "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)",
            params=None,
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS product_{column}_trgm_idx", params=None)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_product_filter_indexes_and_sku_unique_ci")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
