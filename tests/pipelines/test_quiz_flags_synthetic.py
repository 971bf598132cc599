"""The item flags on the synthetic school, through the whole pipeline (LMS -> marts).

The synthetic school plants broken questions (lms_api.synthetic.quizzes): the planted
attractive distractor must be flagged as one, not only "no better than guessing".
"""

import statistics
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from lms_api.database import sync_url
from lms_api.demo import seed_demo
from lms_api.migrate import upgrade
from lms_api.synthetic import seed_synthetic
from pipelines.quiz_statistics import FLAG_DISTRACTOR
from pipelines.resources import Warehouse
from tests.pipelines.conftest import Pipeline

pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A small synthetic school (400 students, 3 quizzes) and its marts."""
    folder = tmp_path_factory.mktemp("synthetic")
    url = f"sqlite:///{folder / 'lms.db'}"
    upgrade(url)
    seed_demo(url)
    warehouse = folder / "warehouse" / "warehouse.duckdb"
    summary = seed_synthetic(
        url,
        students=400,
        quizzes=3,
        seed=5,
        activity_dir=Warehouse(path=str(warehouse)).landing_dir,
        now=NOW,
    )
    pipeline = Pipeline(url, warehouse, as_of=NOW.isoformat(), min_attempts=10)
    pipeline.run()
    return summary, pipeline


def test_the_planted_attractive_distractor_is_flagged_as_one(synthetic):
    summary, pipeline = synthetic
    planted = {kind: q for q, kind in summary.broken_questions.items()}["attractive_distractor"]
    [(flag, n)] = pipeline.rows(
        f"SELECT flag, n FROM marts.quiz_item_stats "
        f"WHERE question_id = {planted} AND attempt_set = 'all'"
    )
    assert n >= 10
    assert FLAG_DISTRACTOR in flag.split("; ")
    # the option that carries the flag is the wrong one most chosen, ahead of the key
    options = pipeline.rows(
        f"SELECT option_id, is_correct, chosen_count, attractive FROM marts.quiz_option_stats "
        f"WHERE question_id = {planted} AND attempt_set = 'all' ORDER BY chosen_count DESC"
    )
    top, *others = options
    assert top[1] is False and top[3] is True
    assert top[2] > max(count for _, correct, count, _ in options if correct)
    assert not any(attractive for _, correct, _, attractive in others if correct)


def test_time_on_question_from_the_lms_answer_log(synthetic):
    """Median time per question and rapid guesses, recomputed from the LMS tables: per attempt
    the answers in the order saved, each timed from the save before it (or the start)."""
    summary, pipeline = synthetic
    planted = {kind: q for q, kind in summary.broken_questions.items()}["attractive_distractor"]
    engine = create_engine(sync_url(pipeline.lms_url))
    with engine.connect() as connection:
        answers = connection.execute(
            text(
                "SELECT a.attempt_id, a.question_id, a.answered_at, t.started_at "
                "FROM quiz_answers a JOIN quiz_attempts t ON t.id = a.attempt_id "
                "WHERE t.status IN ('SUBMITTED', 'EXPIRED') ORDER BY a.answered_at, a.question_id"
            )
        ).fetchall()
    engine.dispose()
    previous, seconds = {}, []
    for attempt, question, answered, started in answers:
        answered, started = parse(answered), parse(started)
        gap = (answered - previous.get(attempt, started)).total_seconds()
        previous[attempt] = answered
        if question == planted:
            seconds.append(max(gap, 0.0))
    [(n_timed, median, rapid)] = pipeline.rows(
        "SELECT n_timed, median_seconds, rapid_guess_rate FROM marts.quiz_item_stats "
        f"WHERE question_id = {planted} AND attempt_set = 'all'"
    )
    assert n_timed == len(seconds) > 10
    assert median == pytest.approx(statistics.median(seconds), abs=1e-3)
    assert rapid == pytest.approx(sum(s < 5 for s in seconds) / len(seconds))


def parse(value) -> datetime:
    """A timestamp as SQLite hands it back (text or naive datetime), naive UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
