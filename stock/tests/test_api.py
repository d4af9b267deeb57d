import json
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.renderers import JSONRenderer

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory, UserFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory_project.tests.helpers import api_client
from stock import services
from stock.models import StockLevel, StockMovement
from stock.serializers import MovementSerializer

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return AdminFactory()


def receive(admin, branch, product, quantity):
    return services.receive_stock(
        actor=admin, branch_id=branch.pk, product_id=product.pk, quantity=quantity
    )


def write(user, name, body, **headers):
    return api_client(user).post(reverse(name), body, format="json", headers=headers)


def levels(user, **params):
    return api_client(user).get(reverse("api-stock-levels"), params)


# Writes -----------------------------------------------------------------------------------


def test_staff_receive_stock_and_get_the_movement(staff, branch, product):
    response = write(
        staff,
        "api-stock-receive",
        {"branch": str(branch.pk), "product": str(product.pk), "quantity": "12", "note": "PO 7"},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "RECEIPT"
    assert body["delta"] == "12.000"
    assert body["on_hand_after"] == "12.000"
    assert body["sku"] == product.sku
    assert body["branch_code"] == branch.code
    assert body["note"] == "PO 7"
    assert StockLevel.objects.get().on_hand == 12


def test_a_manager_issues_adjusts_and_counts(manager, admin, branch, product):
    receive(admin, branch, product, 10)
    ids = {"branch": str(branch.pk), "product": str(product.pk)}

    issued = write(manager, "api-stock-issue", {**ids, "quantity": 3})
    adjusted = write(manager, "api-stock-adjust", {**ids, "delta": "-2", "reason": "DAMAGED"})
    counted = write(manager, "api-stock-count", {**ids, "counted": "4"})

    assert [r.status_code for r in (issued, adjusted, counted)] == [201, 201, 201]
    assert [r.json()["on_hand_after"] for r in (issued, adjusted, counted)] == [
        "7.000",
        "5.000",
        "4.000",
    ]
    assert counted.json()["delta"] == "-1.000"
    assert adjusted.json()["reason"] == "DAMAGED"


def test_issuing_more_than_on_hand_is_a_conflict_naming_the_stock(admin, branch, product):
    receive(admin, branch, product, 2)

    response = write(
        admin,
        "api-stock-issue",
        {"branch": str(branch.pk), "product": str(product.pk), "quantity": 3},
    )

    assert response.status_code == 409
    assert response.json() == {
        "code": "insufficient_stock",
        "message": f"{branch.code} holds 2 pcs of {product.sku}; 3 cannot leave.",
        "fields": {"quantity": [f"{branch.code} holds 2 pcs of {product.sku}; 3 cannot leave."]},
    }
    assert StockMovement.objects.count() == 1


def test_staff_may_not_issue(staff, admin, branch, product):
    receive(admin, branch, product, 5)

    response = write(
        staff,
        "api-stock-issue",
        {"branch": str(branch.pk), "product": str(product.pk), "quantity": 1},
    )

    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    assert response.json()["message"] == f"You may not issue stock at {branch.code}."
    assert StockMovement.objects.count() == 1


def test_another_branch_is_not_found(staff, product):
    other = BranchFactory()

    response = write(
        staff,
        "api-stock-receive",
        {"branch": str(other.pk), "product": str(product.pk), "quantity": 1},
    )

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_branch"
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize("product_exists", [True, False], ids=["known", "unknown product"])
def test_a_hidden_inactive_branch_answers_as_if_it_did_not_exist(staff, product, product_exists):
    hidden = BranchFactory(is_active=False)
    product_id = str(product.pk) if product_exists else "00000000-0000-0000-0000-000000000000"

    def refusal(branch_id):
        body = {"branch": branch_id, "product": product_id, "quantity": 1}
        response = write(staff, "api-stock-receive", body)
        return response.status_code, response.content.decode().replace(branch_id, "<id>")

    assert refusal(str(hidden.pk)) == refusal("11111111-1111-1111-1111-111111111111")
    assert refusal(str(hidden.pk))[0] == 404


def test_an_unknown_product_is_not_found_and_named(admin, branch):
    response = write(
        admin,
        "api-stock-receive",
        {
            "branch": str(branch.pk),
            "product": "00000000-0000-0000-0000-000000000000",
            "quantity": 1,
        },
    )

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_product"
    assert list(response.json()["fields"]) == ["product"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"quantity": "0"}, "quantity", "Quantity must be greater than zero."),
        ({"quantity": "-1"}, "quantity", "Quantity must be greater than zero."),
        ({"quantity": "1.5"}, "quantity", "must be a whole number of pieces"),
        ({"quantity": "1.2345"}, "quantity", "no more than 3 decimal places"),
        ({"quantity": "lots"}, "quantity", "A valid number is required."),
        ({"quantity": None}, "quantity", "This field may not be null."),
        ({"branch": "nope"}, "branch", "Must be a valid UUID."),
        ({"note": "x" * 501}, "note", "no more than 500 characters"),
    ],
    ids=["zero", "negative", "fraction-of-pieces", "too-precise", "text", "null", "bad-id", "note"],
)
def test_bad_input_gets_field_errors_and_changes_nothing(
    admin, branch, product, body, field, message
):
    data = {"branch": str(branch.pk), "product": str(product.pk), "quantity": "1", **body}

    response = write(admin, "api-stock-receive", data)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {field}
    assert message in response.json()["fields"][field][0]
    assert message in response.json()["message"]
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize("protected", ["on_hand", "version", "actor", "kind", "delta"])
def test_a_body_setting_protected_fields_is_refused(admin, branch, product, protected):
    data = {"branch": str(branch.pk), "product": str(product.pk), "quantity": 1, protected: 99}

    response = write(admin, "api-stock-receive", data)

    assert response.status_code == 400
    assert response.json()["code"] == "not_accepted"
    assert response.json()["fields"] == {protected: ["This field is not accepted here."]}
    assert not StockMovement.objects.exists()


def test_an_adjustment_needs_a_known_reason(admin, branch, product):
    response = write(
        admin,
        "api-stock-adjust",
        {"branch": str(branch.pk), "product": str(product.pk), "delta": 1, "reason": "WHIM"},
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]


def test_an_adjustment_for_another_reason_needs_a_note(admin, branch, product):
    response = write(
        admin,
        "api-stock-adjust",
        {"branch": str(branch.pk), "product": str(product.pk), "delta": 1, "reason": "OTHER"},
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "note": ["An adjustment for another reason needs a note explaining it."]
    }


def test_malformed_json_is_a_bad_request(admin):
    response = api_client(admin).post(
        reverse("api-stock-receive"), "{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_writes_need_credentials(branch, product):
    response = write(
        None,
        "api-stock-receive",
        {"branch": str(branch.pk), "product": str(product.pk), "quantity": 1},
    )

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# Batches ----------------------------------------------------------------------------------


def test_a_batch_applies_every_line(admin, branch):
    products = ProductFactory.create_batch(3)

    response = write(
        admin,
        "api-stock-batch",
        {
            "kind": "RECEIPT",
            "branch": str(branch.pk),
            "lines": [{"product": str(p.pk), "quantity": i + 1} for i, p in enumerate(products)],
        },
    )

    assert response.status_code == 201
    movements = response.json()["movements"]
    assert [m["sku"] for m in movements] == [p.sku for p in products]
    assert [m["on_hand_after"] for m in movements] == ["1.000", "2.000", "3.000"]
    assert StockMovement.objects.count() == 3


def test_a_batch_with_one_bad_line_writes_nothing_and_names_the_line(admin, branch):
    first, second = ProductFactory.create_batch(2)
    receive(admin, branch, first, 5)
    receive(admin, branch, second, 1)

    response = write(
        admin,
        "api-stock-batch",
        {
            "kind": "ISSUE",
            "branch": str(branch.pk),
            "lines": [
                {"product": str(first.pk), "quantity": 5},
                {"product": str(second.pk), "quantity": 2},
            ],
        },
    )

    assert response.status_code == 409
    body = response.json()
    assert body["message"] == f"Line 2: {branch.code} holds 1 pcs of {second.sku}; 2 cannot leave."
    assert list(body["fields"]) == ["lines.1.quantity"]
    assert StockMovement.objects.count() == 2
    assert StockLevel.objects.get(product=first).on_hand == 5


def test_a_batch_line_with_a_bad_field_is_named(admin, branch, product):
    response = write(
        admin,
        "api-stock-batch",
        {
            "kind": "COUNT",
            "branch": str(branch.pk),
            "lines": [{"product": str(product.pk), "quantity": 1}, {"product": "x", "quantity": 1}],
        },
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"lines.1.product": ["Must be a valid UUID."]}


def test_a_batch_refuses_the_same_product_twice(admin, branch, product):
    line = {"product": str(product.pk), "quantity": 1}

    response = write(
        admin,
        "api-stock-batch",
        {"kind": "RECEIPT", "branch": str(branch.pk), "lines": [line, line]},
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "lines.1.product": ["Line 2: Line 1 is for the same product; combine them."]
    }
    assert not StockMovement.objects.exists()


def test_a_batch_of_adjustments_needs_reasons(admin, branch, product):
    response = write(
        admin,
        "api-stock-batch",
        {
            "kind": "ADJUSTMENT",
            "branch": str(branch.pk),
            "lines": [{"product": str(product.pk), "quantity": 1}],
        },
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["lines.0.reason"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": []}, "lines"),
        ({"kind": "TRANSFER_IN"}, "kind"),
        ({"lines": "everything"}, "lines"),
    ],
    ids=["no-lines", "transfer-kind", "not-a-list"],
)
def test_a_malformed_batch_is_refused(admin, branch, product, body, field):
    data = {
        "kind": "RECEIPT",
        "branch": str(branch.pk),
        "lines": [{"product": str(product.pk), "quantity": 1}],
        **body,
    }

    response = write(admin, "api-stock-batch", data)

    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_staff_may_not_count_in_a_batch(staff, branch, product):
    response = write(
        staff,
        "api-stock-batch",
        {
            "kind": "COUNT",
            "branch": str(branch.pk),
            "lines": [{"product": str(product.pk), "quantity": 1}],
        },
    )

    assert response.status_code == 403
    assert not StockMovement.objects.exists()


# Levels -----------------------------------------------------------------------------------


def test_levels_list_only_visible_branches(staff, admin, branch):
    mine, theirs = ProductFactory.create_batch(2)
    receive(admin, branch, mine, 1)
    receive(admin, BranchFactory(), theirs, 1)

    response = levels(staff)

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert [row["sku"] for row in response.json()["results"]] == [mine.sku]


def test_levels_search_name_sku_and_barcode_in_any_case(admin, branch):
    by_name = ProductFactory(name="Blue Widget")
    by_sku = ProductFactory(sku="WID-77")
    by_barcode = ProductFactory(barcode="4006381333931")
    ProductFactory(name="Other")
    for product in (by_name, by_sku, by_barcode):
        receive(admin, branch, product, 1)

    assert [r["sku"] for r in levels(admin, q="blue wid").json()["results"]] == [by_name.sku]
    assert [r["sku"] for r in levels(admin, q="wid-7").json()["results"]] == [by_sku.sku]
    assert [r["sku"] for r in levels(admin, q="6381333").json()["results"]] == [by_barcode.sku]


def test_levels_filter_by_branch_category_quantity_threshold_and_activity(admin, branch):
    tools = CategoryFactory()
    low = ProductFactory(category=tools, low_stock_threshold=10)
    plenty = ProductFactory(low_stock_threshold=10)
    retired = ProductFactory(low_stock_threshold=0)
    receive(admin, branch, low, 3)
    receive(admin, branch, plenty, 50)
    receive(admin, branch, retired, 7)
    retired.is_active = False
    retired.save()
    receive(admin, BranchFactory(), low, 1)

    def skus(**params):
        return sorted(r["sku"] for r in levels(admin, **params).json()["results"])

    assert skus(branch=branch.pk) == sorted([low.sku, plenty.sku, retired.sku])
    assert skus(branch=branch.pk, category=tools.pk) == [low.sku]
    assert skus(branch=branch.pk, min_on_hand=5, max_on_hand=10) == [retired.sku]
    assert skus(branch=branch.pk, below_threshold="true") == [low.sku]
    assert skus(branch=branch.pk, below_threshold="false") == sorted([plenty.sku, retired.sku])
    assert skus(branch=branch.pk, active="false") == [retired.sku]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["a", "b", "c"]),
        ("-name", ["c", "b", "a"]),
        ("sku", ["b", "c", "a"]),
        ("on_hand", ["c", "a", "b"]),
        ("-updated", ["c", "b", "a"]),
    ],
)
def test_levels_sort(admin, branch, ordering, expected):
    for name, sku, quantity in [("a", "Z1", 5), ("b", "X1", 9), ("c", "Y1", 1)]:
        receive(admin, branch, ProductFactory(name=name, sku=sku), quantity)

    rows = levels(admin, ordering=ordering).json()["results"]

    assert [r["product_name"] for r in rows] == expected


def test_level_list_pages_carry_the_total(admin, branch):
    for product in ProductFactory.create_batch(5):
        receive(admin, branch, product, 1)

    first = levels(admin, limit=2).json()
    last = levels(admin, limit=2, offset=4).json()

    assert first["count"] == last["count"] == 5
    assert len(first["results"]) == 2
    assert first["next"] is not None
    assert len(last["results"]) == 1
    assert last["next"] is None


def test_a_long_list_counts_up_to_the_limit_and_says_so(admin, branch, settings):
    settings.PAGINATION_COUNT_LIMIT = 3
    for product in ProductFactory.create_batch(5):
        receive(admin, branch, product, 1)

    first = levels(admin, limit=2).json()

    assert (first["count"], first["count_is_estimate"]) == (3, True)
    assert len(first["results"]) == 2
    assert "cursor=" in first["next"]


def test_the_last_page_of_a_long_list_tells_the_exact_total(admin, branch, settings):
    settings.PAGINATION_COUNT_LIMIT = 3
    for product in ProductFactory.create_batch(5):
        receive(admin, branch, product, 1)

    last = levels(admin, limit=2, offset=4).json()

    assert (last["count"], last["count_is_estimate"]) == (5, False)
    assert last["next"] is None
    previous = api_client(admin).get(last["previous"]).json()
    assert previous["results"] == levels(admin, limit=2, offset=2).json()["results"]


def test_a_page_past_the_count_limit_counts_nothing(
    admin, branch, settings, django_assert_num_queries
):
    settings.PAGINATION_COUNT_LIMIT = 3
    for product in ProductFactory.create_batch(6):
        receive(admin, branch, product, 1)

    with django_assert_num_queries(1):  # the page, one row past its end
        page = levels(admin, limit=1, offset=3).json()

    assert (page["count"], page["count_is_estimate"]) == (4, True)
    assert "cursor=" in page["next"]
    assert "offset=" not in page["next"]


def test_a_short_list_has_an_exact_count(admin, branch):
    for product in ProductFactory.create_batch(3):
        receive(admin, branch, product, 1)

    body = levels(admin, limit=2).json()

    assert (body["count"], body["count_is_estimate"]) == (3, False)


def test_a_listed_level_reads_as_the_level_itself(staff, admin, branch):
    tools = CategoryFactory()
    own = receive(
        admin, branch, ProductFactory(category=tools, unit="kg", barcode="4006381333931"), 4
    )
    inherited = receive(admin, branch, ProductFactory(category=None, low_stock_threshold=2), 5)
    services.set_low_stock_threshold(
        actor=admin, branch_id=branch.pk, product_id=own.product_id, threshold=Decimal("7.5")
    )

    listed = {row["id"]: row for row in levels(staff).json()["results"]}

    for movement in (own, inherited):
        level_id = movement.stock_level_id
        one = api_client(staff).get(reverse("api-stock-level", args=[level_id])).json()
        assert listed[str(level_id)] == one


def test_a_listed_movement_reads_as_the_movement_itself(staff, admin, branch, product):
    receive(admin, branch, product, 4)
    services.adjust_stock(
        actor=admin,
        branch_id=branch.pk,
        product_id=product.pk,
        delta=Decimal("-1"),
        reason="DAMAGED",
        note="dropped",
    )

    listed = api_client(staff).get(reverse("api-movements")).json()["results"]

    assert len(listed) == 2
    for row in listed:
        one = api_client(staff).get(reverse("api-movement", args=[row["id"]])).json()
        assert row == one


def test_page_size_is_capped(admin, branch):
    for product in ProductFactory.create_batch(3):
        receive(admin, branch, product, 1)

    response = levels(admin, limit=100000)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 3
    assert "limit=200" in (levels(admin, limit=100000, offset=0).json()["next"] or "limit=200")


@pytest.mark.parametrize(
    "params",
    [
        {"branch": "nope"},
        {"min_on_hand": "many"},
        {"below_threshold": "perhaps"},
        {"ordering": "price"},
    ],
)
def test_bad_level_filters_are_refused(admin, params):
    response = levels(admin, **params)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(params)


def test_the_level_list_takes_a_fixed_number_of_queries(admin, django_assert_num_queries):
    branch = BranchFactory()
    for product in ProductFactory.create_batch(3):
        receive(admin, branch, product, 1)
    with django_assert_num_queries(2):  # page, count
        levels(admin, limit=2)

    for product in ProductFactory.create_batch(20):
        receive(admin, branch, product, 1)
    with django_assert_num_queries(2):
        response = levels(admin, limit=20)

    assert response.json()["count"] == 23


def test_the_level_list_of_a_member_takes_a_fixed_number_of_queries(
    staff, admin, branch, django_assert_num_queries
):
    for product in ProductFactory.create_batch(25):
        receive(admin, branch, product, 1)

    with django_assert_num_queries(2):  # page and count, each with the visibility subquery
        response = levels(staff, limit=10)

    assert response.json()["count"] == 25


def test_a_level_is_retrieved_with_its_threshold(staff, admin, branch, product):
    level = receive(admin, branch, product, 4).stock_level

    response = api_client(staff).get(reverse("api-stock-level", args=[level.pk]))

    assert response.status_code == 200
    assert response.json()["on_hand"] == "4.000"
    assert response.json()["threshold"] == "10.000"
    assert response.json()["is_low"] is True


@pytest.mark.parametrize("level_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_level_is_not_found(admin, level_id):
    response = api_client(admin).get(reverse("api-stock-level", args=[level_id]))

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "fields": {}}


def test_a_level_of_another_branch_is_not_found(staff, admin, product):
    level = receive(admin, BranchFactory(), product, 1).stock_level

    response = api_client(staff).get(reverse("api-stock-level", args=[level.pk]))

    assert response.status_code == 404


def test_a_manager_sets_the_threshold(manager, admin, branch, product):
    level = receive(admin, branch, product, 4).stock_level

    response = api_client(manager).patch(
        reverse("api-stock-level", args=[level.pk]), {"low_stock_threshold": "3"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["low_stock_threshold"] == "3.000"
    assert response.json()["is_low"] is False
    level.refresh_from_db()
    assert level.low_stock_threshold == Decimal("3")


def test_a_null_threshold_inherits_the_default(admin, branch, product):
    level = receive(admin, branch, product, 4).stock_level
    level.low_stock_threshold = 1
    level.save()

    response = api_client(admin).patch(
        reverse("api-stock-level", args=[level.pk]), {"low_stock_threshold": None}, format="json"
    )

    assert response.json()["low_stock_threshold"] is None
    assert response.json()["threshold"] == "10.000"


def test_staff_may_not_set_thresholds(staff, admin, branch, product):
    level = receive(admin, branch, product, 4).stock_level

    response = api_client(staff).patch(
        reverse("api-stock-level", args=[level.pk]), {"low_stock_threshold": "3"}, format="json"
    )

    assert response.status_code == 403
    level.refresh_from_db()
    assert level.low_stock_threshold is None


@pytest.mark.parametrize(
    "body",
    [{"low_stock_threshold": "-1"}, {"low_stock_threshold": "x"}, {"on_hand": "1000"}, {}],
    ids=["negative", "text", "on_hand", "empty"],
)
def test_a_bad_threshold_changes_nothing(admin, branch, product, body):
    level = receive(admin, branch, product, 4).stock_level

    response = api_client(admin).patch(
        reverse("api-stock-level", args=[level.pk]), body, format="json"
    )

    assert response.status_code == 400
    level.refresh_from_db()
    assert level.on_hand == 4
    assert level.low_stock_threshold is None


# Ledger -----------------------------------------------------------------------------------


def test_the_ledger_filters_by_branch_product_kind_actor_and_time(admin, branch):
    clerk = MembershipFactory(branch=branch, role=Role.MANAGER).user
    first, second = ProductFactory.create_batch(2)
    early = receive(admin, branch, first, 5)
    services.issue_stock(actor=clerk, branch_id=branch.pk, product_id=first.pk, quantity=1)
    receive(clerk, branch, second, 2)
    receive(admin, BranchFactory(), first, 1)

    def kinds(**params):
        response = api_client(admin).get(reverse("api-movements"), params)
        return sorted((m["kind"], m["sku"]) for m in response.json()["results"])

    assert len(kinds(branch=branch.pk)) == 3
    assert kinds(branch=branch.pk, product=second.pk) == [("RECEIPT", second.sku)]
    assert kinds(branch=branch.pk, kind="ISSUE") == [("ISSUE", first.sku)]
    assert kinds(actor=clerk.pk) == [("ISSUE", first.sku), ("RECEIPT", second.sku)]
    after = early.created_at.isoformat()
    assert len(kinds(branch=branch.pk, created_after=after)) == 3
    assert kinds(branch=branch.pk, created_before=after) == []


def test_the_ledger_is_newest_first_and_hides_other_branches(staff, admin, branch, product):
    receive(admin, branch, product, 1)
    receive(admin, branch, product, 2)
    receive(admin, BranchFactory(), product, 3)

    rows = api_client(staff).get(reverse("api-movements")).json()["results"]

    assert [r["delta"] for r in rows] == ["2.000", "1.000"]


@pytest.mark.parametrize(
    "params", [{"kind": "THEFT"}, {"created_after": "yesterday"}, {"actor": "me"}]
)
def test_bad_ledger_filters_are_refused(admin, params):
    response = api_client(admin).get(reverse("api-movements"), params)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(params)


def test_the_ledger_takes_a_fixed_number_of_queries(admin, branch, django_assert_num_queries):
    for product in ProductFactory.create_batch(3):
        receive(admin, branch, product, 1)
    with django_assert_num_queries(2):  # page, count
        api_client(admin).get(reverse("api-movements"), {"limit": 2})
    for product in ProductFactory.create_batch(30):
        receive(UserFactory(is_superuser=True), branch, product, 1)
    with django_assert_num_queries(2):
        api_client(admin).get(reverse("api-movements"), {"limit": 25})


def test_the_ledger_of_a_member_takes_a_fixed_number_of_queries(
    staff, admin, branch, django_assert_num_queries
):
    for product in ProductFactory.create_batch(3):
        receive(admin, branch, product, 1)
    with django_assert_num_queries(2):  # page and count, each with the visibility subquery
        small = api_client(staff).get(reverse("api-movements"), {"limit": 2}).json()
    for product in ProductFactory.create_batch(30):
        receive(admin, branch, product, 1)
    with django_assert_num_queries(2):
        large = api_client(staff).get(reverse("api-movements"), {"limit": 30}).json()

    assert (small["count"], large["count"]) == (3, 33)
    assert len(large["results"]) == 30


def test_a_movement_is_retrieved(staff, admin, branch, product):
    movement = receive(admin, branch, product, 1)

    response = api_client(staff).get(reverse("api-movement", args=[movement.pk]))

    assert response.status_code == 200
    assert response.json()["id"] == str(movement.pk)
    assert response.json()["actor"] == str(admin.pk)


def test_a_movement_of_another_branch_is_not_found(staff, admin, product):
    movement = receive(admin, BranchFactory(), product, 1)

    response = api_client(staff).get(reverse("api-movement", args=[movement.pk]))

    assert response.status_code == 404


def test_a_stock_write_takes_a_fixed_number_of_queries(
    admin, branch, product, django_assert_num_queries
):
    receive(admin, branch, product, 1)
    ids = {"branch": str(branch.pk), "product": str(product.pk)}

    # savepoint, update the level (locking it), insert the movement, release: nothing more
    with django_assert_num_queries(4):
        response = write(admin, "api-stock-receive", {**ids, "quantity": 1})

    assert response.json()["branch_code"] == branch.code


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("api-stock-receive", {"quantity": "2.000"}),
        ("api-stock-issue", {"quantity": 1}),
        ("api-stock-adjust", {"delta": -1, "reason": "DAMAGED"}),
        ("api-stock-count", {"counted": 7}),
    ],
)
def test_a_write_answers_the_movement_as_the_ledger_shows_it(admin, branch, product, name, extra):
    receive(admin, branch, product, 5)
    ids = {"branch": str(branch.pk), "product": str(product.pk)}

    response = write(admin, name, {**ids, **extra})

    movement = StockMovement.objects.get(pk=response.json()["id"])
    assert response.json() == json_of(MovementSerializer(movement).data)


def test_a_batch_answers_its_movements_as_the_ledger_shows_them(admin, branch):
    products = ProductFactory.create_batch(2)
    lines = [{"product": str(p.pk), "quantity": 3} for p in products]

    response = write(
        admin, "api-stock-batch", {"kind": "RECEIPT", "branch": str(branch.pk), "lines": lines}
    )

    answered = response.json()["movements"]
    movements = [StockMovement.objects.get(pk=row["id"]) for row in answered]
    assert answered == json_of(MovementSerializer(movements, many=True).data)


def json_of(data):
    return json.loads(JSONRenderer().render(data))
