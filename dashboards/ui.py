"""Shared page parts: tables with a CSV download, metrics with last week's change, and the
one way each kind of quantity reads on every page.

One format per quantity: a proportion (facility, score, share, precision) is a whole percent
("59%") in metrics, tables, captions and chart axes; a coefficient (discrimination index,
point-biserial, alpha, risk score) has two decimals ("0.50"); counts, hours and money have
thousands separators and fixed digits ("1,700.00"); a day is "2026-03-15", a moment within it
(a class session's start, a first activity) "2026-03-15 09:05" in UTC; a missing value is
an em dash in text and an empty cell in tables, never "None" or "nan". A change that rounds to
nothing reads "no change", grey, with no arrow.
"""

import re
from dataclasses import dataclass

import pandas as pd
import streamlit as st

MAX_ROWS = 2000
MISSING = "\u2014"  # em dash: what a metric or a sentence shows for "no value"
PERCENT_FORMAT = "%.0f%%"  # a proportion's column, once scaled to 0..100 by `table`
NO_CHANGE = "no change vs last week"
DATE_FORMAT = "%Y-%m-%d"  # a day, in text, tables, chart axes and tooltips
DATE_WIDTH = 100  # px of a table's date column
MOMENT_FORMAT = "YYYY-MM-DD HH:mm"  # a day and minute (UTC), in tables
MOMENT_WIDTH = 140  # px of a table's moment column


@dataclass(frozen=True)
class Percent:
    """Column config for a proportion (0..1): shown as a whole percent, like `percent()`.

    Streamlit's own "percent" format always prints two decimals ("42.81%"); the table shows
    the column times 100 with no decimals instead. The CSV keeps the proportion.
    """

    label: str | None = None
    help: str | None = None
    bar: bool = False  # a progress bar (completion) rather than a plain number

    def column(self) -> dict:
        if self.bar:
            return st.column_config.ProgressColumn(
                self.label, help=self.help, min_value=0, max_value=100, format=PERCENT_FORMAT
            )
        return st.column_config.NumberColumn(self.label, help=self.help, format=PERCENT_FORMAT)


def number_column(label: str | None = None, digits: int = 0, **options) -> dict:
    """Column config for a count, hours or money: the same digits and separators as
    `number()` ('1,700.00'), which Streamlit's default would print as '1700'."""
    return st.column_config.NumberColumn(label, format=f"%,.{digits}f", **options)


def coefficient_column(label: str | None = None, **options) -> dict:
    """Column config for a coefficient (risk score, discrimination): two decimals."""
    return st.column_config.NumberColumn(label, format="%.2f", **options)


def date_column(label: str | None = None, **options) -> dict:
    """Column config for a day or an instant: read as a day, like `when()`. Wide enough for
    the date: Streamlit sizes a column from its first rows, which may all be empty."""
    options.setdefault("width", DATE_WIDTH)
    return st.column_config.DatetimeColumn(label, format="YYYY-MM-DD", **options)


def moment_column(label: str | None = None, **options) -> dict:
    """Column config for an instant whose time of day matters (a class session's start, a
    first activity): day and minute, in UTC like every time on these pages."""
    options.setdefault("width", MOMENT_WIDTH)
    return st.column_config.DatetimeColumn(label, format=MOMENT_FORMAT, timezone="UTC", **options)


def table(frame: pd.DataFrame, name: str, **column_config) -> None:
    """A table and its CSV download (the file name says what it is).

    At most MAX_ROWS rows are sent to the browser: an admin's view of a large school would
    otherwise ship megabytes on every rerun. The CSV always has every row. Pass `Percent(...)`
    for proportion columns.
    """
    shown = frame if len(frame) <= MAX_ROWS else frame.head(MAX_ROWS)
    percents = [c for c, config in column_config.items() if isinstance(config, Percent)]
    if percents:
        shown = shown.assign(**{c: shown[c] * 100 for c in percents if c in shown})
        column_config = {
            c: config.column() if isinstance(config, Percent) else config
            for c, config in column_config.items()
        }
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config=column_config or None,
        placeholder="",  # a missing cell is empty, not the word "None"
    )
    if len(shown) < len(frame):
        st.caption(
            f"The first {MAX_ROWS:,} of {len(frame):,} rows; pick a trainer or a track to "
            "narrow them, or download them all."
        )
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    # The CSV is made when the button is clicked: writing 100k rows on every rerun would
    # cost more than the rest of the page.
    st.download_button(
        f"Download {name} (CSV)",
        lambda: frame.to_csv(index=False),
        file_name=f"{slug}.csv",
        mime="text/csv",
        key=f"csv-{slug}",
        on_click="ignore",
    )


def missing(value) -> bool:
    """None, NaN, NaT or pd.NA: a cell or metric with nothing to show."""
    return pd.api.types.is_scalar(value) and bool(pd.isna(value))


def percent(value) -> str:
    """A proportion (0..1) as a whole percent: '59%'."""
    return MISSING if missing(value) else f"{100 * value:.0f}%"


def coefficient(value) -> str:
    """A coefficient (discrimination, point-biserial, alpha) with two decimals: '0.50'."""
    # round first: -0.001 reads "0.00", not "-0.00"
    return MISSING if missing(value) else f"{round(value, 2) + 0.0:.2f}"


def number(value, digits: int = 0) -> str:
    """A count, hours or an amount with thousands separators: '1,700.00'."""
    return MISSING if missing(value) else f"{value:,.{digits}f}"


def delta(this, last, *, scale: float = 1, digits: int = 0, unit: str = "") -> str | None:
    """'+3' / '-1.5 pts' against last week; NO_CHANGE when the change rounds to nothing at
    the digits shown (never '+0' or '-0.0'); None when either week has no value."""
    if missing(this) or missing(last):
        return None
    change = round((this - last) * scale, digits)
    if change == 0:
        return NO_CHANGE
    return f"{change:+,.{digits}f}{unit} vs last week"


def change(this, last, *, better: str = "higher", **shown) -> dict:
    """st.metric's delta, its colour and arrow: green when the change is for the better
    (`better`: "higher" or "lower"), red when for the worse, grey and no arrow when
    nothing changed. Streamlit itself would draw '+0' as a rise (red, for "lower")."""
    if better not in ("higher", "lower"):
        raise ValueError(f"better is 'higher' or 'lower', not {better!r}")
    text = delta(this, last, **shown)
    if text is None or text == NO_CHANGE:
        return {"delta": text, "delta_color": "off", "delta_arrow": "off"}
    return {"delta": text, "delta_color": "normal" if better == "higher" else "inverse"}


def when(value) -> str:
    """A day as the tables show it ('2026-03-15'); 'never' for no value."""
    return "never" if missing(value) else pd.Timestamp(value).strftime(DATE_FORMAT)


def ago(refresh) -> str:
    """'12 min ago' / '5 h ago' / '3 days ago': how stale the marts are, at a glance."""
    minutes = int(
        (pd.Timestamp.now(tz="UTC") - pd.Timestamp(refresh.refreshed_at)).total_seconds() // 60
    )
    if minutes < 120:
        return f"{max(minutes, 0)} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"
