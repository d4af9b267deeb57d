import json
import os
import re
import subprocess
import sys

import pytest
from django.db.migrations.recorder import MigrationRecorder

from inventory_project import views

BASE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(autouse=True)
def migrations_not_yet_checked(monkeypatch):
    monkeypatch.setattr(views, "_migrated", False)


@pytest.mark.django_db
def test_live_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.django_db
def test_ready_names_each_check_when_all_is_well(client, settings):
    response = client.get("/health/ready")

    expected = {"database": "ok", "migrations": "ok"}
    if settings.REDIS_URL:
        expected["redis"] = "ok"
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": expected}


@pytest.mark.django_db
def test_ready_asks_two_queries_then_one_once_the_migrations_are_applied(
    client, django_assert_max_num_queries, django_assert_num_queries
):
    with django_assert_max_num_queries(2):
        first = client.get("/health/ready")
    with django_assert_num_queries(1):
        second = client.get("/health/ready")

    assert (first.status_code, second.status_code) == (200, 200)


@pytest.mark.django_db
def test_ready_is_unavailable_with_a_migration_not_applied(client):
    MigrationRecorder.Migration.objects.filter(app="stock").order_by("-applied").first().delete()

    response = client.get("/health/ready")
    alias = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["migrations"] == "pending"
    assert (alias.status_code, alias.json()["checks"]["migrations"]) == (503, "pending")


@pytest.mark.django_db
def test_healthz_keeps_its_old_answer_while_ready(client):
    response = client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


PROBE_ALL = """
import django, json
django.setup()
from django.test import Client
client = Client(HTTP_HOST="localhost")
answers = {}
for url in ("/health/live", "/health/ready", "/healthz"):
    response = client.get(url)
    answers[url] = [response.status_code, json.loads(response.content)]
print(json.dumps(answers))
"""


def test_without_a_database_ready_answers_503_naming_it_and_live_still_200():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "inventory_project.settings",
        # Nothing listens on port 1: the connection is refused at once.
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere",
    }
    env.pop("REDIS_URL", None)
    env.pop("DJANGO_ENV", None)

    result = subprocess.run(
        [sys.executable, "-c", PROBE_ALL],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.splitlines()[-1])
    down = {"status": "unavailable", "checks": {"database": "down"}}
    assert answers == {
        "/health/live": [200, {"status": "ok"}],
        "/health/ready": [503, down],
        "/healthz": [503, down],
    }
    # An outage probed every few seconds is in the answers, not an error logged each time.
    assert "Internal Server Error" not in result.stderr


def test_health_urls_are_exempt_from_the_https_redirect():
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "SECRET_KEY": "x" * 20 + "abcdefghij" * 3,
        "ALLOWED_HOSTS": "localhost",
    }
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "import json; print(json.dumps(settings.SECURE_REDIRECT_EXEMPT))"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    exempt = json.loads(result.stdout.splitlines()[-1])
    for path in ("healthz", "health/ready", "health/live", "metrics"):
        assert any(re.fullmatch(pattern, path) for pattern in exempt), path


# The API's documentation pages ------------------------------------------------------------

EXTERNAL = re.compile(r"""(?:https?:)?//(?!testserver\b)[a-z0-9.-]+""", re.IGNORECASE)


@pytest.mark.parametrize("url", ["/api/schema/redoc/", "/api/schema/swagger-ui/"])
@pytest.mark.django_db
def test_the_api_documentation_loads_nothing_from_another_host(client, url):
    response = client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/" in html
    assert EXTERNAL.findall(html) == []
    assert response["Content-Security-Policy"] == (
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'"
    )


@pytest.mark.django_db
def test_redoc_uses_the_system_fonts(client):
    html = client.get("/api/schema/redoc/").content.decode()

    assert "fonts.googleapis" not in html
    assert "system-ui" in html


@pytest.mark.django_db
def test_swagger_ui_sends_the_schema_to_no_validator(client):
    html = client.get("/api/schema/swagger-ui/").content.decode()

    assert '"validatorUrl": null' in html
