import factory

from branches.models import Branch


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"BR-{n:03d}")
    name = factory.Sequence(lambda n: f"Branch {n}")
    timezone = "Europe/Berlin"
