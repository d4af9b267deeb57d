import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from branches.models import Branch
from branches.tests.factories import BranchFactory

pytestmark = pytest.mark.django_db


def test_branch_codes_are_unique():
    BranchFactory(code="BER-01")

    with pytest.raises(IntegrityError), transaction.atomic():
        Branch.objects.create(code="BER-01", name="Another")


@pytest.mark.parametrize("code", ["ber-01", "BER 01", "-BER", "TOO-LONG-CODE-X"])
def test_branch_codes_are_short_upper_case_and_plain(code):
    with pytest.raises(ValidationError) as error:
        Branch(code=code, name="Somewhere").full_clean()

    assert "code" in error.value.message_dict


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(ValidationError) as error:
        Branch(code="X-1", name="Somewhere", timezone="Mars/Olympus").full_clean()

    assert "timezone" in error.value.message_dict


def test_a_known_time_zone_is_accepted():
    Branch(code="X-1", name="Somewhere", timezone="America/Sao_Paulo").full_clean()
