"""`apranova-hand-in`: a student hands in a notebook from the workspace's terminal, with the
workspace's token, through the real hub and lms-api."""

import nbformat
import pytest

from lms_api import hand_in
from tests.e2e.test_security_hardening import enrolled_student, lms

pytestmark = pytest.mark.e2e


def test_a_student_hands_in_a_notebook_by_picking_it_from_a_menu(
    platform, tmp_path, monkeypatch, capsys
):
    admin = platform.new_token("admin")[0]
    token = enrolled_student(platform, "handy", admin)
    notebook = tmp_path / "Analysis.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), notebook)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", token)
    monkeypatch.setenv("APRANOVA_LMS_API_URL", f"{platform.url}/services/lms-api/api/v1")
    answers = iter(["9", "1"])  # a wrong choice first: asked again
    monkeypatch.setattr("builtins.input", lambda _prompt: next(answers))

    assert hand_in.main([str(notebook)]) == 0

    out = capsys.readouterr().out
    assert "DP · Project 1 · Notebook" in out and "Type a number from 1 to" in out
    assert "Handed in Analysis.ipynb as version 1" in out
    mine = lms(platform, "GET", "/submissions", token).json()["results"]
    assert [(s["deliverable_id"], s["current_version"]) for s in mine] == [
        (mine[0]["deliverable_id"], 1)
    ]
    # the link deliverables are not offered for a notebook
    assert "Write-up link" not in out


def test_a_file_that_is_not_there_is_named(tmp_path, capsys):
    assert hand_in.main([str(tmp_path / "nope.ipynb")]) == 2
    assert "No file" in capsys.readouterr().out
