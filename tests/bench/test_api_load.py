"""The API load run keeps working and counts right (its figures are in bench/README.md).

No timing is asserted here: the figures are measured by `make bench-api`, not by tests.
"""

import json
import math
import os
import subprocess
import sys

import pytest

from bench.api_load import (
    APP_READS_SATURATED,
    CEILING,
    CEILING_SATURATED,
    FLOOR_READS_SATURATED,
    Phase,
    Workload,
    cpu_ms_per_request,
    percentile,
    render,
    stats,
    verdicts,
)
from bench.harness.platform import REPO_ROOT
from tests.bench.databases import assert_run_dropped_its_database
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


def measured(title: str, kind: str, label: str, count: int, server_cores: float) -> Phase:
    """A saturated phase of `count` 2xx answers in its 1 s window (10 ms each) during which
    the server used `server_cores`."""
    made = Phase(title, Workload(kind), 0)
    made.measured, made.duration = (0.0, 1.0), 1.0
    starts = [0.8 * i / count for i in range(count)]
    made.samples = [(label, start, start + 0.010, 200) for start in starts]
    made.groups = {label: "ceiling" if kind == "ceiling" else "reads"}
    made.cpu = {"busy": 1.0, "server": server_cores, "postgres": 0.2, "client": 0.3}
    made.cpu.update(other=0.0, steal=0.0)
    return made


def test_server_cpu_per_request_is_cores_over_answers_per_second():
    reads = measured(APP_READS_SATURATED, "reads", "GET /progress/me", 400, 1.2)
    assert cpu_ms_per_request(reads) == pytest.approx(3.0)  # 1.2 cores / 400 req/s
    reads.cpu = {}  # not metered
    assert math.isnan(cpu_ms_per_request(reads))


def read_cpu_targets(app_cores: float, floor_cores: float | None) -> dict[str, tuple[str, bool]]:
    phases = [
        measured(CEILING_SATURATED, "ceiling", CEILING, 1000, 0.5),
        measured(APP_READS_SATURATED, "reads", "GET /tracks/DP", 500, app_cores),
    ]
    if floor_cores is not None:
        phases.append(measured(FLOOR_READS_SATURATED, "reads", "GET /tracks/DP", 800, floor_cores))
    return {what: (value, met) for what, value, met in verdicts(phases, 200)}


def test_read_cpu_targets_are_one_ms_and_twice_the_floor():
    # ApraNova 0.5 cores / 500 req/s = 1.0 ms; floor 0.4 / 800 = 0.5 ms: both targets just met
    found = read_cpu_targets(0.5, 0.4)
    cpu = next(v for w, v in found.items() if w.startswith("ApraNova reads <= 1 ms"))
    assert cpu == ("1.00 ms", True)
    ratio = next(v for w, v in found.items() if w.startswith("ApraNova reads within 2x"))
    assert ratio == ("1.00 / 0.50 ms = 2.00x", True)
    # the floor has no latency target of its own: one p99 verdict, ApraNova's reads
    assert [w for w in found if w.startswith("p99")] == [
        "p99 < 100 ms, 200 students, reads, saturated"
    ]
    # 1.45 ms per read, 2.9x the floor: neither met
    found = read_cpu_targets(1.45, 0.4)
    assert not any(met for w, (_, met) in found.items() if w.startswith("ApraNova"))
    # no floor phase: no ratio verdict
    assert not [w for w in read_cpu_targets(0.5, None) if "floor" in w]


def test_the_report_prints_and_keeps_the_read_cpu_of_both_apps():
    phases = [
        measured(CEILING_SATURATED, "ceiling", CEILING, 1000, 0.5),
        measured(APP_READS_SATURATED, "reads", "GET /tracks/DP", 500, 1.45),
        measured(FLOOR_READS_SATURATED, "reads", "GET /tracks/DP", 800, 0.4),
    ]
    table, data = render(phases, 200)
    assert data["server_cpu_per_read"] == pytest.approx(
        {"apranova_ms": 2.9, "floor_ms": 0.5, "ratio": 5.8}
    )
    per_phase = {p["title"]: p["server_cpu_ms_per_request"] for p in data["phases"]}
    assert per_phase[FLOOR_READS_SATURATED] == pytest.approx(0.5)
    assert "ApraNova (lms_api)         2.90 ms" in table
    assert "ratio ApraNova / floor     5.80x" in table
    assert "NOT MET  ApraNova reads within 2x of the minimal-app floor" in table
    json.dumps(data)  # --json writes all of it


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
    assert titles[:4] == [
        "ceiling, saturated",
        "ceiling, paced ~8 req/s",
        "app reads, saturated",
        "floor reads, saturated",
    ]
    reads = next(p for p in data["phases"] if p["title"] == "app reads, saturated")["rows"]
    assert {"GET /tracks/DP", "GET /projects/{id}", "GET /progress/me"} <= set(reads)
    assert reads["= reads"]["ok"] > 0
    floor = next(p for p in data["phases"] if p["title"] == "floor reads, saturated")["rows"]
    assert floor["= reads"]["ok"] > 0
    assert set(data["server_cpu_per_read"]) == {"apranova_ms", "floor_ms", "ratio"}
    errors = next(t for t in data["targets"] if t["target"].startswith("no errors"))
    assert errors["met"], data["phases"]
    # the run dropped its database (the one it named: others' runs may share the server)
    assert_run_dropped_its_database(done.stdout, admin_url)
