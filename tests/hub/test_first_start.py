"""The workspace's first start (images/jupyterlab/first_start.py): the welcome notebook once,
never over a student's file, never back after it was deleted. The notebook's cells run
against the real LMS in tests/e2e/test_workspace.py."""

import importlib.util
import json
from pathlib import Path

import nbformat

IMAGE_DIR = Path(__file__).resolve().parents[2] / "images" / "jupyterlab"
spec = importlib.util.spec_from_file_location("first_start", IMAGE_DIR / "first_start.py")
first_start = importlib.util.module_from_spec(spec)
spec.loader.exec_module(first_start)
NOTEBOOK = IMAGE_DIR / "welcome" / "Welcome.ipynb"


def test_the_welcome_notebook_is_a_valid_notebook():
    nbformat.validate(nbformat.read(NOTEBOOK, as_version=4))


def test_the_first_start_copies_it_once(tmp_path):
    assert first_start.welcome(tmp_path, NOTEBOOK)
    copied = tmp_path / "Welcome.ipynb"
    assert copied.read_bytes() == NOTEBOOK.read_bytes()
    copied.unlink()  # the student deletes it: it does not come back
    assert not first_start.welcome(tmp_path, NOTEBOOK)
    assert not copied.exists()


def test_a_students_own_file_of_that_name_is_kept(tmp_path):
    own = tmp_path / "Welcome.ipynb"
    own.write_text(json.dumps({"mine": True}))
    assert first_start.welcome(tmp_path, NOTEBOOK)
    assert json.loads(own.read_text()) == {"mine": True}


def test_no_notebook_no_marker(tmp_path):
    assert not first_start.welcome(tmp_path, tmp_path / "missing.ipynb")
    assert not (tmp_path / first_start.MARKER).exists()
