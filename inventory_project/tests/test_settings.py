import pytest
from django.conf import settings

from inventory_project.tests.helpers import embedded_env, manage

PRODUCTION_SECRET = "k3Y-for-tests-only-9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0"


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = manage("check", env=embedded_env(tmp_path, DJANGO_ENV="production"), check=False)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_short_secret_key(tmp_path):
    env = embedded_env(tmp_path, DJANGO_ENV="production", SECRET_KEY="short")

    result = manage("check", env=env, check=False)

    assert "SECRET_KEY must be set" in result.stderr


def test_an_unknown_environment_name_is_refused(tmp_path):
    result = manage("check", env=embedded_env(tmp_path, DJANGO_ENV="staging"), check=False)

    assert "DJANGO_ENV must be" in result.stderr


def test_production_settings_pass_the_deployment_checks(tmp_path):
    env = embedded_env(
        tmp_path,
        DJANGO_ENV="production",
        SECRET_KEY=PRODUCTION_SECRET,
        ALLOWED_HOSTS="inventory.example.com",
    )

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, check=False)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.skipif(not settings.REDIS_URL, reason="runs with DATABASE_URL and REDIS_URL set")
def test_service_urls_switch_to_postgresql_and_redis():
    assert settings.DATABASES["default"]["ENGINE"] == "inventory_project.kernel.postgresql"
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    assert layer == "inventory_project.kernel.channel_layer.ReconnectingPubSubChannelLayer"
    assert settings.CELERY_BROKER_URL == settings.REDIS_URL
    assert not settings.CELERY_TASK_ALWAYS_EAGER


def test_health_reports_ok_with_a_reachable_database(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_home_page_asks_a_visitor_to_sign_in(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/account/sign-in/?next=/"


def test_a_request_line_reaches_the_console_once(tmp_path):
    # What daphne's runserver logs for every request.
    log = 'import logging; logging.getLogger("django.channels.server").info("GET /healthz 200")'

    result = manage("shell", "--no-imports", "-c", log, env=embedded_env(tmp_path))

    assert result.stderr.count("GET /healthz 200") == 1


@pytest.mark.parametrize(
    ("extra", "prefix"),
    [
        ({"REDIS_URL": "redis://127.0.0.1:6379/3"}, "asgi3"),
        ({"REDIS_URL": "redis://127.0.0.1:6379"}, "asgi0"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/3", "CHANNEL_LAYER_PREFIX": "staging"}, "staging"),
    ],
)
def test_the_live_event_channels_are_named_apart_per_redis_database(tmp_path, extra, prefix):
    # Publish/subscribe ignores the database number: without a prefix of their own, two
    # installations on one Redis would hear each other's events.
    script = "from django.conf import settings; print(settings.CHANNEL_LAYERS['default'])"
    result = manage("shell", "-c", script, env=embedded_env(tmp_path, **extra))

    assert f"'prefix': '{prefix}'" in result.stdout
