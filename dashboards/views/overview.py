"""Overview: this week against the week before, for the students in scope."""

import streamlit as st

from dashboards import context, data, ui

ctx = context.current()
st.title("Overview")
st.caption(
    f"The 7 days to {ctx.refresh.day:%Y-%m-%d} against the 7 before; "
    "active enrollments of the tracks and trainer picked."
)
numbers = data.overview(ctx.scope, ctx.refresh.as_of)


def row(metric: str) -> tuple:
    return numbers.at[metric, "this_week"], numbers.at[metric, "last_week"]


cells = st.columns(5)
active, before = row("active_students")
cells[0].metric(
    "Active students (7 days)",
    ui.number(active),
    ui.delta(active, before),
    help="Workspace activity, a completed step or a graded quiz in the last 7 days.",
)
done, before = row("avg_completion")
cells[1].metric(
    "Average completion",
    ui.percent(done),
    ui.delta(done, before, scale=100, unit=" pts"),
    help="Share of the track's steps done, averaged over active enrollments.",
)
score, before = row("avg_quiz_score")
cells[2].metric(
    "Average quiz score",
    ui.percent(score),
    ui.delta(score, before, scale=100, unit=" pts"),
    help="Mean score of the quiz attempts graded in the last 7 days.",
)
risk, before = row("at_risk")
cells[3].metric(
    "Students at risk",
    ui.number(risk),
    ui.delta(risk, before),
    delta_color="inverse",
    help="Active enrollments with at least one warning sign (see At-risk students).",
)
hours, before = row("workspace_hours")
cells[4].metric(
    "Workspace hours this week",
    ui.number(hours, 1),
    ui.delta(hours, before, digits=1),
    help="Hours with workspace activity in the last 7 days.",
)

st.subheader("At risk, per track")
by_track = data.at_risk_by_track(ctx.scope)
if by_track.empty:
    st.success("Nobody in scope shows a warning sign.")
else:
    ui.table(by_track, "at-risk per track", mean_risk=st.column_config.NumberColumn(format="%.2f"))
st.page_link("views/at_risk.py", label="See who and why", icon=":material/warning:")
