"""lms-api's side of issue 18: token scopes (item 7), the workspace rule of deactivated and
revoked people (item 1) and what each reveal policy shows (item 17), over the API."""

import pytest

from tests.lms_api.conftest import assert_error, bearer
from tests.lms_api.test_quizzes import V1, answer, make_quiz, start, submit

LMS_SCOPE = "access:services!service=lms-api"


# --- item 7: the token must carry the scope for this service ------------------------------
def token_with(hub, username: str, **body) -> str:
    if hub.api("GET", f"/users/{username}").status_code == 404:
        hub.api("POST", f"/users/{username}").raise_for_status()
    made = hub.api("POST", f"/users/{username}/tokens", json={"note": "scopes", **body})
    assert made.status_code == 201, made.text
    return made.json()["token"]


@pytest.mark.parametrize(
    ("username", "scopes"),
    [
        ("ada", []),
        ("ada", ["read:users:activity!user=ada"]),
        ("trainer", ["access:services!service=dashboards"]),
    ],
    ids=["no-scopes", "activity-only", "another-service"],
)
def test_a_token_without_the_lms_scope_is_refused(api, hub, username, scopes):
    token = token_with(hub, username, scopes=scopes)
    for method, path in (("GET", "/me"), ("PATCH", "/me"), ("GET", "/enrollments")):
        kwargs = {"json": {"name": "Mallory"}} if method == "PATCH" else {}
        response = api.request(method, f"{V1}{path}", headers=bearer(token), **kwargs)
        assert_error(response, 403, "insufficient_scope", LMS_SCOPE)
    # and nothing was written
    me = api.get(f"{V1}/me", headers=bearer(token_with(hub, username)))
    assert me.status_code == 200 and me.json()["name"] != "Mallory"


def test_default_tokens_and_tokens_with_the_scope_work(api, hub, auth):
    assert api.get(f"{V1}/me", headers=bearer(token_with(hub, "ada"))).status_code == 200
    scoped = token_with(hub, "linus", scopes=[LMS_SCOPE])
    assert api.get(f"{V1}/me", headers=bearer(scoped)).json()["username"] == "linus"
    # the hub's own service token (the workspace rule)
    allowed = api.get(f"{V1}/workspaces/allowed", params={"user": "ada"}, headers=auth("hub"))
    assert allowed.status_code == 200, allowed.text


# --- item 1: a deactivated or revoked person may launch nothing ---------------------------
def test_deactivated_and_revoked_people_may_launch_nothing(api, auth):
    def rule(user):
        answer_ = api.get(f"{V1}/workspaces/allowed", params={"user": user}, headers=auth("hub"))
        assert answer_.status_code == 200, answer_.text
        return answer_.json()

    def check(*users):
        checked = api.post(
            f"{V1}/workspaces/allowed/check", json={"users": list(users)}, headers=auth("hub")
        )
        assert checked.status_code == 200, checked.text
        return checked.json()["kinds"]

    assert rule("ada")["kinds"] and rule("ada")["account_active"] is True
    assert check("ada", "linus", "grace", "nobody") == {
        "ada": ["jupyterlab", "superset"],
        "linus": ["jupyterlab", "code-server"],
        "grace": [],
        "nobody": [],
    }
    done = api.post(f"{V1}/users/ada/deactivate", headers=auth("admin"))
    assert done.status_code == 200, done.text
    deactivated = rule("ada")
    assert deactivated["account_active"] is False
    assert deactivated["kinds"] == [] and deactivated["tracks"] == []
    assert deactivated["offers"] == []  # nothing to buy either
    enrollment = api.get(f"{V1}/enrollments", params={"username": "linus"}, headers=auth("admin"))
    linus_fsd = enrollment.json()["results"][0]["id"]
    revoked = api.post(
        f"{V1}/enrollments/{linus_fsd}/revoke", json={"reason": "Left"}, headers=auth("admin")
    )
    assert revoked.status_code == 200, revoked.text
    assert check("ada", "linus") == {"ada": [], "linus": []}
    assert rule("linus")["kinds"] == [] and rule("linus")["account_active"] is True
    # only the hub (or an admin) may ask
    refused = api.post(
        f"{V1}/workspaces/allowed/check", json={"users": ["ada"]}, headers=auth("grace")
    )
    assert_error(refused, 403)
    # re-activated: the same enrollments count again
    api.patch(f"{V1}/users/ada", json={"is_active": True}, headers=auth("admin"))
    assert check("ada")["ada"] == ["jupyterlab", "superset"]


# --- item 17: what each reveal policy shows ---------------------------------------------
def take_half_right(api, auth, quiz):
    """Question 1 right, the others wrong: correctness differs between questions."""
    attempt = start(api, auth, quiz["id"]).json()
    for number, q in enumerate(quiz["questions"], start=1):
        ids = [o["id"] for o in q["options"] if o["is_correct"] is (number == 1)][:1]
        assert answer(api, auth, attempt["id"], q["id"], ids).status_code == 200
    return attempt


def student_views(api, auth, attempt_id) -> list[dict]:
    """Every answer a student gets about her graded attempt."""
    return [
        submit(api, auth, attempt_id).json(),
        api.get(f"{V1}/attempts/{attempt_id}", headers=auth("ada")).json(),
    ]


def test_never_reveals_no_per_question_correctness(api, auth):
    quiz = make_quiz(api, auth, reveal_policy="never", max_attempts=3)
    for _ in range(2):
        attempt = take_half_right(api, auth, quiz)
        for view in student_views(api, auth, attempt["id"]):
            assert view["status"] == "SUBMITTED" and view["score"] == 1.0  # the score: yes
            assert view["answers_revealed"] is False
            assert all(q["result"] is None and q["key"] is None for q in view["questions"])
            assert "never which answers were right" in view["reveal_note"]
    # the trainer sees which were right
    staff = api.get(f"{V1}/attempts/{attempt['id']}", headers=auth("trainer")).json()
    assert [q["result"]["correct"] for q in staff["questions"]].count(True) == 1


def test_after_last_attempt_shows_correctness_only_after_the_last(api, auth):
    quiz = make_quiz(api, auth, reveal_policy="after_last_attempt", max_attempts=2)
    first = take_half_right(api, auth, quiz)
    graded = submit(api, auth, first["id"]).json()
    assert all(q["result"] is None for q in graded["questions"])
    second = take_half_right(api, auth, quiz)
    last = submit(api, auth, second["id"]).json()
    assert last["answers_revealed"] is True
    assert [q["result"]["correct"] for q in last["questions"]].count(True) == 1


def test_after_submission_shows_correctness_and_key(api, auth):
    quiz = make_quiz(api, auth)  # after_submission, the default
    graded = submit(api, auth, take_half_right(api, auth, quiz)["id"]).json()
    assert graded["answers_revealed"] is True
    assert [q["result"]["correct"] for q in graded["questions"]].count(True) == 1
    assert all(q["key"] is not None for q in graded["questions"])
