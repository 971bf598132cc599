"""At-risk students: who, why in words, when they were last active, and their trainer; and
how often this list has been right (the backtest), so a trainer knows how much to trust it."""

import pandas as pd
import streamlit as st

from dashboards import context, data, ui, workbench

ctx = context.current()
st.title("At-risk students")
frame = data.at_risk(ctx.scope)
st.metric("Students at risk", len(frame))


def span(days) -> str:
    days = int(days)
    return f"{days // 7} weeks" if days % 7 == 0 else f"{days} days"


def track_sentence(row: pd.Series) -> str:
    """The backtest of one track in words (never "None": a missing figure is a dash)."""
    ago, quiet = span(row["horizon_days"]), span(row["quiet_days"])
    if row["flagged"] == 0:
        return (
            f"**{row['track']}**: nobody was flagged {ago} ago; {row['positives']:,} of the "
            f"{row['enrollments']:,} students then active dropped out since."
        )
    return (
        f"**{row['track']}**: of the {row['flagged']:,} students flagged {ago} ago, "
        f"{ui.percent(row['precision'])} have since dropped out (left, or no activity in the "
        f"last {quiet}), against {ui.percent(row['base_rate'])} of all "
        f"{row['enrollments']:,} students then active; the list caught "
        f"{ui.percent(row['recall'])} of the {row['positives']:,} who dropped out. Over the "
        f"last {row['cutoffs']} weekly cutoffs: {ui.percent(row['pooled_precision'])} right, "
        f"{ui.percent(row['pooled_recall'])} caught."
    )


backtest = data.at_risk_backtest(ctx.scope)
if backtest.empty:
    st.info("How often this list is right is measured by the nightly rebuild (not yet run).")
else:
    st.subheader("How often this list is right")
    for _, row in backtest.iterrows():
        st.markdown(track_sentence(row))
    st.caption(
        f"Measured on this school's past: the rules run as they stood at each weekly cutoff "
        f"(only what had happened by then), listing students with a risk score of at least "
        f"{ui.coefficient(backtest['min_risk_score'].iloc[0])}, then compared with what those "
        "students did next (README, At-risk students)."
    )

if frame.empty:
    st.success("Nobody in scope shows a warning sign.")
    st.stop()
frame.insert(1, "workbench", workbench.students(frame["student"]))
ui.table(
    frame,
    "at-risk students",
    workbench=workbench.link_column("student"),
    risk_score=st.column_config.ProgressColumn("risk", min_value=0, max_value=1, format="%.2f"),
    reasons=st.column_config.TextColumn("reasons", width="large"),
    last_activity_at=ui.date_column("last activity"),
    days_inactive=ui.number_column("days inactive"),
    recent_quiz_score=ui.Percent("recent quiz score"),
)
st.caption(
    "Signs: no workspace activity, no step completed, required deliverables overdue, quiz "
    "scores falling or low. A student is listed when the weighted signs reach the minimum "
    "risk score, and leaves the list after a month with no activity at all (dropped out). "
    "Each threshold is an APRANOVA_ANALYTICS_* setting (README)."
)
