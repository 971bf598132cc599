"""Quizzes through the API, on SQLite and PostgreSQL: authoring, import/export, taking,
grading, time limits, reveal policies, results, the answer log, and who sees what."""

import json

import pytest
import yaml
from sqlalchemy import create_engine, text

from lms_api.database import sync_url
from tests.lms_api.conftest import app_settings, assert_error, rows, run_at_once
from tests.lms_api.test_permissions import api_routes

V1 = "/api/v1"
# Keys a student must never see before the key is revealed.
SECRET_KEYS = {"is_correct", "rationale", "explanation", "correct_option_ids"}


# --- helpers -------------------------------------------------------------------------------
def question(text, right, wrong, kind="SINGLE", **extra):
    options = [{"text": t, "is_correct": True, "rationale": f"{t} is right"} for t in right]
    options += [{"text": t, "is_correct": False, "rationale": f"{t} is wrong"} for t in wrong]
    return {"text": text, "type": kind, "options": options, "explanation": f"About {text}", **extra}


QUESTIONS = [
    question("Which join keeps every customer?", ["LEFT JOIN"], ["INNER JOIN", "SEMI JOIN"]),
    question(
        "Which are aggregate functions?", ["SUM", "AVG"], ["LOWER", "TRIM"], "MULTIPLE", points=2
    ),
    question("What does NULL = NULL give?", ["NULL"], ["TRUE", "FALSE"]),
]


def make_quiz(api, auth, author="trainer", publish=True, **settings):
    body = {"title": "SQL basics", "track": "DP", "questions": QUESTIONS, **settings}
    created = api.post(f"{V1}/quizzes", json=body, headers=auth(author))
    assert created.status_code == 201, created.text
    quiz = created.json()
    if publish:
        published = api.post(f"{V1}/quizzes/{quiz['id']}/publish", headers=auth(author))
        assert published.status_code == 200, published.text
        quiz = published.json()
    return quiz


def option_ids(quiz, number, *texts):
    """Ids of the options with these texts in question `number` (1-based) of a staff view."""
    options = quiz["questions"][number - 1]["options"]
    return [o["id"] for o in options if o["text"] in texts]


def quiz_ids(api, auth, username) -> list[int]:
    listed = api.get(f"{V1}/quizzes", headers=auth(username))
    assert listed.status_code == 200, listed.text
    return [q["id"] for q in listed.json()["results"]]


def start(api, auth, quiz_id, username="ada"):
    return api.post(f"{V1}/quizzes/{quiz_id}/attempts", headers=auth(username))


def answer(api, auth, attempt_id, question_id, ids, username="ada"):
    return api.put(
        f"{V1}/attempts/{attempt_id}/answers/{question_id}",
        json={"option_ids": ids},
        headers=auth(username),
    )


def submit(api, auth, attempt_id, username="ada"):
    return api.post(f"{V1}/attempts/{attempt_id}/submit", headers=auth(username))


def execute(database_url: str, sql: str, **params) -> None:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as connection:
            connection.execute(text(sql), params)
    finally:
        engine.dispose()


def counts(database_url: str) -> list[tuple]:
    """Quizzes, questions and options in the database (the demo school has two quizzes)."""
    return rows(
        database_url,
        "SELECT (SELECT count(*) FROM quizzes), (SELECT count(*) FROM quiz_questions), "
        "(SELECT count(*) FROM quiz_options)",
    )


def keys_in(value) -> set[str]:
    """Every key of every object in a JSON document."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_in(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    return set()


def take_it_all_right(api, auth, quiz, username="ada"):
    attempt = start(api, auth, quiz["id"], username).json()
    for q in quiz["questions"]:
        right = [o["id"] for o in q["options"] if o["is_correct"]]
        assert answer(api, auth, attempt["id"], q["id"], right, username).status_code == 200
    return attempt


# --- authoring -----------------------------------------------------------------------------
def test_trainer_writes_a_draft_students_cannot_see_until_published(api, auth):
    draft = make_quiz(api, auth, publish=False, time_limit_seconds=600, max_attempts=2)
    assert draft["status"] == "draft"
    assert draft["generation_type"] == "MANUAL"
    assert draft["created_by"] == "trainer"
    assert draft["track"] == "DP"
    assert draft["question_count"] == 3 and draft["max_score"] == 4.0
    assert [q["order"] for q in draft["questions"]] == [1, 2, 3]
    assert [o["is_correct"] for o in draft["questions"][1]["options"]] == [
        True,
        True,
        False,
        False,
    ]
    assert_error(api.get(f"{V1}/quizzes/{draft['id']}", headers=auth("ada")), 404, "not_found")
    assert draft["id"] not in quiz_ids(api, auth, "ada")
    assert_error(start(api, auth, draft["id"]), 404, "not_found")

    published = api.post(f"{V1}/quizzes/{draft['id']}/publish", headers=auth("trainer"))
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published" and published.json()["published_at"]
    listed = api.get(f"{V1}/quizzes", headers=auth("ada")).json()["results"]
    assert draft["id"] in [q["id"] for q in listed]
    mine = next(q for q in listed if q["id"] == draft["id"])["mine"]
    assert mine == {
        "attempts_used": 0,
        "attempts_left": 2,
        "in_progress_attempt_id": None,
        "best_score": None,
        "passed": False,
    }
    # the student's view of the quiz has no questions at all
    seen = api.get(f"{V1}/quizzes/{draft['id']}", headers=auth("ada")).json()
    assert "questions" not in seen and not keys_in(seen) & SECRET_KEYS


def test_students_of_other_tracks_are_told_to_enroll(api, auth):
    quiz = make_quiz(api, auth)
    assert quiz["id"] not in quiz_ids(api, auth, "linus")
    error = assert_error(
        api.get(f"{V1}/quizzes/{quiz['id']}", headers=auth("linus")), 403, "not_enrolled", "DP"
    )
    assert error["details"] == {"track": "DP"}
    assert_error(start(api, auth, quiz["id"], "linus"), 403, "not_enrolled")
    assert_error(start(api, auth, quiz["id"], "grace"), 403, "not_enrolled")
    # a quiz with no track is open to every student
    open_quiz = make_quiz(api, auth, track=None)
    assert start(api, auth, open_quiz["id"], "linus").status_code == 201


def test_bad_quizzes_are_refused_with_the_field_named_and_nothing_saved(api, auth, database_url):
    before = counts(database_url)
    two_right = question("Pick one", ["a", "b"], ["c"])
    refused = api.post(
        f"{V1}/quizzes",
        json={"title": "Bad", "questions": [two_right]},
        headers=auth("trainer"),
    )
    assert_error(refused, 422, "invalid_input", "exactly one correct option")
    repeated = api.post(
        f"{V1}/quizzes",
        json={"title": "Bad", "questions": [QUESTIONS[0], QUESTIONS[0]]},
        headers=auth("trainer"),
    )
    assert_error(repeated, 422, "invalid_input", "repeats")
    unknown_track = api.post(
        f"{V1}/quizzes", json={"title": "Bad", "track": "XX"}, headers=auth("trainer")
    )
    assert_error(unknown_track, 422, "invalid_input", "XX", field="track")
    no_last = api.post(
        f"{V1}/quizzes",
        json={"title": "Bad", "reveal_policy": "after_last_attempt"},
        headers=auth("trainer"),
    )
    assert_error(no_last, 422, "invalid_input", "max_attempts")
    assert counts(database_url) == before


def test_drafts_are_edited_then_frozen_once_published(api, auth):
    draft = make_quiz(api, auth, publish=False)
    edited = api.patch(
        f"{V1}/quizzes/{draft['id']}",
        json={"title": "SQL 2", "max_attempts": 1, "questions": QUESTIONS[:2]},
        headers=auth("trainer"),
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "SQL 2" and edited.json()["question_count"] == 2
    assert edited.json()["max_attempts"] == 1
    # another trainer may read it but not change it; an admin may
    assert api.get(f"{V1}/quizzes/{draft['id']}", headers=auth("coach")).status_code == 200
    assert_error(
        api.patch(f"{V1}/quizzes/{draft['id']}", json={"title": "x"}, headers=auth("coach")),
        403,
        "forbidden",
        "trainer",
    )
    by_admin = api.patch(
        f"{V1}/quizzes/{draft['id']}", json={"pass_mark": 0.8}, headers=auth("office")
    )
    assert by_admin.status_code == 200 and by_admin.json()["pass_mark"] == 0.8
    empty = make_quiz(api, auth, publish=False, questions=[])
    assert_error(
        api.post(f"{V1}/quizzes/{empty['id']}/publish", headers=auth("trainer")), 409, "quiz_empty"
    )
    api.post(f"{V1}/quizzes/{draft['id']}/publish", headers=auth("trainer"))
    assert_error(
        api.patch(f"{V1}/quizzes/{draft['id']}", json={"title": "x"}, headers=auth("trainer")),
        409,
        "quiz_not_draft",
    )
    # taken quizzes are archived, not deleted
    take_it_all_right(
        api, auth, api.get(f"{V1}/quizzes/{draft['id']}", headers=auth("trainer")).json()
    )
    assert_error(
        api.delete(f"{V1}/quizzes/{draft['id']}", headers=auth("trainer")), 409, "quiz_has_attempts"
    )
    archived = api.post(f"{V1}/quizzes/{draft['id']}/archive", headers=auth("trainer"))
    assert archived.json()["status"] == "archived"
    assert draft["id"] not in quiz_ids(api, auth, "ada")
    assert api.delete(f"{V1}/quizzes/{empty['id']}", headers=auth("trainer")).status_code == 204


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_export_then_import_gives_the_same_quiz(api, auth, fmt):
    original = make_quiz(api, auth, max_attempts=3, multiple_scoring="partial")
    exported = api.get(
        f"{V1}/quizzes/{original['id']}/export", params={"format": fmt}, headers=auth("trainer")
    )
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith(f"application/{fmt}")
    assert f"quiz-{original['id']}.{fmt}" in exported.headers["content-disposition"]
    document = yaml.safe_load(exported.text) if fmt == "yaml" else json.loads(exported.text)
    assert document["format"] == "apranova-quiz" and len(document["questions"]) == 3

    imported = api.post(
        f"{V1}/quizzes/import",
        content=exported.content,
        headers={**auth("coach"), "Content-Type": f"application/{fmt}"},
    )
    assert imported.status_code == 201, imported.text
    copy = imported.json()
    assert copy["id"] != original["id"] and copy["status"] == "draft"
    assert copy["created_by"] == "coach"

    def content(quiz):
        return [
            (
                q["text"],
                q["type"],
                q["points"],
                [(o["text"], o["is_correct"]) for o in q["options"]],
            )
            for q in quiz["questions"]
        ]

    assert content(copy) == content(original)
    for name in ("max_attempts", "multiple_scoring", "track", "pass_mark"):
        assert copy[name] == original[name]


def test_bad_imports_say_what_is_wrong(api, auth, database_url):
    before = counts(database_url)
    headers = {**auth("trainer"), "Content-Type": "application/yaml"}
    broken = api.post(f"{V1}/quizzes/import", content=b"title: [unclosed", headers=headers)
    assert_error(broken, 422, "invalid_input", "not valid YAML")
    wrong = api.post(
        f"{V1}/quizzes/import",
        content=yaml.safe_dump({"title": "x", "questions": [{"text": "q", "type": "SINGLE"}]}),
        headers=headers,
    )
    error = assert_error(wrong, 422, "invalid_input", "questions.0.options")
    assert any(d["field"] == "body.questions.0.options" for d in error["details"])
    not_json = api.post(
        f"{V1}/quizzes/import",
        content=b"{nope",
        headers={**auth("trainer"), "Content-Type": "application/json"},
    )
    assert_error(not_json, 422, "invalid_input", "not valid JSON")
    assert counts(database_url) == before


# --- taking --------------------------------------------------------------------------------
def test_a_student_takes_a_quiz_and_gets_the_right_score(api, auth, database_url):
    quiz = make_quiz(api, auth, multiple_scoring="partial", pass_mark=0.5)
    started = start(api, auth, quiz["id"])
    assert started.status_code == 201, started.text
    attempt = started.json()
    assert attempt["status"] == "IN_PROGRESS" and attempt["number"] == 1
    assert attempt["max_score"] == 4.0 and attempt["score"] is None
    assert started.headers["location"].endswith(f"/attempts/{attempt['id']}")
    # starting again resumes the same attempt
    again = start(api, auth, quiz["id"])
    assert again.status_code == 200 and again.json()["id"] == attempt["id"]

    q1, q2, q3 = (q["id"] for q in quiz["questions"])
    assert (
        answer(api, auth, attempt["id"], q1, option_ids(quiz, 1, "INNER JOIN")).status_code == 200
    )
    changed = answer(api, auth, attempt["id"], q1, option_ids(quiz, 1, "LEFT JOIN"))
    assert changed.status_code == 200 and changed.json()["changed_count"] == 1
    same = answer(api, auth, attempt["id"], q1, option_ids(quiz, 1, "LEFT JOIN"))
    assert same.json()["changed_count"] == 1  # autosave of the same answer changes nothing
    # MULTIPLE with partial credit: SUM right, LOWER wrong -> 2 x (1/2 - 1/2) = 0; SUM, AVG -> 2
    answer(api, auth, attempt["id"], q2, option_ids(quiz, 2, "SUM", "LOWER"))
    answer(api, auth, attempt["id"], q2, option_ids(quiz, 2, "SUM"))  # 2 x 1/2 = 1
    # q3 left unanswered: wrong, 0
    submitted = submit(api, auth, attempt["id"])
    assert submitted.status_code == 200, submitted.text
    result = submitted.json()
    assert result["status"] == "SUBMITTED"
    assert result["score"] == pytest.approx(2.0)  # 1 + 1 + 0
    assert result["score_fraction"] == pytest.approx(0.5) and result["passed"] is True
    by_id = {q["id"]: q for q in result["questions"]}
    assert by_id[q1]["result"] == {"correct": True, "score": 1.0}
    assert by_id[q2]["result"]["correct"] is False
    assert by_id[q2]["result"]["score"] == pytest.approx(1.0)
    assert by_id[q3]["result"] == {"correct": False, "score": 0.0}
    # after_submission (the default): the key is shown now
    assert result["answers_revealed"] is True
    assert by_id[q2]["key"]["correct_option_ids"] == option_ids(quiz, 2, "SUM", "AVG")
    assert by_id[q2]["key"]["explanation"] == "About Which are aggregate functions?"
    # submitting again gives the same result; answers can no longer change
    assert submit(api, auth, attempt["id"]).json() == result
    assert_error(answer(api, auth, attempt["id"], q3, []), 409, "attempt_closed")
    # the answer log for analytics: 4 changed saves, then one graded row per question
    log = rows(
        database_url,
        "SELECT kind, question_id, correct FROM quiz_answer_events "
        "WHERE attempt_id = :a ORDER BY id",
        a=attempt["id"],
    )
    assert [(k, q) for k, q, _ in log] == [
        ("save", q1),
        ("save", q1),
        ("save", q2),
        ("save", q2),
        ("graded", q1),
        ("graded", q2),
        ("graded", q3),
    ]
    assert [bool(c) for _, _, c in log] == [False, True, False, False, True, False, False]
    topics = rows(
        database_url,
        "SELECT topic FROM outbox_events WHERE topic LIKE 'quiz.attempt%' ORDER BY id",
    )
    assert topics == [("quiz.attempt_started",), ("quiz.attempt_submitted",)]


def test_bad_answers_are_refused(api, auth):
    quiz = make_quiz(api, auth)
    other = make_quiz(api, auth, title="Other", questions=[question("Q?", ["y"], ["n"])])
    attempt = start(api, auth, quiz["id"]).json()
    q1 = quiz["questions"][0]["id"]
    assert_error(
        answer(api, auth, attempt["id"], q1, option_ids(quiz, 1, "LEFT JOIN", "INNER JOIN")),
        422,
        "invalid_input",
        "SINGLE",
    )
    foreign = other["questions"][0]["options"][0]["id"]
    assert_error(
        answer(api, auth, attempt["id"], q1, [foreign]), 422, "invalid_input", "not options"
    )
    not_here = other["questions"][0]["id"]
    assert_error(answer(api, auth, attempt["id"], not_here, []), 404, "not_found", "not part")
    assert_error(
        api.put(
            f"{V1}/attempts/{attempt['id']}/answers/{q1}",
            json={"option_ids": "x"},
            headers=auth("ada"),
        ),
        422,
        "invalid_input",
        field="option_ids",
    )
    # only the student answers and submits; her trainer reads, others do not even see it
    assert_error(answer(api, auth, attempt["id"], q1, [], "trainer"), 403, "forbidden")
    assert_error(submit(api, auth, attempt["id"], "trainer"), 403, "forbidden")
    assert_error(answer(api, auth, attempt["id"], q1, [], "linus"), 404, "not_found")
    assert_error(start(api, auth, quiz["id"], "trainer"), 403, "forbidden", "Only students")


def test_a_deactivated_student_cannot_answer_whatever_the_request(api, auth):
    """Save and submit read the account with the attempt (one query), yet refuse as every route
    does: 403 `account_deactivated` before the path and body are even checked."""
    quiz = make_quiz(api, auth)
    attempt = start(api, auth, quiz["id"]).json()
    q1 = quiz["questions"][0]["id"]
    right = option_ids(quiz, 1, "LEFT JOIN")
    assert answer(api, auth, attempt["id"], q1, right).status_code == 200
    assert api.post(f"{V1}/users/ada/deactivate", headers=auth("office")).status_code == 200
    for response in (
        answer(api, auth, attempt["id"], q1, right),
        answer(api, auth, attempt["id"] + 1000, q1, right),  # no such attempt
        answer(api, auth, 0, q1, right),  # an invalid path
        api.put(
            f"{V1}/attempts/{attempt['id']}/answers/{q1}",
            json={"option_ids": "x"},  # an invalid body
            headers=auth("ada"),
        ),
        submit(api, auth, attempt["id"]),
        submit(api, auth, 0),
    ):
        assert_error(response, 403, "account_deactivated")
    assert_error(answer(api, auth, attempt["id"], q1, right, "hub"), 403, "forbidden")
    assert_error(submit(api, auth, attempt["id"], "hub"), 403, "forbidden")
    back = api.patch(f"{V1}/users/ada", json={"is_active": True}, headers=auth("office"))
    assert back.status_code == 200
    assert answer(api, auth, attempt["id"], q1, right).json()["changed_count"] == 0
    assert_error(answer(api, auth, attempt["id"], q1, right, "grace"), 404, "not_found")
    for odd in ("\u00b2", "\u0663", "9" * 5000, "-1", "1e3"):  # not ids: 422, never a 500
        assert_error(answer(api, auth, odd, q1, right), 422, "invalid_input")
        assert_error(submit(api, auth, odd), 422, "invalid_input")


def test_max_attempts_and_reveal_after_the_last_one(api, auth):
    quiz = make_quiz(api, auth, max_attempts=2, reveal_policy="after_last_attempt")
    first = take_it_all_right(api, auth, quiz)
    graded = submit(api, auth, first["id"]).json()
    assert graded["score"] == 4.0 and graded["answers_revealed"] is False
    assert all(q["key"] is None for q in graded["questions"])
    assert not keys_in(graded) & SECRET_KEYS
    second = start(api, auth, quiz["id"])
    assert second.status_code == 201 and second.json()["number"] == 2
    last = submit(api, auth, second.json()["id"]).json()
    assert last["score"] == 0.0 and last["answers_revealed"] is True
    # now the first attempt shows its key too
    again = api.get(f"{V1}/attempts/{first['id']}", headers=auth("ada")).json()
    assert again["answers_revealed"] is True
    assert_error(start(api, auth, quiz["id"]), 409, "no_attempts_left", "2")
    mine = api.get(f"{V1}/quizzes/{quiz['id']}", headers=auth("ada")).json()["mine"]
    assert mine["attempts_used"] == 2 and mine["attempts_left"] == 0
    assert mine["best_score"] == 1.0 and mine["passed"] is True


def test_the_server_enforces_the_time_limit(api, auth, database_url):
    quiz = make_quiz(api, auth, time_limit_seconds=600)
    attempt = start(api, auth, quiz["id"]).json()
    assert 590 < attempt["seconds_left"] <= 600
    q1, q2, _ = (q["id"] for q in quiz["questions"])
    answer(api, auth, attempt["id"], q1, option_ids(quiz, 1, "LEFT JOIN"))
    # the clock runs out (moved back in the database: the server's clock is the one that counts)
    execute(
        database_url,
        "UPDATE quiz_attempts SET started_at = :s, deadline_at = :d WHERE id = :a",
        s="2026-01-01 10:00:00+00:00",
        d="2026-01-01 10:10:00+00:00",
        a=attempt["id"],
    )
    late = answer(api, auth, attempt["id"], q2, option_ids(quiz, 2, "SUM", "AVG"))
    assert_error(late, 409, "attempt_expired", "graded as it stood")
    graded = api.get(f"{V1}/attempts/{attempt['id']}", headers=auth("ada")).json()
    assert graded["status"] == "EXPIRED"
    assert graded["score"] == 1.0  # q1 only: the late answer was not kept
    assert graded["submitted_at"].startswith("2026-01-01T10:10:00")
    assert submit(api, auth, attempt["id"]).json()["score"] == 1.0
    # a new attempt may start (no max_attempts)
    assert start(api, auth, quiz["id"]).json()["number"] == 2


def test_an_overdue_attempt_is_graded_when_anyone_looks(api, auth, database_url):
    quiz = make_quiz(api, auth, time_limit_seconds=60)
    attempt = take_it_all_right(api, auth, quiz)
    execute(
        database_url,
        "UPDATE quiz_attempts SET deadline_at = :d WHERE id = :a",
        d="2026-01-01 10:00:00+00:00",
        a=attempt["id"],
    )
    listed = api.get(f"{V1}/attempts", params={"quiz_id": quiz["id"]}, headers=auth("trainer"))
    assert [(a["status"], a["score"]) for a in listed.json()["results"]] == [("EXPIRED", 4.0)]
    # Submitted at its deadline, graded now: the analytics pipeline reads by grading time.
    [(submitted, graded)] = rows(
        database_url,
        "SELECT submitted_at, graded_at FROM quiz_attempts WHERE id = :a",
        a=attempt["id"],
    )
    assert str(submitted).startswith("2026-01-01 10:00:00")
    assert graded is not None and str(graded)[:10] > str(submitted)[:10]


# --- no leaks ------------------------------------------------------------------------------
SUBMIT = ("POST", "/attempts/{attempt_id}/submit")


def walk_as_student(api, auth, attempt, *, submit_too=False, username="ada") -> dict:
    """Every quiz and attempt route of the API, called by the student with the ids of her
    attempt (staff-only routes answer her with errors): {(method, route): JSON body}."""
    first = attempt["questions"][0]
    ids = {
        "quiz_id": attempt["quiz_id"],
        "attempt_id": attempt["id"],
        "question_id": first["id"],
    }
    walked = {}
    for method, route in sorted(api_routes()):
        if not route.startswith(("/quizzes", "/attempts")) or (
            (method, route) == SUBMIT and not submit_too
        ):
            continue
        body = None
        if method == "PUT":
            body = {"option_ids": [first["options"][0]["id"]]}
        elif method in ("POST", "PATCH"):
            body = {}
        response = api.request(method, V1 + route.format(**ids), json=body, headers=auth(username))
        assert response.status_code < 500, (method, route, response.text)
        walked[(method, route)] = response.json()
    return walked


def test_no_student_response_holds_a_key_before_submission(api, auth):
    quiz = make_quiz(api, auth, shuffle_questions=True, shuffle_options=True)
    attempt = start(api, auth, quiz["id"]).json()
    walked = walk_as_student(api, auth, attempt)
    assert len(walked) >= 15  # every quiz route but submit
    walked[("POST", "start")] = attempt
    for route, body in walked.items():
        leaked = keys_in(body) & SECRET_KEYS
        assert not leaked, f"{route} shows {leaked}: {body}"
        assert " is right" not in json.dumps(body), route  # no rationale text either
    assert all(q["key"] is None and q["result"] is None for q in attempt["questions"])
    # the staff-only routes refused her; her own ones answered
    assert walked[("GET", "/quizzes/{quiz_id}/export")]["error"]["code"] == "forbidden"
    assert walked[("GET", "/quizzes/{quiz_id}/results")]["error"]["code"] == "forbidden"
    assert walked[("GET", "/attempts/{attempt_id}")]["id"] == attempt["id"]
    # shuffling changes the order per attempt but never the set
    shown = {q["id"]: {o["id"] for o in q["options"]} for q in attempt["questions"]}
    assert shown == {q["id"]: {o["id"] for o in q["options"]} for q in quiz["questions"]}


def test_never_reveal_keeps_the_key_after_submission(api, auth):
    quiz = make_quiz(api, auth, reveal_policy="never")
    attempt = take_it_all_right(api, auth, quiz)
    graded = submit(api, auth, attempt["id"]).json()
    assert graded["score"] == 4.0
    walked = walk_as_student(api, auth, attempt, submit_too=True)
    assert walked[SUBMIT] == graded
    for route, body in walked.items():
        assert not keys_in(body) & SECRET_KEYS, f"{route}: {body}"
    # her trainer sees the key of the same attempt
    staff = api.get(f"{V1}/attempts/{attempt['id']}", headers=auth("trainer")).json()
    assert staff["answers_revealed"] is True
    assert staff["questions"][0]["key"]["options"][0]["rationale"]


# --- results and lists ---------------------------------------------------------------------
def test_trainers_see_their_students_results_admins_everyones(api, auth):
    quiz = make_quiz(api, auth, track=None, pass_mark=0.75)
    ada = take_it_all_right(api, auth, quiz)
    submit(api, auth, ada["id"])
    linus = start(api, auth, quiz["id"], "linus").json()
    answer(
        api,
        auth,
        linus["id"],
        quiz["questions"][0]["id"],
        option_ids(quiz, 1, "LEFT JOIN"),
        "linus",
    )
    submit(api, auth, linus["id"], "linus")  # 1 of 4
    grace = start(api, auth, quiz["id"], "grace").json()  # not hers: in progress, no trainer

    mine = api.get(f"{V1}/quizzes/{quiz['id']}/results", headers=auth("trainer")).json()
    assert mine["scope"] == "your students"
    assert (mine["students"], mine["attempts"], mine["in_progress"]) == (2, 2, 0)
    assert mine["mean_score"] == pytest.approx((1.0 + 0.25) / 2)
    assert mine["median_score"] == pytest.approx(0.625)
    assert mine["pass_rate"] == pytest.approx(0.5)
    first, second, third = mine["questions"]
    assert (first["correct_rate"], first["mean_score"], first["answered"]) == (1.0, 1.0, 2)
    assert (second["correct_rate"], second["mean_score"]) == (0.5, 0.5)
    assert third["answered"] == 1

    everyone = api.get(f"{V1}/quizzes/{quiz['id']}/results", headers=auth("office")).json()
    assert everyone["scope"] == "all students" and everyone["in_progress"] == 1
    coach = api.get(f"{V1}/quizzes/{quiz['id']}/results", headers=auth("coach")).json()
    assert coach["attempts"] == 0 and coach["mean_score"] is None

    def attempt_ids(caller, **params):
        listed = api.get(f"{V1}/attempts", params=params, headers=auth(caller))
        assert listed.status_code == 200, listed.text
        return {a["id"] for a in listed.json()["results"]}

    assert attempt_ids("trainer") == {ada["id"], linus["id"]}
    assert attempt_ids("office") == {ada["id"], linus["id"], grace["id"]}
    assert attempt_ids("ada") == {ada["id"]}
    assert attempt_ids("coach") == set()
    assert attempt_ids("trainer", username="linus") == {linus["id"]}
    assert attempt_ids("office", status="IN_PROGRESS") == {grace["id"]}
    assert_error(api.get(f"{V1}/attempts/{ada['id']}", headers=auth("coach")), 404, "not_found")
    assert_error(api.get(f"{V1}/attempts/{ada['id']}", headers=auth("linus")), 404, "not_found")


# --- concurrency ---------------------------------------------------------------------------
@pytest.fixture
def concurrent(hub, database_url, upload_dir, api):
    """Run requests at once against a second app on the same (seeded) database."""
    settings = app_settings(hub, database_url, upload_dir)
    return lambda *requests: run_at_once(settings, requests)


@pytest.mark.dialects
def test_concurrent_submits_grade_once_with_one_answer(api, auth, concurrent, database_url):
    quiz = make_quiz(api, auth)
    attempt = take_it_all_right(api, auth, quiz)
    url = f"{V1}/attempts/{attempt['id']}/submit"
    responses = concurrent(*[("POST", url, {"headers": auth("ada")})] * 8)
    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]
    bodies = [r.json() for r in responses]
    assert all(b == bodies[0] for b in bodies)
    assert bodies[0]["score"] == 4.0
    graded = rows(
        database_url,
        "SELECT count(*) FROM quiz_answer_events WHERE attempt_id = :a AND kind = 'graded'",
        a=attempt["id"],
    )
    assert graded == [(3,)]
    submitted = rows(
        database_url, "SELECT count(*) FROM outbox_events WHERE topic = 'quiz.attempt_submitted'"
    )
    assert submitted == [(1,)]


@pytest.mark.dialects
def test_concurrent_starts_make_one_attempt(api, auth, concurrent, database_url):
    quiz = make_quiz(api, auth, max_attempts=1)
    url = f"{V1}/quizzes/{quiz['id']}/attempts"
    responses = concurrent(*[("POST", url, {"headers": auth("ada")})] * 6)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 5 + [201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert rows(database_url, "SELECT count(*) FROM quiz_attempts") == [(1,)]


@pytest.mark.dialects
def test_saves_racing_a_submit_never_change_a_graded_attempt(api, auth, concurrent, database_url):
    quiz = make_quiz(api, auth)
    attempt = start(api, auth, quiz["id"]).json()
    q1 = quiz["questions"][0]["id"]
    right, wrong = option_ids(quiz, 1, "LEFT JOIN"), option_ids(quiz, 1, "INNER JOIN")
    requests = [
        (
            "PUT",
            f"{V1}/attempts/{attempt['id']}/answers/{q1}",
            {"json": {"option_ids": ids}, "headers": auth("ada")},
        )
        for ids in (right, wrong) * 4
    ]
    requests.insert(4, ("POST", f"{V1}/attempts/{attempt['id']}/submit", {"headers": auth("ada")}))
    responses = concurrent(*requests)
    assert {r.status_code for r in responses} <= {200, 409}, [r.text for r in responses]
    graded = api.get(f"{V1}/attempts/{attempt['id']}", headers=auth("ada")).json()
    # the graded answer is the one stored, and its score agrees with it
    stored = rows(
        database_url,
        "SELECT selected_option_ids FROM quiz_answers WHERE attempt_id = :a",
        a=attempt["id"],
    )
    chosen = stored[0][0] if stored else []
    chosen = json.loads(chosen) if isinstance(chosen, str) else chosen
    assert graded["score"] == (1.0 if chosen == right else 0.0)
    # no save was logged after the grading began
    log = rows(
        database_url,
        "SELECT kind FROM quiz_answer_events WHERE attempt_id = :a ORDER BY id",
        a=attempt["id"],
    )
    kinds = [k for (k,) in log]
    assert "graded" in kinds and "save" not in kinds[kinds.index("graded") :]


@pytest.mark.dialects
def test_concurrent_saves_lose_no_change(api, auth, concurrent, database_url):
    quiz = make_quiz(api, auth)
    attempt = start(api, auth, quiz["id"]).json()
    q1 = quiz["questions"][0]["id"]
    choices = [option_ids(quiz, 1, text) for text in ("LEFT JOIN", "INNER JOIN", "SEMI JOIN")]
    url = f"{V1}/attempts/{attempt['id']}/answers/{q1}"
    responses = concurrent(
        *[
            ("PUT", url, {"json": {"option_ids": ids}, "headers": auth("ada")})
            for ids in choices * 4
        ]
    )
    assert [r.status_code for r in responses] == [200] * 12, [r.text for r in responses]
    ((changed, stored),) = rows(
        database_url,
        "SELECT changed_count, selected_option_ids FROM quiz_answers WHERE attempt_id = :a",
        a=attempt["id"],
    )
    saves = rows(
        database_url,
        "SELECT option_ids FROM quiz_answer_events WHERE attempt_id = :a AND kind = 'save' "
        "ORDER BY id",
        a=attempt["id"],
    )
    # every logged change is counted, and the last one logged is the answer kept
    assert changed == len(saves) - 1
    decode = lambda v: json.loads(v) if isinstance(v, str) else v  # noqa: E731
    assert decode(saves[-1][0]) == decode(stored)


def test_an_attempt_that_ran_out_unseen_is_graded_when_the_quiz_is_read(api, auth, database_url):
    """Grading the overdue attempt reloads its quiz's row; the quiz is read again after it
    (the reads answered 500 when they used the row as loaded before)."""
    from tests.lms_api.test_portal_quizzes import DEMO_DP_QUIZ, overdue

    listed = api.get("/api/v1/quizzes", headers=auth("ada")).json()["results"]
    quiz_id = next(q["id"] for q in listed if q["title"] == DEMO_DP_QUIZ)
    started = api.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=auth("ada"))
    assert started.status_code == 201, started.text
    overdue(database_url, started.json()["id"])
    one = api.get(f"/api/v1/quizzes/{quiz_id}", headers=auth("ada"))
    assert one.status_code == 200, one.text
    assert one.json()["mine"]["in_progress_attempt_id"] is None
    assert one.json()["track"] == "DP"

    started = api.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=auth("ada"))
    overdue(database_url, started.json()["id"])
    every = api.get("/api/v1/quizzes", headers=auth("ada"))
    assert every.status_code == 200, every.text
    mine = next(q for q in every.json()["results"] if q["id"] == quiz_id)
    assert mine["mine"]["attempts_used"] == 2 and mine["mine"]["in_progress_attempt_id"] is None
