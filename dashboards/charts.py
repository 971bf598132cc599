"""Altair charts of the pages. Labels sit on the marks, so nobody has to hunt a legend.

Each chart is built once per data and kept as its Vega-Lite spec (`st.cache_data`): building
and validating an Altair chart costs more than the rest of a cached rerun. Pages draw the
specs with `st.vega_lite_chart`.
"""

import functools
from collections.abc import Callable

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data

CORRECT, WRONG, FLAGGED, OK = "#2e7d32", "#9e9e9e", "#c62828", "#1565c0"


def as_spec(build: Callable[..., alt.TopLevelMixin]) -> Callable[..., dict]:
    """`build` cached per data as the chart's Vega-Lite spec (what st.vega_lite_chart draws).

    functools.wraps keeps each chart's own name and source, which Streamlit's cache keys on.
    """

    @functools.wraps(build)
    def spec(*args) -> dict:
        return build(*args).to_dict()

    return st.cache_data(max_entries=256, show_spinner=False)(spec)


@as_spec
def funnel(frame: pd.DataFrame) -> alt.LayerChart:
    """Per step: students who reached it (light bar) and completed it (dark bar)."""
    steps = frame.assign(
        step=frame.apply(lambda r: f"P{r.project_number}.{r.step_number} {r.step_title}", axis=1),
        label=frame.apply(lambda r: f"{r.students_completed} of {r.students_reached}", axis=1),
    )
    order = steps["step"].tolist()
    y = alt.Y("step:N", sort=order, title=None, axis=alt.Axis(labelLimit=320, labelOverlap=False))
    tooltip = ["project_title", "step_title", "students_reached", "students_completed"]
    reached = (
        alt.Chart(steps)
        .mark_bar(color="#bbdefb")
        .encode(x=alt.X("students_reached:Q", title="students"), y=y, tooltip=tooltip)
    )
    completed = (
        alt.Chart(steps)
        .mark_bar(color="#1565c0", height=10)
        .encode(x="students_completed:Q", y=y, tooltip=tooltip)
    )
    labels = (
        alt.Chart(steps)
        .mark_text(align="left", dx=4)
        .encode(x="students_reached:Q", y=y, text="label:N")
    )
    return (reached + completed + labels).properties(
        title="Reached (light) and completed (dark), step by step",
        height=max(160, 30 * len(steps)),
    )


@as_spec
def score_history(frame: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("submitted_at:T", title=None),
            y=alt.Y(
                "score:Q", title="score", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])
            ),
            tooltip=["quiz_title", "attempt_number", alt.Tooltip("score:Q", format=".0%")],
        )
        .properties(title="Quiz scores", height=220)
    )


@as_spec
def daily_hours(frame: pd.DataFrame, title: str) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_bar(color=OK)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("active_hours:Q", title="active hours"),
            tooltip=["day:T", alt.Tooltip("active_hours:Q", format=".1f")],
        )
        .properties(title=title, height=220)
    )


@as_spec
def heatmap(frame: pd.DataFrame, students: list[str]) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("day:O", timeUnit="yearmonthdate", title=None),
            y=alt.Y("student:N", sort=students, title=None),
            color=alt.Color(
                "active_hours:Q",
                title="hours",
                scale=alt.Scale(scheme="blues"),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=["student", "day:T", alt.Tooltip("active_hours:Q", format=".1f"), "sessions"],
        )
        .properties(title="Active hours per student and day", height=max(160, 18 * len(students)))
    )


@as_spec
def item_scatter(frame: pd.DataFrame) -> alt.LayerChart:
    """Facility against discrimination; flagged items in red, each labelled Q<n>."""
    items = frame.dropna(subset=["facility_index", "discrimination_index"]).assign(
        item=lambda f: "Q" + f["question_order"].astype(str),
        state=lambda f: data.flagged(f["flag"]).map({True: "flagged", False: "ok"}),
    )
    base = alt.Chart(items).encode(
        x=alt.X(
            "facility_index:Q",
            title="facility (share correct)",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%"),
        ),
        y=alt.Y("discrimination_index:Q", title="discrimination index"),
        tooltip=[
            "item",
            "prompt",
            "flag",
            alt.Tooltip("facility_index:Q", format=".0%"),
            alt.Tooltip("discrimination_index:Q", format=".1f"),
        ],
    )
    points = base.mark_circle(size=90).encode(
        color=alt.Color(
            "state:N", scale=alt.Scale(domain=["ok", "flagged"], range=[OK, FLAGGED]), legend=None
        )
    )
    labels = base.mark_text(align="left", dx=7, dy=-4).encode(text="item:N")
    floor = (
        alt.Chart(pd.DataFrame({"y": [30]}))
        .mark_rule(strokeDash=[4, 4], color=WRONG)
        .encode(y="y:Q")
    )
    return (floor + points + labels).properties(
        title="Facility vs discrimination (red: flagged; dashed: 30, good discrimination)",
        height=320,
    )


@as_spec
def distractors(frame: pd.DataFrame) -> alt.LayerChart:
    """How often each option was chosen; the correct ones green."""
    options = frame.assign(
        option=frame.apply(lambda r: f"{r.option_order}. {r.label or ''}".strip(), axis=1),
        kind=frame["is_correct"].map(lambda c: "correct" if c else "distractor"),
    )
    order = options["option"].tolist()
    base = alt.Chart(options).encode(
        y=alt.Y("option:N", sort=order, title=None, axis=alt.Axis(labelLimit=320)),
        x=alt.X(
            "chosen_rate:Q",
            title="chosen by",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
        ),
        tooltip=[
            "option",
            "kind",
            "chosen_count",
            alt.Tooltip("chosen_rate:Q", format=".0%"),
            alt.Tooltip("point_biserial:Q", format=".2f"),
        ],
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "kind:N",
            scale=alt.Scale(domain=["correct", "distractor"], range=[CORRECT, WRONG]),
            legend=None,
        )
    )
    text = (
        base.mark_text(align="left", dx=4)
        .encode(
            text=alt.Text("label:N"),
        )
        .transform_calculate(
            label="format(datum.chosen_rate, '.0%') + (datum.kind == 'correct' ? ' (correct)' : '')"
        )
    )
    return (bars + text).properties(
        title="Options chosen (green: correct)", height=max(120, 30 * len(options))
    )


@as_spec
def revenue(frame: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("month:O", timeUnit="yearmonth", title=None),
            y=alt.Y("net_amount:Q", title="net"),
            color=alt.Color("track:N", legend=alt.Legend(orient="top", title=None)),
            tooltip=[
                "track",
                "month:T",
                "payments",
                "amount",
                "refunds",
                "refunded_amount",
                "net_amount",
            ],
        )
        .properties(title="Net revenue per month, stacked by track", height=260)
    )
