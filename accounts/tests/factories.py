import factory

from accounts import services
from accounts.models import Membership, Role, User
from branches.tests.factories import BranchFactory

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.django.Password(PASSWORD)


class AdminFactory(UserFactory):
    is_superuser = True


class MembershipFactory(factory.django.DjangoModelFactory):
    """A role at a branch, with the branch permissions it grants (as the services do)."""

    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    branch = factory.SubFactory(BranchFactory)
    role = Role.STAFF

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        membership = super()._create(model_class, *args, **kwargs)
        services.sync_branch_permissions(user=membership.user)
        return membership


class ManagerFactory(MembershipFactory):
    role = Role.MANAGER
