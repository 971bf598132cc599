"""The quiz run's Django peer comparison: its argument, its settings, its report.

Nothing here installs Django or times anything: `make bench-quiz PEER=...` does (bench/README).
"""

import math
from pathlib import Path

import pytest

from bench import peer_django
from bench.peer_django import (
    EXTRAS,
    PeerError,
    PeerServer,
    PeerTally,
    django_database_url,
    find_backend,
    peer_env,
    planned_requirements,
    requirement_name,
    venv_path,
)
from bench.quiz_load import (
    ALL,
    CPU_TARGET_MS,
    NO_PEER,
    SATURATED,
    PeerRun,
    Tally,
    comparison,
    parse_args,
    quiz_phase,
    render,
    server_cpu_ms,
    verdicts,
)


def fake_checkout(root: Path, requirements: str = "Django==5.2.7\n") -> Path:
    backend = root / "backend"
    for name in ("manage.py", "core/settings.py", "quizzes/views.py"):
        (backend / name).parent.mkdir(parents=True, exist_ok=True)
        (backend / name).write_text("")
    (backend / "requirements.txt").write_text(requirements)
    return backend


# --- the argument --------------------------------------------------------------------------
def test_the_checkout_or_its_backend_folder_is_found(tmp_path):
    backend = fake_checkout(tmp_path)
    assert find_backend(tmp_path) == backend.resolve()
    assert find_backend(backend) == backend.resolve()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda tmp: tmp / "nowhere", "no such file or folder"),
        (lambda tmp: (tmp / "file.txt", (tmp / "file.txt").write_text(""))[0], "not a folder"),
        (lambda tmp: tmp, "not a checkout of the Django peer"),
    ],
)
def test_a_path_that_is_not_the_peer_is_a_clear_error(tmp_path, make, says):
    with pytest.raises(PeerError, match=says):
        find_backend(make(tmp_path))


def test_a_backend_without_requirements_is_refused(tmp_path):
    backend = fake_checkout(tmp_path)
    (backend / "requirements.txt").unlink()
    with pytest.raises(PeerError, match=r"no requirements\.txt"):
        find_backend(tmp_path)


def test_the_command_line_checks_the_peer_path_before_anything_runs(tmp_path, capsys):
    backend = fake_checkout(tmp_path)
    assert parse_args(["--peer", str(tmp_path)]).peer_backend == backend.resolve()
    assert parse_args([]).peer_backend is None
    with pytest.raises(SystemExit) as exited:
        parse_args(["--peer", str(tmp_path / "missing")])
    assert exited.value.code == 2
    assert "no such file or folder" in capsys.readouterr().err


# --- the virtualenv and the settings -------------------------------------------------------
def test_requirements_are_kept_but_what_cannot_install_and_the_extras_are_added(monkeypatch):
    text = (
        "# a comment\nDjango==5.2.7\ngoogle_generativeai==0.3.2\n"
        'pywin32; platform_system == "Windows"\n-r base.txt\ngunicorn==21.2.0\n\n'
    )
    assert requirement_name("google_generativeai==0.3.2") == "google-generativeai"
    assert requirement_name("-r base.txt") == requirement_name("# x") == ""
    kept, dropped = planned_requirements(text)
    assert kept[:3] == ["Django==5.2.7", "google_generativeai==0.3.2", kept[2]]
    assert "gunicorn==21.2.0" in kept and "gunicorn" not in kept  # theirs, not added again
    assert "psycopg2-binary" in kept and dropped == []
    monkeypatch.setitem(peer_django.DROPPED, "google-generativeai", "needs a network service")
    kept, dropped = planned_requirements(text)
    assert dropped == [("google_generativeai==0.3.2", "needs a network service")]
    assert not any("generativeai" in line for line in kept)
    assert set(EXTRAS) == {"gunicorn", "psycopg2-binary"}


def test_the_virtualenv_is_outside_the_repository_and_reused_for_the_same_requirements(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    one = fake_checkout(tmp_path / "one")
    two = fake_checkout(tmp_path / "two")
    other = fake_checkout(tmp_path / "three", "Django==5.1\n")
    assert venv_path(one) == venv_path(two)
    assert venv_path(one) != venv_path(other)
    assert venv_path(one).parent == tmp_path / "cache" / "apranova-bench"


def test_the_peer_runs_with_debug_off_a_throwaway_key_and_loopback_only(tmp_path, monkeypatch):
    monkeypatch.setenv("APRANOVA_DATABASE_URL", "postgresql://elsewhere/x")
    monkeypatch.setenv("VIRTUAL_ENV", "/work/main/.venv")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "other.settings")
    python = tmp_path / "venv" / "bin" / "python"
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/apranova_bench_peer_1"
    env = peer_env(tmp_path, url, python)
    assert env["DEBUG"] == "False" and env["SECURE_SSL_REDIRECT"] == "False"
    assert env["ALLOWED_HOSTS"] == "127.0.0.1"
    assert env["DATABASE_URL"] == "postgres://postgres@127.0.0.1:5432/apranova_bench_peer_1"
    assert env["DJANGO_SETTINGS_MODULE"] == "core.settings"
    assert env["PYTHONPATH"] == str(tmp_path)
    assert env["PATH"].startswith(str(python.parent))
    assert len(env["SECRET_KEY"]) >= 50
    assert env["SECRET_KEY"] != peer_env(tmp_path, url, python)["SECRET_KEY"]
    assert "APRANOVA_DATABASE_URL" not in env and "VIRTUAL_ENV" not in env


def test_database_urls_are_given_as_dj_database_url_reads_them():
    url = "postgresql+psycopg://bench:s3cret@127.0.0.1:5433/peer_db"
    assert django_database_url(url) == "postgres://bench:s3cret@127.0.0.1:5433/peer_db"


def test_gunicorn_serves_the_peer_on_loopback_with_its_workers_and_keep_alive(tmp_path):
    python = tmp_path / "bin" / "python"
    server = peer_django.peer_server(python, tmp_path, {}, tmp_path / "log", 65, 7)
    command = server.command()
    assert command[0] == str(tmp_path / "bin" / "gunicorn")
    assert command[1] == "core.wsgi:application"
    flags = dict(zip(command[2::2], command[3::2], strict=True))
    assert flags["--bind"] == f"127.0.0.1:{server.port}"
    assert flags["--workers"] == "2" and flags["--threads"] == "2"
    assert flags["--keep-alive"] == "65" and flags["--worker-class"] == "gthread"
    assert isinstance(server, PeerServer) and server.cwd == tmp_path
    assert server.ready_line == "Booting worker with pid" and server.ready_status == 401
    assert server.describe().startswith("gunicorn core.wsgi:application")


# --- the report ----------------------------------------------------------------------------
def phase(think: float, steps_per_second: float, server_cores: float, p99: float = 0.02):
    """A phase of 10 s in which each step took `p99` seconds, with the CPU as metered."""
    made = quiz_phase(SATURATED if not think else f"quiz flow, think {think}", think)
    made.measured, made.duration = (0.0, 10.0), 10.0
    count = round(steps_per_second * 10)
    mix = ["start"] + ["answer"] * 10 + ["submit"]
    for i in range(count):
        step = mix[i % len(mix)]
        made.samples.append((step, i * 9 / count, i * 9 / count + p99, 200))  # all answered
        made.groups[step] = "quiz"
    made.flows = count // 12
    made.cpu = {
        "busy": 1.5,
        "server": server_cores,
        "postgres": 0.3,
        "client": 0.2,
        "other": 0.05,
        "steal": 0.0,
    }
    return made


OK_DB = [("consistent", True)]


def test_server_cpu_per_step_is_cores_times_seconds_over_the_steps_answered():
    assert math.isclose(server_cpu_ms(phase(0, 240, 1.2)), 5.0)  # 1.2 cores / 240 per s
    empty = quiz_phase(SATURATED, 0)
    empty.duration, empty.cpu = 10.0, {"server": 0.5}
    assert math.isnan(server_cpu_ms(empty))


def test_apranova_is_judged_on_cpu_per_step_and_three_times_the_peer_saturated():
    fast = [phase(0, 900, 1.5), phase(2.0, 100, 0.15)]  # 1.67 ms per step
    peer = [phase(0, 250, 1.6), phase(2.0, 100, 0.6)]
    found, met = verdicts(fast, 200, Tally(), OK_DB, peer=peer)
    assert met is True, found
    ratio = next(t for t in found if "Django peer" in t.what)
    assert ratio.value == "900.0 / 250.0 steps/s = 3.60x" and ratio.met
    # 2.9x the peer: not met, whatever else is
    found, met = verdicts(fast, 200, Tally(), OK_DB, peer=[phase(0, 310, 1.6)])
    assert met is False and "2.90x the peer's throughput" in [t.brief for t in found if not t.met]
    # more than 2 ms of server CPU per step: not met
    found, met = verdicts([phase(0, 900, 1.9)], 200, Tally(), OK_DB, peer=peer)
    cpu = next(t for t in found if "server CPU" in t.what)
    assert met is False and not cpu.met and cpu.value == "2.11 ms"
    assert f"<= {CPU_TARGET_MS:g} ms" in cpu.what
    # without the peer the ratio is not a target; with too few students nothing is judged
    found, met = verdicts(fast, 200, Tally(), OK_DB)
    assert met is True and not any("Django peer" in t.what for t in found)
    assert verdicts(fast, 20, Tally(), OK_DB, peer=peer)[1] is None


def test_a_peer_that_answered_nothing_fails_the_ratio_target():
    dead = phase(0, 0, 0.0)
    found, met = verdicts([phase(0, 900, 1.5)], 200, Tally(), OK_DB, peer=[dead])
    assert met is False
    assert [t.met for t in found if "Django peer" in t.what] == [False]


def peer_run(phases) -> PeerRun:
    tally = PeerTally(started=10, answered=100, submitted=10, score=500.0, selected=150)
    return PeerRun(phases, tally, [("peer consistent", True)], "gunicorn, 2 workers")


def test_the_report_prints_both_sides_their_ratio_and_cpu_per_step():
    ours = [phase(0, 600, 1.2), phase(2.0, 100, 0.2)]
    theirs = [phase(0, 200, 1.6, p99=0.3), phase(2.0, 100, 0.8)]
    table, data = render(ours, 200, Tally(), OK_DB, peer=peer_run(theirs))
    assert "ApraNova (lms_api):" in table and "Django peer (ApranovaPro1 backend" in table
    assert "server CPU 2.00 ms per step" in table  # ApraNova, saturated
    assert "server CPU 8.00 ms per step" in table  # the peer, saturated and paced
    line = next(x for x in table.splitlines() if x.startswith(SATURATED) and "x " in x)
    assert "600.0" in line and "200.0" in line and "3.00x" in line
    assert "MET      saturated throughput >= 3x the Django peer's" in table
    assert "NOT MET  server CPU <= 2 ms" not in table
    assert ">= 3x the Django peer saturated" in data["verdict"]
    assert data["peer_compared"] is True and NO_PEER not in table
    assert [c["ratio"] for c in data["comparison"]] == [3.0, 1.0]
    assert data["peer"]["tally"]["selected"] == 150
    assert data["peer"]["phases"][0]["rows"][ALL]["rps"] == 200.0
    lines, _ = comparison(ours, peer_run(theirs))
    assert "per HTTP request" in lines[-1]


def test_without_the_peer_the_report_says_it_was_not_run_and_how_to_run_it():
    table, data = render([phase(0, 600, 1.2), phase(2.0, 100, 0.2)], 200, Tally(), OK_DB)
    assert NO_PEER in table and "make bench-quiz PEER=" in NO_PEER
    assert "the peer comparison was not run" in data["verdict"]
    assert data["peer_compared"] is False and "comparison" not in data
    assert "Django peer (" not in table
