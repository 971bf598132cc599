"""At-risk students: who, why in words, when they were last active, and their trainer."""

import streamlit as st

from dashboards import context, data, ui

ctx = context.current()
st.title("At-risk students")
frame = data.at_risk(ctx.scope)
st.metric("Students at risk", len(frame))
if frame.empty:
    st.success("Nobody in scope shows a warning sign.")
    st.stop()
ui.table(
    frame,
    "at-risk students",
    risk_score=st.column_config.ProgressColumn("risk", min_value=0, max_value=1, format="%.2f"),
    reasons=st.column_config.TextColumn("reasons", width="large"),
    last_activity_at=st.column_config.DatetimeColumn("last activity", format="YYYY-MM-DD"),
    recent_quiz_score=st.column_config.NumberColumn("recent quiz score", format="percent"),
)
st.caption(
    "Signs: no workspace activity, no step completed, required deliverables overdue, quiz "
    "scores falling or low; each threshold is an APRANOVA_ANALYTICS_* setting (README)."
)
