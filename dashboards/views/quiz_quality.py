"""Quiz quality: whole-quiz statistics, the item table with flags, and distractors."""

import streamlit as st

from dashboards import charts, context, data, ui

ctx = context.current()
st.title("Quiz quality")
catalog = data.quizzes(ctx.scope)
if catalog.empty:
    st.info("No quiz has graded attempts yet.")
    st.stop()
left, right = st.columns([3, 2])
quiz_id = left.selectbox(
    "Quiz",
    catalog["quiz_id"].tolist(),
    format_func=lambda q: "{title} · {track}".format(**catalog.set_index("quiz_id").loc[q]),
    key="quiz",
)
attempt_set = right.radio(
    "Attempts",
    data.ATTEMPT_SETS,
    horizontal=True,
    key="attempt_set",
    help="Which attempts of each student count: all, the first, the last, or the highest.",
)
st.caption("Statistics over every student's graded attempts (Moodle's formulas, README).")

summary = data.quiz_summary(quiz_id, attempt_set)
if summary.empty:
    st.info("No graded attempts in this set.")
    st.stop()
quiz = summary.iloc[0]
cells = st.columns(6)
cells[0].metric("Attempts", int(quiz["n_attempts"]))
cells[1].metric("Mean", ui.number(quiz["mean"], 2), help=f"Out of {quiz['max_mark']:g} marks.")
cells[2].metric("Median", ui.number(quiz["median"], 2))
cells[3].metric("Standard deviation", ui.number(quiz["sd"], 2))
cells[4].metric(
    "Cronbach's alpha",
    ui.number(quiz["cronbach_alpha"], 2),
    help="Reliability; 0.7 or more is good.",
)
cells[5].metric("Standard error", ui.number(quiz["standard_error"], 2))
more = st.columns(6)
more[0].metric("Questions", int(quiz["n_questions"]))
more[1].metric("Skewness", ui.number(quiz["skewness"], 2))
more[2].metric("Kurtosis", ui.number(quiz["kurtosis"], 2))
more[3].metric("Error ratio", ui.percent(quiz["error_ratio"]))

items = data.item_stats(quiz_id, attempt_set)
st.subheader("Questions")
flagged = int(data.flagged(items["flag"]).sum())
st.caption(f"{flagged} of {len(items)} questions flagged.")
ui.table(
    items.drop(columns=["question_id"]),
    "question statistics",
    facility_index=st.column_config.NumberColumn("facility", format="percent"),
    discrimination_index=st.column_config.NumberColumn("discrimination", format="%.1f"),
    discriminative_efficiency=st.column_config.NumberColumn("disc. efficiency", format="%.1f"),
    effective_weight=st.column_config.NumberColumn("effective weight", format="%.1f"),
    intended_weight=st.column_config.NumberColumn("intended weight", format="%.1f"),
    random_guess_score=st.column_config.NumberColumn("random guess", format="percent"),
    ci_low=st.column_config.NumberColumn("CI low", format="percent"),
    ci_high=st.column_config.NumberColumn("CI high", format="percent"),
    prompt=st.column_config.TextColumn("question", width="large"),
)
st.vega_lite_chart(spec=charts.item_scatter(items), width="stretch")

st.subheader("Distractors")
options = data.option_stats(quiz_id, attempt_set)
labels = dict(
    zip(
        items["question_id"],
        "Q" + items["question_order"].astype(str) + " " + items["prompt"].fillna(""),
        strict=True,
    )
)
question = st.selectbox("Question", list(labels), format_func=labels.get, key="question")
chosen = options[options["question_id"] == question]
if chosen.empty:
    st.caption("This question has no options (or no answers in this set).")
else:
    st.vega_lite_chart(spec=charts.distractors(chosen), width="stretch")
    ui.table(
        chosen.drop(columns=["question_id"]),
        "option statistics",
        chosen_rate=st.column_config.NumberColumn(format="percent"),
    )

scores = data.quiz_scores(ctx.scope, quiz_id)
st.subheader("Your students' scores")
st.caption(f"Graded attempts from {ctx.scope.start:%Y-%m-%d} to {ctx.scope.end:%Y-%m-%d}.")
if scores.empty:
    st.caption("None in these dates.")
else:
    ui.table(scores, "quiz scores", score=st.column_config.NumberColumn(format="percent"))
