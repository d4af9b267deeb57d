"""The two ends of a transfer and the people at them, for the transfers tests."""

import pytest

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from branches.tests.factories import BranchFactory


@pytest.fixture
def source():
    return BranchFactory()


@pytest.fixture
def destination():
    return BranchFactory()


@pytest.fixture
def source_manager(source):
    return MembershipFactory(branch=source, role=Role.MANAGER).user


@pytest.fixture
def destination_manager(destination):
    return MembershipFactory(branch=destination, role=Role.MANAGER).user


@pytest.fixture
def destination_staff(destination):
    return MembershipFactory(branch=destination, role=Role.STAFF).user
