"""`seed_synthetic`: one deterministic synthetic school into the LMS database, in bulk."""

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from lms_api.synthetic.activity import build_activity, default_activity_dir, write_activity
from lms_api.synthetic.catalog import STUDENT_PREFIX, TRAINER_PREFIX
from lms_api.synthetic.common import DAY, UTC_US
from lms_api.synthetic.curriculum import Ids, load_curriculum
from lms_api.synthetic.quizzes import (
    ANSWER_COLUMNS,
    answer_chunks,
    attempt_table,
    build_bank,
    plan_attempts,
)
from lms_api.synthetic.school import FAILED_QUIZ, PATHS, STOPPER, School, build_school
from lms_api.synthetic.sessions import build_sessions
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
    "class_sessions",
    "workspace_activity",
]
SYNTHETIC_USERNAME = re.compile(rf"^({STUDENT_PREFIX}|{TRAINER_PREFIX})[0-9]+$")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The LMS's default cap on students per trainer (Settings.max_students_per_trainer).
TRAINER_CAP = 20


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
    # every enrollment that was active: username, track, its dropout path and when it
    # started, stopped, began to fade and took a break (what the at-risk backtest must find)
    learners: pa.Table | None = None

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
    trainer_cap: int = TRAINER_CAP,
) -> SyntheticSummary:
    """Fill the (migrated) LMS database at `database_url` with a synthetic school and write
    its hub activity to `activity_dir` (default: the pipeline's landing folder).

    The same arguments on the same starting database give the same rows, ids included.
    Raises SyntheticDataExists when synthetic people are already there. `trainers` is a
    minimum: no trainer gets more than `trainer_cap` students (the LMS's cap), so there are
    at least students / trainer_cap of them.
    """
    if students < 1 or quizzes < 0 or days < 1 or (trainers is not None and trainers < 1):
        raise ValueError("need students >= 1, quizzes >= 0, days >= 1 and trainers >= 1")
    if trainer_cap < 1:
        raise ValueError("need trainer_cap >= 1")
    began = time.perf_counter()
    trainers = trainers or 1
    moment = (now or default_now()).astimezone(UTC)
    now_us = (moment - EPOCH) // timedelta(microseconds=1)
    store = Store(database_url, progress)
    try:
        _refuse_if_seeded(store)
        ids = Ids(store, TABLES)
        curriculum = load_curriculum(store, ids)
        for name, table in curriculum.new_rows.items():
            store.write_all(name, table)
        school = build_school(
            seed, students, trainers, days, now_us, curriculum, ids, trainer_cap=trainer_cap
        )
        for name, table in school.tables.items():
            store.write_all(name, table)
        bank = build_bank(seed, quizzes, days, now_us, curriculum, school.trainer_usernames, ids)
        for name, table in bank.tables.items():
            store.write_all(name, table)
        attempts = plan_attempts(seed, bank, school, days, now_us, ids)
        fail_before_stopping(school, bank.track[attempts.quiz], attempts)
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
        classes = build_sessions(seed, school, curriculum, days, now_us, ids)
        for name, table in classes.items():
            store.write_all(name, table)
        del classes
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
        learners=learner_table(school, [t.code for t in curriculum.tracks]),
    )


# How much worse than usual a student does on the quiz they fail just before stopping.
BAD_DAY = 2.0


def fail_before_stopping(school: School, attempt_track, attempts) -> None:
    """Students who stop at once (STOPPER) and took a quiz in their last week fail that
    last attempt (their ability that day drops by BAD_DAY) and become FAILED_QUIZ: the
    "stopped after a failed quiz" path. Changes `attempts.theta` and the paths in place."""
    stoppers = np.flatnonzero(school.learner_path == STOPPER)
    if not len(stoppers) or not len(attempts.student):
        return
    n_tracks = int(max(school.learner_track.max(), attempt_track.max())) + 1
    keys = school.learner_student[stoppers] * n_tracks + school.learner_track[stoppers]
    order = np.argsort(keys)
    keys, stoppers = keys[order], stoppers[order]
    wanted = attempts.student * n_tracks + attempt_track
    at = np.clip(np.searchsorted(keys, wanted), 0, len(keys) - 1)
    learner = stoppers[at]
    stop = school.learner_end[learner]
    late = (keys[at] == wanted) & (attempts.finished <= stop) & (attempts.finished > stop - 7 * DAY)
    late_idx = np.flatnonzero(late)
    if not len(late_idx):
        return
    # the last attempt of each such learner
    by = np.lexsort((attempts.finished[late_idx], learner[late_idx]))
    ordered = late_idx[by]
    last = np.r_[learner[ordered][1:] != learner[ordered][:-1], True]
    chosen = ordered[last]
    attempts.theta[chosen] -= BAD_DAY
    school.learner_path[learner[chosen]] = FAILED_QUIZ


def learner_table(school: School, track_codes: list[str]) -> pa.Table:
    """The planted dropout paths, one row per enrollment that was active."""

    def stamps(values):
        return pa.array(values, type=UTC_US, mask=values == 0)

    return pa.table(
        {
            "username": pa.array(school.usernames).take(pa.array(school.learner_student)),
            "track": pa.array(track_codes).take(pa.array(school.learner_track)),
            "path": pa.array(PATHS).take(pa.array(school.learner_path)),
            # the student's first enrollment (the one their workspace activity follows)
            "primary": pa.array(school.learner_primary),
            "started": stamps(school.learner_start),
            "stopped": stamps(school.learner_end),
            "fade_start": stamps(school.learner_fade_start),
            "pause_start": stamps(school.learner_pause_start),
            "pause_end": stamps(school.learner_pause_end),
        }
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
