"""Hub workspace activity of the synthetic students, as landing Parquet files.

The contract is the pipeline's hub collector's: username, server_name ('' = the default
server), started (the server's start: one session), last_activity and observed_at, all UTC.
While a student works, the hub refreshes last_activity about every 5 minutes, so a session
of L five-minute buckets is L rows, each observed a few seconds after its last_activity.
Students who stalled have no activity after that (the "inactive for N days" sign), and a
few never opened a workspace at all. A fader's working days thin out towards the stop; a
returner's thin out in the week before the break, stop during it and come back after.
"""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lms_api.state import warehouse_path
from lms_api.synthetic.common import (
    DAY,
    HOUR,
    MINUTE,
    SECOND,
    UTC_US,
    pick,
    positions,
    sigmoid,
    stream,
)
from lms_api.synthetic.curriculum import Curriculum
from lms_api.synthetic.school import School

BUCKET = 5 * MINUTE
SCHEMA = pa.schema(
    [
        ("username", pa.string()),
        ("server_name", pa.string()),
        ("started", UTC_US),
        ("last_activity", UTC_US),
        ("observed_at", UTC_US),
    ]
)


def default_activity_dir() -> Path:
    """`landing/hub_activity` beside the warehouse file, as the pipeline reads it."""
    return warehouse_path().parent / "landing" / "hub_activity"


def build_activity(seed: int, school: School, curriculum: Curriculum, now: int) -> pa.Table:
    rng = stream(seed, "activity")
    learners = np.flatnonzero(school.learner_primary)
    student = school.learner_student[learners]
    start, end = school.learner_start[learners], np.minimum(school.learner_end[learners], now)
    theta = school.theta[student]
    ever = rng.random(len(learners)) >= 0.03
    first_day, last_day = start // DAY, end // DAY
    n_days = np.where(ever, last_day - first_day + 1, 0)
    learner = np.repeat(np.arange(len(learners)), n_days)
    day = first_day[learner] + positions(n_days)
    works = rng.random(len(day)) < sigmoid(-0.6 + 0.6 * theta[learner]) * keen(
        school, learners[learner], day * DAY + DAY // 2, end[learner]
    )
    learner, day = learner[works], day[works]
    # one session on a working day, a second one in the evening now and then
    evening = rng.random(len(day)) < 0.25
    learner = np.concatenate([learner, learner[evening]])
    hour = np.concatenate(
        [rng.normal(11.0, 2.0, len(day)), rng.normal(18.0, 2.0, int(evening.sum()))]
    )
    day = np.concatenate([day, day[evening]])
    began = day * DAY + (np.clip(hour, 6.0, 23.5) * HOUR).astype(np.int64)
    length = np.clip(np.rint(rng.lognormal(np.log(5.0), 0.6, len(day))), 1, 40).astype(np.int64)
    keep = (began >= start[learner]) & (began + length * BUCKET <= end[learner] - MINUTE)
    learner, began, length = learner[keep], began[keep], length[keep]
    kinds = [
        next((k for k in track.workspace_kinds if k != "jupyterlab"), "")
        for track in curriculum.tracks
    ]
    named = rng.random(len(learner)) < 0.2
    server = np.where(named, 1 + school.learner_track[learners][learner], 0)
    # one row per five-minute bucket of each session
    session = np.repeat(np.arange(len(learner)), length)
    bucket = positions(length)
    last_activity = (
        began[session] + bucket * BUCKET + rng.uniform(20, 280, len(session)) * SECOND
    ).astype(np.int64)
    observed = last_activity + (rng.uniform(2, 40, len(session)) * SECOND).astype(np.int64)
    fits = observed <= now
    session, last_activity, observed = session[fits], last_activity[fits], observed[fits]
    who = student[learner[session]]
    order = np.lexsort((who, observed))
    session, who = session[order], who[order]
    return pa.table(
        {
            "username": pa.array(school.usernames).take(pa.array(who)),
            "server_name": pick(["", *kinds], server[session]),
            "started": pa.array(began[session], type=UTC_US),
            "last_activity": pa.array(last_activity[order], type=UTC_US),
            "observed_at": pa.array(observed[order], type=UTC_US),
        },
        schema=SCHEMA,
    )


def keen(school: School, learner, moment, end) -> np.ndarray:
    """How much of a student's usual chance to work on a day is left (0..1) on their
    dropout path: falling to nothing over a fader's fade (a quarter halfway), to a fifth the
    week before a break, none during it."""
    keen = np.ones(len(learner))
    if school.learner_path is None:
        return keen
    fade = school.learner_fade_start[learner]
    fading = (fade > 0) & (moment > fade)
    left = (end - moment) / np.maximum(end - fade, 1)
    keen = np.where(fading, np.clip(left, 0.0, 1.0) ** 2, keen)
    pause, back = school.learner_pause_start[learner], school.learner_pause_end[learner]
    before = (pause > 0) & (moment < pause) & (moment >= pause - 7 * DAY)
    keen = np.where(before, np.clip((pause - moment) / (7 * DAY), 0.2, 1.0), keen)
    return np.where((pause > 0) & (moment >= pause) & (moment < back), 0.0, keen)


def write_activity(table: pa.Table, folder: Path, seed: int) -> Path:
    """One Parquet file, written beside its final name and renamed, so a pipeline run that
    lists the folder meanwhile never reads half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"synthetic-{seed}.parquet"
    partial = path.with_name(path.name + ".partial")
    pq.write_table(table, partial, row_group_size=1_000_000, compression="zstd")
    partial.replace(path)
    return path
