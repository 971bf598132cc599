"""hub.interruptible: a service that inherited SIGINT as ignored (a hub started in the
background) still stops on the SIGINT with which the hub stops its services."""

import signal
import subprocess
import sys

import pytest

SERVE = ["http.server", "0", "--bind", "127.0.0.1"]  # a module that runs until stopped


def started(*args: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert "Serving HTTP" in process.stdout.readline()  # running, its SIGINT handler in place
    return process


def test_without_it_a_service_sits_out_sigint():
    process = started("-m", *SERVE)
    try:
        process.send_signal(signal.SIGINT)
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=1)
    finally:
        process.kill()
        process.wait()


def test_with_it_the_service_stops_at_once_and_quietly():
    process = started("-m", "hub.interruptible", *SERVE)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0
    assert "Traceback" not in process.stderr.read()


def test_it_says_how_to_use_it():
    done = subprocess.run(
        [sys.executable, "-m", "hub.interruptible"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode != 0 and "usage: python -m hub.interruptible MODULE" in done.stderr
