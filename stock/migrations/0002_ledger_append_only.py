"""On PostgreSQL the database itself refuses to change or remove a ledger row.

The model and queryset already refuse through the ORM; the trigger also stops raw SQL and
other clients. TRUNCATE (used by test-database flushes) is a table operation and is not
affected.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION stock_movement_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'stock movements are append-only (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER stock_movement_append_only
    BEFORE UPDATE OR DELETE ON stock_stockmovement
    FOR EACH ROW EXECUTE FUNCTION stock_movement_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS stock_movement_append_only ON stock_stockmovement;
DROP FUNCTION IF EXISTS stock_movement_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("stock", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
