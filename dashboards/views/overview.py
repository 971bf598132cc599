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

# metric, label, how the value reads, how its change reads, better when, help
METRICS = (
    ("active_students", "Active students (7 days)", ui.number, {}, "higher",
     "Workspace activity, a completed step or a graded quiz in the last 7 days."),
    ("avg_completion", "Average completion", ui.percent, {"scale": 100, "unit": " pts"},
     "higher", "Share of the track's steps done, averaged over active enrollments."),
    ("avg_quiz_score", "Average quiz score", ui.percent, {"scale": 100, "unit": " pts"},
     "higher", "Mean score of the quiz attempts graded in the last 7 days."),
    ("at_risk", "Students at risk", ui.number, {}, "lower",
     "Active enrollments with at least one warning sign (see At-risk students)."),
    ("workspace_hours", "Workspace hours (7 days)", lambda v: ui.number(v, 1),
     {"digits": 1}, "higher", "Hours with workspace activity in the last 7 days."),
)  # fmt: skip
for cell, (metric, label, shown, change, better, help_text) in zip(
    st.columns(len(METRICS)), METRICS, strict=True
):
    this_week, last_week = numbers.at[metric, "this_week"], numbers.at[metric, "last_week"]
    cell.metric(
        label,
        shown(this_week),
        help=help_text,
        **ui.change(this_week, last_week, better=better, **change),
    )

st.subheader("At risk, per track")
by_track = data.at_risk_by_track(ctx.scope)
if by_track.empty:
    st.success("Nobody in scope shows a warning sign.")
else:
    ui.table(by_track, "at-risk per track", mean_risk=ui.coefficient_column("mean risk"))
st.page_link("views/at_risk.py", label="See who and why", icon=":material/warning:")
