"""The German catalogue is complete, compiled, and what a German reader gets.

``make messages`` collects new strings into
``inventory_project/locale/de/LC_MESSAGES/django.po``; each one is translated there and the
``.mo`` compiled and committed with it."""

import ast
import gettext
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import page_client
from stock import services as stock
from stock.models import StockLevel

LOCALE = Path(settings.LOCALE_PATHS[0])
FIELD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$')


def catalogue_entries(po: Path) -> list[dict]:
    """The entries of a .po file: fields joined across lines, plus their flags."""
    entries = []
    for block in po.read_text(encoding="utf-8").strip().split("\n\n"):
        entry: dict = {"flags": set()}
        field = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry[field] += ast.literal_eval(line)
            else:
                match = FIELD.match(line)
                assert match, f"{po}: cannot read {line!r}"
                field = match.group(1)
                entry[field] = ast.literal_eval(match.group(2))
        if entry.get("msgid"):  # the header has an empty msgid
            entries.append(entry)
    return entries


def translated_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


@pytest.mark.parametrize("language", translated_languages())
def test_every_string_is_translated_and_none_is_fuzzy(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    entries = catalogue_entries(po)

    assert len(entries) > 100, "Run `make messages` to collect the strings."
    fuzzy = [entry["msgid"] for entry in entries if "fuzzy" in entry["flags"]]
    untranslated = [
        entry["msgid"]
        for entry in entries
        if not all(value for key, value in entry.items() if key.startswith("msgstr"))
    ]
    assert not fuzzy, f"Fuzzy in {po} (check the translation, drop the flag): {fuzzy}"
    assert not untranslated, f"Not translated in {po}: {untranslated}"


@pytest.mark.parametrize("language", translated_languages())
def test_the_compiled_catalogue_holds_exactly_what_the_po_says(language):
    folder = LOCALE / language / "LC_MESSAGES"
    with (folder / "django.mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog
    expected = {}
    for entry in catalogue_entries(folder / "django.po"):
        msgid = entry["msgid"]
        if "msgctxt" in entry:
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        if "msgid_plural" in entry:
            for key, value in entry.items():
                if key.startswith("msgstr["):
                    expected[(msgid, int(key[7:-1]))] = value
        else:
            expected[msgid] = entry["msgstr"]

    compiled_entries = {key: value for key, value in catalog.items() if key != ""}
    assert compiled_entries == expected, "Compile it: `make messages` (compilemessages)."


@pytest.fixture
def german_staff(db, branch):
    return MembershipFactory(branch=branch, role=Role.STAFF, user__language="de").user


def test_a_person_who_chose_german_gets_the_navigation_in_german(german_staff, branch):
    response = page_client(german_staff).get(reverse("account"))

    assertContains(response, '<html lang="de">')
    for german in ("Übersicht", "Warnungen", "Ihr Konto", "Abmelden", "Ihre Filialen"):
        assertContains(response, german)
    # Labels of roles and rights come from choices, translated as well.
    assertContains(response, "Mitarbeitende")
    assertContains(response, "Wareneingang buchen")
    assertNotContains(response, "Sign out")


def test_a_person_who_chose_german_reads_a_refusal_on_a_form_in_german(german_staff):
    response = page_client(german_staff).post(
        reverse("alert-mail"), {"alert_mail": "EACH", "alert_mail_all_branches": "on"}
    )

    assertContains(
        response,
        "Nur Administratoren erhalten die E-Mails zu niedrigem Bestand aller Filialen.",
        status_code=400,
    )
    assertContains(response, "Speichern", status_code=400)


def test_the_browser_s_language_counts_for_someone_who_chose_none(branch):
    person = MembershipFactory(branch=branch, role=Role.STAFF, user__language="").user

    response = page_client(person).get(reverse("account"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")

    assertContains(response, "Ihr Konto")


def test_a_german_reader_sees_quantities_and_refusals_on_the_item_page_as_german_writes_them(
    actor, branch
):
    product = ProductFactory(unit="kg", low_stock_threshold=Decimal("2.5"))
    stock.receive_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity="1234.5")
    manager = MembershipFactory(branch=branch, role=Role.MANAGER, user__language="de").user
    level = StockLevel.objects.get(branch=branch, product=product)
    client = page_client(manager)

    page = client.get(reverse("stock-level", args=[level.pk]))

    assertContains(page, "1.234,5")
    assertContains(page, "2,5")
    assertNotContains(page, "1234.5")

    issue = reverse("stock-level-move", args=[level.pk, "issue"])
    key = re.search(r'name="once" value="([0-9a-f]+)" id="issue-once"', client.get(issue).text)
    refused = client.post(issue, {"once": key.group(1), "quantity": "2000"})

    assert refused.status_code == 409  # insufficient stock is a conflict
    assertContains(
        refused,
        f"{branch.code} hat nur 1234,5 kg von {product.sku} auf Lager; "
        "2000 können nicht ausgebucht werden.",
        status_code=409,
    )
