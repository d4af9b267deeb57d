"""Query parameter types shared by the API's lists."""

import django_filters
from django.db.models import QuerySet


class StableOrderingFilter(django_filters.OrderingFilter):
    """Orders by the fields asked for, then by primary key, so that pages of rows with
    equal values neither overlap nor skip any."""

    def filter(self, qs: QuerySet, value: list[str] | None) -> QuerySet:
        if not value:
            return qs
        return qs.order_by(*(self.get_ordering_value(param) for param in value), "pk")


def strict_boolean(**kwargs) -> django_filters.TypedChoiceFilter:
    """true or false, and nothing else: an unknown value is an error, not "no filter"."""
    return django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
        **kwargs,
    )
