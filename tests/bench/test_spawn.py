"""The spawn benchmark runs end to end and reports what bench/README.md records.

No timing is asserted: the figures come from `make bench-spawn`, not from tests.
"""

import json
import subprocess
import sys

import pytest

from bench.harness.docker_workspaces import require_docker
from bench.harness.platform import REPO_ROOT
from bench.spawn import summary
from tests.conftest import require


def test_summary_counts_failures_apart_from_the_timings():
    results = [
        {"ok": True, "seconds": 3.0, "error": ""},
        {"ok": True, "seconds": 5.0, "error": ""},
        {"ok": False, "seconds": None, "error": "503 image missing"},
    ]
    line = summary(results)
    assert (line["students"], line["ready"], line["failures"]) == (3, 2, 1)
    assert (line["p50_s"], line["max_s"]) == (3.0, 5.0)
    assert line["errors"] == ["503 image missing"]


def bench_spawn(*args: str) -> subprocess.CompletedProcess:
    """`python -m bench.spawn ARGS`, which must succeed (needs the engine and the image)."""
    require_docker(require, kinds=("jupyterlab",))
    done = subprocess.run(
        [sys.executable, "-m", "bench.spawn", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.mark.e2e
def test_a_small_spawn_run_in_docker_mode(tmp_path):
    out = tmp_path / "spawn.json"
    done = bench_spawn("--rounds", "1,2", "--idle-seconds", "2", "--json", str(out))
    rounds = json.loads(out.read_text())["rounds"]
    assert [(r["students"], r["ready"], r["failures"]) for r in rounds] == [(1, 1, 0), (2, 2, 0)]
    assert 0 < rounds[-1]["idle_memory_mib_median"] < 2048  # under the 2G limit
    assert "idle workspace memory" in done.stdout


@pytest.mark.e2e
def test_a_small_class_start_in_docker_mode(tmp_path):
    """Two students click within a second on a hub that starts one at a time: both start;
    then the same class with a session that warmed their workspaces: both open at once."""
    out = tmp_path / "class.json"
    args = ["--class-start", "2", "--within", "1", "--starts-at-once", "1", "--json", str(out)]
    done = bench_spawn(*args, "--warm-up")
    cold, warm = json.loads(out.read_text())["runs"]
    assert (cold["starts_at_once"], cold["students"], cold["ready"], cold["failures"]) == (
        1,
        2,
        2,
        0,
    )
    assert cold["cpu_s_per_start"] > 0
    assert warm["warm_up"] and (warm["ready"], warm["failures"]) == (2, 0), warm
    assert warm["warm_s"] > 0 and warm["p95_s"] < cold["p50_s"], (warm, cold)
    assert "time from click to a ready workspace" in done.stdout
    assert "warm-up: all 2 workspaces ran" in done.stdout
