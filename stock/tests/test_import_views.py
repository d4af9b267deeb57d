"""The import pages: /import/ (choose and upload), /import/<id>/ (preview) and its apply."""

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.models import Product, Unit
from catalog.tests.factories import ProductFactory
from inventory_project.kernel.once import new_key
from inventory_project.tests.helpers import page_client
from stock import services, tasks
from stock.models import ImportKind, ImportStatus, StockImport, StockLevel, StockMovement

pytestmark = pytest.mark.django_db

COUNT = ImportKind.STOCK_COUNT
OPENING = ImportKind.OPENING_STOCK
PRODUCTS = ImportKind.PRODUCTS


def upload(client, kind, content: bytes, *, name="file.csv", branch=None, **extra):
    data = {
        "kind": kind,
        "once": extra.pop("once", new_key()),
        "encoding": extra.pop("encoding", "auto"),
        "file": SimpleUploadedFile(name, content),
        **extra,
    }
    if branch is not None:
        data["branch"] = branch.code
    return client.post(reverse("imports"), data)


def import_of(response) -> StockImport:
    assert response.status_code == 302, response.content.decode()[:2000]
    match = re.search(r"/import/([0-9a-f-]+)/$", response["Location"])
    return StockImport.objects.get(pk=match.group(1))


def apply(client, stock_import, once=None):
    """Press Apply; the worker's part runs as the request commits (see eager_worker)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("import-apply", args=[stock_import.pk]), {"once": once or new_key()}
        )


@pytest.fixture(autouse=True)
def eager_worker():
    """The worker's part runs in the test process, as under ``make run`` without Redis."""
    conf = tasks.apply_import.app.conf
    was_eager, conf.task_always_eager = conf.task_always_eager, True
    yield
    conf.task_always_eager = was_eager


@pytest.fixture
def manager(branch):
    return MembershipFactory(branch=branch, role=Role.MANAGER).user


@pytest.fixture
def admin():
    return AdminFactory()


@pytest.fixture
def cola():
    return ProductFactory(sku="COLA-1", unit=Unit.PIECE)


# Who may import what --------------------------------------------------------------------------


def test_staff_are_refused_the_import_page(branch):
    staff = MembershipFactory(branch=branch, role=Role.STAFF).user
    response = page_client(staff).get(reverse("imports"))
    assert response.status_code == 403
    assert "Only managers and administrators import files." in response.content.decode()


def test_signed_out_visitors_are_sent_to_sign_in():
    response = Client().get(reverse("imports"))
    assert response.status_code == 302
    assert "/sign-in/" in response["Location"]


def test_a_manager_is_offered_stock_imports_for_their_branch_only(manager, branch):
    other = BranchFactory()
    html = page_client(manager).get(reverse("imports")).content.decode()
    assert 'id="upload-opening_stock"' in html
    assert 'id="upload-stock_count"' in html
    assert 'id="upload-products"' not in html
    assert f'value="{branch.code}"' in html
    assert f'value="{other.code}"' not in html


def test_an_admin_is_offered_every_import(admin):
    html = page_client(admin).get(reverse("imports")).content.decode()
    assert 'id="upload-products"' in html
    assert 'id="upload-stock_count"' in html


def test_a_manager_may_not_upload_a_products_file(manager):
    response = upload(page_client(manager), PRODUCTS, b"sku,name\nA-1,Apple\n")
    assert response.status_code == 403
    assert not StockImport.objects.exists()


def test_a_manager_posting_another_branch_finds_no_such_branch(manager, cola):
    other = BranchFactory()
    response = upload(page_client(manager), COUNT, b"sku,quantity\nCOLA-1,3\n", branch=other)
    assert response.status_code == 404
    assert not StockImport.objects.exists()


def test_a_branch_seen_but_not_managed_is_refused_in_words(manager, cola):
    other = BranchFactory()
    MembershipFactory(branch=other, role=Role.STAFF, user=manager)
    response = upload(page_client(manager), COUNT, b"sku,quantity\nCOLA-1,3\n", branch=other)
    assert response.status_code == 403
    assert f"You may not import stock at {other.code}." in response.content.decode()
    assert not StockImport.objects.exists()


def test_a_hidden_branch_in_the_address_answers_404(manager):
    response = page_client(manager).get(reverse("imports"), {"branch": BranchFactory().code})
    assert response.status_code == 404


def test_another_branchs_import_answers_404(manager, branch, cola):
    stock_import = import_of(
        upload(page_client(manager), COUNT, b"sku,quantity\nCOLA-1,3\n", branch=branch)
    )
    other_manager = MembershipFactory(role=Role.MANAGER).user
    client = page_client(other_manager)
    assert client.get(reverse("import", args=[stock_import.pk])).status_code == 404
    assert apply(client, stock_import).status_code == 404
    assert not StockMovement.objects.exists()


def test_a_catalog_import_is_hidden_from_managers(admin, manager):
    stock_import = import_of(upload(page_client(admin), PRODUCTS, b"sku,name\nA-1,Apple\n"))
    response = page_client(manager).get(reverse("import", args=[stock_import.pk]))
    assert response.status_code == 404


# Uploading ------------------------------------------------------------------------------------


def test_a_file_with_row_errors_previews_them_by_row_and_column(manager, branch, cola):
    content = b"sku,quantity\nCOLA-1,1.5\nNOPE,2\n"
    stock_import = import_of(upload(page_client(manager), COUNT, content, branch=branch))
    html = page_client(manager).get(reverse("import", args=[stock_import.pk])).content.decode()
    rows = re.findall(r'<tr class="import-error">(.*?)</tr>', html, re.S)
    assert len(rows) == 2
    assert ">2<" in rows[0]
    assert "quantity" in rows[0]
    assert "whole number" in rows[0]
    assert ">3<" in rows[1]
    assert "No product has the SKU NOPE." in rows[1]
    assert 'id="import-apply-form"' not in html


def test_a_file_without_its_columns_is_an_error_beside_the_file(manager, branch):
    response = upload(page_client(manager), COUNT, b"sku,amount\nA,1\n", branch=branch)
    assert response.status_code == 400
    html = response.content.decode()
    assert "lacks the column(s) quantity" in html
    assert 'id="stock_count-file_error"' in html or "errorlist" in html
    # What was chosen stays chosen.
    assert f'<option value="{branch.code}" selected>' in html


def test_a_file_in_the_wrong_encoding_is_an_error_not_a_crash(manager, branch):
    content = "sku,quantity,note\nA,1,Crème\n".encode("latin-1")
    response = upload(page_client(manager), COUNT, content, branch=branch, encoding="utf-8")
    assert response.status_code == 400
    assert "not UTF-8" in response.content.decode()


def test_a_file_of_another_type_is_refused(manager, branch):
    response = upload(page_client(manager), COUNT, b"%PDF-1.4", name="a.pdf", branch=branch)
    assert response.status_code == 400
    assert "Upload a CSV or XLSX file" in response.content.decode()


def test_an_upload_without_a_file_or_branch_is_refused_with_field_errors(manager):
    response = page_client(manager).post(
        reverse("imports"), {"kind": COUNT, "once": new_key(), "encoding": "auto"}
    )
    assert response.status_code == 400
    assert response.content.decode().count("This field is required.") == 2


def test_an_unknown_kind_answers_404(manager):
    response = page_client(manager).post(reverse("imports"), {"kind": "NOPE"})
    assert response.status_code == 404


def test_an_upload_posted_twice_keeps_one_import(manager, branch, cola):
    client = page_client(manager)
    key = new_key()
    first = upload(client, COUNT, b"sku,quantity\nCOLA-1,3\n", branch=branch, once=key)
    second = upload(client, COUNT, b"sku,quantity\nCOLA-1,3\n", branch=branch, once=key)
    assert first["Location"] == second["Location"]
    assert StockImport.objects.count() == 1


# Applying -------------------------------------------------------------------------------------


def test_applying_a_count_sets_on_hand_and_says_so(manager, branch, cola):
    client = page_client(manager)
    stock_import = import_of(upload(client, COUNT, b"sku,quantity\nCOLA-1,7\n", branch=branch))
    response = apply(client, stock_import)
    assert response.status_code == 302
    assert StockLevel.objects.get(branch=branch, product=cola).on_hand == 7
    html = client.get(response["Location"]).content.decode()
    assert 'id="import-applied"' in html
    assert "1 movement recorded." in html


def test_pressing_apply_twice_records_once(manager, branch, cola):
    client = page_client(manager)
    stock_import = import_of(upload(client, OPENING, b"sku,quantity\nCOLA-1,7\n", branch=branch))
    key = new_key()
    apply(client, stock_import, once=key)
    apply(client, stock_import, once=key)
    apply(client, stock_import)
    assert StockLevel.objects.get(branch=branch, product=cola).on_hand == 7
    assert StockMovement.objects.count() == 1


def test_the_same_file_again_says_it_was_applied_and_offers_no_apply(manager, branch, cola):
    client = page_client(manager)
    content = b"sku,quantity\nCOLA-1,7\n"
    apply(client, import_of(upload(client, OPENING, content, branch=branch)))
    again = import_of(upload(client, OPENING, content, branch=branch, name="again.csv"))
    html = client.get(reverse("import", args=[again.pk])).content.decode()
    assert "This file was already applied on" in html
    assert 'id="import-apply-form"' not in html
    response = apply(client, again)
    assert response.status_code == 409
    assert StockLevel.objects.get(branch=branch, product=cola).on_hand == 7


def test_an_apply_refused_by_the_worker_shows_why_writes_nothing_and_offers_apply_again(
    manager, branch, cola
):
    client = page_client(manager)
    stock_import = import_of(upload(client, OPENING, b"sku,quantity\nCOLA-1,7\n", branch=branch))
    Product.objects.filter(pk=cola.pk).update(is_active=False)
    response = apply(client, stock_import)
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert 'id="import-apply-error"' in html
    assert "Row 2: Product COLA-1 is inactive" in html
    assert 'id="import-apply-form"' in html
    assert not StockMovement.objects.exists()


def test_an_apply_without_its_key_is_refused(manager, branch, cola):
    client = page_client(manager)
    stock_import = import_of(upload(client, OPENING, b"sku,quantity\nCOLA-1,7\n", branch=branch))
    response = client.post(reverse("import-apply", args=[stock_import.pk]), {})
    assert response.status_code == 400
    assert not StockMovement.objects.exists()


def test_an_admin_imports_products_creating_the_categories_asked_for(admin):
    client = page_client(admin)
    content = b"sku,name,category,unit,sale_price\nBAK-1,Loaf,Bakery,pcs,3.49\n"
    refused = import_of(upload(client, PRODUCTS, content))
    assert refused.error_count == 1
    stock_import = import_of(upload(client, PRODUCTS, content, create_categories="on"))
    html = client.get(reverse("import", args=[stock_import.pk])).content.decode()
    assert "Categories to be added:" in html
    assert "Bakery" in html
    apply(client, stock_import)
    product = Product.objects.get(sku="BAK-1")
    assert product.category.name == "Bakery"
    assert product.sale_price == Decimal("3.49")


def test_the_example_files_import_cleanly_into_the_demo_catalog(admin, branch):
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    examples = Path(settings.BASE_DIR) / "static" / "examples"
    client = page_client(admin)
    products = import_of(
        upload(
            client,
            PRODUCTS,
            (examples / "products.csv").read_bytes(),
            create_categories="on",
        )
    )
    assert products.error_count == 0
    assert products.summary["new"] == 3
    for kind, name in ((OPENING, "opening-stock.csv"), (COUNT, "stock-count.csv")):
        stock_import = import_of(
            upload(client, kind, (examples / name).read_bytes(), branch=branch, name=name)
        )
        assert stock_import.error_count == 0, stock_import.errors
        assert apply(client, stock_import).status_code == 302
    assert StockImport.objects.filter(status=ImportStatus.APPLIED).count() == 2


# Query counts ---------------------------------------------------------------------------------


def _queries(client, method, *args, **kwargs) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(*args, **kwargs)
    assert response.status_code in (200, 302), response.content.decode()[:500]
    return len(captured)


def test_the_import_page_reads_the_same_queries_whatever_the_history(manager, branch, cola):
    client = page_client(manager)
    upload(client, COUNT, b"sku,quantity\nCOLA-1,3\n", branch=branch)
    few = _queries(client, "get", reverse("imports"))
    for n in range(8):
        upload(client, COUNT, f"sku,quantity\nCOLA-1,{n}\n".encode(), branch=branch)
    assert _queries(client, "get", reverse("imports")) == few


@pytest.mark.parametrize("kind", [COUNT, OPENING])
def test_upload_preview_and_apply_read_the_same_queries_whatever_the_rows(manager, branch, kind):
    client = page_client(manager)

    def counts(size: int) -> tuple[int, int, int]:
        # No threshold: no level crosses one, so no alert is raised or resolved (each
        # crossing costs the alerts a query or two, as for any stock write).
        products = ProductFactory.create_batch(size, low_stock_threshold=0)
        content = "sku,quantity\n" + "".join(f"{p.sku},{n + 1}\n" for n, p in enumerate(products))
        with CaptureQueriesContext(connection) as captured:
            response = upload(client, kind, content.encode(), branch=branch)
        uploaded = len(captured)
        stock_import = import_of(response)
        shown = _queries(client, "get", reverse("import", args=[stock_import.pk]))
        applied = _queries(
            client, "post", reverse("import-apply", args=[stock_import.pk]), {"once": new_key()}
        )
        return uploaded, shown, applied

    assert counts(3) == counts(40)


def test_the_preview_of_a_products_file_reads_the_same_queries_whatever_the_rows(admin):
    client = page_client(admin)

    def counts(size: int) -> tuple[int, int]:
        ProductFactory.create_batch(size)
        start = Product.objects.count()
        content = "sku,name,sale_price\n" + "".join(
            f"NEW-{start + n},Thing {n},1.50\n" for n in range(size)
        )
        with CaptureQueriesContext(connection) as captured:
            response = upload(client, PRODUCTS, content.encode())
        stock_import = import_of(response)
        shown = _queries(client, "get", reverse("import", args=[stock_import.pk]))
        return len(captured), shown

    assert counts(3) == counts(40)


# The permission table, as the page matrix states it (admin, manager, staff, other manager) --


@pytest.fixture
def world(branch, cola):
    return {
        "branch": branch,
        "product": cola,
        "admin": AdminFactory(),
        "manager": MembershipFactory(branch=branch, role=Role.MANAGER).user,
        "staff": MembershipFactory(branch=branch, role=Role.STAFF).user,
        "other_manager": MembershipFactory(role=Role.MANAGER).user,
    }


WHO = ["admin", "manager", "staff", "other_manager"]


@pytest.mark.parametrize(
    ("who", "status"), list(zip(WHO, [200, 200, 403, 404], strict=True)), ids=WHO
)
def test_who_gets_the_import_page_of_the_branch(world, who, status):
    response = page_client(world[who]).get(reverse("imports"), {"branch": world["branch"].code})
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "status"), list(zip(WHO, [302, 302, 403, 404], strict=True)), ids=WHO
)
def test_who_may_upload_a_stock_count_of_the_branch(world, who, status):
    content = f"sku,quantity\n{world['product'].sku},5\n".encode()
    response = upload(page_client(world[who]), COUNT, content, branch=world["branch"])
    assert response.status_code == status
    assert StockImport.objects.exists() == (status == 302)


@pytest.mark.parametrize(
    ("who", "status"), list(zip(WHO, [302, 302, 403, 404], strict=True)), ids=WHO
)
def test_who_may_apply_a_stock_count_of_the_branch(world, who, status):
    content = f"sku,quantity\n{world['product'].sku},5\n".encode()
    stock_import = services.preview_import(
        actor=world["admin"],
        kind=COUNT,
        file_name="count.csv",
        data=content,
        branch_id=world["branch"].pk,
    )
    response = apply(page_client(world[who]), stock_import)
    assert response.status_code == status
    assert StockMovement.objects.exists() == (status == 302)


@pytest.mark.parametrize(
    ("who", "status"), list(zip(WHO, [302, 403, 403, 403], strict=True)), ids=WHO
)
def test_who_may_upload_a_products_file(world, who, status):
    response = upload(page_client(world[who]), PRODUCTS, b"sku,name\nNEW-1,New\n")
    assert response.status_code == status
    assert StockImport.objects.exists() == (status == 302)


def test_an_xlsx_workbook_is_previewed_like_a_csv_file(manager, branch, cola):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["SKU", "Quantity"])
    workbook.active.append(["COLA-1", 4])
    buffer = io.BytesIO()
    workbook.save(buffer)
    client = page_client(manager)
    stock_import = import_of(
        upload(client, COUNT, buffer.getvalue(), name="count.xlsx", branch=branch)
    )
    assert stock_import.error_count == 0
    assert stock_import.summary["new"] == 1


def test_an_htmx_request_for_the_preview_gets_its_part_alone(manager, branch, cola):
    client = page_client(manager)
    stock_import = import_of(upload(client, COUNT, b"sku,quantity\nCOLA-1,3\n", branch=branch))
    response = client.get(reverse("import", args=[stock_import.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.startswith('<div id="import-preview">')
    assert "<html" not in html


def test_applying_a_products_file_reads_the_same_queries_whatever_the_rows(admin):
    client = page_client(admin)

    def applied(size: int) -> int:
        start = Product.objects.count()
        content = "sku,name,category,sale_price\n" + "".join(
            f"NEW-{start + n},Thing {n},Things {size},1.50\n" for n in range(size)
        )
        stock_import = import_of(upload(client, PRODUCTS, content.encode(), create_categories="on"))
        return _queries(
            client, "post", reverse("import-apply", args=[stock_import.pk]), {"once": new_key()}
        )

    assert applied(3) == applied(40)


def _zip_without_a_workbook() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # A fixed date: every test worker collects the same bytes (the same test id).
        archive.writestr(zipfile.ZipInfo("hello.txt", (2020, 1, 1, 0, 0, 0)), "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("random.csv", bytes(range(256)) * 4),
        ("broken.xlsx", b"PK\x03\x04" + b"\x00" * 100),
        ("archive.xlsx", _zip_without_a_workbook()),
        ("late-nul.csv", b"sku,quantity\n" + b"A,1\n" * 3000 + b"B,\x00\n"),
        ("unclosed.csv", b'sku,quantity\n"A,1\nB,2\n'),
        ("long-cell.csv", b"sku,quantity\n" + b'"' + b"x" * 200_000 + b'",1\n'),
        ("header-only.csv", b"sku,quantity\n"),
        ("empty.csv", b""),
    ],
)
def test_no_file_makes_the_upload_fail_with_a_server_error(manager, branch, name, content):
    response = upload(page_client(manager), COUNT, content, name=name, branch=branch)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert import_of(response).error_count > 0


# Applied by a worker ----------------------------------------------------------------------------


@pytest.fixture
def worker_elsewhere(monkeypatch):
    """The worker is another process: Apply queues a message (recorded here) and returns."""
    sent: list[tuple] = []
    monkeypatch.setattr(tasks.apply_import, "delay", lambda *args: sent.append(args))
    return sent


def test_pressing_apply_hands_the_file_to_the_worker_and_shows_it_being_applied(
    manager, branch, cola, worker_elsewhere
):
    client = page_client(manager)
    stock_import = import_of(upload(client, COUNT, b"sku,quantity\nCOLA-1,7\n", branch=branch))
    response = apply(client, stock_import)
    assert response.status_code == 302
    assert len(worker_elsewhere) == 1
    assert not StockMovement.objects.exists()
    html = client.get(response["Location"]).content.decode()
    assert "The file is being applied; this page shows when." in html
    assert "Applying 1 row…" in html
    assert 'hx-trigger="every 2s"' in html
    assert 'id="import-refresh"' in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
    assert 'id="import-apply-form"' not in html


def test_the_page_being_applied_shows_the_outcome_once_the_worker_is_done(
    manager, branch, cola, worker_elsewhere
):
    client = page_client(manager)
    stock_import = import_of(upload(client, COUNT, b"sku,quantity\nCOLA-1,7\n", branch=branch))
    apply(client, stock_import)
    [message] = worker_elsewhere
    tasks.apply_import(*message)
    url = reverse("import", args=[stock_import.pk])
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert html.startswith('<div id="import-preview">')
    assert 'id="import-applied"' in html
    assert "1 movement recorded." in html
    assert "every 2s" not in html
    audit = re.search(r'href="([^"]+)" id="import-audit-link"', html).group(1)
    assert f"branch={branch.code}" in audit
    assert "kind=COUNT" in audit
    assert f"actor={manager.pk}" in audit
    ledger = client.get(audit.replace("&amp;", "&")).content.decode()
    assert "COLA-1" in ledger


def test_pressing_apply_again_while_it_is_applied_queues_nothing_more(
    manager, branch, cola, worker_elsewhere
):
    client = page_client(manager)
    stock_import = import_of(upload(client, COUNT, b"sku,quantity\nCOLA-1,7\n", branch=branch))
    key = new_key()
    said = []
    for once in (key, key, new_key()):
        response = apply(client, stock_import, once=once)
        assert response.status_code == 302
        html = client.get(response["Location"]).content.decode()
        said.append(re.findall(r"The file is being applied[^<]*", html))
    assert said == [
        ["The file is being applied; this page shows when."],
        ["The file is being applied already."],
        ["The file is being applied already."],
    ]
    assert len(worker_elsewhere) == 1


def test_a_file_whose_worker_died_offers_apply_again_after_its_lease(
    manager, branch, cola, worker_elsewhere
):
    client = page_client(manager)
    stock_import = import_of(upload(client, COUNT, b"sku,quantity\nCOLA-1,7\n", branch=branch))
    apply(client, stock_import)
    stock_import.refresh_from_db()
    StockImport.objects.filter(pk=stock_import.pk).update(
        apply_requested_at=stock_import.apply_requested_at - services.IMPORT_APPLY_LEASE
    )
    html = client.get(reverse("import", args=[stock_import.pk])).content.decode()
    assert 'id="import-stalled"' in html
    assert 'id="import-apply-form"' in html
    assert "every 2s" not in html
    apply(client, stock_import)
    assert len(worker_elsewhere) == 2


def test_a_queue_that_does_not_answer_leaves_the_file_to_apply_again_saying_why(
    manager, branch, cola, monkeypatch
):
    from kombu.exceptions import OperationalError

    def unreachable(*args):
        raise OperationalError("Error 111 connecting. Connection refused.")

    monkeypatch.setattr(tasks.apply_import, "delay", unreachable)
    client = page_client(manager)
    stock_import = import_of(upload(client, COUNT, b"sku,quantity\nCOLA-1,7\n", branch=branch))
    response = apply(client, stock_import)
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert 'id="import-apply-error"' in html
    assert "could not be handed to the worker" in html
    assert 'id="import-apply-form"' in html
    assert not StockMovement.objects.exists()


def test_the_history_says_which_file_is_being_applied(manager, branch, cola, worker_elsewhere):
    client = page_client(manager)
    stock_import = import_of(upload(client, COUNT, b"sku,quantity\nCOLA-1,7\n", branch=branch))
    apply(client, stock_import)
    html = client.get(reverse("imports")).content.decode()
    assert "being applied" in html


def test_the_page_being_applied_reads_the_same_queries_whatever_the_rows(
    manager, branch, worker_elsewhere
):
    client = page_client(manager)

    def counts(size: int) -> tuple[int, int]:
        products = ProductFactory.create_batch(size, low_stock_threshold=0)
        content = "sku,quantity\n" + "".join(f"{p.sku},{n + 1}\n" for n, p in enumerate(products))
        stock_import = import_of(upload(client, COUNT, content.encode(), branch=branch))
        apply(client, stock_import)
        url = reverse("import", args=[stock_import.pk])
        return _queries(client, "get", url), _queries(client, "get", url, HTTP_HX_REQUEST="true")

    assert counts(3) == counts(40)
