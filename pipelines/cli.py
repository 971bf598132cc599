"""`python -m pipelines.cli [--incremental]`: run the whole pipeline once, outside the
Dagster UI (a full copy of the LMS unless --incremental), and publish the marts."""

import argparse
import os
import sys
from pathlib import Path

from dagster import DagsterInstance

from lms_api.state import state_dir
from pipelines.assets.raw import FULL_REFRESH_TAG
from pipelines.automation import QUIET_CONSOLE
from pipelines.definitions import defs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.cli", description=__doc__)
    parser.add_argument(
        "--incremental",
        action="store_true",
        help="read only quiz attempts finished since the last run (as the sensor does)",
    )
    args = parser.parse_args(argv)
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(state_dir() / "dagster")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        # One run at a time from the daemon's queue: the warehouse has one writer (runs
        # would otherwise wait for each other on its lock).
        config.write_text(
            "telemetry:\n  enabled: false\nconcurrency:\n  runs:\n    max_concurrent_runs: 1\n"
        )
    mode = "incremental" if args.incremental else "full"
    result = defs.resolve_job_def("refresh_all").execute_in_process(
        run_config=QUIET_CONSOLE, instance=DagsterInstance.get(), tags={FULL_REFRESH_TAG: mode}
    )
    print("Pipeline:", f"marts published ({mode})." if result.success else "FAILED (see above).")
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
