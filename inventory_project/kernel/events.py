"""The catalogue of live events: one typed definition per event type.

Each app declares the events it publishes as a subclass of ``Event`` (its ``data``), with
``@catalogue.event("stock.changed", ...)``; services publish them with
``inventory_project.kernel.realtime.publish``. The same definitions validate what is sent
and generate the machine-readable description of the websocket protocol (AsyncAPI 3.0,
served at ``/api/schema/websocket/``), so the description cannot drift from the events.

Besides the domain's events, the socket's own frames (``welcome``, ``pong``,
``subscribed``, ``error``) and the client's messages (``ping``, ``subscribe``,
``unsubscribe``) are declared here, as the consumer sends and reads them.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

EXACT = Decimal("0.001")

# A quantity as the API writes it: a string with three decimals ("12.500").
Quantity = Annotated[
    Decimal,
    PlainSerializer(lambda value: str(Decimal(value).quantize(EXACT)), return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?\d+\.\d{3}$", "examples": ["12.500"]},
    ),
]


class Event(BaseModel):
    """The ``data`` of one event type. Subclasses name their fields and types; unknown
    fields are refused, so a payload cannot grow a field its description does not show."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Actor(BaseModel):
    """Who made the change."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class EventType:
    name: str
    data: type[Event]
    summary: str
    # "branch": sent to the group of the branch it concerns; "catalog": to everyone.
    audience: Literal["branch", "catalog"]


class Catalogue:
    """Every event type, by name."""

    def __init__(self) -> None:
        self.types: dict[str, EventType] = {}
        self._names: dict[type[Event], list[str]] = {}

    def event(self, *names: str, summary: str, audience: Literal["branch", "catalog"]):
        """Declare ``names`` as event types whose data is the decorated class."""

        def register(data: type[Event]) -> type[Event]:
            for name in names:
                if name in self.types and self.types[name].data is not data:
                    raise ValueError(f"Event type {name!r} is declared twice.")
                self.types[name] = EventType(name, data, summary, audience)
            self._names[data] = list(names)
            return data

        return register

    def check(self, name: str, data: Event) -> EventType:
        """The declaration of ``name``, which must be the one ``data`` was declared for."""
        declared = self.types.get(name)
        if declared is None or not isinstance(data, declared.data):
            raise ValueError(f"{type(data).__name__} is not the data of event type {name!r}.")
        return declared


catalogue = Catalogue()


# The socket's own frames and the client's messages --------------------------------------


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Welcome(Frame):
    """First frame on a socket: who it is signed in as and which branches it follows."""

    type: Literal["welcome"] = "welcome"
    user: uuid.UUID
    branches: list[uuid.UUID]
    at: str


class Pong(Frame):
    """The answer to a ping."""

    type: Literal["pong"] = "pong"
    at: str


class Subscribed(Frame):
    """The branches the socket follows now: after (un)subscribing, or when the user's
    rights changed (access events)."""

    type: Literal["subscribed"] = "subscribed"
    branches: list[uuid.UUID]


class Error(Frame):
    """A message was not understood or not allowed (the socket stays open), or the socket
    is about to close: ``not_authenticated`` (close code 4401), ``access_revoked``
    (4403), ``unavailable`` (4503)."""

    type: Literal["error"] = "error"
    code: str
    message: str


class Ping(Frame):
    type: Literal["ping"] = "ping"


class Subscribe(Frame):
    """Follow more (``subscribe``) or fewer (``unsubscribe``) of the branches the user may
    view."""

    type: Literal["subscribe", "unsubscribe"]
    branches: list[uuid.UUID] = Field(min_length=1, max_length=200)


SERVER_FRAMES: tuple[type[Frame], ...] = (Welcome, Pong, Subscribed, Error)
CLIENT_MESSAGES: tuple[type[Frame], ...] = (Ping, Subscribe)


# The description --------------------------------------------------------------------------


def envelope_schema(declared: EventType, data_ref: str) -> dict[str, Any]:
    branch = (
        {"type": "null"} if declared.audience == "catalog" else {"type": "string", "format": "uuid"}
    )
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["type", "branch", "version", "data", "at"],
        "properties": {
            "type": {"const": declared.name},
            "branch": branch,
            "version": {
                "type": "integer",
                "minimum": 1,
                "description": "Counts the events of the branch (of the catalog when "
                "branch is null); a number skipped means an event was missed: refetch.",
            },
            "data": {"$ref": data_ref},
            "at": {"type": "string", "format": "date-time"},
        },
    }


def asyncapi_document(*, url: str = "/ws/inventory/") -> dict[str, Any]:
    """The websocket protocol as an AsyncAPI 3.0 document (payloads in JSON Schema)."""
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}

    def add_model(model: type[BaseModel]) -> str:
        schema = model.model_json_schema(
            ref_template="#/components/schemas/{model}", mode="serialization"
        )
        for name, definition in schema.pop("$defs", {}).items():
            schemas[name] = definition
        schemas[model.__name__] = schema
        return f"#/components/schemas/{model.__name__}"

    sent, received = [], []
    for declared in sorted(catalogue.types.values(), key=lambda item: item.name):
        data_ref = add_model(declared.data)
        key = declared.name.replace(".", "_")
        schemas[f"{key}_event"] = envelope_schema(declared, data_ref)
        messages[key] = {
            "name": declared.name,
            "title": declared.name,
            "summary": declared.summary,
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{key}_event"},
        }
        sent.append(key)
    for frame, direction in [(f, sent) for f in SERVER_FRAMES] + [
        (f, received) for f in CLIENT_MESSAGES
    ]:
        ref = add_model(frame)
        key = f"frame_{frame.__name__.lower()}"
        messages[key] = {
            "name": frame.__name__.lower(),
            "title": frame.__name__,
            "summary": (frame.__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
            "contentType": "application/json",
            "payload": {"$ref": ref},
        }
        direction.append(key)
    refs = {key: {"$ref": f"#/components/messages/{key}"} for key in messages}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Inventory live updates",
            "version": "1",
            "description": (
                "One websocket, opened with the browser's session (from an allowed origin) "
                "or with a single-use ticket from POST /api/v1/realtime/tickets/ "
                "(?ticket=...). It follows every branch the user may view. Each event is "
                "an envelope {type, branch, version, data, at}, sent once its transaction "
                "has committed."
            ),
        },
        "defaultContentType": "application/json",
        "channels": {
            "inventory": {
                "address": url,
                "title": "Live updates of the branches the user may view",
                "messages": refs,
            }
        },
        "operations": {
            "sendEvents": {
                "action": "send",
                "title": "Events and frames the server sends",
                "channel": {"$ref": "#/channels/inventory"},
                "messages": [{"$ref": f"#/channels/inventory/messages/{key}"} for key in sent],
            },
            "receiveMessages": {
                "action": "receive",
                "title": "Messages the client sends",
                "channel": {"$ref": "#/channels/inventory"},
                "messages": [{"$ref": f"#/channels/inventory/messages/{key}"} for key in received],
            },
        },
        "components": {"schemas": schemas, "messages": messages},
    }


def frame_schema() -> dict[str, Any]:
    """One JSON Schema that every frame the server sends must match: an event of the
    catalogue or one of the socket's own frames."""
    document = asyncapi_document()
    return {
        "oneOf": [
            {"$ref": f"#/components/schemas/{key}"}
            for key in document["components"]["schemas"]
            if key.endswith("_event")
        ]
        + [{"$ref": f"#/components/schemas/{frame.__name__}"} for frame in SERVER_FRAMES],
        "components": document["components"],
    }
