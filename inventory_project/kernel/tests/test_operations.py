import io

import pytest
from django.core.management import call_command
from django.db import connection


@pytest.mark.django_db(transaction=True)
def test_an_online_index_is_built_concurrently_on_postgresql_and_plainly_elsewhere():
    output = io.StringIO()

    call_command("sqlmigrate", "stock", "0007", stdout=output)

    sql = output.getvalue()
    assert "movement_level_time_idx" in sql
    assert ("CONCURRENTLY" in sql) is (connection.vendor == "postgresql")
    # CREATE INDEX CONCURRENTLY cannot run in a transaction: the migration has none.
    assert "BEGIN" not in sql
