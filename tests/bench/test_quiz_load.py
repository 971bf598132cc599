"""The quiz-flow load run keeps working and counts right (its figures are in bench/README.md).

No timing is asserted here: the figures are measured by `make bench-quiz`, not by tests.
"""

import json
import os
import random
import subprocess
import sys

import pytest

from bench.harness.platform import REPO_ROOT
from bench.quiz_load import (
    ALL,
    QUESTIONS,
    SATURATED,
    QuizKey,
    Tally,
    quiz_body,
    quiz_phase,
    verdicts,
)
from lms_api.quizzes.grading import mark_answer
from tests.bench.databases import assert_run_dropped_its_database
from tests.conftest import require


def key_of_the_quiz() -> QuizKey:
    """The load run's quiz as the API would answer it, with made-up ids."""
    body = quiz_body()
    next_id = iter(range(1, 1000))
    detail = {
        "id": 7,
        "questions": [
            {
                "id": next(next_id),
                "type": q["type"],
                "points": 1.0,
                "options": [{"id": next(next_id), **o} for o in q["options"]],
            }
            for q in body["questions"]
        ],
    }
    return QuizKey.from_detail(detail)


def test_the_quiz_mixes_single_and_multiple_questions_and_is_open_to_everyone():
    body = quiz_body()
    assert len(body["questions"]) == QUESTIONS
    assert {q["type"] for q in body["questions"]} == {"SINGLE", "MULTIPLE"}
    assert body["track"] is None and body["max_attempts"] is None
    assert body["time_limit_seconds"] is None


def test_each_choice_earns_what_the_server_grades_it():
    key = key_of_the_quiz()
    rng = random.Random(3)
    outcomes = set()
    for _ in range(200):
        for question_id, kind in key.types.items():
            chosen, earns = key.choose(question_id, rng)
            assert chosen == sorted(set(chosen)) and set(chosen) <= set(key.options[question_id])
            if kind == "SINGLE":
                assert len(chosen) == 1
            mark = mark_answer(kind, 1.0, key.right[question_id], key.options[question_id], chosen)
            assert mark.score == earns
            outcomes.add((kind, mark.correct))
    assert outcomes == {(k, c) for k in ("SINGLE", "MULTIPLE") for c in (True, False)}


def test_the_target_needs_every_paced_step_under_150_ms_no_errors_and_200_students():
    def phase(think: float, latency: dict[str, float]):
        made = quiz_phase(SATURATED if not think else f"paced {think}", think)
        made.measured, made.duration = (0.0, 10.0), 10.0
        for step, seconds in latency.items():
            made.samples += [(step, 1.0 + i / 100, 1.0 + i / 100 + seconds, 200) for i in range(50)]
            made.groups[step] = "quiz"
        return made

    fast = {"start": 0.020, "answer": 0.010, "submit": 0.040}
    saturated = phase(0, {"start": 0.9, "answer": 0.9, "submit": 0.9})  # not judged
    ok_db = [("consistent", True)]
    found, met = verdicts([saturated, phase(1.0, fast)], 200, Tally(), ok_db)
    assert met is True, found
    slow_submit = {**fast, "submit": 0.151}
    found, met = verdicts([phase(1.0, slow_submit)], 200, Tally(), ok_db)
    assert met is False and "worst submit 151.0 ms" in [t.value for t in found]
    assert verdicts([phase(1.0, fast)], 200, Tally(errors=1), ok_db)[1] is False
    assert verdicts([phase(1.0, fast)], 200, Tally(), [("mismatch", False)])[1] is False
    assert verdicts([phase(1.0, fast)], 3, Tally(), ok_db)[1] is None  # too few to judge
    assert verdicts([phase(1.0, slow_submit)], 3, Tally(), ok_db)[1] is None
    missing_submit = {"start": 0.02, "answer": 0.01}
    assert verdicts([phase(1.0, missing_submit)], 200, Tally(), ok_db)[1] is False


@pytest.mark.e2e
@pytest.mark.xdist_group("load-runs")  # its own hub and server, nothing shared
def test_the_quiz_run_runs_end_to_end_and_the_database_agrees(tmp_path):
    """A tiny run of the real thing: hub, PostgreSQL, lms_api, every phase, the final drain,
    the database check, clean-up."""
    admin_url = os.environ.get("APRANOVA_TEST_POSTGRES_URL")
    if not admin_url:
        require("PostgreSQL")
    report = tmp_path / "run.json"
    args = ["--students", "3", "--duration", "2", "--warmup", "0.5", "--think-ms", "100"]
    done = subprocess.run(
        [sys.executable, "-m", "bench.quiz_load", *args, "--json", str(report)],
        cwd=REPO_ROOT,
        env={**os.environ, "APRANOVA_BENCH_POSTGRES_URL": admin_url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERDICT:" in done.stdout and "cleaned up" in done.stdout
    data = json.loads(report.read_text())
    assert [p["title"] for p in data["phases"]] == [
        "quiz flow, saturated",
        "quiz flow, think 100 ms (~30 req/s)",
    ]
    for phase in data["phases"]:
        assert phase["flows"] > 0, phase
        assert {"start", "answer", "submit", ALL} <= set(phase["rows"])
        assert phase["rows"][ALL]["errors"] == 0, phase["error_examples"]
        assert all(phase["rows"][step]["ok"] > 0 for step in ("start", "answer", "submit"))
    tally = data["tally"]
    assert tally["errors"] == 0, tally["error_examples"]
    assert tally["submitted"] >= sum(p["flows"] for p in data["phases"])
    assert tally["started"] == tally["submitted"]  # the final drain left no attempt open
    assert 0 < tally["answered"] <= QUESTIONS * tally["submitted"]
    assert data["database"] and all(check["ok"] for check in data["database"]), data["database"]
    assert data["target_met"] is None  # 3 students: not judged
    # the run dropped its database (the one it named: others' runs may share the server)
    assert_run_dropped_its_database(done.stdout, admin_url)
