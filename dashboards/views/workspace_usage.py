"""Workspace usage: active hours per day, and per student and day (heatmap)."""

import streamlit as st

from dashboards import charts, context, data, ui

HEATMAP_ROWS = 40

ctx = context.current()
st.title("Workspace usage")
scope = ctx.scope
st.caption(f"{scope.start:%Y-%m-%d} to {scope.end:%Y-%m-%d}.")
totals = data.workspace_totals(scope)
if totals.empty:
    st.info("No workspace activity in these dates.")
    st.stop()
per_day = data.workspace_per_day(scope)
cells = st.columns(3)
cells[0].metric("Active hours", ui.number(totals["active_hours"].sum(), 1))
cells[1].metric("Students with activity", len(totals))
cells[2].metric("Sessions", int(totals["sessions"].sum()))
st.vega_lite_chart(
    spec=charts.daily_hours(per_day, "Active hours per day, all students in scope"), width="stretch"
)

shown = totals.head(HEATMAP_ROWS)["student"].tolist()
if len(totals) > HEATMAP_ROWS:
    st.caption(
        f"The heatmap shows the {HEATMAP_ROWS} most active of {len(totals)} students; "
        "the table has them all."
    )
heat = data.workspace_days(scope, tuple(shown))
st.vega_lite_chart(spec=charts.heatmap(heat, shown), width="stretch")
ui.table(
    totals,
    "workspace usage",
    active_hours=st.column_config.NumberColumn("active hours", format="%.1f"),
    last_day=st.column_config.DateColumn("last active"),
)
