"""`seed_synthetic`: one deterministic synthetic school into the LMS database, in bulk."""

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from lms_api.synthetic.activity import build_activity, default_activity_dir, write_activity
from lms_api.synthetic.catalog import STUDENT_PREFIX, TRAINER_PREFIX
from lms_api.synthetic.curriculum import Ids, load_curriculum
from lms_api.synthetic.quizzes import (
    ANSWER_COLUMNS,
    answer_chunks,
    attempt_table,
    build_bank,
    plan_attempts,
)
from lms_api.synthetic.school import build_school
from lms_api.synthetic.store import Store

TABLES = [
    "tracks",
    "projects",
    "project_steps",
    "deliverables",
    "people",
    "trainer_assignments",
    "enrollments",
    "enrollment_events",
    "payments",
    "step_completions",
    "submissions",
    "submission_versions",
    "submission_events",
    "quizzes",
    "quiz_questions",
    "quiz_options",
    "quiz_attempts",
    "quiz_answers",
]
SYNTHETIC_USERNAME = re.compile(rf"^({STUDENT_PREFIX}|{TRAINER_PREFIX})[0-9]+$")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SyntheticDataExists(RuntimeError):
    """The database already holds a synthetic school; a second one is refused."""


@dataclass(frozen=True)
class SyntheticSummary:
    rows: dict[str, int]  # rows written per table, plus "hub_activity" (Parquet rows)
    seconds: float
    now: datetime  # the moment the school's history ends
    activity_files: tuple[Path, ...] = ()
    # question id -> how it was broken on purpose (miskeyed, attractive_distractor, ...)
    broken_questions: dict[int, str] = field(default_factory=dict)

    def report(self) -> str:
        width = max(len(name) for name in self.rows)
        lines = [f"  {name:<{width}}  {count:>12,}" for name, count in self.rows.items()]
        files = ", ".join(str(p) for p in self.activity_files) or "none"
        return "\n".join(
            [
                f"Synthetic school seeded in {self.seconds:.1f} s (history up to "
                f"{self.now.isoformat()}):",
                *lines,
                f"Hub activity: {files}",
            ]
        )


def default_now() -> datetime:
    """The start of the current hour (UTC): runs within the hour give identical data."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def seed_synthetic(
    database_url: str,
    *,
    students: int,
    quizzes: int,
    seed: int,
    trainers: int | None = None,
    days: int = 60,
    activity_dir: Path | str | None = None,
    now: datetime | None = None,
    progress: bool = False,
) -> SyntheticSummary:
    """Fill the (migrated) LMS database at `database_url` with a synthetic school and write
    its hub activity to `activity_dir` (default: the pipeline's landing folder).

    The same arguments on the same starting database give the same rows, ids included.
    Raises SyntheticDataExists when synthetic people are already there.
    """
    if students < 1 or quizzes < 0 or days < 1 or (trainers is not None and trainers < 1):
        raise ValueError("need students >= 1, quizzes >= 0, days >= 1 and trainers >= 1")
    began = time.perf_counter()
    trainers = trainers or max(1, round(students / 200))
    moment = (now or default_now()).astimezone(UTC)
    now_us = (moment - EPOCH) // timedelta(microseconds=1)
    store = Store(database_url, progress)
    try:
        _refuse_if_seeded(store)
        ids = Ids(store, TABLES)
        curriculum = load_curriculum(store, ids)
        for name, table in curriculum.new_rows.items():
            store.write_all(name, table)
        school = build_school(seed, students, trainers, days, now_us, curriculum, ids)
        for name, table in school.tables.items():
            store.write_all(name, table)
        bank = build_bank(seed, quizzes, days, now_us, curriculum, school.trainer_usernames, ids)
        for name, table in bank.tables.items():
            store.write_all(name, table)
        attempts = plan_attempts(seed, bank, school, days, now_us, ids)
        # Answers first, streamed while the next chunk is graded (foreign keys are checked
        # at the end); the attempts then, once their scores are known.
        graded = []
        expected = int(bank.q_count[attempts.quiz].sum())
        with store.appender("quiz_answers", ANSWER_COLUMNS, expected) as append:
            for part, chunk in answer_chunks(seed, bank, attempts, ids):
                append(chunk.answers)
                graded.append(attempt_table(bank, attempts, part, chunk, school))
        if graded:
            store.write_all("quiz_attempts", pa.concat_tables(graded))
        del graded
        store.commit(store.written)
    finally:
        store.close()
    activity = build_activity(seed, school, curriculum, now_us)
    folder = Path(activity_dir) if activity_dir is not None else default_activity_dir()
    path = write_activity(activity, folder, seed)
    rows = {name: store.written.get(name, 0) for name in TABLES}
    rows["hub_activity"] = activity.num_rows
    return SyntheticSummary(
        rows=rows,
        seconds=time.perf_counter() - began,
        now=moment,
        activity_files=(path,),
        broken_questions=dict(bank.broken),
    )


def _refuse_if_seeded(store: Store) -> None:
    found = [
        row[0]
        for row in store.query(
            f"SELECT username FROM people WHERE username LIKE '{STUDENT_PREFIX}%' "
            f"OR username LIKE '{TRAINER_PREFIX}%'"
        )
        if SYNTHETIC_USERNAME.match(row[0])
    ]
    if found:
        raise SyntheticDataExists(
            f"The LMS database already holds a synthetic school ({len(found):,} people such as "
            f"{min(found)!r}); seed-synthetic fills a database once. Use a fresh database."
        )
