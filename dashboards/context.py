"""What every page needs: the viewer, the refresh, and the filters from the sidebar.

`app.py` works these out once per rerun and keeps them in the session; pages read them
with `current()`. A trainer's scope is fixed to their own students, whatever the widgets
say; only admins get the trainer filter.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

from dashboards import data
from dashboards.access import Viewer

KEY = "apranova_context"
ALL_TRAINERS = "All trainers"
DEFAULT_DAYS = 28


@dataclass(frozen=True)
class Context:
    viewer: Viewer
    refresh: data.Refresh
    scope: data.Scope


def current() -> Context:
    return st.session_state[KEY]


def sidebar(viewer: Viewer, refresh: data.Refresh) -> data.Scope:
    """Track, date range and trainer filters; returns the scope they describe."""
    with st.sidebar:
        st.caption(f"Signed in through the hub as **{viewer.name}** ({viewer.role}).")
        tracks = st.multiselect("Tracks", data.tracks(), key="f_tracks", placeholder="All tracks")
        end = refresh.day
        picked = st.date_input(
            "Dates",
            value=(end - timedelta(days=DEFAULT_DAYS - 1), end),
            max_value=max(end, date.today()),
            key="f_dates",
            help="Workspace usage, quiz scores, attendance, revenue and a student's history. "
            "The overview compares the last 7 days with the 7 before.",
        )
        start, end = _range(picked, end)
        if viewer.is_admin:
            choice = st.selectbox("Trainer", [ALL_TRAINERS, *data.trainers()], key="f_trainer")
            trainer = None if choice == ALL_TRAINERS else choice
        else:
            trainer = viewer.trainer_scope
            st.caption("Showing the students assigned to you.")
    return data.Scope(start=start, end=end, trainer=trainer, tracks=tuple(tracks))


def _range(picked, fallback: date) -> tuple[date, date]:
    """A date_input range may be half-picked (one day) while the user is choosing."""
    if isinstance(picked, date):
        return picked, picked
    days = [d for d in (picked or ()) if d is not None]
    if not days:
        return fallback - timedelta(days=DEFAULT_DAYS - 1), fallback
    return min(days), max(days)
