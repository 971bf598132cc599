"""Altair charts of the pages. Labels sit on the marks, so nobody has to hunt a legend.

Each chart is built once per data and kept as its Vega-Lite spec (`st.cache_data`): building
and validating an Altair chart costs more than the rest of a cached rerun. Pages draw the
specs with `st.vega_lite_chart`.
"""

import functools
import math
from collections.abc import Callable
from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data, ui

CORRECT, WRONG, FLAGGED, OK = "#2e7d32", "#9e9e9e", "#c62828", "#1565c0"
PERCENT = ".0%"  # d3 format of a proportion: a whole percent, like ui.percent
COEFFICIENT = ".2f"  # d3 format of a coefficient (a correlation), like ui.coefficient
ROW = 20  # px per row of a heatmap or bar list: room for every label, whatever their number
MAX_DAY_TICKS = 8


def days_axis(start: date, end: date) -> dict:
    """x scale and axis of a time chart over the days start..end (inclusive).

    The domain is the whole date range, not the data's: with one point the data's domain is
    a single instant and Vega labels milliseconds (".880"). Ticks fall on days, at most
    MAX_DAY_TICKS of them, labelled like the tables ("2026-03-15").
    """
    days = (end - start).days + 1
    return {
        "scale": alt.Scale(domain=[_local(start), _local(end + timedelta(days=1))]),
        "axis": alt.Axis(
            format=ui.DATE_FORMAT,
            tickCount={"interval": "day", "step": math.ceil(days / MAX_DAY_TICKS)},
            labelOverlap=True,
        ),
    }


def _local(day: date) -> str:
    """Midnight of `day` as Vega reads the data's naive UTC timestamps (as wall time)."""
    return f"{day:%Y-%m-%d}T00:00:00"


def naive_utc(stamps: pd.Series) -> pd.Series:
    """Timestamps as naive UTC: the charts show UTC wall time, as the tables do."""
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        return stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps


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
        step=frame.apply(
            lambda r: (
                f"P{r.project_number}.{r.step_number} "
                f"{'' if ui.missing(r.step_title) else r.step_title}".strip()
            ),
            axis=1,
        ),
        label=frame.apply(lambda r: f"{r.students_completed} of {r.students_reached}", axis=1),
    )
    order = steps["step"].tolist()
    y = alt.Y("step:N", sort=order, title=None, axis=alt.Axis(labelLimit=320, labelOverlap=False))
    tooltip = [
        alt.Tooltip("project_title:N", title="project"),
        alt.Tooltip("step_title:N", title="step"),
        alt.Tooltip("students_reached:Q", title="reached", format=","),
        alt.Tooltip("students_completed:Q", title="completed", format=","),
    ]
    # room right of the longest bar for its "n of m" label
    x = alt.X(
        "students_reached:Q",
        title="students",
        scale=alt.Scale(domainMax=max(1, math.ceil(steps["students_reached"].max() * 1.25))),
        axis=alt.Axis(tickMinStep=1, format=","),
    )
    reached = alt.Chart(steps).mark_bar(color="#bbdefb").encode(x=x, y=y, tooltip=tooltip)
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
        height=alt.Step(ROW + 10),  # a row per step, whatever their number
    )


@as_spec
def score_history(frame: pd.DataFrame, start: date, end: date) -> alt.Chart:
    """A student's graded attempts over the dates picked (start..end), one point each."""
    attempts = frame.assign(submitted_at=naive_utc(frame["submitted_at"]))
    return (
        alt.Chart(attempts)
        .mark_line(point=True)
        .encode(
            x=alt.X("submitted_at:T", title=None, **days_axis(start, end)),
            y=alt.Y(
                "score:Q",
                title="score",
                axis=alt.Axis(format=PERCENT),
                scale=alt.Scale(domain=[0, 1]),
            ),
            tooltip=[
                alt.Tooltip("submitted_at:T", title="submitted", format=f"{ui.DATE_FORMAT} %H:%M"),
                alt.Tooltip("quiz_title:N", title="quiz"),
                alt.Tooltip("attempt_number:Q", title="attempt"),
                alt.Tooltip("score:Q", format=PERCENT),
            ],
        )
        .properties(title="Quiz scores", height=220)
    )


@as_spec
def daily_hours(frame: pd.DataFrame, title: str, start: date, end: date) -> alt.Chart:
    """Active hours per day over the dates picked, one bar a day."""
    return (
        alt.Chart(frame)
        .mark_bar(color=OK)
        .encode(
            x=alt.X("day:T", timeUnit="yearmonthdate", title=None, **days_axis(start, end)),
            y=alt.Y("active_hours:Q", title="active hours"),
            tooltip=[
                alt.Tooltip("day:T", timeUnit="yearmonthdate", format=ui.DATE_FORMAT),
                alt.Tooltip("active_hours:Q", title="active hours", format=",.1f"),
            ],
        )
        .properties(title=title, height=220)
    )


@as_spec
def heatmap(frame: pd.DataFrame, students: list[str], start: date, end: date) -> alt.Chart:
    """Active hours per student (rows, in the order of `students`) and day; a day without
    activity is a white cell, so a student with none at all is a white row, still named.

    The height is a step per row, not a total a long list would squeeze labels out of.
    """
    return (
        alt.Chart(frame)
        .mark_rect(stroke="#eeeeee", strokeWidth=0.5)
        .encode(
            x=alt.X("day:T", timeUnit="yearmonthdate", title=None, **days_axis(start, end)),
            y=alt.Y(
                "student:N",
                title=None,
                scale=alt.Scale(domain=students),
                axis=alt.Axis(labelOverlap=False, labelLimit=140),  # a phone keeps the cells
            ),
            color=alt.condition(  # a day without activity reads as nothing, not a pale blue
                "datum.active_hours > 0",
                alt.Color(
                    "active_hours:Q",
                    title="hours",
                    scale=alt.Scale(scheme="blues", domainMin=0),
                    legend=alt.Legend(orient="top"),
                ),
                alt.value("#ffffff"),
            ),
            tooltip=[
                "student",
                alt.Tooltip("day:T", timeUnit="yearmonthdate", format=ui.DATE_FORMAT),
                alt.Tooltip("active_hours:Q", title="active hours", format=",.1f"),
                "sessions",
            ],
        )
        .properties(title="Active hours per student and day", height=alt.Step(ROW))
    )


@as_spec
def item_scatter(frame: pd.DataFrame) -> alt.LayerChart:
    """Facility against discrimination, each item labelled Q<n> with its discrimination's 95 %
    interval as a vertical line (an item whose line crosses 0 may not discriminate at all);
    flagged items in red."""
    items = frame.dropna(subset=["facility_index", "discrimination"]).assign(
        item=lambda f: "Q" + f["question_order"].astype(str),
        state=lambda f: data.flagged(f["flag"]).map({True: "flagged", False: "ok"}),
    )
    base = alt.Chart(items).encode(
        x=alt.X(
            "facility_index:Q",
            title="facility (share correct)",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format=PERCENT),
        ),
        y=alt.Y(
            "discrimination:Q",
            title="discrimination (item-rest correlation)",
            axis=alt.Axis(format=COEFFICIENT),
        ),
        tooltip=[
            "item",
            "prompt",
            "flag",
            alt.Tooltip("facility_index:Q", title="facility", format=PERCENT),
            alt.Tooltip("discrimination:Q", format=COEFFICIENT),
            alt.Tooltip("discrimination_low:Q", title="95% from", format=COEFFICIENT),
            alt.Tooltip("discrimination_high:Q", title="95% to", format=COEFFICIENT),
        ],
    )
    color = alt.Color(
        "state:N", scale=alt.Scale(domain=["ok", "flagged"], range=[OK, FLAGGED]), legend=None
    )
    intervals = base.mark_rule(opacity=0.35).encode(
        y="discrimination_low:Q", y2="discrimination_high:Q", color=color
    )
    points = base.mark_circle(size=90).encode(color=color)
    labels = base.mark_text(align="left", dx=7, dy=-4).encode(text="item:N")
    floor = (
        alt.Chart(pd.DataFrame({"y": [0.3]}))
        .mark_rule(strokeDash=[4, 4], color=WRONG)
        .encode(y="y:Q")
    )
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color=WRONG).encode(y="y:Q")
    return (floor + zero + intervals + points + labels).properties(
        title="Facility vs discrimination (red: flagged; lines: 95% interval; dashed: 0.30, good)",
        height=320,
    )


def _option_kind(row) -> str:
    """What an option is on the distractor chart: the key, a distractor, or an attractive one
    (marts.quiz_option_stats.attractive: chosen over the key, or by the stronger students)."""
    if row.is_correct:
        return "correct"
    return "attractive distractor" if row.attractive is True else "distractor"


@as_spec
def distractors(frame: pd.DataFrame) -> alt.LayerChart:
    """How often each option was chosen, one bar per option; the key green, an attractive
    distractor red.

    The height is a step per option: a fixed pixel height was lost when Streamlit drew the
    layered chart at the container's width, which put every label on one row and no bar.
    """
    options = frame.assign(
        option=[f"{order}. {'' if ui.missing(label) else label}".strip()
                for order, label in zip(frame["option_order"], frame["label"], strict=True)],
        kind=[_option_kind(row) for row in frame.itertuples()],
        shown=[f"{ui.percent(rate)}{' (correct)' if ok else ''}"
               for rate, ok in zip(frame["chosen_rate"], frame["is_correct"], strict=True)],
    )  # fmt: skip
    base = alt.Chart(options).encode(
        y=alt.Y("option:N", sort=options["option"].tolist(), title=None,
                axis=alt.Axis(labelLimit=320)),
        x=alt.X("chosen_rate:Q", title="chosen by", axis=alt.Axis(format=PERCENT),
                scale=alt.Scale(domain=[0, 1])),
        tooltip=[
            "option",
            "kind",
            alt.Tooltip("chosen_count:Q", title="chosen", format=","),
            alt.Tooltip("chosen_rate:Q", title="share", format=PERCENT),
            alt.Tooltip("point_biserial:Q", title="point-biserial", format=COEFFICIENT),
        ],
    )  # fmt: skip
    kinds = ["correct", "distractor", "attractive distractor"]
    bars = base.mark_bar().encode(
        color=alt.Color(
            "kind:N", scale=alt.Scale(domain=kinds, range=[CORRECT, WRONG, FLAGGED]), legend=None
        )
    )
    text = base.mark_text(align="left", dx=4).encode(text="shown:N")
    return (bars + text).properties(
        title="Options chosen (green: correct; red: attractive distractor)",
        height=alt.Step(ROW + 10),
    )


@as_spec
def revenue(frame: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("month:O", timeUnit="yearmonth", title=None, axis=alt.Axis(format="%Y-%m")),
            y=alt.Y("net_amount:Q", title="net", axis=alt.Axis(format=",.0f")),
            color=alt.Color("track:N", legend=alt.Legend(orient="top", title=None)),
            tooltip=[
                "track",
                alt.Tooltip("month:T", timeUnit="yearmonth", format="%Y-%m"),
                alt.Tooltip("payments:Q", format=","),
                alt.Tooltip("amount:Q", format=",.2f"),
                alt.Tooltip("refunds:Q", format=","),
                alt.Tooltip("refunded_amount:Q", title="refunded", format=",.2f"),
                alt.Tooltip("net_amount:Q", title="net", format=",.2f"),
            ],
        )
        .properties(title="Net revenue per month, stacked by track", height=260)
    )
