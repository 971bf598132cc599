"""Links from the dashboards to the matching page of the trainer's workbench (lms-api's
portal, served behind the hub on the same origin as the dashboards)."""

from urllib.parse import quote

import pandas as pd
import streamlit as st

PORTAL = "/services/lms-api/portal"  # the one place the workbench's address is written


def student(username: str) -> str:
    return f"{PORTAL}/students/{quote(str(username), safe='')}"


def question(quiz_id: int, question_id: int) -> str:
    return f"{PORTAL}/manage/quizzes/{int(quiz_id)}#question-{int(question_id)}"


def submission(submission_id: int) -> str:
    return f"{PORTAL}/review/{int(submission_id)}"


def session(session_id: int) -> str:
    """A class session's page: its details and the attendance as the LMS has it now."""
    return f"{PORTAL}/sessions/{int(session_id)}"


def students(usernames: pd.Series) -> pd.Series:
    return usernames.map(student)


def link_column(what: str) -> dict:
    """The table column of these links: "Open", to the workbench's page of `what`."""
    return st.column_config.LinkColumn(
        "workbench", help=f"Open the {what} in the workbench", display_text="Open"
    )
