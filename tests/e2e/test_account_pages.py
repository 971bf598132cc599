"""Local accounts from the browser: admins create them, everyone changes their password."""

import re

import httpx
import pytest

pytestmark = pytest.mark.e2e


def form_xsrf(page: httpx.Response) -> str:
    found = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
    assert found, f"no form on {page.url} ({page.status_code})"
    return found.group(1)


def issued_password(page: httpx.Response) -> str:
    found = re.search(r'<code id="issued_password">([^<]+)</code>', page.text)
    assert found, page.text[:1000]
    return found.group(1)


def post_accounts(browser: httpx.Client, **data: str) -> httpx.Response:
    xsrf = form_xsrf(browser.get("/hub/accounts"))
    return browser.post("/hub/accounts", data={"_xsrf": xsrf, **data})


def change_password(browser: httpx.Client, current: str, new: str, confirm: str):
    xsrf = form_xsrf(browser.get("/hub/change-password"))
    return browser.post(
        "/hub/change-password",
        data={
            "_xsrf": xsrf,
            "current_password": current,
            "new_password": new,
            "confirm_password": confirm,
        },
    )


def logged_in_as(platform, username: str, password: str) -> bool:
    response = platform.browser(username, password=password).get("/hub/api/user")
    return response.status_code == 200 and response.json()["name"] == username


def test_admin_creates_a_trainer_who_can_work_at_once(platform):
    admin = platform.browser("admin")
    page = post_accounts(admin, action="create", username="hopper", role="trainer")
    assert page.status_code == 200
    password = issued_password(page)
    assert "hopper" in page.text

    hopper = platform.browser("hopper", password=password)
    assert hopper.get("/hub/api/user").json()["groups"] == ["trainers"]
    assert hopper.get("/services/dashboards/").status_code == 200  # no hub restart needed

    again = post_accounts(admin, action="create", username="hopper", role="student")
    assert again.status_code == 409 and "already has an account" in again.text
    bad_role = post_accounts(admin, action="create", username="eve", role="superadmin")
    assert bad_role.status_code == 400
    assert not logged_in_as(platform, "eve", "anything-at-all")


def test_admin_resets_a_password(platform):
    admin = platform.browser("admin")
    first = issued_password(post_accounts(admin, action="create", username="lovelace"))
    second = issued_password(post_accounts(admin, action="reset", username="lovelace"))
    assert first != second
    assert logged_in_as(platform, "lovelace", second)
    assert not logged_in_as(platform, "lovelace", first)
    missing = post_accounts(admin, action="reset", username="nobody-here")
    assert missing.status_code == 404


def test_students_cannot_manage_accounts(platform):
    student = platform.browser("linus")
    page = student.get("/hub/accounts")
    assert page.status_code == 403
    assert "Only hub admins" in page.text
    assert "Accounts" not in student.get("/hub/home").text
    assert "change-password" in student.get("/hub/home").text


def test_a_user_changes_their_own_password(platform):
    admin = platform.browser("admin")
    password = issued_password(post_accounts(admin, action="create", username="turing"))
    turing = platform.browser("turing", password=password)

    wrong = change_password(turing, "not-my-password", "brand-new-pass", "brand-new-pass")
    assert wrong.status_code == 400 and "current password is not right" in wrong.text
    mismatch = change_password(turing, password, "brand-new-pass", "brand-new-typo")
    assert mismatch.status_code == 400 and "not the same" in mismatch.text
    short = change_password(turing, password, "short", "short")
    assert short.status_code == 400 and "at least 8" in short.text
    assert logged_in_as(platform, "turing", password)  # nothing changed so far

    done = change_password(turing, password, "brand-new-pass", "brand-new-pass")
    assert done.status_code == 200 and "Your password was changed" in done.text
    assert logged_in_as(platform, "turing", "brand-new-pass")
    assert not logged_in_as(platform, "turing", password)


def test_forms_need_the_xsrf_token(platform):
    admin = platform.browser("admin")
    forged = admin.post("/hub/accounts", data={"action": "create", "username": "mallory"})
    assert forged.status_code == 403
    assert not logged_in_as(platform, "mallory", "x" * 12)
