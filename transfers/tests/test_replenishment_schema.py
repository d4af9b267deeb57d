"""schemathesis drives the replenishment operations with generated requests, valid and
invalid, as the whole-schema fuzzing does, but with a world where something needs
replenishing: a level under its minimum, a branch with spare stock and a supplier."""

from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from accounts import services as account_services
from accounts.tests.factories import AdminFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory, SupplierFactory
from inventory_project.tests.test_schema_fuzzing import CHECKS
from inventory_project.tests.test_schema_fuzzing import api_schema as api_schema
from stock.models import StockLevel
from transfers.tests.factories import offered

pytestmark = [pytest.mark.slow]

schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex="replenishment")


@pytest.fixture
def token(db) -> str:
    admin = AdminFactory()
    here, there = BranchFactory(), BranchFactory()
    for product in ProductFactory.create_batch(2, low_stock_threshold=Decimal(5)):
        offered(SupplierFactory(), product, pack_size="4", preferred=True)
        StockLevel.objects.create(branch=here, product=product, on_hand=1)
        StockLevel.objects.create(branch=there, product=product, on_hand=30)
    _, key = account_services.sign_in_device(user=admin, device="fuzzer")
    return key


@schema.parametrize()
@hypothesis_settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_replenishment_answers_keep_to_the_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
