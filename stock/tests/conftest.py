import pytest

from accounts.models import Role
from accounts.tests.factories import MembershipFactory


@pytest.fixture
def manager(branch):
    """The MANAGER of the ``branch`` fixture."""
    return MembershipFactory(branch=branch, role=Role.MANAGER).user


@pytest.fixture
def staff(branch):
    """A STAFF member of the ``branch`` fixture."""
    return MembershipFactory(branch=branch, role=Role.STAFF).user
