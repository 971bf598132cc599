"""Flagged questions across all quizzes: one list to act on, each row opening its quiz."""

import streamlit as st

from dashboards import context, data, ui, workbench

OPEN_QUIZ, OPEN_QUESTION = "open_quiz", "open_question"  # read by the Quiz quality page

ctx = context.current()
st.title("Flagged questions")
flagged = data.flagged_questions(ctx.scope)
if flagged.empty:
    st.success("No question of these quizzes is flagged.")
    st.stop()
st.caption(
    f"{len(flagged)} questions in {flagged['quiz_id'].nunique()} quizzes, over all attempts; "
    "wrong answer keys first. Questions with too few attempts to judge are left out."
)


def describe(row) -> str:
    return f"Q{row.question_order} of {row.quiz} ({row.track}): {row.flag}"


rows = {row.Index: describe(row) for row in flagged.itertuples()}
picked = st.selectbox(
    "Open in Quiz quality",
    list(rows),
    format_func=rows.get,
    index=None,
    placeholder="Pick a flagged question",
    key="flagged_open",
)
if picked is not None:
    st.session_state[OPEN_QUIZ] = int(flagged.at[picked, "quiz_id"])
    st.session_state[OPEN_QUESTION] = int(flagged.at[picked, "question_id"])
    st.switch_page("views/quiz_quality.py")

shown = flagged.assign(
    link="quiz_quality?quiz=" + flagged["quiz_id"].astype(str),
    workbench=[
        workbench.question(quiz, question)
        for quiz, question in zip(flagged["quiz_id"], flagged["question_id"], strict=True)
    ],
)
ui.table(
    shown[
        [
            "quiz",
            "track",
            "question_order",
            "flag",
            "link",
            "workbench",
            "prompt",
            "n",
            "facility_index",
            "discrimination",
        ]
    ],
    "flagged questions",
    flag=st.column_config.TextColumn("flag", width="large"),
    quiz=st.column_config.TextColumn("quiz"),
    question_order=st.column_config.NumberColumn("Q", width="small"),
    prompt=st.column_config.TextColumn("question", width="large"),
    facility_index=ui.Percent("facility"),
    discrimination=ui.coefficient_column("discrimination"),
    link=st.column_config.LinkColumn("open", display_text="open quiz"),
    workbench=workbench.link_column("question"),
)
