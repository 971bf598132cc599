"""Class sessions of the synthetic school, and the workspace activity the hub recorded in them.

Every trainer holds a weekly two-hour class in each track where some of their students are
actively enrolled, in the track's first workspace kind, for their students (audience
`trainer`: whom it expects is the LMS's rule, read again at every read): one a week over the
school's period, the two of the coming weeks, and one of the past ones cancelled.

For every past class that was held, each expected student who was working then (started, not
stopped, not on a break) comes with a chance that grows with ability and shrinks while they
fade or in the week before a break (`activity.keen`); most of those are seen within the first
minutes (present), some later (late); the others have no row (absent). One
`workspace_activity` row per student and class, inside the class's window, as the hub writes.
"""

import numpy as np
import pyarrow as pa

from lms_api.class_sessions.enums import Audience
from lms_api.synthetic.activity import keen
from lms_api.synthetic.common import (
    DAY,
    HOUR,
    MINUTE,
    constant,
    ints,
    pick,
    positions,
    sigmoid,
    stream,
    ts,
)
from lms_api.synthetic.curriculum import Curriculum, Ids
from lms_api.synthetic.school import School

LENGTH = 2 * HOUR
UPCOMING = 2  # classes of the coming weeks, per trainer and track
# Seen at most this long after the start: present under the LMS's default threshold (10 min).
PRESENT_WITHIN = 9 * MINUTE


def build_sessions(
    seed: int, school: School, curriculum: Curriculum, days: int, now: int, ids: Ids
) -> dict[str, pa.Table]:
    """`class_sessions` and `workspace_activity` rows (ids taken from `ids`)."""
    rng = stream(seed, "class sessions")
    tracks = curriculum.tracks
    n_tracks = len(tracks)
    kinds = [t.workspace_kinds[0] if t.workspace_kinds else "" for t in tracks]
    # the learners the classes expect: active enrollments, by trainer, track and student
    learner = np.flatnonzero(school.learner_active)
    learner = learner[np.array([bool(k) for k in kinds], dtype=bool)[school.learner_track[learner]]]
    student = school.learner_student[learner]
    key = school.trainer_of[student] * n_tracks + school.learner_track[learner]
    order = np.lexsort((student, key))
    learner, key = learner[order], key[order]
    series_key, first, per_series = np.unique(key, return_index=True, return_counts=True)
    n_series = len(series_key)
    s_trainer, s_track = series_key // n_tracks, series_key % n_tracks

    # --- the classes: the last past one 1-6 days ago, between 9:00 and 17:00 UTC ----------
    past = max(days // 7, 1)
    slots = past + UPCOMING
    today = now // DAY * DAY
    anchor = (
        today - 6 * DAY + rng.integers(0, 6, n_series) * DAY + rng.integers(9, 17, n_series) * HOUR
    )
    series = np.repeat(np.arange(n_series), slots)
    number = np.tile(np.arange(slots), n_series)  # 0: the first; past - 1: the last past one
    starts = anchor[series] + (number - (past - 1)) * 7 * DAY
    ends = starts + LENGTH
    # one cancelled: a past class other than the last (or the last upcoming one)
    if past >= 2:
        cancelled = number == rng.integers(0, past - 1, n_series)[series]
    else:
        cancelled = number == slots - 1
    n = len(series)
    created = np.minimum(
        starts - (rng.uniform(2, 7, n) * DAY).astype(np.int64),
        now - (rng.uniform(1, 24, n) * HOUR).astype(np.int64),
    )
    created = np.maximum(created, school.trainer_created[s_trainer[series]] + HOUR)
    cancelled_at = np.minimum(
        starts - (rng.uniform(2, 24, n) * HOUR).astype(np.int64), now - MINUTE
    )
    cancelled_at = np.maximum(cancelled_at, created + MINUTE)
    by_creation = np.lexsort((number, series, created))
    session_id = np.empty(n, dtype=np.int64)
    session_id[by_creation] = ids.take("class_sessions", n)
    titles = [f"{t.code} weekly class" for t in tracks]
    o = by_creation
    sessions = pa.table(
        {
            "id": ints(session_id[o]),
            "title": pick(titles, s_track[series][o]),
            "track_id": ints(np.array([t.id for t in tracks], dtype=np.int64)[s_track[series][o]]),
            "workspace_kind": pick(kinds, s_track[series][o]),
            "starts_at": ts(starts[o]),
            "ends_at": ts(ends[o]),
            "audience": constant(Audience.TRAINER.value, n),
            "created_by_id": ints(school.trainer_ids[s_trainer[series][o]]),
            "cancelled_at": ts(cancelled_at[o], null=~cancelled[o]),
            "created_at": ts(created[o]),
            "updated_at": ts(np.where(cancelled, cancelled_at, created)[o]),
        }
    )

    # --- who came to the classes held ---------------------------------------------------
    held = np.flatnonzero(~cancelled & (ends <= now))
    counts = per_series[series[held]]
    pair_session = np.repeat(held, counts)
    pair_learner = learner[np.repeat(first[series[held]], counts) + positions(counts)]
    begin, end = starts[pair_session], ends[pair_session]
    stop = school.learner_end[pair_learner]
    theta = school.theta[school.learner_student[pair_learner]]
    m = len(pair_session)
    working = (school.learner_start[pair_learner] <= begin) & (begin < stop)
    chance = sigmoid(2.2 + 0.7 * theta) * keen(school, pair_learner, begin, stop)
    comes = working & (rng.random(m) < chance)
    late = rng.random(m) < sigmoid(-1.6 - 0.5 * theta)
    after = np.where(
        late, rng.uniform(11 * MINUTE, 75 * MINUTE, m), rng.uniform(0, PRESENT_WITHIN, m)
    ).astype(np.int64)
    first_seen = begin + after
    last_seen = np.minimum(first_seen + rng.uniform(20 * MINUTE, LENGTH, m).astype(np.int64), end)
    came = np.flatnonzero(comes)
    who = school.student_ids[school.learner_student[pair_learner[came]]]
    which = session_id[pair_session[came]]
    o = np.lexsort((who, which, first_seen[came]))
    activity = pa.table(
        {
            "id": ints(ids.take("workspace_activity", len(came))),
            "class_session_id": ints(which[o]),
            "person_id": ints(who[o]),
            "first_seen_at": ts(first_seen[came][o]),
            "last_seen_at": ts(last_seen[came][o]),
        }
    )
    return {"class_sessions": sessions, "workspace_activity": activity}
