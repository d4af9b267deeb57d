"""The event catalogue and the websocket protocol's description generated from it."""

import gzip
import json
import uuid
from pathlib import Path

import jsonschema
import pytest
from django.test import Client
from django.urls import reverse
from pydantic import ValidationError

from catalog.events import PRODUCT_CHANGED, ProductChanged
from inventory_project.kernel import realtime
from inventory_project.kernel.events import catalogue
from stock.events import STOCK_CHANGED

DOMAIN_EVENTS = {
    "stock.changed",
    "stock.threshold_changed",
    "alert.raised",
    "alert.acknowledged",
    "alert.resolved",
    "transfer.updated",
    "purchase_order.updated",
    "product.changed",
}


@pytest.fixture(scope="module")
def document():
    response = Client().get(reverse("api-schema-websocket"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_every_event_type_is_declared_once():
    assert set(catalogue.types) == DOMAIN_EVENTS


def test_the_description_is_asyncapi_3_with_every_event_and_frame(document):
    assert document["asyncapi"] == "3.0.0"
    names = {message["name"] for message in document["components"]["messages"].values()}
    assert names == DOMAIN_EVENTS | {
        "welcome",
        "pong",
        "subscribed",
        "error",
        "ping",
        "subscribe",
    }
    sent = document["operations"]["sendEvents"]
    assert sent["action"] == "send"
    assert len(sent["messages"]) == len(DOMAIN_EVENTS) + 4


def test_the_description_keeps_to_the_asyncapi_3_schema(document):
    # The AsyncAPI initiative's own schema of a 3.0.0 document (@asyncapi/specs).
    path = Path(__file__).parent / "asyncapi" / "3.0.0.schema.json.gz"
    schema = json.loads(gzip.decompress(path.read_bytes()))

    problems = [error.message for error in jsonschema.Draft7Validator(schema).iter_errors(document)]

    assert problems == []


def test_every_reference_in_the_description_resolves(document):
    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    def resolve(ref: str):
        node = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node

    found = list(refs(document))
    assert found
    for ref in found:
        assert resolve(ref) is not None, ref


def test_an_events_envelope_names_its_type_and_branch(document):
    envelope = document["components"]["schemas"]["stock_changed_event"]
    assert envelope["properties"]["type"] == {"const": "stock.changed"}
    assert envelope["properties"]["branch"]["format"] == "uuid"
    catalog = document["components"]["schemas"]["product_changed_event"]
    assert catalog["properties"]["branch"] == {"type": "null"}


def test_data_with_a_field_its_declaration_lacks_is_refused():
    with pytest.raises(ValidationError):
        ProductChanged(
            product=uuid.uuid4(),
            sku="SKU-1",
            name="Milk",
            unit="PCS",
            is_active=True,
            low_stock_threshold="1",
            changed=["name"],
            secret="not declared",
        )


def test_an_undeclared_type_or_the_wrong_data_is_refused(product):
    data = ProductChanged.of(product, ["name"])

    with pytest.raises(ValueError, match="not the data"):
        realtime.publish("stock.vanished", data)
    with pytest.raises(ValueError, match="not the data"):
        realtime.publish(STOCK_CHANGED, data, branch=uuid.uuid4())


def test_a_catalog_event_goes_to_everyone_and_a_branch_event_to_a_branch(product):
    data = ProductChanged.of(product, ["name"])

    with pytest.raises(ValueError, match="goes to catalog"):
        realtime.publish(PRODUCT_CHANGED, data, branch=uuid.uuid4())
