"""The pipeline benchmark keeps working and agrees with the naive computation (its figures
are in bench/README.md; no timing is asserted here)."""

import json
import os
import subprocess
import sys

import pytest

from bench.harness.platform import REPO_ROOT
from tests.conftest import require

pytestmark = pytest.mark.slow


def test_a_tiny_benchmark_run_rebuilds_refreshes_and_agrees_with_pandas(tmp_path):
    admin = os.environ.get("APRANOVA_TEST_POSTGRES_URL")
    if not admin:
        require("PostgreSQL")
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.pipeline_scale",
            "--students",
            "400",
            "--quizzes",
            "4",
            "--new-attempts",
            "30",
            "--json",
            str(out),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "APRANOVA_BENCH_POSTGRES_URL": admin},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    figures = json.loads(out.read_text())
    assert figures["rows"]["quiz_answers"] > 0
    for phase in ("full", "incremental_exam", "incremental"):
        assert figures[phase]["ok"] and figures[phase]["failed_checks"] == []
    agreement = figures["agreement"]
    assert agreement["items_compared"] == agreement["items_naive"] > 0
    assert max(agreement["max_abs_diff"].values()) < 1e-6
    assert "full rebuild:" in done.stdout
    # the backtest runs in the full rebuild, its cost printed
    assert figures["full"]["backtest_seconds"] > 0
    assert "at-risk backtest:" in done.stdout
    assert "incremental after 30 attempts on 2 quizzes:" in done.stdout
