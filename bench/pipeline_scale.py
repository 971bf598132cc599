"""Pipeline at scale: full rebuild and incremental refresh on a synthetic school, against a
naive pandas computation of the same quiz statistics.

    python -m bench.pipeline_scale                      # 100k students, ~10M answers
    python -m bench.pipeline_scale --students 2000 --quizzes 10 --new-attempts 100

What one run does:
1. a fresh PostgreSQL database (APRANOVA_BENCH_POSTGRES_URL, else APRANOVA_TEST_POSTGRES_URL,
   else postgresql://postgres@127.0.0.1:5432/postgres), migrated and filled by
   `apranova-lms seed-synthetic` (timed, not part of the figures);
2. **full rebuild**: every asset and check of the real Dagster definitions, tagged
   apranova/refresh=full, into an empty warehouse, in a child process (wall time and that
   process's peak RSS);
3. N new graded attempts are written to the LMS on two quizzes (an exam), then the
   **incremental refresh** the sensor would ask for (job refresh_quizzes) runs, again in a
   child process; then N more spread over every quiz (the worst case: every quiz's
   statistics are recomputed) and the refresh again; the at-risk backtest's own step
   (marts.at_risk_backtest: the at-risk rules at 4 weekly cutoffs against what happened next)
   is printed for each run: its full cost in the rebuild, a reuse in the refreshes;
4. **naive**: pandas reads the same tables and computes the same item statistics quiz by quiz
   and question by question, in a child process; its facility and discrimination indexes are
   compared with the mart's;
5. the database is dropped.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text

from lms_api.database import sync_url
from lms_api.quizzes.grading import mark_answer

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
FULL_TARGET_S, INCREMENTAL_TARGET_S = 60.0, 5.0
BACKTEST_STEP = "marts__at_risk_backtest"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- child processes ------------------------------------------------------------------------
def child_pipeline(lms_url: str, warehouse: str, mode: str) -> dict:
    from dagster import materialize

    from pipelines.automation import refresh_jobs
    from pipelines.definitions import defs, resources

    selection = None
    if mode == "incremental":
        selection = list(refresh_jobs["quizzes"].selection.resolve(defs.resolve_asset_graph()))
    started = time.perf_counter()
    result = materialize(
        [*defs.assets, *defs.asset_checks],
        resources=resources(lms_url, warehouse),
        selection=selection,
        tags={"apranova/refresh": mode},
        raise_on_error=False,
    )
    seconds = time.perf_counter() - started
    steps = {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for event in result.all_events
        if event.event_type_value == "STEP_SUCCESS"
    }
    failed = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
    return {
        "ok": result.success,
        "seconds": seconds,
        "peak_rss_mb": peak_rss_mb(),
        "slowest_steps": sorted(steps.items(), key=lambda kv: -kv[1])[
            : int(os.environ.get("BENCH_STEPS", "6"))
        ],
        "failed_checks": failed,
        "backtest_seconds": steps.get(BACKTEST_STEP),
    }


def child_naive(lms_url: str) -> dict:
    """The same item statistics, the way one would write them first: pandas, per quiz and
    per question, after reading the whole tables."""
    started = time.perf_counter()
    engine = create_engine(sync_url(lms_url))
    with engine.connect() as db:
        attempts = pd.read_sql(
            "SELECT id, quiz_id, person_id, number, score, max_score FROM quiz_attempts "
            "WHERE status IN ('SUBMITTED', 'EXPIRED')",
            db,
        )
        answers = pd.read_sql("SELECT attempt_id, question_id, score FROM quiz_answers", db)
        questions = pd.read_sql("SELECT id, quiz_id, points FROM quiz_questions", db)
    engine.dispose()
    read_s = time.perf_counter() - started
    results = []
    for quiz_id, quiz_attempts in attempts.groupby("quiz_id"):
        quiz_questions = questions[questions.quiz_id == quiz_id]
        ids = quiz_attempts["id"]
        marks = answers[answers.attempt_id.isin(ids)].pivot_table(
            index="attempt_id", columns="question_id", values="score", aggfunc="sum"
        )
        marks = marks.reindex(index=ids, columns=quiz_questions["id"]).fillna(0.0)
        total = marks.sum(axis=1)
        for question in quiz_questions.itertuples():
            x = marks[question.id]
            rest = total - x
            sx, sr = x.std(), rest.std()
            cov = x.cov(rest)
            covmax = np.cov(np.sort(x.to_numpy()), np.sort(rest.to_numpy()))[0, 1]
            results.append(
                {
                    "quiz_id": quiz_id,
                    "question_id": question.id,
                    "n": len(x),
                    "facility_index": x.mean() / question.points,
                    "discrimination_index": 100 * cov / (sx * sr) if sx and sr else None,
                    "discriminative_efficiency": 100 * cov / covmax if covmax else None,
                }
            )
    return {
        "ok": True,
        "seconds": time.perf_counter() - started,
        "read_seconds": read_s,
        "peak_rss_mb": peak_rss_mb(),
        "items": results,
    }


def run_child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.pipeline_scale", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DAGSTER_HOME": tempfile.mkdtemp(prefix="bench-dagster-")},
    )
    if out.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- new attempts -----------------------------------------------------------------------------
def add_attempts(lms_url: str, n: int, seed: int, quizzes: int | None = None) -> float:
    """N more graded attempts by students who already took the quiz (a retake each), every
    question answered with one random option, graded by the LMS rule; on the first `quizzes`
    quizzes only (an exam), or spread over all of them (None). Returns seconds."""
    started = time.perf_counter()
    rng = random.Random(seed)
    engine = create_engine(sync_url(lms_url))
    with engine.begin() as db:
        pairs = db.execute(
            text(
                "SELECT quiz_id, person_id, max(number) FROM quiz_attempts "
                "WHERE quiz_id IN (SELECT id FROM quizzes ORDER BY id LIMIT :k) "
                "GROUP BY quiz_id, person_id ORDER BY random() LIMIT :n"
            ),
            {"n": n, "k": quizzes if quizzes is not None else 1_000_000},
        ).all()
        options = db.execute(
            text(
                "SELECT q.quiz_id, q.id, q.type, q.points, o.id, o.is_correct "
                "FROM quiz_questions q JOIN quiz_options o ON o.question_id = q.id "
                'ORDER BY q.quiz_id, q."order", o."order"'
            )
        ).all()
        scoring = dict(db.execute(text("SELECT id, multiple_scoring FROM quizzes")).all())
        quizzes: dict[int, dict[int, dict]] = {}
        for quiz_id, question_id, type_, points, option_id, right in options:
            q = quizzes.setdefault(quiz_id, {}).setdefault(
                question_id, {"type": type_, "points": points, "all": [], "right": []}
            )
            q["all"].append(option_id)
            if right:
                q["right"].append(option_id)
        now = datetime.now(UTC)
        for quiz_id, person_id, number in pairs:
            questions = quizzes[quiz_id]
            marks = {}
            for qid, q in questions.items():
                chosen = [rng.choice(q["all"])]
                mark = mark_answer(
                    q["type"], q["points"], q["right"], q["all"], chosen, scoring[quiz_id]
                )
                marks[qid] = (chosen, mark)
            score = sum(m.score for _, m in marks.values())
            maximum = sum(q["points"] for q in questions.values())
            attempt_id = db.execute(
                text(
                    "INSERT INTO quiz_attempts (quiz_id, person_id, number, status, started_at, "
                    "submitted_at, score, max_score, passed, question_order, option_order, "
                    "revision) VALUES (:quiz, :person, :number, 'SUBMITTED', :now, :now, :score,"
                    " :max, :passed, :qorder, :oorder, 0) RETURNING id"
                ),
                {
                    "quiz": quiz_id,
                    "person": person_id,
                    "number": number + 1,
                    "now": now,
                    "score": score,
                    "max": maximum,
                    "passed": score / maximum >= 0.5,
                    "qorder": json.dumps(list(questions)),
                    "oorder": json.dumps({str(k): q["all"] for k, q in questions.items()}),
                },
            ).scalar_one()
            db.execute(
                text(
                    "INSERT INTO quiz_answers (attempt_id, question_id, selected_option_ids, "
                    "answered_at, changed_count, is_correct, score) "
                    "VALUES (:a, :q, :chosen, :now, 0, :right, :score)"
                ),
                [
                    {
                        "a": attempt_id,
                        "q": qid,
                        "chosen": json.dumps(chosen),
                        "now": now,
                        "right": mark.correct,
                        "score": mark.score,
                    }
                    for qid, (chosen, mark) in marks.items()
                ],
            )
    engine.dispose()
    return time.perf_counter() - started


# --- the run ----------------------------------------------------------------------------------
def compare(naive_items: list[dict], warehouse: str) -> dict:
    import duckdb

    with duckdb.connect(warehouse, read_only=True) as db:
        mart = db.execute(
            "SELECT quiz_id, question_id, n, facility_index, discrimination_index,"
            " discriminative_efficiency FROM marts.quiz_item_stats WHERE attempt_set = 'all'"
        ).df()
    naive = pd.DataFrame(naive_items)
    joined = naive.merge(mart, on=["quiz_id", "question_id"], suffixes=("_naive", "_mart"))
    worst = {
        column: float(
            (joined[f"{column}_naive"].astype(float) - joined[f"{column}_mart"].astype(float))
            .abs()
            .max()
        )
        for column in ("facility_index", "discrimination_index", "discriminative_efficiency")
    }
    return {"items_compared": len(joined), "items_naive": len(naive), "max_abs_diff": worst}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_pipeline":
        print(json.dumps(child_pipeline(*argv[1:4])))
        return 0
    if argv and argv[0] == "_naive":
        print(json.dumps(child_naive(argv[1]), default=float))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline_scale", description=__doc__)
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--quizzes", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--new-attempts", type=int, default=1000)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    from bench.harness.databases import fresh_postgres_database
    from lms_api.migrate import upgrade
    from lms_api.synthetic import seed_synthetic

    admin = (
        os.environ.get("APRANOVA_BENCH_POSTGRES_URL")
        or os.environ.get("APRANOVA_TEST_POSTGRES_URL")
        or DEFAULT_ADMIN_URL
    )
    figures: dict = {"students": args.students, "quizzes": args.quizzes, "cores": os.cpu_count()}
    with (
        fresh_postgres_database(admin, "apranova_bench") as lms_url,
        tempfile.TemporaryDirectory(prefix="bench-warehouse-") as folder,
    ):
        warehouse = str(Path(folder) / "warehouse.duckdb")
        upgrade(lms_url)
        started = time.perf_counter()
        summary = seed_synthetic(
            lms_url,
            students=args.students,
            quizzes=args.quizzes,
            seed=args.seed,
            activity_dir=Path(folder) / "landing" / "hub_activity",
            progress=True,
        )
        figures["seed_seconds"] = time.perf_counter() - started
        figures["rows"] = summary.rows if hasattr(summary, "rows") else str(summary)
        print(f"seeded in {figures['seed_seconds']:.0f} s: {figures['rows']}", flush=True)

        figures["full"] = run_child("_pipeline", lms_url, warehouse, "full")
        print_phase("full rebuild", figures["full"], FULL_TARGET_S)
        # An exam (every new attempt on two quizzes), then the worst case: the same number
        # spread over every quiz, so that every quiz's statistics are recomputed.
        for name, quizzes in (("incremental_exam", 2), ("incremental", None)):
            add_attempts(lms_url, args.new_attempts, args.seed, quizzes)
            figures[name] = run_child("_pipeline", lms_url, warehouse, "incremental")
            where = "on 2 quizzes" if quizzes else "spread over every quiz"
            print_phase(
                f"incremental after {args.new_attempts} attempts {where}",
                figures[name],
                INCREMENTAL_TARGET_S,
            )
        if not args.skip_naive:
            naive = run_child("_naive", lms_url)
            figures["naive"] = {k: v for k, v in naive.items() if k != "items"}
            figures["agreement"] = compare(naive["items"], warehouse)
            print(
                f"naive pandas per quiz (item statistics only): {naive['seconds']:.1f} s "
                f"(reading {naive['read_seconds']:.1f} s), peak {naive['peak_rss_mb']:.0f} MB"
            )
            print(f"agreement with the mart: {figures['agreement']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    ok = all(figures[k]["ok"] for k in ("full", "incremental_exam", "incremental"))
    return 0 if ok else 1


def print_phase(title: str, phase: dict, target: float) -> None:
    verdict = "met" if phase["ok"] and phase["seconds"] < target else "NOT met"
    print(
        f"{title}: {phase['seconds']:.1f} s, peak {phase['peak_rss_mb']:.0f} MB, "
        f"target < {target:.0f} s {verdict}; failed checks: {phase['failed_checks'] or 'none'}"
    )
    for step, seconds in phase["slowest_steps"]:
        print(f"    {step:<45} {seconds:6.1f} s")
    if phase.get("backtest_seconds") is not None:
        print(f"    at-risk backtest: {phase['backtest_seconds']:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
