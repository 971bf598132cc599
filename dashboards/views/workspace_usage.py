"""Workspace usage: active hours per day, and the least active students day by day."""

import streamlit as st

from dashboards import charts, context, data, ui

HEATMAP_ROWS = 40

ctx = context.current()
st.title("Workspace usage")
scope = ctx.scope
st.caption(f"{scope.start:%Y-%m-%d} to {scope.end:%Y-%m-%d}.")
totals = data.workspace_totals(scope)
used = totals[totals["active_hours"] > 0]
if used.empty:
    st.info("No workspace activity in these dates.")
cells = st.columns(3)
cells[0].metric("Active hours", ui.number(totals["active_hours"].sum(), 1))
cells[1].metric("Students with activity", ui.number(len(used)))
cells[2].metric("Sessions", ui.number(totals["sessions"].sum()))
if not used.empty:
    st.vega_lite_chart(
        spec=charts.daily_hours(
            data.workspace_per_day(scope),
            "Active hours per day, all students in scope",
            scope.start,
            scope.end,
        ),
        width="stretch",
    )

st.subheader("Least active students")
enrolled = totals[totals["enrolled"]]
shown = enrolled.head(HEATMAP_ROWS)["student"].tolist()
if not shown:
    st.caption("No active enrollment in scope.")
else:
    st.caption(
        f"The {len(shown):,} least active of {len(enrolled):,} students with an active "
        "enrollment, fewest hours first; the table below has everyone."
    )
    grid = data.workspace_grid(scope, tuple(shown))
    st.vega_lite_chart(spec=charts.heatmap(grid, shown, scope.start, scope.end), width="stretch")
ui.table(
    totals.drop(columns=["enrolled"]),
    "workspace usage",
    active_hours=ui.number_column("active hours", 1),
    active_days=ui.number_column("active days"),
    sessions=ui.number_column("sessions"),
    last_day=ui.date_column("last active"),
)
