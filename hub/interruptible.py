"""Run a Python module as a hub service that stops when the hub asks: `python -m
hub.interruptible MODULE [ARGS...]`.

JupyterHub stops a managed service with SIGINT, and waits 30 s before it sends SIGTERM. A hub
started where SIGINT is ignored (in the background: `make up &`, nohup, a CI job) passes that
on, and Python then installs no KeyboardInterrupt handler: the idle culler sat out the whole
wait, so stopping the hub took over 30 s, and JupyterHub's service health check, running
meanwhile on services already stopped, failed with an AttributeError.
"""

import runpy
import signal
import sys


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: python -m hub.interruptible MODULE [ARGS...]")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except KeyboardInterrupt:
        sys.exit(0)  # asked to stop: not an error, and no traceback in the hub's log


if __name__ == "__main__":
    main()
