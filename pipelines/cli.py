"""`python -m pipelines.cli`: run the whole pipeline once, outside the Dagster UI."""

import os
import sys
from pathlib import Path

from dagster import DagsterInstance

from pipelines.definitions import defs


def main() -> int:
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".apranova/dagster").resolve())))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    result = defs.resolve_job_def("refresh_all").execute_in_process(instance=DagsterInstance.get())
    print("Pipeline:", "marts published." if result.success else "FAILED (see above).")
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
