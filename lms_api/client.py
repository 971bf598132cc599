"""A small typed client for the LMS API, usable in a workspace notebook with no arguments.

    from lms_api.client import LmsClient
    lms = LmsClient()
    lms.me()
    lms.my_progress()
    lms.submit_file(deliverable_id=3, file="analysis.ipynb")
    attempt = lms.start_quiz(quiz_id=1)          # then lms.answer(...), lms.submit_attempt(...)

Inside a workspace the hub already gave the server a token (`JUPYTERHUB_API_TOKEN`) and the
spawner sets `APRANOVA_LMS_API_URL`; elsewhere pass `base_url` and `token` yourself. Every
method returns the API's own Pydantic models; an error answer raises `LmsApiError` carrying
the error body (`status`, `code`, `message`, `details`).
"""

import os
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from lms_api.class_sessions.schemas import (
    ActivityRecorded,
    AttendanceOut,
    ClassSessionOut,
    ClassSessionPage,
    WarmUpOut,
)
from lms_api.curriculum.schemas import (
    CatalogTrack,
    DeliverableOut,
    ProjectDetail,
    StepOut,
    TrackDetail,
    TrackPage,
)
from lms_api.enrollments.schemas import EnrollmentDetail, EnrollmentPage
from lms_api.payments.schemas import CheckoutOut, IntentOut, PaymentDetail, PaymentPage
from lms_api.people.schemas import AssignmentOut, MeOut, PersonOut, PersonPage, TrainerPage
from lms_api.progress.schemas import ProgressOut, StepCompletionOut
from lms_api.quizzes.schemas import (
    AnswerOut,
    AttemptDetail,
    AttemptPage,
    GeneratedQuizOut,
    QuizDetail,
    QuizPage,
    QuizResults,
    QuizSummary,
)
from lms_api.submissions.schemas import SubmissionDetail, SubmissionPage

M = TypeVar("M", bound=BaseModel)


class LmsApiError(Exception):
    """The API's error body, raised: `status`, `code`, `message`, `details`."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details


def default_base_url() -> str:
    explicit = os.environ.get("APRANOVA_LMS_API_URL")
    if explicit:
        return explicit
    hub_api = os.environ.get("JUPYTERHUB_API_URL")
    if hub_api and hub_api.rstrip("/").endswith("/hub/api"):
        return hub_api.rstrip("/")[: -len("/hub/api")] + "/services/lms-api/api/v1"
    raise LmsApiError(0, "not_configured", "Set APRANOVA_LMS_API_URL or pass base_url.")


def _seg(value: str) -> str:
    """A user-supplied value as one path segment (a slash cannot change the route)."""
    return quote(str(value), safe="")


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _moment(value: datetime | str | None) -> str | None:
    """A moment as the API reads it: ISO 8601 with its zone (a datetime must carry one)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise LmsApiError(0, "invalid_input", "A datetime needs a time zone (e.g. UTC).")
        return value.isoformat()
    return value


def _moments(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _moment(v) if isinstance(v, datetime) else v for k, v in values.items()}


class LmsClient:
    """One method per API route, named for what it does."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float = 10.0,
        *,
        http: httpx.Client | None = None,
    ) -> None:
        """`http`: an httpx client to send requests with (custom TLS, proxies, tests)."""
        token = token or os.environ.get("JUPYTERHUB_API_TOKEN")
        if not token:
            raise LmsApiError(0, "not_configured", "No token: pass token= or run in a workspace.")
        self._base = (base_url or default_base_url()).rstrip("/") + "/"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout)

    @property
    def base_url(self) -> str:
        """Where the API is, e.g. http://127.0.0.1:8000/services/lms-api/api/v1/."""
        return self._base

    def __enter__(self) -> "LmsClient":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # --- plumbing ------------------------------------------------------------------------
    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if "params" in kwargs:
            kwargs["params"] = _drop_none(kwargs["params"]) or None
        headers = {**self._headers, **kwargs.pop("headers", {})}
        response = self._http.request(
            method, self._base + path.lstrip("/"), headers=headers, **kwargs
        )
        if response.is_success:
            return response
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = {"code": "http_error", "message": response.text[:200]}
        raise LmsApiError(
            response.status_code,
            error.get("code", "error"),
            error.get("message", ""),
            error.get("details"),
        )

    def _model(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        return model.model_validate(self._send(method, path, **kwargs).json())

    @staticmethod
    def _page(limit: int, offset: int, **filters: Any) -> dict[str, Any]:
        return {"limit": limit, "offset": offset, **filters}

    # --- health and catalog (public) -----------------------------------------------------
    def health(self) -> dict[str, str]:
        return self._send("GET", "health").json()

    def catalog(self) -> list[CatalogTrack]:
        """Active tracks with prices and project titles."""
        return [CatalogTrack.model_validate(t) for t in self._send("GET", "catalog").json()]

    # --- you -----------------------------------------------------------------------------
    def me(self) -> MeOut:
        """Who you are to the school: username, role and enrollments."""
        return self._model(MeOut, "GET", "me")

    def update_me(self, *, name: str | None = None, email: str | None = None) -> MeOut:
        return self._model(MeOut, "PATCH", "me", json=_drop_none({"name": name, "email": email}))

    # --- curriculum ----------------------------------------------------------------------
    def tracks(self, *, active: bool | None = None, limit: int = 50, offset: int = 0) -> TrackPage:
        return self._model(
            TrackPage, "GET", "tracks", params=self._page(limit, offset, active=active)
        )

    def track(self, code: str) -> TrackDetail:
        return self._model(TrackDetail, "GET", f"tracks/{_seg(code)}")

    def project(self, project_id: int) -> ProjectDetail:
        return self._model(ProjectDetail, "GET", f"projects/{project_id}")

    def create_track(self, **fields: Any) -> TrackDetail:
        """Admins: code, name, workspace_kinds, and optionally the other track fields."""
        return self._model(TrackDetail, "POST", "tracks", json=fields)

    def update_track(self, code: str, **changes: Any) -> TrackDetail:
        return self._model(TrackDetail, "PATCH", f"tracks/{_seg(code)}", json=changes)

    def delete_track(self, code: str) -> None:
        self._send("DELETE", f"tracks/{_seg(code)}")

    def create_project(self, track_code: str, **fields: Any) -> ProjectDetail:
        return self._model(
            ProjectDetail, "POST", f"tracks/{_seg(track_code)}/projects", json=fields
        )

    def update_project(self, project_id: int, **changes: Any) -> ProjectDetail:
        return self._model(ProjectDetail, "PATCH", f"projects/{project_id}", json=changes)

    def delete_project(self, project_id: int) -> None:
        self._send("DELETE", f"projects/{project_id}")

    def create_step(self, project_id: int, **fields: Any) -> StepOut:
        return self._model(StepOut, "POST", f"projects/{project_id}/steps", json=fields)

    def update_step(self, step_id: int, **changes: Any) -> StepOut:
        return self._model(StepOut, "PATCH", f"steps/{step_id}", json=changes)

    def delete_step(self, step_id: int) -> None:
        self._send("DELETE", f"steps/{step_id}")

    def create_deliverable(self, project_id: int, **fields: Any) -> DeliverableOut:
        return self._model(
            DeliverableOut, "POST", f"projects/{project_id}/deliverables", json=fields
        )

    def update_deliverable(self, deliverable_id: int, **changes: Any) -> DeliverableOut:
        return self._model(DeliverableOut, "PATCH", f"deliverables/{deliverable_id}", json=changes)

    def delete_deliverable(self, deliverable_id: int) -> None:
        self._send("DELETE", f"deliverables/{deliverable_id}")

    # --- enrollments ---------------------------------------------------------------------
    def enrollments(
        self,
        *,
        username: str | None = None,
        track: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> EnrollmentPage:
        params = self._page(limit, offset, username=username, track=track, status=status)
        return self._model(EnrollmentPage, "GET", "enrollments", params=params)

    def enrollment(self, enrollment_id: int) -> EnrollmentDetail:
        return self._model(EnrollmentDetail, "GET", f"enrollments/{enrollment_id}")

    def grant(self, username: str, track: str, reason: str = "") -> EnrollmentDetail:
        """Admins: give a user a place in a track without payment."""
        body = {"username": username, "track": track, "reason": reason}
        return self._model(EnrollmentDetail, "POST", "enrollments", json=body)

    def revoke(self, enrollment_id: int, reason: str) -> EnrollmentDetail:
        return self._model(
            EnrollmentDetail,
            "POST",
            f"enrollments/{enrollment_id}/revoke",
            json={"reason": reason},
        )

    # --- class sessions ------------------------------------------------------------------
    def class_sessions(
        self,
        *,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        track: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> ClassSessionPage:
        """Sessions by start: ending at or after `since`, starting before `until`."""
        filters = {"from": _moment(since), "to": _moment(until), "track": track}
        params = self._page(limit, offset, **filters)
        return self._model(ClassSessionPage, "GET", "class-sessions", params=params)

    def class_session(self, session_id: int) -> ClassSessionOut:
        return self._model(ClassSessionOut, "GET", f"class-sessions/{session_id}")

    def schedule_session(
        self,
        title: str,
        track: str,
        starts_at: datetime | str,
        ends_at: datetime | str,
        workspace_kind: str,
        students: list[str] | None = None,
    ) -> ClassSessionOut:
        """Trainers (for their students) and admins: schedule a class session."""
        body = {
            "title": title,
            "track": track,
            "starts_at": _moment(starts_at),
            "ends_at": _moment(ends_at),
            "workspace_kind": workspace_kind,
            "students": students or [],
        }
        return self._model(ClassSessionOut, "POST", "class-sessions", json=body)

    def update_session(self, session_id: int, **changes: Any) -> ClassSessionOut:
        return self._model(
            ClassSessionOut, "PATCH", f"class-sessions/{session_id}", json=_moments(changes)
        )

    def cancel_session(self, session_id: int) -> ClassSessionOut:
        return self._model(ClassSessionOut, "POST", f"class-sessions/{session_id}/cancel")

    def attendance(self, session_id: int) -> AttendanceOut:
        return self._model(AttendanceOut, "GET", f"class-sessions/{session_id}/attendance")

    def warm_up(self, lead_minutes: int) -> WarmUpOut:
        """The hub: sessions whose students' workspaces should run now."""
        params = {"lead_minutes": lead_minutes}
        return self._model(WarmUpOut, "GET", "class-sessions/warm-up", params=params)

    def report_workspace_activity(
        self, activity: list[tuple[str, datetime | str]]
    ) -> ActivityRecorded:
        """The hub: (user, moment) pairs of workspaces seen in use."""
        body = {"activity": [{"user": user, "at": _moment(at)} for user, at in activity]}
        return self._model(ActivityRecorded, "POST", "class-sessions/workspace-activity", json=body)

    # --- progress ------------------------------------------------------------------------
    def mark_step_done(self, step_id: int) -> StepCompletionOut:
        return self._model(StepCompletionOut, "PUT", f"progress/steps/{step_id}")

    def unmark_step(self, step_id: int) -> None:
        self._send("DELETE", f"progress/steps/{step_id}")

    def my_progress(self) -> ProgressOut:
        return self._model(ProgressOut, "GET", "progress/me")

    def student_progress(self, username: str) -> ProgressOut:
        """Trainers (their students) and admins."""
        return self._model(ProgressOut, "GET", f"progress/students/{_seg(username)}")

    # --- submissions ---------------------------------------------------------------------
    def submit_link(self, deliverable_id: int, url: str, note: str = "") -> SubmissionDetail:
        """Hand in (or again) a link for a `url` or `github_pr` deliverable."""
        body = {"deliverable_id": deliverable_id, "url": url, "note": note}
        return self._model(SubmissionDetail, "POST", "submissions", json=body)

    def submit_file(
        self,
        deliverable_id: int,
        file: str | Path | bytes,
        *,
        filename: str | None = None,
        note: str = "",
    ) -> SubmissionDetail:
        """Upload a notebook or file: a path (e.g. "analysis.ipynb") or bytes with a filename."""
        if isinstance(file, bytes):
            if not filename:
                raise ValueError("pass filename= with bytes")
            data = file
        else:
            data = Path(file).read_bytes()
            filename = filename or Path(file).name
        return self._model(
            SubmissionDetail,
            "POST",
            "submissions/upload",
            data={"deliverable_id": str(deliverable_id), "note": note},
            files={"file": (filename, data, "application/octet-stream")},
        )

    def submissions(
        self,
        *,
        username: str | None = None,
        track: str | None = None,
        project_id: int | None = None,
        deliverable_id: int | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> SubmissionPage:
        params = self._page(
            limit,
            offset,
            username=username,
            track=track,
            project_id=project_id,
            deliverable_id=deliverable_id,
            status=status,
        )
        return self._model(SubmissionPage, "GET", "submissions", params=params)

    def submission(self, submission_id: int) -> SubmissionDetail:
        return self._model(SubmissionDetail, "GET", f"submissions/{submission_id}")

    def download(self, submission_id: int, version: int) -> bytes:
        """The uploaded file of one version."""
        return self._send("GET", f"submissions/{submission_id}/versions/{version}/file").content

    def review(
        self, submission_id: int, version: int, decision: str, feedback: str = ""
    ) -> SubmissionDetail:
        """Trainers and admins: `approve`, or `request_changes` with feedback."""
        body = {"version": version, "decision": decision, "feedback": feedback}
        return self._model(
            SubmissionDetail, "POST", f"submissions/{submission_id}/reviews", json=body
        )

    # --- quizzes: authoring (trainers, admins) ------------------------------------------
    def create_quiz(
        self, title: str, questions: list[dict[str, Any]], **settings: Any
    ) -> QuizDetail:
        """A draft written by hand: questions as in the API (text, type, options)."""
        body = {"title": title, "questions": questions, **settings}
        return self._model(QuizDetail, "POST", "quizzes", json=body)

    def generate_quiz(self, title: str, prompt: str, **options: Any) -> GeneratedQuizOut:
        """A draft written by Gemini (num_questions, multiple_count, generation_type, track)."""
        body = {"title": title, "prompt": prompt, **options}
        return self._model(GeneratedQuizOut, "POST", "quizzes/generate", json=body)

    def import_quiz(self, document: str | bytes | Path, *, yaml: bool | None = None) -> QuizDetail:
        """A draft from a quiz file (JSON or YAML, as `export_quiz` writes it)."""
        if isinstance(document, Path):
            yaml = document.suffix in (".yaml", ".yml") if yaml is None else yaml
            document = document.read_bytes()
        data = document.encode() if isinstance(document, str) else document
        kind = "application/yaml" if yaml else "application/json"
        return self._model(
            QuizDetail, "POST", "quizzes/import", content=data, headers={"Content-Type": kind}
        )

    def export_quiz(self, quiz_id: int, format: str = "json") -> str:
        return self._send("GET", f"quizzes/{quiz_id}/export", params={"format": format}).text

    def update_quiz(self, quiz_id: int, **changes: Any) -> QuizDetail:
        return self._model(QuizDetail, "PATCH", f"quizzes/{quiz_id}", json=changes)

    def publish_quiz(self, quiz_id: int) -> QuizDetail:
        return self._model(QuizDetail, "POST", f"quizzes/{quiz_id}/publish")

    def archive_quiz(self, quiz_id: int) -> QuizDetail:
        return self._model(QuizDetail, "POST", f"quizzes/{quiz_id}/archive")

    def delete_quiz(self, quiz_id: int) -> None:
        self._send("DELETE", f"quizzes/{quiz_id}")

    def quiz_results(self, quiz_id: int) -> QuizResults:
        """Scores and per-question results (a trainer's students; admins: everyone)."""
        return self._model(QuizResults, "GET", f"quizzes/{quiz_id}/results")

    # --- quizzes: reading and taking -----------------------------------------------------
    def quizzes(
        self,
        *,
        status: str | None = None,
        track: str | None = None,
        created_by: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> QuizPage:
        """Students: the published quizzes open to you, with your attempts (`mine`)."""
        params = self._page(limit, offset, status=status, track=track, created_by=created_by)
        return self._model(QuizPage, "GET", "quizzes", params=params)

    def quiz(self, quiz_id: int) -> QuizDetail | QuizSummary:
        """Staff get the questions and keys (QuizDetail); students the quiz and their record."""
        data = self._send("GET", f"quizzes/{quiz_id}").json()
        return (QuizDetail if "questions" in data else QuizSummary).model_validate(data)

    def start_quiz(self, quiz_id: int) -> AttemptDetail:
        """Start an attempt, or resume the one in progress (the time limit starts now)."""
        return self._model(AttemptDetail, "POST", f"quizzes/{quiz_id}/attempts")

    def answer(self, attempt_id: int, question_id: int, option_ids: list[int]) -> AnswerOut:
        """Save an answer (as often as you like; [] clears it)."""
        return self._model(
            AnswerOut,
            "PUT",
            f"attempts/{attempt_id}/answers/{question_id}",
            json={"option_ids": list(option_ids)},
        )

    def submit_attempt(self, attempt_id: int) -> AttemptDetail:
        """Grade the attempt; the result (and, if the quiz allows, the key) comes back."""
        return self._model(AttemptDetail, "POST", f"attempts/{attempt_id}/submit")

    def attempt(self, attempt_id: int) -> AttemptDetail:
        return self._model(AttemptDetail, "GET", f"attempts/{attempt_id}")

    def attempts(
        self,
        *,
        quiz_id: int | None = None,
        username: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> AttemptPage:
        """Yours (students), your students' (trainers), everyone's (admins); newest first."""
        params = self._page(limit, offset, quiz_id=quiz_id, username=username, status=status)
        return self._model(AttemptPage, "GET", "attempts", params=params)

    # --- people (admins; trainers may list trainers) ------------------------------------
    def users(
        self,
        *,
        q: str | None = None,
        active: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> PersonPage:
        params = self._page(limit, offset, q=q, active=active)
        return self._model(PersonPage, "GET", "users", params=params)

    def user(self, username: str) -> PersonOut:
        return self._model(PersonOut, "GET", f"users/{_seg(username)}")

    def update_user(self, username: str, **changes: Any) -> PersonOut:
        return self._model(PersonOut, "PATCH", f"users/{_seg(username)}", json=changes)

    def deactivate_user(self, username: str) -> PersonOut:
        return self._model(PersonOut, "POST", f"users/{_seg(username)}/deactivate")

    def close_user(self, username: str) -> PersonOut:
        """Hub service or admins: the hub deleted this user; the profile becomes
        `NAME~closed-ID`, inactive, and the name is free for a new person."""
        return self._model(PersonOut, "POST", f"users/{_seg(username)}/close")

    def trainers(self, *, limit: int = 50, offset: int = 0) -> TrainerPage:
        return self._model(TrainerPage, "GET", "trainers", params=self._page(limit, offset))

    def assign_trainer(self, student: str, trainer: str) -> AssignmentOut:
        return self._model(
            AssignmentOut, "PUT", f"users/{_seg(student)}/trainer", json={"trainer": trainer}
        )

    def unassign_trainer(self, student: str) -> AssignmentOut:
        return self._model(AssignmentOut, "DELETE", f"users/{_seg(student)}/trainer")

    # --- payments (Stripe) ---------------------------------------------------------------
    def start_checkout(self, track: str, *, idempotency_key: str | None = None) -> CheckoutOut:
        """Pay for a track on Stripe's hosted page: open `checkout_url` in a browser."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._model(
            CheckoutOut, "POST", "payments/checkout", json={"track": track}, headers=headers
        )

    def create_payment_intent(self, track: str, *, idempotency_key: str | None = None) -> IntentOut:
        """Pay for a track with your own Stripe UI: confirm `client_secret` with Stripe.js."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._model(
            IntentOut, "POST", "payments/intents", json={"track": track}, headers=headers
        )

    def payments(
        self,
        *,
        username: str | None = None,
        track: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> PaymentPage:
        params = self._page(limit, offset, username=username, track=track, status=status)
        return self._model(PaymentPage, "GET", "payments", params=params)

    def payment(self, payment_id: int) -> PaymentDetail:
        return self._model(PaymentDetail, "GET", f"payments/{payment_id}")

    def refund_payment(self, payment_id: int) -> PaymentDetail:
        """Admins: refund in full; access ends when Stripe confirms it."""
        return self._model(PaymentDetail, "POST", f"payments/{payment_id}/refund")

    # --- the workspace rule (the hub's service token, admins) ----------------------------
    def allowed_workspaces(self, user: str) -> list[str]:
        return self._send("GET", "workspaces/allowed", params={"user": user}).json()["kinds"]

    def allowed_kinds(self, users: list[str]) -> dict[str, list[str]]:
        """The kinds each user may run now (what the hub's workspace guard asks)."""
        body = self._send("POST", "workspaces/allowed/check", json={"users": users}).json()
        return body["kinds"]
