"""Query parameter types shared by the API's lists."""

import copy

import django_filters
from django.db.models import QuerySet
from django_filters.filterset import FilterSetMetaclass


class _Filters(dict):
    """A filter set's declared filters, copied shallowly for each request: a declared
    filter's settings never change, only what a request binds to it (its ``parent``,
    ``model`` and the form field it makes), which each copy gets afresh. django-filter
    deep-copies every filter's settings instead: a millisecond of every list."""

    def __deepcopy__(self, memo: dict) -> dict:
        copies = {}
        for name, declared in self.items():
            copied = copy.copy(declared)
            copied.__dict__.pop("_field", None)
            if copied.method is not None:
                # Bound to the filter it belongs to: made again for the copy.
                copied.method = copied.method
            copies[name] = copied
        return copies


class _FilterSetMetaclass(FilterSetMetaclass):
    def __new__(mcs, name, bases, attrs):
        new_class = super().__new__(mcs, name, bases, attrs)
        new_class.base_filters = _Filters(new_class.base_filters)
        return new_class


class FilterSet(django_filters.FilterSet, metaclass=_FilterSetMetaclass):
    """django-filter's FilterSet, cheaper to make for each request (``_Filters``)."""


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
