"""Quiz quality: whole-quiz statistics, the item table with flags, and distractors.

The quiz selector opens on the quiz with most flagged questions; the Flagged questions page
(or a link `?quiz=<id>`) opens a given quiz, and question, here.
"""

import streamlit as st

from dashboards import charts, context, data, ui

OPEN_QUIZ, OPEN_QUESTION = "open_quiz", "open_question"  # set by the Flagged questions page


def requested(key: str, options: list[int]) -> int | None:
    """The quiz (or question) another page or a link asked for, once: taken from the session
    (the Flagged questions page) or the URL's query (`?quiz=12`), and then forgotten, so that
    the viewer can pick another."""
    value = st.session_state.pop(key, None)
    if value is None and key == OPEN_QUIZ and "quiz" in st.query_params:
        value = st.query_params.pop("quiz")
    try:
        value = int(value) if value is not None else None
    except ValueError:
        return None
    return value if value in options else None


def quiz_label(catalog) -> dict[int, str]:
    """'Title · track · 2 flagged' per quiz id."""
    return {
        row.quiz_id: f"{row.title} · {row.track}"
        + (f" · {row.n_flagged} flagged" if row.n_flagged else "")
        for row in catalog.itertuples()
    }


def first_to_review(items) -> int | None:
    """The question the distractor chart opens on: the first with an attractive distractor,
    else the first flagged, else the first."""
    if items.empty:
        return None
    flags = items["flag"].fillna("")
    for wanted in (flags.str.contains("attractive distractor"), data.flagged(flags)):
        if wanted.any():
            return int(items.loc[wanted, "question_id"].iloc[0])
    return int(items["question_id"].iloc[0])


ctx = context.current()
st.title("Quiz quality")
catalog = data.quizzes(ctx.scope)
if catalog.empty:
    st.info("No quiz has graded attempts yet.")
    st.stop()
total_flagged = int(catalog["n_flagged"].sum())
if total_flagged:
    st.page_link(
        "views/flagged_questions.py",
        label=f"{total_flagged} flagged questions across these quizzes: see them all",
        icon=":material/flag:",
    )
left, right = st.columns([3, 2])
ids = catalog["quiz_id"].tolist()
labels = quiz_label(catalog)
if (asked := requested(OPEN_QUIZ, ids)) is not None:
    st.session_state["quiz"] = asked
quiz_id = left.selectbox(
    "Quiz",
    ids,
    format_func=labels.get,
    key="quiz",
    help="The quizzes with most flagged questions first.",
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
out_of = f"Of the {quiz['max_mark']:g} marks." if not ui.missing(quiz["max_mark"]) else None
cells = st.columns(6)
cells[0].metric("Attempts", ui.number(quiz["n_attempts"]))
cells[1].metric("Mean", ui.percent(quiz["mean"]), help=out_of)
cells[2].metric("Median", ui.percent(quiz["median"]), help=out_of)
cells[3].metric("Standard deviation", ui.percent(quiz["sd"]), help=out_of)
cells[4].metric(
    "Cronbach's alpha",
    ui.coefficient(quiz["cronbach_alpha"]),
    help="Reliability; 0.70 or more is good, below 0 the questions disagree. Needs 3 attempts.",
)
cells[5].metric(
    "Standard error",
    ui.percent(quiz["standard_error"]),
    help="How far a score may be from the student's true score (error ratio times sd).",
)
more = st.columns(6)
more[0].metric("Questions", ui.number(quiz["n_questions"]))
more[1].metric("Skewness", ui.coefficient(quiz["skewness"]))
more[2].metric("Kurtosis", ui.coefficient(quiz["kurtosis"]))
more[3].metric(
    "Error ratio",
    ui.percent(quiz["error_ratio"]),
    help="sqrt(1 - alpha): the share of the spread that is measurement error. Above 100% when "
    "alpha is negative (as in Moodle).",
)

items = data.item_stats(quiz_id, attempt_set)
st.subheader("Questions")
flagged = int(data.flagged(items["flag"]).sum())
st.caption(
    f"{flagged} of {len(items)} questions flagged. Discrimination with its 95% interval: "
    '"check the answer key" only when the whole interval is below 0. Time: the median time '
    "between an answer's save and the one before it; rapid guesses: answers saved within a "
    "few seconds (README, APRANOVA_ANALYTICS_RAPID_GUESS_SECONDS)."
)
ui.table(
    items.drop(columns=["question_id"]),
    "question statistics",
    question_order=st.column_config.NumberColumn("Q", width="small"),
    prompt=st.column_config.TextColumn("question", width="large"),
    flag=st.column_config.TextColumn("flag", width="medium"),
    facility_index=ui.Percent("facility"),
    ci_low=ui.Percent("facility 95% from"),
    ci_high=ui.Percent("to"),
    discrimination=ui.coefficient_column("discrimination"),
    discrimination_low=ui.coefficient_column("discr. 95% from"),
    discrimination_high=ui.coefficient_column("to"),
    efficiency=ui.coefficient_column("disc. efficiency"),
    effective_weight=ui.Percent("effective weight"),
    intended_weight=ui.Percent("intended weight"),
    random_guess_score=ui.Percent("random guess"),
    median_seconds=st.column_config.NumberColumn("median time", format="%.0f s"),
    rapid_guess_rate=ui.Percent("rapid guesses"),
)
st.vega_lite_chart(spec=charts.item_scatter(items), width="stretch")

st.subheader("Distractors")
options = data.option_stats(quiz_id, attempt_set)
questions = items["question_id"].tolist()
question_labels = {
    row.question_id: f"Q{row.question_order} {'' if ui.missing(row.prompt) else row.prompt}"
    + ("" if row.flag in data.NOT_FLAGGED or ui.missing(row.flag) else f" ({row.flag})")
    for row in items.itertuples()
}
if (asked := requested(OPEN_QUESTION, questions)) is not None:
    st.session_state["question"] = asked
elif st.session_state.get("question") not in questions:
    st.session_state["question"] = first_to_review(items)
question = st.selectbox("Question", questions, format_func=question_labels.get, key="question")
chosen = options[options["question_id"] == question]
if chosen.empty:
    st.caption("This question has no options (or no answers in this set).")
else:
    st.vega_lite_chart(spec=charts.distractors(chosen), width="stretch")
    ui.table(
        chosen.drop(columns=["question_id"]),
        "option statistics",
        option_order=st.column_config.NumberColumn("#", width="small"),
        is_correct=st.column_config.CheckboxColumn("correct"),
        chosen_count=st.column_config.NumberColumn("chosen", format="%d"),
        chosen_rate=ui.Percent("share"),
        point_biserial=ui.coefficient_column("point-biserial"),
        attractive=st.column_config.CheckboxColumn(
            "attractive", help="Chosen more than the key, or by the stronger students."
        ),
    )

scores = data.quiz_scores(ctx.scope, quiz_id)
st.subheader("Your students' scores")
st.caption(f"Graded attempts from {ctx.scope.start:%Y-%m-%d} to {ctx.scope.end:%Y-%m-%d}.")
if scores.empty:
    st.caption("None in these dates.")
else:
    ui.table(
        scores,
        "quiz scores",
        attempt_number=ui.number_column("attempt"),
        score=ui.Percent("score"),
        submitted_at=ui.date_column("submitted"),
    )
