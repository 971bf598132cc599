"""The portal load run keeps working and counts right (its figures are in bench/README.md).

No timing is asserted here: the figures are measured by `make bench-portal`, not by tests.
"""

import json
import os
import subprocess
import sys

import pytest

from bench.harness.platform import REPO_ROOT
from bench.portal_load import ALL, SATURATED, STEPS, portal_path, verdicts
from bench.quiz_load import QUESTIONS, Tally, quiz_phase
from tests.bench.databases import assert_run_dropped_its_database
from tests.conftest import require


def test_a_redirect_is_followed_on_lms_api_without_the_proxy_prefix():
    assert portal_path("/services/lms-api/portal/attempts/5") == "/portal/attempts/5"
    assert portal_path("/portal/attempts/5/result") == "/portal/attempts/5/result"


def test_the_target_needs_every_request_kind_under_150_ms_no_errors_and_200_students():
    def phase(think: float, latency: dict[str, float]):
        made = quiz_phase(SATURATED if not think else f"paced {think}", think)
        made.measured, made.duration = (0.0, 10.0), 10.0
        for step, seconds in latency.items():
            made.samples += [(step, 1.0 + i / 100, 1.0 + i / 100 + seconds, 200) for i in range(50)]
            made.groups[step] = "portal"
        return made

    fast = dict.fromkeys(STEPS, 0.020)
    ok_db = [("consistent", True)]
    saturated = phase(0, dict.fromkeys(STEPS, 0.9))  # not judged
    found, met = verdicts([saturated, phase(2.0, fast)], 200, Tally(), ok_db)
    assert met is True, found
    slow_submit = {**fast, "submit": 0.151}
    found, met = verdicts([phase(2.0, slow_submit)], 200, Tally(), ok_db)
    assert met is False and "worst submit 151.0 ms" in [t.value for t in found]
    assert verdicts([phase(2.0, fast)], 200, Tally(errors=1), ok_db)[1] is False
    assert verdicts([phase(2.0, fast)], 200, Tally(), [("mismatch", False)])[1] is False
    assert verdicts([phase(2.0, fast)], 3, Tally(), ok_db)[1] is None  # too few to judge
    no_result = {k: v for k, v in fast.items() if k != "result"}
    assert verdicts([phase(2.0, no_result)], 200, Tally(), ok_db)[1] is False


@pytest.mark.e2e
@pytest.mark.xdist_group("load-runs")  # its own hub and server, nothing shared
def test_the_portal_run_runs_end_to_end_and_the_database_agrees(tmp_path):
    """A tiny run of the real thing: hub, PostgreSQL, lms_api, both phases, the final drain,
    the database check, clean-up."""
    admin_url = os.environ.get("APRANOVA_TEST_POSTGRES_URL")
    if not admin_url:
        require("PostgreSQL")
    report = tmp_path / "run.json"
    args = ["--students", "3", "--duration", "2", "--warmup", "0.5", "--think-ms", "100"]
    done = subprocess.run(
        [sys.executable, "-m", "bench.portal_load", *args, "--json", str(report)],
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
        "portal, saturated",
        "portal, think 100 ms (~30 actions/s)",
    ]
    for phase in data["phases"]:
        assert phase["flows"] > 0, phase
        assert {*STEPS, ALL} <= set(phase["rows"])
        assert phase["rows"][ALL]["errors"] == 0, phase["error_examples"]
        assert all(phase["rows"][step]["ok"] > 0 for step in STEPS)
    tally = data["tally"]
    assert tally["errors"] == 0, tally["error_examples"]
    assert tally["started"] == tally["submitted"] > 0  # the final drain left no attempt open
    assert 0 < tally["answered"] <= QUESTIONS * tally["submitted"]
    assert data["database"] and all(check["ok"] for check in data["database"]), data["database"]
    assert data["target_met"] is None  # 3 students: not judged
    assert_run_dropped_its_database(done.stdout, admin_url)
