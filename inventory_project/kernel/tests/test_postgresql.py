import pytest
from django.db import OperationalError, connection, connections

pytestmark = pytest.mark.usefixtures("postgres")


@pytest.fixture
def own():
    """A connection of its own, outside the test's transaction, counting its pings."""
    conn = connections.create_connection("default")
    conn.settings_dict["CONN_MAX_AGE"] = 60
    conn.settings_dict["CONN_HEALTH_CHECKS"] = True
    pings = []
    is_usable = conn.is_usable

    def counted():
        pings.append(1)
        return is_usable()

    conn.is_usable = counted
    conn.pings = pings
    yield conn
    conn.close()


def a_request(conn) -> int:
    """What Django does around a request: check the connection, query, check again."""
    conn.close_if_unusable_or_obsolete()  # request_started
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    conn.close_if_unusable_or_obsolete()  # request_finished
    return pid


def test_a_connection_in_steady_use_is_not_pinged(own):
    first = a_request(own)
    second = a_request(own)

    assert first == second
    assert own.pings == []


def test_a_connection_left_idle_is_pinged_first(own, settings):
    a_request(own)
    own._used_at -= settings.DATABASE_HEALTH_CHECK_IDLE + 1

    a_request(own)

    assert own.pings == [1]


def test_an_idle_connection_the_server_dropped_is_replaced_unnoticed(own, settings):
    pid = a_request(own)
    terminate(pid)
    own._used_at -= settings.DATABASE_HEALTH_CHECK_IDLE + 1

    assert a_request(own) != pid


def test_a_busy_connection_the_server_dropped_fails_one_request_and_is_replaced(own):
    pid = a_request(own)
    terminate(pid)

    with pytest.raises(OperationalError):
        a_request(own)

    assert a_request(own) != pid


def terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


def test_a_statement_sent_again_is_planned_once(own):
    for _ in range(2):
        a_request(own)

    with own.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]

    assert "SELECT pg_backend_pid()" in prepared
