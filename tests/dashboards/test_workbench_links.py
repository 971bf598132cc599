"""Dashboards link to the matching workbench page: an at-risk student, a flagged question,
a submission, a class session; and the workbench's link back (`cohort_progress?student=`)
opens a student."""

from streamlit.testing.v1 import AppTest

from dashboards import access, workbench
from tests.dashboards.conftest import APP, SECRET, metrics

PORTAL = "/services/lms-api/portal"


def test_links_are_made_from_one_base_path():
    assert workbench.PORTAL == PORTAL
    assert workbench.student("ada") == f"{PORTAL}/students/ada"
    assert workbench.student("a/b?c") == f"{PORTAL}/students/a%2Fb%3Fc"
    assert workbench.question(100, 1002) == f"{PORTAL}/manage/quizzes/100#question-1002"
    assert workbench.submission(7) == f"{PORTAL}/review/7"
    assert workbench.session(104) == f"{PORTAL}/sessions/104"


def test_an_at_risk_student_links_to_their_workbench_page(dashboard):
    row = dashboard("office", "at_risk").dataframe[0].value.iloc[0]
    assert (row["student"], row["workbench"]) == ("carl", f"{PORTAL}/students/carl")


def test_a_flagged_question_links_to_its_place_in_the_quiz_editor(dashboard):
    flagged = dashboard("tess", "flagged_questions").dataframe[0].value
    assert flagged["workbench"].tolist() == [f"{PORTAL}/manage/quizzes/100#question-1002"]


def test_a_submission_links_to_its_review_page(dashboard):
    app = dashboard("office", "cohort_progress")  # ada, the first student
    submissions = app.dataframe[3].value
    assert submissions["deliverable"].tolist() == ["ETL notebook"]
    assert submissions["workbench"].tolist() == [f"{PORTAL}/review/7"]
    assert "submission_id" not in submissions
    links = [m.value for m in app.markdown if "in the workbench" in m.value]
    assert links == [f"[Open ada in the workbench]({PORTAL}/students/ada)"]


def open_cohort_progress(gateway, user: str, role: str, student: str) -> AppTest:
    gateway({access.USER_HEADER: user, access.ROLE_HEADER: role, access.SECRET_HEADER: SECRET})
    app = AppTest.from_file(APP, default_timeout=30)
    app.query_params["student"] = student
    app.switch_page("views/cohort_progress.py").run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def test_a_student_in_the_url_opens_their_detail_once(published, gateway):
    app = open_cohort_progress(gateway, "office", "admin", "carl")
    assert app.selectbox(key="drill_student").value == ("carl", "FSD")
    assert metrics(app)["Complete"] == ("50%", None)
    assert "student" not in app.query_params  # taken: picking another is not undone
    app.selectbox(key="drill_student").select(("ada", "DP")).run()
    assert app.selectbox(key="drill_student").value == ("ada", "DP")


def test_a_student_out_of_scope_is_said_not_shown(published, gateway):
    app = open_cohort_progress(gateway, "tess", "trainer", "carl")  # tom's student
    assert "'carl' is not among the students in scope." in [w.value for w in app.warning]
    assert app.selectbox(key="drill_student").value[0] != "carl"


def test_a_link_with_markup_is_not_echoed(published, gateway):
    app = open_cohort_progress(gateway, "office", "admin", "[x](https://evil.example)")
    assert [w.value for w in app.warning] == [
        "The student of this link is not among the students in scope."
    ]
