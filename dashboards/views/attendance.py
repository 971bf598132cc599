"""Attendance: who came to a class session (present, late, absent, or upcoming) as the LMS
counts it, and each student's attendance over the sessions in the dates picked."""

import pandas as pd
import streamlit as st

from dashboards import context, data, ui, workbench

SESSION_WORDS = {"scheduled": "upcoming", "in_progress": "in progress", "ended": "ended"}

ctx = context.current()
st.title("Attendance")
scope = ctx.scope
if not data.has_attendance():
    st.info("Attendance appears with the pipeline's next run (the published marts predate it).")
    st.stop()
listed = data.sessions(scope)
if listed.empty:
    st.info(
        "No class session of your students in these dates, running or to come. Sessions are "
        "scheduled in the workbench (Sessions)."
    )
    st.stop()
by_id = listed.set_index("session_id")


def label(session_id: int) -> str:
    row = by_id.loc[session_id]
    when = pd.Timestamp(row["starts_at"]).strftime("%Y-%m-%d %H:%M")
    return f"{when} · {row['title']} · {row['track']} · {SESSION_WORDS[row['session_status']]}"


choices = listed["session_id"].tolist()
picked = st.selectbox(
    "Session",
    choices,
    index=choices.index(data.default_session(listed)),
    format_func=label,
    key="attendance_session",
    help="The sessions of the dates picked, and any running or to come (times in UTC). "
    "Opens on the one running, else the last one.",
)
session = by_id.loc[picked]
cells = st.columns(4)
cells[0].metric("Expected", ui.number(session["expected"]))
if session["session_status"] == "scheduled":
    st.caption(
        f"Starts {pd.Timestamp(session['starts_at']):%Y-%m-%d %H:%M} UTC: attendance counts "
        "from then."
    )
else:
    cells[1].metric("Present", ui.number(session["present"]))
    cells[2].metric("Late", ui.number(session["late"]))
    cells[3].metric("Absent", ui.number(session["absent"]))
    if session["session_status"] == "in_progress":
        st.caption("In progress: absent means not seen so far.")
st.markdown(f"[Open this session in the workbench]({workbench.session(picked)})")
ui.table(
    data.session_roster(scope, picked),
    "session attendance",
    first_seen_at=ui.moment_column("first seen"),
    minutes_after_start=ui.number_column("minutes after start"),
)
st.caption(
    f"Present: first seen at most {int(session['late_after_minutes'])} minutes after the "
    "start; late: later, before the end; absent: not seen during the session. Seen means the "
    "earliest of their workspace in use and what the LMS records them doing (a step done, a "
    "quiz attempt started or submitted, an answer saved, a hand-in)."
)

st.subheader("Attendance per student")
rates = data.attendance_rates(scope)
if rates.empty:
    st.caption("No session in these dates has ended yet.")
else:
    st.caption(
        f"Sessions that ended between {scope.start:%Y-%m-%d} and {scope.end:%Y-%m-%d}; "
        "attended: present or late. Lowest first."
    )
    ui.table(
        rates,
        "attendance per student",
        sessions=ui.number_column("sessions"),
        present=ui.number_column("present"),
        late=ui.number_column("late"),
        absent=ui.number_column("absent"),
        attendance_rate=ui.Percent("attended", bar=True),
    )
