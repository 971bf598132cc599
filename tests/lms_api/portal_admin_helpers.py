"""What the portal page tests share: the hub accounts they act as, and HTML parsing."""

import pytest
from bs4 import BeautifulSoup

V1 = "/api/v1"
HUB_ACCOUNTS = ("ada", "linus", "grace", "trainer", "coach", "office", "admin")


@pytest.fixture(autouse=True)
def hub_accounts(hub_tokens):
    """The hub makes a user on their first sign-in: sign everyone in once (import this
    fixture into a test module that needs them)."""
    for name in HUB_ACCOUNTS:
        hub_tokens(name)


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")
