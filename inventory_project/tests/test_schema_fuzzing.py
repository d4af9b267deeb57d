"""schemathesis drives every operation of the published schema with generated requests, valid
and invalid, signed in as an ADMIN, through the real WSGI application and database.

Every answer must be no server error and exactly what the schema promises: a documented
status code, content type, headers and body.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts import services as account_services
from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.wsgi import application
from stock import services as stock_services

pytestmark = [pytest.mark.slow]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


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


schema = schemathesis.pytest.from_fixture("api_schema")
# Signing this very device out would leave the rest of the run anonymous.
schema.exclude(path_regex=r"^/api/v1/auth/logout")


@pytest.fixture
def token(db) -> str:
    """An ADMIN's device token, and a little of everything for requests to find."""
    admin = AdminFactory()
    branch = BranchFactory()
    MembershipFactory(branch=branch, role=Role.STAFF)
    for product in ProductFactory.create_batch(3):
        stock_services.receive_stock(
            actor=admin, branch_id=branch.pk, product_id=product.pk, quantity=5
        )
    _, key = account_services.sign_in_device(user=admin, device="fuzzer")
    return key


@schema.parametrize()
@hypothesis_settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_every_answer_keeps_to_the_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
