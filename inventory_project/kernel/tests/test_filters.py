from django.http import QueryDict

from stock.filters import StockLevelFilter
from stock.models import StockLevel


def test_each_filter_set_binds_filters_of_its_own():
    first = StockLevelFilter(QueryDict("q=juice"), StockLevel.objects.none())
    second = StockLevelFilter(QueryDict("q=salt&ordering=on_hand"), StockLevel.objects.none())

    assert first.form.is_valid()
    assert second.form.is_valid()
    for name in StockLevelFilter.base_filters:
        assert first.filters[name] is not second.filters[name]
        assert first.filters[name].parent is first
        assert first.form.fields[name] is not second.form.fields[name]
    # A filter that calls a method of its filter set calls its own set's.
    assert first.filters["q"].filter.f is first.filters["q"]
    assert first.form.cleaned_data["q"] == "juice"
    assert second.form.cleaned_data["q"] == "salt"


def test_the_declared_filters_lend_no_request_their_state():
    declared = StockLevelFilter.base_filters["q"]
    made_for_the_schema = declared.field  # as the schema generator makes it

    bound = StockLevelFilter(QueryDict("q=juice"), StockLevel.objects.none())

    assert bound.filters["q"].field is not made_for_the_schema
    assert getattr(declared, "parent", None) is None
