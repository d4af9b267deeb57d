import pytest

from accounts.models import Role
from accounts.tests.factories import ManagerFactory, MembershipFactory
from alerts.tests.smtp import MailSink


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback, which the app's mail goes to."""
    sink = MailSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    sink.stop()


@pytest.fixture
def manager(branch):
    return ManagerFactory(branch=branch).user


@pytest.fixture
def staff(branch):
    return MembershipFactory(branch=branch, role=Role.STAFF).user
