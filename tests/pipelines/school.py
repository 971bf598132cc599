"""A tiny school with known numbers, for the pipeline tests (the expected marts are worked out
by hand in test_marts.py). Written through the LMS models, on SQLite or PostgreSQL.

Track DT (10 weeks), trainer `tr`:
- P1 (30 h): 3 steps, required deliverable D1 -> expected 21 days after enrolling
- P2 (70 h): 2 steps, required D2 (70 days), optional D3
Students: amy (active, 06-01), ben (active, 05-01), cat (active, 06-20), dan (cancelled).
Quiz Q1: 3 SINGLE questions of 1 point, 4 options, the first option right.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from lms_api.curriculum.models import Deliverable, Project, ProjectStep, Track
from lms_api.database import sync_url
from lms_api.enrollments.models import Enrollment
from lms_api.migrate import upgrade
from lms_api.payments.models import Payment
from lms_api.people.models import Person, TrainerAssignment
from lms_api.progress.models import StepCompletion
from lms_api.quizzes.models import AnswerOption, Question, Quiz, QuizAttempt, StudentAnswer
from lms_api.submissions.models import Submission
from pipelines.assets.raw import ACTIVITY_SCHEMA

AS_OF = "2026-06-30T12:00:00+00:00"


def at(text: str) -> datetime:
    """'06-29 10:01' -> 2026-06-29 10:01 UTC."""
    day, _, clock = text.partition(" ")
    month, dom = (int(x) for x in day.split("-"))
    hour, minute = (int(x) for x in (clock or "00:00").split(":"))
    return datetime(2026, month, dom, hour, minute, tzinfo=UTC)


@dataclass
class School:
    url: str
    people: dict[str, int] = field(default_factory=dict)
    steps: list[int] = field(default_factory=list)  # in track order
    quiz_id: int = 0
    track_id: int = 0
    questions: list[int] = field(default_factory=list)
    options: dict[int, list[int]] = field(default_factory=dict)  # question -> option ids

    def add_attempt(self, student: str, number: int, picks: list[int | None], when: str) -> int:
        """A graded attempt; picks[i] = index of the chosen option of question i (0 = right)."""
        engine = create_engine(sync_url(self.url))
        with Session(engine) as session, session.begin():
            attempt = QuizAttempt(
                quiz_id=self.quiz_id,
                person_id=self.people[student],
                number=number,
                status="SUBMITTED",
                started_at=at(when),
                submitted_at=at(when),
                max_score=3.0,
                question_order=self.questions,
                option_order={str(q): self.options[q] for q in self.questions},
            )
            session.add(attempt)
            session.flush()
            total = 0.0
            for question, pick in zip(self.questions, picks, strict=True):
                if pick is None:
                    continue
                right = pick == 0
                total += 1.0 if right else 0.0
                session.add(
                    StudentAnswer(
                        attempt_id=attempt.id,
                        question_id=question,
                        selected_option_ids=[self.options[question][pick]],
                        answered_at=at(when),
                        is_correct=right,
                        score=1.0 if right else 0.0,
                    )
                )
            attempt.score, attempt.passed = total, total / 3 >= 0.5
            attempt_id = attempt.id
        engine.dispose()
        return attempt_id


def build_school(database_url: str) -> School:
    upgrade(database_url)
    school = School(database_url)
    engine = create_engine(sync_url(database_url))
    with Session(engine) as session, session.begin():
        track = Track(code="DT", name="Data Track", duration_weeks=10, price_cents=10000)
        p1 = Project(number=1, title="P1", estimated_hours=30)
        p2 = Project(number=2, title="P2", estimated_hours=70)
        p1.steps = [ProjectStep(order=i, title=f"P1 step {i}") for i in (1, 2, 3)]
        p2.steps = [ProjectStep(order=i, title=f"P2 step {i}") for i in (1, 2)]
        p1.deliverables = [Deliverable(title="D1", kind="url", required=True)]
        p2.deliverables = [
            Deliverable(title="D2", kind="url", required=True),
            Deliverable(title="D3", kind="url", required=False),
        ]
        track.projects = [p1, p2]
        session.add(track)
        people = {n: Person(username=n) for n in ("tr", "amy", "ben", "cat", "dan")}
        session.add_all(people.values())
        session.flush()
        school.track_id = track.id
        school.people = {n: p.id for n, p in people.items()}
        school.steps = [s.id for s in p1.steps + p2.steps]
        for name in ("amy", "ben", "cat", "dan"):
            session.add(TrainerAssignment(trainer_id=people["tr"].id, student_id=people[name].id))
        enrolled = {"amy": "06-01", "ben": "05-01", "cat": "06-20", "dan": "05-15"}
        for name, day in enrolled.items():
            status = "cancelled" if name == "dan" else "active"
            when = at(day)
            session.add(
                Enrollment(
                    person_id=people[name].id,
                    track_id=track.id,
                    status=status,
                    source="payment",
                    created_at=when,
                    updated_at=when,
                )
            )
        completions = {
            "amy": [(0, "06-02"), (1, "06-05"), (2, "06-25"), (3, "06-28")],
            "ben": [(0, "05-03")],
            "dan": [(0, "05-16")],
        }
        for name, done in completions.items():
            for index, day in done:
                session.add(
                    StepCompletion(
                        person_id=people[name].id, step_id=school.steps[index], created_at=at(day)
                    )
                )
        session.add(
            Submission(
                person_id=people["amy"].id,
                deliverable_id=p1.deliverables[0].id,
                status="submitted",
                current_version=1,
                created_at=at("06-26"),
                updated_at=at("06-26"),
            )
        )
        payments = [
            ("amy", "succeeded", "06-01", None),
            ("ben", "succeeded", "05-01", None),
            ("dan", "refunded", "05-15", "06-03"),
            ("cat", "pending", None, None),
        ]
        for name, status, paid, refunded in payments:
            created = at(paid or "06-20")
            session.add(
                Payment(
                    person_id=people[name].id,
                    track_id=track.id,
                    amount_cents=10000,
                    status=status,
                    paid_at=at(paid) if paid else None,
                    refunded_at=at(refunded) if refunded else None,
                    refunded_cents=10000 if refunded else 0,
                    created_at=created,
                    updated_at=created,
                )
            )
        quiz = Quiz(
            title="Q1",
            track_id=track.id,
            created_by="tr",
            status="published",
            published_at=at("05-01"),
            pass_mark=0.5,
            reveal_policy="after_submission",
            multiple_scoring="all_or_nothing",
            sources=[],
        )
        quiz.questions = [
            Question(
                order=i,
                text=f"Question {i}?",
                type="SINGLE",
                points=1.0,
                tags=[],
                options=[
                    AnswerOption(order=j, text=f"option {j}", is_correct=j == 1)
                    for j in (1, 2, 3, 4)
                ],
            )
            for i in (1, 2, 3)
        ]
        session.add(quiz)
        session.flush()
        school.quiz_id = quiz.id
        school.questions = [q.id for q in quiz.questions]
        school.options = {q.id: [o.id for o in q.options] for q in quiz.questions}
    engine.dispose()
    school.add_attempt("amy", 1, [0, 1, 2], "06-10 10:00")  # 1/3
    school.add_attempt("amy", 2, [0, 0, 0], "06-12 10:00")  # 3/3
    school.add_attempt("ben", 1, [0, 0, 3], "06-11 10:00")  # 2/3
    school.add_attempt("cat", 1, [None, None, None], "06-21 10:00")  # nothing answered: 0/3
    return school


def write_activity(landing: Path) -> None:
    """amy on 06-29: two servers, three 5-minute buckets; ben once on 06-10; cat never."""
    rows = [
        ("amy", "", "06-29 10:00", "06-29 10:01"),
        ("amy", "", "06-29 10:00", "06-29 10:04"),
        ("amy", "", "06-29 10:00", "06-29 10:07"),
        ("amy", "", "06-29 10:00", "06-29 10:12"),
        ("amy", "", "06-29 10:00", "06-29 10:12"),  # the same sample seen by two polls
        ("amy", "sql", "06-29 10:03", "06-29 10:06"),
        ("ben", "", "06-10 08:55", "06-10 09:00"),
    ]
    table = pa.Table.from_pylist(
        [
            {
                "username": user,
                "server_name": server,
                "started": at(started),
                "last_activity": at(last),
                "observed_at": at(last),
            }
            for user, server, started, last in rows
        ],
        schema=ACTIVITY_SCHEMA,
    )
    landing.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, landing / "test.parquet")
