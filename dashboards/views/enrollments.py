"""Enrollments per track, from `marts.enrollments`."""

import streamlit as st

from dashboards import context, data, ui

ctx = context.current()
st.title("Enrollments")
frame = data.enrollments(ctx.scope)
active = frame[frame["status"] == "active"]
columns = st.columns(3)
columns[0].metric("Students", ui.number(frame["student"].nunique()))
columns[1].metric("Active enrollments", ui.number(len(active)))
columns[2].metric("Tracks", ui.number(frame["track"].nunique()))

st.subheader("Active enrollments per track")
st.bar_chart(active.groupby("track").size().rename("students"), horizontal=True)
st.subheader("All enrollments")
ui.table(
    frame,
    "enrollments",
    track_name=st.column_config.TextColumn("track name"),
    enrolled_at=ui.date_column("enrolled"),
)
