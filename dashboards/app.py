"""Entry point: `streamlit run dashboards/app.py` (behind the hub gateway, see hub/gateway.py)."""

from pathlib import Path

import streamlit as st

from dashboards import access, context, data, ui

VIEWS = Path(__file__).parent / "views"

st.set_page_config(page_title="ApraNova dashboards", layout="wide")

try:
    viewer = access.viewer()
except access.AccessDenied as refused:
    st.error(str(refused))
    st.stop()

refreshed = data.refresh()
if refreshed is None:
    st.info(
        "No data yet: the pipeline has not published the warehouse. "
        "Materialize the assets in the Dagster UI (Pipelines) or run `make pipeline`."
    )
    st.stop()

scope = context.sidebar(viewer, refreshed)
st.session_state[context.KEY] = context.Context(viewer=viewer, refresh=refreshed, scope=scope)


def page(name: str, title: str, icon: str) -> st.Page:
    return st.Page(str(VIEWS / f"{name}.py"), title=title, icon=icon, url_path=name)


pages = [
    page("overview", "Overview", ":material/dashboard:"),
    page("cohort_progress", "Cohort progress", ":material/stairs:"),
    page("quiz_quality", "Quiz quality", ":material/quiz:"),
    page("flagged_questions", "Flagged questions", ":material/flag:"),
    page("at_risk", "At-risk students", ":material/warning:"),
    page("workspace_usage", "Workspace usage", ":material/computer:"),
    page("attendance", "Attendance", ":material/event_available:"),
    page("enrollments", "Enrollments", ":material/school:"),
]
if viewer.is_admin:
    pages.append(page("revenue", "Revenue", ":material/payments:"))
navigation = st.navigation(pages)

st.caption(
    f"Marts last refreshed {refreshed.refreshed_at:%Y-%m-%d %H:%M} UTC ({ui.ago(refreshed)}); "
    f"figures as of {refreshed.as_of:%Y-%m-%d %H:%M} UTC."
)
navigation.run()
