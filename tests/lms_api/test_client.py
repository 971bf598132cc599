"""`lms_api.client`: a school day through the Python client, reaching every route of the API.

The client sends through the test app (its `http=` argument), so each request is recorded
and the test can prove that the client has a method for every route.
"""

import re
from datetime import UTC, datetime, timedelta

import nbformat
import pytest
from fastapi.testclient import TestClient

from lms_api.client import LmsApiError, LmsClient
from lms_api.main import create_app
from tests.fakes.stripe import fake_stripe
from tests.lms_api.conftest import app_settings, stripe_settings
from tests.lms_api.test_permissions import api_routes

__all__ = ["fake_stripe"]  # the fixture, imported for pytest

BASE = "http://testserver/api/v1"


class RouteRecorder:
    """Maps each request the client sends to the route template it reached."""

    def __init__(self) -> None:
        self.templates = sorted(api_routes(), key=lambda mt: mt[1].count("{"))
        self.reached: set[tuple[str, str]] = set()

    def __call__(self, response) -> None:
        method, path = response.request.method, response.request.url.path.removeprefix("/api/v1")
        for route_method, template in self.templates:
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if route_method == method and re.match(pattern, path):
                self.reached.add((route_method, template))
                return


@pytest.fixture
def clients(hub, database_url, upload_dir, seeded, auth, fake_stripe):
    """Clients of an app on the demo school whose Stripe is the local fake."""
    seeded.restore(database_url)
    settings = app_settings(hub, database_url, upload_dir, **stripe_settings(fake_stripe))
    recorder = RouteRecorder()
    with TestClient(create_app(settings)) as api:
        api.event_hooks["response"].append(recorder)

        def client(username: str) -> LmsClient:
            token = auth(username)["Authorization"].removeprefix("Bearer ")
            return LmsClient(base_url=BASE, token=token, http=api)

        yield client, recorder, api


def test_a_school_day_through_the_client_reaches_every_route(clients, fake_stripe, tmp_path):
    client, recorder, http = clients
    office, ada, trainer, hub = client("office"), client("ada"), client("trainer"), client("hub")
    linus = client("linus")  # (a hub user from here on)

    # anyone: health and the catalog
    assert ada.health()["status"] == "ok"
    assert [t.code for t in ada.catalog()] == ["DP", "FSD"]

    # an admin builds a track
    track = office.create_track(code="DE", name="Data Engineering", workspace_kinds=["jupyterlab"])
    assert office.update_track("DE", duration_weeks=10).duration_weeks == 10
    project = office.create_project("DE", number=1, title="Ingest", estimated_hours=6)
    step = office.create_step(project.id, order=1, title="Read the files")
    assert office.update_step(step.id, title="Read the CSV files").title == "Read the CSV files"
    notebook_deliverable = office.create_deliverable(project.id, title="Notebook", kind="notebook")
    link = office.create_deliverable(project.id, title="Write-up", kind="url", required=False)
    assert office.update_deliverable(link.id, required=True).required is True
    assert office.update_project(project.id, title="Ingest data").title == "Ingest data"
    extra = office.create_step(project.id, order=2, title="Scratch")
    office.delete_step(extra.id)
    spare = office.create_deliverable(project.id, title="Spare", kind="file")
    office.delete_deliverable(spare.id)
    scratch = office.create_project("DE", number=2, title="Scratch")
    office.delete_project(scratch.id)
    office.create_track(code="TMP", name="Temporary", workspace_kinds=["jupyterlab"])
    office.delete_track("TMP")
    assert [t.code for t in office.tracks().results] == ["DE", "DP", "FSD"]
    assert track.code == "DE"

    # enrollments, people and trainers
    granted = office.grant("ada", "DE", reason="Scholarship")
    assert (granted.status, granted.source) == ("active", "grant")
    assert hub.allowed_workspaces("ada") == ["jupyterlab", "superset"]
    assert hub.allowed_kinds(["ada", "grace"]) == {"ada": ["jupyterlab", "superset"], "grace": []}
    assert {e.track_code for e in office.enrollments(username="ada").results} == {"DP", "DE"}
    assert office.enrollment(granted.id).history[0].reason == "Scholarship"
    assert ada.update_me(name="Ada Lovelace").name == "Ada Lovelace"
    assert office.user("ada").name == "Ada Lovelace"
    assert office.update_user("ada", email="ada@example.org").email == "ada@example.org"
    assert "ada" in [p.username for p in office.users(q="ad").results]
    assert {t.username for t in trainer.trainers().results} >= {"trainer", "coach"}
    assert [t.code for t in linus.my_progress().tracks] == ["FSD"]
    assert office.assign_trainer("linus", "coach").trainer == "coach"
    assert office.unassign_trainer("linus").trainer is None

    # the student: curriculum, progress and submissions
    assert ada.me().username == "ada"
    assert [p.title for p in ada.track("DE").projects] == ["Ingest data"]
    assert ada.project(project.id).steps[0].title == "Read the CSV files"
    assert ada.mark_step_done(step.id).step_id == step.id
    de = next(t for t in ada.my_progress().tracks if t.code == "DE")
    assert (de.steps_done, de.steps_total) == (1, 1)
    ada.unmark_step(step.id)
    ada.mark_step_done(step.id)
    assert trainer.student_progress("ada").username == "ada"
    path = tmp_path / "ingest.ipynb"
    path.write_text(nbformat.writes(nbformat.v4.new_notebook()))
    uploaded = ada.submit_file(notebook_deliverable.id, path, note="first go")
    assert ada.download(uploaded.id, 1) == path.read_bytes()
    linked = ada.submit_link(link.id, "https://example.org/ingest")
    assert [s.id for s in ada.submissions().results] == [uploaded.id, linked.id]
    assert ada.submission(linked.id).versions[0].url == "https://example.org/ingest"

    # the trainer reviews (ada is theirs in the demo); an admin can too
    reviewed = trainer.review(uploaded.id, 1, "request_changes", "Add a chart.")
    assert reviewed.status == "changes_requested"
    assert office.review(linked.id, 1, "approve").status == "approved"

    # errors arrive as LmsApiError with the API's code
    with pytest.raises(LmsApiError) as raised:
        ada.review(uploaded.id, 1, "approve")
    assert (raised.value.status, raised.value.code) == (403, "forbidden")
    with pytest.raises(LmsApiError) as raised:
        ada.submit_link(link.id, "https://example.org/ingest")
    assert raised.value.code == "already_approved"

    # quizzes: a trainer writes one, copies it through a file, publishes it; ada takes it
    quiz = trainer.create_quiz(
        "Ingest basics",
        [
            {
                "text": "Which format keeps column types?",
                "type": "SINGLE",
                "options": [
                    {"text": "Parquet", "is_correct": True},
                    {"text": "CSV", "is_correct": False},
                ],
            }
        ],
        track="DE",
    )
    copy = trainer.import_quiz(trainer.export_quiz(quiz.id, "yaml"), yaml=True)
    assert [q.text for q in copy.questions] == [q.text for q in quiz.questions]
    trainer.delete_quiz(copy.id)
    assert trainer.update_quiz(quiz.id, max_attempts=2).max_attempts == 2
    trainer.publish_quiz(quiz.id)
    with pytest.raises(LmsApiError) as raised:
        trainer.generate_quiz("Ingest", "File formats")  # no Gemini key in the test app
    assert (raised.value.status, raised.value.code) == (503, "generation_not_configured")
    assert quiz.id in [q.id for q in ada.quizzes().results]
    seen = ada.quiz(quiz.id)
    assert not hasattr(seen, "questions") and seen.mine.attempts_left == 2
    attempt = ada.start_quiz(quiz.id)
    parquet = next(o.id for o in attempt.questions[0].options if o.text == "Parquet")
    assert ada.answer(attempt.id, attempt.questions[0].id, [parquet]).selected_option_ids == [
        parquet
    ]
    assert ada.submit_attempt(attempt.id).score == 1.0
    assert ada.attempt(attempt.id).passed is True
    assert [a.id for a in trainer.attempts(quiz_id=quiz.id).results] == [attempt.id]
    assert trainer.quiz_results(quiz.id).mean_score == 1.0
    assert trainer.quiz(quiz.id).questions[0].options[0].is_correct is True
    assert trainer.archive_quiz(quiz.id).status == "archived"

    # payments: grace pays for DP on Stripe's page, and Stripe's webhook enrolls her
    grace = client("grace")
    started = grace.start_checkout("DP", idempotency_key="client-day-0001")
    assert (started.payment.status, started.payment.amount_cents) == ("pending", 150000)
    intent = grace.create_payment_intent("FSD")
    assert intent.client_secret.startswith(intent.payment.payment_intent_id)
    for event in fake_stripe.complete_checkout(started.payment.checkout_session_id):
        body, headers = fake_stripe.webhook_request(event)  # Stripe calls this, not a client
        assert http.post(f"{BASE}/payments/webhook", content=body, headers=headers).is_success
    assert grace.payment(started.payment.id).status == "succeeded"
    assert [p.id for p in grace.payments().results] == [started.payment.id, intent.payment.id]
    assert office.refund_payment(started.payment.id).status == "succeeded"  # until Stripe says
    assert [p.username for p in office.payments(status="pending").results] == ["grace"]

    # class sessions: the trainer schedules one for their students; the hub warms it up and
    # reports ada's workspace; the trainer reads who came
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    lesson = trainer.schedule_session(
        "Joins, live", "DP", starts, starts + timedelta(hours=1), "jupyterlab"
    )
    assert (lesson.status, lesson.expected_students) == ("scheduled", ["ada"])
    moved = trainer.update_session(lesson.id, ends_at=starts + timedelta(hours=2))
    assert moved.ends_at == starts + timedelta(hours=2)
    assert [s.id for s in ada.class_sessions(since=starts, track="DP").results] == [lesson.id]
    assert ada.class_session(lesson.id).expected_students == ["ada"]
    assert [s.id for s in hub.warm_up(10).sessions] == [lesson.id]
    assert hub.report_workspace_activity([("ada", starts + timedelta(minutes=1))]).recorded == 1
    assert [r.status for r in trainer.attendance(lesson.id).students] == ["upcoming"]
    assert trainer.cancel_session(lesson.id).status == "cancelled"

    # the admin ends it
    assert office.revoke(granted.id, reason="Finished").status == "cancelled"
    assert office.deactivate_user("linus").is_active is False
    closed = hub.close_user("linus")
    assert closed.username.startswith("linus~closed-") and closed.is_active is False

    missing = api_routes() - recorder.reached
    assert not missing, f"routes the client never reached: {sorted(missing)}"


def test_the_client_needs_a_token_and_an_address(monkeypatch):
    for name in ("JUPYTERHUB_API_TOKEN", "APRANOVA_LMS_API_URL", "JUPYTERHUB_API_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(LmsApiError, match="No token"):
        LmsClient()
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "t")
    with pytest.raises(LmsApiError, match="APRANOVA_LMS_API_URL"):
        LmsClient()
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api")
    with LmsClient() as client:  # what a workspace has: the hub tells the address
        assert client.base_url == "http://127.0.0.1:8081/services/lms-api/api/v1/"
