"""schemathesis drives the supplier operations of the published schema with generated
requests, valid and invalid, signed in as an ADMIN: no answer is a server error, and every
one is what the schema promises."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from accounts import services as account_services
from accounts.tests.factories import AdminFactory
from catalog.tests.factories import SupplierProductFactory
from inventory_project.tests.test_schema_fuzzing import CHECKS
from inventory_project.wsgi import application

pytestmark = [pytest.mark.slow]


@pytest.fixture
def api_schema(db):
    # The WSGI handler closes the connection at the end of each request, which would end
    # the test's transaction; Django's test client disconnects the same signals.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex=r"^/api/v1/suppliers")


@pytest.fixture
def token(db) -> str:
    """An ADMIN's device token, and suppliers selling products for requests to find."""
    admin = AdminFactory()
    SupplierProductFactory.create_batch(3)
    _, key = account_services.sign_in_device(user=admin, device="fuzzer")
    return key


@schema.parametrize()
@hypothesis_settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_every_supplier_answer_keeps_to_the_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
