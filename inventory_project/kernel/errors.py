"""The one base class of the domain's errors.

Services raise these; every interface (HTML form, API, websocket, admin) turns them into its
own clear answer. ``code`` is stable and machine-readable; the message is for people;
``field`` names the input at fault when there is one (``quantity``, ``lines.2.quantity``).
"""

from collections.abc import Iterator
from contextlib import contextmanager


class DomainError(Exception):
    code = "domain_error"
    # Set by whoever already logged this refusal, so that interfaces do not log it twice.
    logged = False

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    code = "not_found"


class InvalidInput(DomainError):
    code = "invalid"


class NotPermitted(DomainError):
    code = "not_permitted"


class Conflict(DomainError):
    code = "conflict"


class Unprocessable(DomainError):
    """Well-formed, but contradicts what the server already holds (a reused request key)."""

    code = "unprocessable"


class Unavailable(DomainError):
    """Not done now, worth retrying later; ``retry_after`` says when, in seconds."""

    code = "unavailable"
    retry_after = 1


@contextmanager
def at_field(name: str) -> Iterator[None]:
    """Name ``name`` as the input at fault in a DomainError raised inside the block, unless
    the error already names one."""
    try:
        yield
    except DomainError as error:
        if error.field is None:
            error.field = name
        raise
