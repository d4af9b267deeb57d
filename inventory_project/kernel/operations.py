"""Migration operations that keep the tables writable while they run."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex


class AddIndexOnline(AddIndexConcurrently):
    """Build an index without blocking writes to its table: ``CREATE INDEX CONCURRENTLY`` on
    PostgreSQL (the migration then says ``atomic = False``), a plain index elsewhere (SQLite,
    where ``make run`` has nobody else writing).

    Should a concurrent build fail, PostgreSQL leaves the index INVALID: drop it and migrate
    again.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
