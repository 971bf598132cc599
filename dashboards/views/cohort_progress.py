"""Cohort progress: the funnel of a track, every student's progress, and one student's detail.

`?student=<username>` (the workbench's link) opens that student's detail.
"""

import re

import streamlit as st

from dashboards import charts, context, data, ui, workbench

MAX_CHOICES = 500  # a school's whole roster would make the list unusable (and heavy)
USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")  # hub.usernames' rule

ctx = context.current()
st.title("Cohort progress")
scope = ctx.scope
roster = data.students(scope)
if roster.empty:
    st.info("No enrollments in scope.")
    st.stop()


def open_requested_student() -> None:
    """Preselect the student of `?student=`, once (then the viewer picks freely); a name out
    of scope (another trainer's student, a track filtered out) is said, not shown."""
    if "student" not in st.query_params:
        return
    wanted = st.query_params.pop("student")
    rows = roster[roster["student"] == wanted]
    if rows.empty:
        # Echoed only when it is a plain username: the warning renders Markdown.
        named = repr(wanted) if USERNAME.fullmatch(wanted) else "The student of this link"
        st.warning(f"{named} is not among the students in scope.")
        return
    st.session_state["drill_search"] = ""
    st.session_state["drill_student"] = (wanted, rows["track"].iloc[0])


open_requested_student()
tracks = sorted(roster["track"].unique())
track = st.selectbox(
    "Funnel of track",
    tracks,
    index=tracks.index(data.busiest_track(roster)),
    key="funnel_track",
    help="Opens on the track with most of your active students.",
)
steps = data.funnel(scope, track)
if steps.empty:
    st.info(f"{track} has no steps yet.")
else:
    st.vega_lite_chart(spec=charts.funnel(steps), width="stretch")

st.subheader("Students")
ui.table(
    roster,
    "student progress",
    steps_done=ui.number_column("steps done"),
    steps_total=ui.number_column("steps"),
    pct_complete=ui.Percent("complete", bar=True),
    risk_score=ui.coefficient_column("risk"),
    last_step_at=ui.date_column("last step"),
    last_workspace_activity_at=ui.date_column("last workspace"),
)

st.subheader("One student")
search = st.text_input("Find a student", key="drill_search", placeholder="all or part of a name")
matches = roster
if search:
    matches = roster[roster["student"].str.contains(search, case=False, regex=False)]
if matches.empty:
    st.info(f"No student in scope matches {search!r}.")
    st.stop()
if len(matches) > MAX_CHOICES:
    st.caption(f"{len(matches):,} match; the list shows the first {MAX_CHOICES}: type more.")
    matches = matches.head(MAX_CHOICES)
choices = list(zip(matches["student"], matches["track"], strict=True))
student, track = st.selectbox(
    "Student", choices, format_func=lambda c: f"{c[0]} · {c[1]}", key="drill_student"
)
enrollment = roster[(roster["student"] == student) & (roster["track"] == track)].iloc[0]
cells = st.columns(4)
cells[0].metric("Complete", ui.percent(enrollment["pct_complete"]))
cells[1].metric(
    "Steps", f"{ui.number(enrollment['steps_done'])} of {ui.number(enrollment['steps_total'])}"
)
cells[2].metric("Last step", ui.when(enrollment["last_step_at"]))
cells[3].metric("Risk", ui.coefficient(enrollment["risk_score"]))
st.markdown(f"[Open {student} in the workbench]({workbench.student(student)})")

st.markdown("**Progress per project**")
ui.table(
    data.student_projects(scope, student, track),
    f"{student} projects",
    project_number=ui.number_column("#"),
    project_title=st.column_config.TextColumn("project"),
    steps_done=ui.number_column("steps done"),
    steps_total=ui.number_column("steps"),
    pct_complete=ui.Percent("complete", bar=True),
    last_step_at=ui.date_column("last step"),
)
quizzes = data.student_quizzes(scope, student, track)
st.markdown(f"**Quiz history** ({scope.start:%Y-%m-%d} to {scope.end:%Y-%m-%d})")
if quizzes.empty:
    st.caption("No graded quiz attempts in these dates.")
else:
    st.vega_lite_chart(spec=charts.score_history(quizzes, scope.start, scope.end), width="stretch")
    ui.table(
        quizzes,
        f"{student} quizzes",
        submitted_at=ui.date_column("submitted"),
        quiz_title=st.column_config.TextColumn("quiz"),
        attempt_number=ui.number_column("attempt"),
        score=ui.Percent("score"),
        points=ui.number_column("points", 1),
        max_points=ui.number_column("out of", 1),
    )
activity = data.workspace_days(scope, (student,))
st.markdown("**Workspace activity**")
if activity.empty:
    st.caption("No workspace activity in these dates.")
else:
    st.vega_lite_chart(
        spec=charts.daily_hours(
            activity, f"{student}: active hours per day", scope.start, scope.end
        ),
        width="stretch",
    )
st.markdown("**Submissions**")
submissions = data.student_submissions(scope, student, track)
if submissions.empty:
    st.caption("Nothing submitted yet.")
else:
    links = submissions["submission_id"].map(workbench.submission)
    ui.table(
        submissions.drop(columns="submission_id").assign(workbench=links),
        f"{student} submissions",
        submitted_at=ui.date_column("submitted"),
        updated_at=ui.date_column("updated"),
        workbench=workbench.link_column("submission"),
    )
