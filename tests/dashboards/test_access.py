"""Only the gateway's word counts: who is looking decides what the dashboards show."""

import pytest
from streamlit.testing.v1 import AppTest

from dashboards import access
from tests.dashboards.conftest import APP, SECRET


def run(gateway, headers: dict[str, str]) -> AppTest:
    gateway(headers)
    app = AppTest.from_file(APP, default_timeout=30).run()
    assert not app.exception
    return app


def staff(user: str = "office", role: str = "admin", secret: str = SECRET) -> dict[str, str]:
    return {access.USER_HEADER: user, access.ROLE_HEADER: role, access.SECRET_HEADER: secret}


def test_without_the_gateway_secret_nothing_is_shown(published, gateway):
    # A process that dials Streamlit's loopback port directly and claims to be an admin.
    forged = staff()
    del forged[access.SECRET_HEADER]
    app = run(gateway, forged)
    assert "did not come through the hub" in app.error[0].value
    assert not app.metric and not app.dataframe


def test_a_wrong_secret_is_refused(published, gateway):
    app = run(gateway, staff(secret="guessed"))
    assert "did not come through the hub" in app.error[0].value
    assert not app.metric


def test_students_are_refused(published, gateway):
    app = run(gateway, staff(user="ada", role="student"))
    assert app.error[0].value == "ada: the dashboards are for trainers and admins (403)."
    assert not app.metric and not app.dataframe


def test_a_missing_user_is_refused(published, gateway):
    app = run(gateway, {access.SECRET_HEADER: SECRET})
    assert "did not say who you are" in app.error[0].value


def test_trainers_see_only_their_students(dashboard):
    app = dashboard("tess", "cohort_progress")
    roster = app.dataframe[0].value
    assert sorted(roster["student"]) == ["ada", "bob"]
    assert app.selectbox(key="drill_student").options == ["ada · DP", "bob · DP"]
    # There is no trainer filter to widen it.
    assert not [s for s in app.sidebar.selectbox if s.label == "Trainer"]
    other = dashboard("tom", "cohort_progress")
    assert sorted(other.dataframe[0].value["student"]) == ["carl", "dan"]


def test_revenue_is_not_a_page_for_trainers(dashboard):
    app = dashboard("tess")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("views/revenue.py")
    admin = dashboard("office", "revenue")
    assert admin.title[0].value == "Revenue"


def test_admins_pick_a_trainer(dashboard):
    app = dashboard("office", "cohort_progress")
    assert sorted(app.dataframe[0].value["student"]) == ["ada", "bob", "carl", "dan"]
    app.selectbox(key="f_trainer").select("tom").run()
    assert sorted(app.dataframe[0].value["student"]) == ["carl", "dan"]
