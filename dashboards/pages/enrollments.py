"""Enrollments per track, from `marts.enrollments`."""

import streamlit as st

from dashboards import data

st.title("Enrollments")
user, role = data.viewer()
if user:
    st.caption(f"Signed in through the hub as {user} ({role}).")

frame = data.enrollments()
if frame is None:
    st.info(
        "No data yet: the pipeline has not published the warehouse. "
        "Materialize the assets in the Dagster UI (Pipelines) or run `make pipeline`."
    )
    st.stop()

active = frame[frame["status"] == "active"]
columns = st.columns(3)
columns[0].metric("Students", frame["student"].nunique())
columns[1].metric("Active enrollments", len(active))
columns[2].metric("Tracks", frame["track"].nunique())

st.subheader("Active enrollments per track")
st.bar_chart(active.groupby("track").size().rename("students"))

st.subheader("All enrollments")
st.dataframe(frame, hide_index=True, width="stretch")
st.download_button(
    "Download CSV", frame.to_csv(index=False), file_name="enrollments.csv", mime="text/csv"
)
