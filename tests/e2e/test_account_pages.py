"""Local accounts from the browser: admins create them, everyone changes their password.

Every form posts, then redirects (303) to the page with the outcome; a new password is shown
on that page once, and a password reset is confirmed first.
"""

import re
import time

import httpx
import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.e2e


def form_xsrf(page: httpx.Response) -> str:
    found = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
    assert found, f"no form on {page.url} ({page.status_code})"
    return found.group(1)


def issued_password(page: httpx.Response) -> str:
    found = re.search(r'<code id="issued_password">([^<]+)</code>', page.text)
    assert found, page.text[:1000]
    return found.group(1)


def form_key(page: httpx.Response) -> str:
    found = re.search(r'name="request_key" value="([^"]+)"', page.text)
    assert found, page.text[:1000]
    return found.group(1)


def post_accounts(browser: httpx.Client, page: str = "/hub/accounts", **data: str):
    form = browser.get(page)
    fields = {"_xsrf": form_xsrf(form), "request_key": form_key(form), **data}
    return browser.post("/hub/accounts", data=fields)


def reset_password(browser: httpx.Client, username: str) -> httpx.Response:
    """Through the confirmation page, as the Reset password button goes."""
    page = f"/hub/accounts?reset={username}"
    return post_accounts(browser, page, action="reset", username=username, confirm="yes")


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
    role_field = BeautifulSoup(bad_role.text, "html.parser").find("select", id="new_role")
    assert role_field["aria-describedby"] == "new_role_error"
    assert not logged_in_as(platform, "eve", "anything-at-all")


def test_a_promotion_and_a_demotion_apply_without_a_restart(platform):
    """`apranova-hub set-role` on the running hub: the next token check after the role's
    refresh time (APRANOVA_ROLE_REFRESH_SECONDS, short on the test platform) sees it."""
    out = platform.run("-m", "hub.cli", "add-user", "hamming", "--role", "student")
    password = out.strip().rsplit(" ", 1)[-1]
    hamming = platform.browser("hamming", password=password)
    assert hamming.get("/hub/api/user").json()["groups"] == []

    def role_seen_by_lms() -> str:
        token, _ = platform.new_token("hamming")  # a new token: nothing cached in lms-api
        me = httpx.get(
            f"{platform.url}/services/lms-api/api/v1/me",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert me.status_code == 200, me.text
        return me.json()["role"]

    for role, groups in (("trainer", ["trainers"]), ("student", [])):
        platform.run("-m", "hub.cli", "set-role", "hamming", role)
        deadline = time.monotonic() + 30
        while role_seen_by_lms() != role:
            assert time.monotonic() < deadline, f"the hub never applied {role}"
            time.sleep(0.5)
        assert hamming.get("/hub/api/user").json()["groups"] == groups


def test_admin_resets_a_password(platform):
    admin = platform.browser("admin")
    first = issued_password(post_accounts(admin, action="create", username="lovelace"))
    second = issued_password(reset_password(admin, "lovelace"))
    assert first != second
    assert logged_in_as(platform, "lovelace", second)
    assert not logged_in_as(platform, "lovelace", first)
    missing = reset_password(admin, "nobody-here")
    assert missing.status_code == 404 and "has no local account" in missing.text
    assert admin.get("/hub/accounts?reset=nobody-here").status_code == 404


def test_a_reset_is_confirmed_first(platform):
    admin = platform.browser("admin")
    password = issued_password(post_accounts(admin, action="create", username="hamilton"))
    listing = BeautifulSoup(admin.get("/hub/accounts").text, "html.parser")
    button = listing.find("a", attrs={"aria-label": "Reset the password of hamilton"})
    assert button is not None and button.name == "a"  # a link to the question, not a form

    question = admin.get(button["href"])
    assert question.status_code == 200
    page = BeautifulSoup(question.text, "html.parser")
    assert page.h1.get_text(strip=True) == "Reset the password of hamilton?"
    assert page.find("button", id="confirm_reset").get_text() == "Reset the password of hamilton"
    assert page.find("a", string=re.compile("Cancel"))["href"] == "/hub/accounts"
    assert logged_in_as(platform, "hamilton", password)  # asking changed nothing

    unconfirmed = post_accounts(admin, action="reset", username="hamilton")
    assert unconfirmed.status_code == 400 and "nothing was changed" in unconfirmed.text
    assert "confirm_reset" in unconfirmed.text  # the question again
    assert logged_in_as(platform, "hamilton", password)


def test_results_come_after_a_redirect_and_show_once(platform):
    admin = platform.browser("admin")
    form = admin.get("/hub/accounts")
    fields = {"_xsrf": form_xsrf(form), "request_key": form_key(form)}
    created = admin.post(
        "/hub/accounts",
        data={**fields, "action": "create", "username": "noether"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    target = created.headers["location"]
    assert target.startswith("/hub/accounts?shown=")
    shown = admin.get(target)
    assert shown.headers["cache-control"] == "no-store"
    password = issued_password(shown)
    assert password not in target

    reload = admin.get(target)  # a reload shows no password, and makes none
    assert "issued_password" not in reload.text and "shown already" in reload.text
    assert logged_in_as(platform, "noether", password)

    again = admin.post(  # the same form again (double click, or Back and resubmit)
        "/hub/accounts",
        data={**fields, "action": "create", "username": "noether"},
        follow_redirects=False,
    )
    assert again.status_code == 303 and again.headers["location"] == target

    question = admin.get("/hub/accounts?reset=noether")
    reset = {"_xsrf": form_xsrf(question), "request_key": form_key(question)}
    reset |= {"action": "reset", "username": "noether", "confirm": "yes"}
    first = admin.post("/hub/accounts", data=reset, follow_redirects=False)
    assert first.status_code == 303
    new_password = issued_password(admin.get(first.headers["location"]))
    repeat = admin.post("/hub/accounts", data=reset, follow_redirects=False)
    assert repeat.headers["location"] == first.headers["location"]  # not reset twice
    assert logged_in_as(platform, "noether", new_password)
    assert not logged_in_as(platform, "noether", password)


def test_create_errors_are_next_to_the_field(platform):
    admin = platform.browser("admin")
    page = post_accounts(admin, action="create", username="no spaces!", role="trainer")
    assert page.status_code == 400
    html = BeautifulSoup(page.text, "html.parser")
    field = html.find("input", id="new_username")
    assert "is-invalid" in field["class"] and field["value"] == "no spaces!"
    error = html.find(id=field["aria-describedby"])
    assert error is not None and error.get_text(strip=True)
    assert html.find("option", selected=True)["value"] == "trainer"  # kept as chosen


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
    assert done.history[0].status_code == 303  # a reload does not post again
    assert logged_in_as(platform, "turing", "brand-new-pass")
    assert not logged_in_as(platform, "turing", password)


def test_forms_need_the_xsrf_token(platform):
    admin = platform.browser("admin")
    forged = admin.post("/hub/accounts", data={"action": "create", "username": "mallory"})
    assert forged.status_code == 403
    assert not logged_in_as(platform, "mallory", "x" * 12)
