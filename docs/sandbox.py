"""A throw-away working directory and environment for the generators: settings classes read
`APRANOVA_*` variables and `.env` from the working directory, and the tables must come out
the same on every machine, whatever is configured there."""

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

PREFIX = "APRANOVA_"


@contextlib.contextmanager
def throwaway() -> Iterator[Path]:
    """Inside: an empty temporary working directory and no `APRANOVA_*` variables."""
    saved = {name: value for name, value in os.environ.items() if name.startswith(PREFIX)}
    with tempfile.TemporaryDirectory(prefix="apranova-docs-") as folder:
        for name in saved:
            del os.environ[name]
        try:
            with contextlib.chdir(folder):
                yield Path(folder).resolve()
        finally:
            os.environ.update(saved)
