"""Forms that act once: the one-time key rendered with a form."""

import threading

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from inventory_project.kernel.errors import InvalidInput
from inventory_project.kernel.once import OnceForm, apply_once

pytestmark = pytest.mark.django_db


def counting():
    calls = []

    def apply():
        calls.append(1)
        return {"n": len(calls)}

    return calls, apply


def test_a_new_form_carries_a_fresh_key_and_a_bound_one_keeps_its_own():
    first, second = OnceForm(), OnceForm()
    assert first.initial["once"] != second.initial["once"]

    posted = OnceForm(data={"once": "k-1"})
    assert posted.is_valid()
    assert posted.cleaned_data["once"] == "k-1"


def test_a_form_without_its_key_is_invalid():
    assert not OnceForm(data={}).is_valid()


def test_the_same_key_applies_once_and_answers_as_the_first_did():
    user = UserFactory()
    calls, apply = counting()

    assert apply_once(user, "k", "receive", apply) == ({"n": 1}, False)
    assert apply_once(user, "k", "receive", apply) == ({"n": 1}, True)
    assert len(calls) == 1


def test_keys_are_per_person():
    calls, apply = counting()

    apply_once(UserFactory(), "k", "receive", apply)
    apply_once(UserFactory(), "k", "receive", apply)

    assert len(calls) == 2


def test_a_refused_attempt_claims_nothing_so_the_corrected_form_applies():
    user = UserFactory()

    def refuse():
        raise InvalidInput("Give a quantity.", field="quantity")

    with pytest.raises(InvalidInput):
        apply_once(user, "k", "receive", refuse)
    assert apply_once(user, "k", "receive", lambda: {"ok": True}) == ({"ok": True}, False)


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_key_at_once_apply_once(postgres):
    user = UserFactory()
    calls, apply = counting()
    claimed, release = threading.Event(), threading.Event()
    answers = []

    def held_apply():
        result = apply()
        claimed.set()
        release.wait(10)  # the first keeps its claim uncommitted while the second arrives
        return result

    def run(function):
        try:
            answers.append(apply_once(user, "k", "receive", function))
        finally:
            connection.close()

    first = threading.Thread(target=run, args=(held_apply,))
    first.start()
    assert claimed.wait(10)
    second = threading.Thread(target=run, args=(apply,))
    second.start()
    _wait_for_a_blocked_lock()
    release.set()
    first.join(10)
    second.join(10)

    assert len(calls) == 1
    assert sorted(answers, key=lambda answer: answer[1]) == [({"n": 1}, False), ({"n": 1}, True)]


def _wait_for_a_blocked_lock() -> None:
    """Until the second request waits on the first's claim of the key."""
    with connection.cursor() as cursor:
        for _ in range(500):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            threading.Event().wait(0.01)
    raise AssertionError("The second request never waited for the first.")
