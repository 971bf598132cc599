"""The accounts page's memory of outcomes: a password shown once, to its admin, for a while.
The pages themselves, through a real hub: tests/e2e/test_account_pages.py."""

import pytest

from hub import account_pages
from hub.account_pages import Outcomes

ISSUED = {"username": "ada", "password": "s3cret-pass", "action": "reset"}


def test_a_password_is_taken_once_and_only_by_its_admin():
    outcomes = Outcomes()
    outcome_id = outcomes.put("admin", "key-1", ISSUED)
    assert outcomes.take("someone-else", outcome_id) is None
    assert outcomes.take("admin", outcome_id) == ISSUED
    assert outcomes.take("admin", outcome_id) is None
    assert outcomes.take("admin", "made-up-id") is None


def test_a_repeated_form_finds_its_first_outcome():
    outcomes = Outcomes()
    outcome_id = outcomes.put("admin", "key-1", ISSUED)
    assert outcomes.repeated("admin", "key-1") == outcome_id
    assert outcomes.repeated("other-admin", "key-1") is None
    assert outcomes.repeated("admin", "key-2") is None


def test_outcomes_expire_and_stay_bounded(monkeypatch: pytest.MonkeyPatch):
    now = [1000.0]
    monkeypatch.setattr(account_pages.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(account_pages, "MAX_RESULTS", 3)
    outcomes = Outcomes()
    old = outcomes.put("admin", "old", ISSUED)
    now[0] += account_pages.RESULT_SECONDS + 1
    assert outcomes.take("admin", old) is None  # expired
    ids = [outcomes.put("admin", f"k{i}", ISSUED) for i in range(5)]
    assert len(outcomes._by_id) <= 3
    assert outcomes.repeated("admin", "old") is None
    assert outcomes.take("admin", ids[0]) is None  # the oldest made room
    assert outcomes.take("admin", ids[-1]) == ISSUED
