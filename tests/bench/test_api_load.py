"""The API load run keeps working and counts right (its figures are in bench/README.md).

No timing is asserted here: the figures are measured by `make bench-api`, not by tests.
"""

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from bench.api_load import CEILING, Phase, Workload, percentile, stats, verdicts
from bench.harness.platform import REPO_ROOT
from lms_api.database import sync_url
from tests.conftest import require


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0


def test_stats_count_only_the_measured_window_and_keep_errors_apart():
    phase = Phase("reads", Workload("reads"), 0)
    phase.measured, phase.duration = (10.0, 20.0), 10.0
    phase.samples = [
        ("GET /progress/me", 9.0, 9.5, 200),  # before the window: not counted
        ("GET /progress/me", 10.0, 10.010, 200),
        ("GET /progress/me", 11.0, 11.030, 200),
        ("GET /progress/me", 12.0, 12.500, 500),  # an error: no latency, counted apart
        ("GET /progress/me", 19.9, 20.5, 200),  # sent inside, answered after: latency only
    ]
    phase.errors = {"GET /progress/me": 1}
    found = stats(phase, {"GET /progress/me"})
    assert found["ok"] == 3
    assert found["rps"] == pytest.approx(2 / 10)
    assert found["p50_ms"] == pytest.approx(30.0)
    assert found["max_ms"] == pytest.approx(600.0)
    assert found["errors"] == 1


def test_targets_compare_reads_with_the_ceiling_and_p99_with_100_ms():
    def phase(title: str, kind: str, label: str, latency: float, count: int) -> Phase:
        made = Phase(title, Workload(kind), 0)
        made.measured, made.duration = (0.0, 1.0), 1.0
        starts = [0.8 * i / count for i in range(count)]  # all answered within the window
        made.samples = [(label, start, start + latency, 200) for start in starts]
        made.groups = {label: "ceiling" if kind == "ceiling" else "reads"}
        return made

    ceiling = phase("ceiling, saturated", "ceiling", CEILING, 0.001, 100)
    reads = phase("app reads, saturated", "reads", "GET /tracks/DP", 0.050, 60)
    found = {what: (value, met) for what, value, met in verdicts([ceiling, reads], 200)}
    share = next(v for w, v in found.items() if w.startswith("read paths"))
    assert share == ("60 / 100 = 60.0%", True)
    p99 = next(v for w, v in found.items() if w.startswith("p99"))
    assert p99 == ("50.0 ms", True)
    slow = phase("app reads, saturated", "reads", "GET /tracks/DP", 0.150, 40)
    found = {what: met for what, _, met in verdicts([ceiling, slow], 200)}
    assert not any(met for what, met in found.items() if what.startswith(("read", "p99")))


@pytest.mark.e2e
@pytest.mark.xdist_group("load-runs")  # its own hub and server, nothing shared
def test_the_load_run_runs_end_to_end_with_one_command(tmp_path):
    """A tiny run of the real thing: hub, PostgreSQL, both servers, every phase, clean-up."""
    admin_url = os.environ.get("APRANOVA_TEST_POSTGRES_URL")
    if not admin_url:
        require("PostgreSQL")
    report = tmp_path / "run.json"
    args = ["--students", "4", "--duration", "1", "--warmup", "0.5", "--think-ms", "500"]
    done = subprocess.run(
        [sys.executable, "-m", "bench.api_load", *args, "--json", str(report)],
        cwd=REPO_ROOT,
        env={**os.environ, "APRANOVA_BENCH_POSTGRES_URL": admin_url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Targets:" in done.stdout and "cleaned up" in done.stdout
    data = json.loads(report.read_text())
    titles = [p["title"] for p in data["phases"]]
    assert titles[:3] == ["ceiling, saturated", "ceiling, paced ~8 req/s", "app reads, saturated"]
    reads = next(p for p in data["phases"] if p["title"] == "app reads, saturated")["rows"]
    assert {"GET /tracks/DP", "GET /projects/{id}", "GET /progress/me"} <= set(reads)
    assert reads["= reads"]["ok"] > 0
    errors = next(t for t in data["targets"] if t["target"].startswith("no errors"))
    assert errors["met"], data["phases"]
    # the run dropped its database
    engine = create_engine(sync_url(admin_url))
    try:
        with engine.connect() as connection:
            names = connection.execute(text("SELECT datname FROM pg_database")).scalars().all()
    finally:
        engine.dispose()
    assert not [n for n in names if n.startswith("apranova_bench_")]
