"""The one base class of the domain's errors.

Services raise these; every interface (HTML form, API, websocket, admin) turns them into its
own clear answer. ``code`` is stable and machine-readable; the message is for people.
"""


class DomainError(Exception):
    code = "domain_error"
    # Set by whoever already logged this refusal, so that interfaces do not log it twice.
    logged = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    code = "not_found"


class InvalidInput(DomainError):
    code = "invalid"


class NotPermitted(DomainError):
    code = "not_permitted"


class Conflict(DomainError):
    code = "conflict"
