"""How logs name the person behind a request, whoever's user model it is."""

from typing import Any


def who(user: Any) -> str:
    """The user as security logs name them."""
    if user is None or not user.is_authenticated:
        return "an anonymous user"
    state = "" if user.is_active else " (inactive)"
    return f"user {user.pk} <{user.email}>{state}"
