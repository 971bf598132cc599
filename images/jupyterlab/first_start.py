"""Start a student's workspace: on its very first start, put the welcome notebook in the home,
then become `jupyterhub-singleuser` with the arguments given.

It runs as the student (the image's jovyan, or the student's own account in local mode), so
it can write nothing the student could not. A marker file keeps a deleted welcome notebook
from coming back; an existing file of that name is never overwritten.
Used by the jupyterlab image (its CMD) and by local workspaces (hub/spawners.py).
"""

import os
import shutil
import sys
from pathlib import Path

NOTEBOOK_ENV = "APRANOVA_WELCOME_NOTEBOOK"
DEFAULT_NOTEBOOK = "/opt/apranova/Welcome.ipynb"
MARKER = ".apranova-welcomed"


def welcome(home: Path, notebook: Path) -> bool:
    """Copy `notebook` into `home` once; True when this start did it."""
    marker = home / MARKER
    if marker.exists() or not notebook.is_file():
        return False
    target = home / "Welcome.ipynb"
    if not target.exists():
        shutil.copyfile(notebook, target)
    marker.touch()
    return True


def main() -> None:
    notebook = Path(os.environ.get(NOTEBOOK_ENV) or DEFAULT_NOTEBOOK)
    try:
        welcome(Path.home(), notebook)
    except OSError as exc:  # a full or read-only home must not stop the workspace
        print(f"the welcome notebook was not copied: {exc}", file=sys.stderr)
    command = [sys.executable, "-m", "jupyterhub.singleuser", *sys.argv[1:]]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
