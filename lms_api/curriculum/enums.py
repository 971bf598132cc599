"""Curriculum values the API and the database share: no SQLAlchemy, so the notebook
client's schemas can use them."""

from enum import StrEnum


class WorkspaceKind(StrEnum):
    JUPYTERLAB = "jupyterlab"
    CODE_SERVER = "code-server"
    SUPERSET = "superset"


class ProjectType(StrEnum):
    INTERNAL = "INTERNAL"
    CAPSTONE = "CAPSTONE"


class DeliverableKind(StrEnum):
    URL = "url"
    NOTEBOOK = "notebook"
    FILE = "file"
    GITHUB_PR = "github_pr"
