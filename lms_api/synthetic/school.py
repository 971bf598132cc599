"""People, trainers, enrollments (with their history and payments), step completions and
submissions of the synthetic school, drawn with numpy from a few per-student traits.

Every student has an ability `theta` ~ N(0, 1). It drives the pace through the track, the
chance to stall (stop working: no steps, no workspace activity, no quizzes afterwards, the
at-risk signs), the quiz answers (see quizzes.py) and the workspace activity.

Each enrollment that was active follows one dropout path (`School.learner_path`), so the
at-risk backtest has real dropouts to find and real false alarms to count:
- STEADY: works until now (or until the enrollment was cancelled or refunded);
- FADER: works less and less over the 2-4 weeks before stopping for good (steps slow down,
  workspace days thin out), then nothing;
- STOPPER: stops at once;
- FAILED_QUIZ: a stopper whose last quiz came in the week before the stop; seed.py makes
  them fail it (a bad day), so they stop after a failed quiz;
- RETURNER: thins out, takes a 10-24 day break with nothing at all, then comes back.
"""

import hashlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from lms_api.synthetic.catalog import (
    ASSIGNED_BY,
    EMAIL_DOMAIN,
    FIRST_NAMES,
    LAST_NAMES,
    STUDENT_DIGITS,
    STUDENT_PREFIX,
    TRACK_WEIGHTS,
    TRAINER_DIGITS,
    TRAINER_PREFIX,
)
from lms_api.synthetic.common import (
    DAY,
    HOUR,
    MINUTE,
    SECOND,
    constant,
    ints,
    pick,
    sigmoid,
    stream,
    strings,
    ts,
)
from lms_api.synthetic.curriculum import Curriculum, Ids

ACTIVE, PENDING, CANCELLED, REFUNDED = 0, 1, 2, 3
STATUS = ["active", "pending_payment", "cancelled", "refunded"]
GRANT, PAYMENT = 0, 1
SOURCE = ["grant", "payment"]
OFFICE, PROVIDER = "office", "stripe"
# Students progress faster than the nominal schedule (duration_weeks) by this median factor.
MEDIAN_SPEED = 1.8
STEADY, FADER, STOPPER, RETURNER, FAILED_QUIZ = 0, 1, 2, 3, 4
PATHS = ["steady", "fader", "stopper", "returner", "failed_quiz"]
FADER_SHARE = 0.6  # of the students who stall, the ones who fade out (the others stop at once)
RETURNER_SHARE = 0.12  # of those who do not stall, the ones who take a break and come back
# While fading, steps come this many times slower than the student's pace.
FADE_SLOWDOWN = 3.0


@dataclass
class School:
    """What the quiz and activity generators need to know about the students."""

    student_ids: np.ndarray
    usernames: list[str]
    theta: np.ndarray  # ability, per student
    # enrollments that were active for a while: student index, track index, when the
    # student could work (start) and stopped (end: now, cancellation, refund or stall)
    learner_student: np.ndarray
    learner_track: np.ndarray
    learner_start: np.ndarray
    learner_end: np.ndarray
    learner_primary: np.ndarray
    trainer_usernames: list[str]
    tables: dict[str, pa.Table]  # in insertion order
    # the dropout path of each learner (STEADY, FADER, ...: PATHS), when a fader
    # starts fading, and a returner's break [pause_start, pause_end) (0: none)
    learner_path: np.ndarray | None = None
    learner_fade_start: np.ndarray | None = None
    learner_pause_start: np.ndarray | None = None
    learner_pause_end: np.ndarray | None = None
    # the trainers (person ids, when their accounts were made), each student's trainer, and
    # which learners' enrollments are active now (whom a trainer's class sessions expect)
    trainer_ids: np.ndarray | None = None
    trainer_created: np.ndarray | None = None
    trainer_of: np.ndarray | None = None
    learner_active: np.ndarray | None = None


def build_school(
    seed: int,
    students: int,
    trainers: int,
    days: int,
    now: int,
    curriculum: Curriculum,
    ids: Ids,
    trainer_cap: int = 20,
) -> School:
    """`trainers` is a minimum: there are as many more as the LMS's cap on students per
    trainer (`trainer_cap`) needs, each trainer teaching one track."""
    tracks = curriculum.tracks
    n_tracks = len(tracks)
    rng = stream(seed, "students")
    theta = rng.standard_normal(students)
    weights = np.array([TRACK_WEIGHTS.get(t.code, 0.2) for t in tracks])
    primary_track = rng.choice(n_tracks, size=students, p=weights / weights.sum())
    trainer_track = _trainer_tracks(
        np.bincount(primary_track, minlength=n_tracks), trainers, trainer_cap
    )
    trainers = len(trainer_track)
    second = (rng.random(students) < 0.05) & (n_tracks > 1)
    second_track = (primary_track + 1 + rng.integers(0, max(n_tracks - 1, 1), students)) % n_tracks
    person_ids = ids.take("people", trainers + students)
    trainer_ids, student_ids = person_ids[:trainers], person_ids[trainers:]
    width = max(STUDENT_DIGITS, len(str(students)))
    usernames = [f"{STUDENT_PREFIX}{i:0{width}d}" for i in range(1, students + 1)]
    t_width = max(TRAINER_DIGITS, len(str(trainers)))
    trainer_names = [f"{TRAINER_PREFIX}{i:0{t_width}d}" for i in range(1, trainers + 1)]

    # --- enrollments ----------------------------------------------------------------------
    e_student = np.concatenate([np.arange(students), np.flatnonzero(second)])
    e_track = np.concatenate([primary_track, second_track[second]])
    e_primary = np.arange(len(e_student)) < students
    n = len(e_student)
    rng = stream(seed, "enrollments")
    u = rng.random(n)
    status = np.where(
        e_primary,
        np.select([u < 0.80, u < 0.87, u < 0.93], [ACTIVE, PENDING, CANCELLED], REFUNDED),
        np.select([u < 0.45, u < 0.90], [ACTIVE, PENDING], CANCELLED),
    )
    never_active = (status == PENDING) | ((status == CANCELLED) & (rng.random(n) < 0.25))
    source = np.where(never_active | (status == REFUNDED) | (rng.random(n) < 0.75), PAYMENT, GRANT)
    days_ago = np.clip(days * rng.beta(2.0, 1.3, n), 0.3, days)
    created = (now - days_ago * DAY).astype(np.int64)
    first_created = created[:students]
    later = ~e_primary
    created[later] = first_created[e_student[later]] + (
        rng.uniform(0.05, 0.95, later.sum()) * (now - first_created[e_student[later]])
    ).astype(np.int64)
    delay = np.minimum(rng.lognormal(np.log(15 * MINUTE), 1.2, n), 0.5 * (now - created))
    activated = np.where(source == GRANT, created, created + delay.astype(np.int64))
    was_active = ~never_active
    base = np.where(was_active, activated, created)
    share = np.where(status == REFUNDED, rng.uniform(0.05, 0.5, n), rng.uniform(0.1, 0.9, n))
    ended = np.where(
        (status == CANCELLED) | (status == REFUNDED),
        base + (share * (now - base)).astype(np.int64),
        0,
    )
    work_end = np.where(ended > 0, ended, now)
    stalled = rng.random(n) < sigmoid(-1.0 - 0.9 * theta[e_student])
    stall_at = activated + (rng.uniform(0.05, 0.95, n) * (work_end - activated)).astype(np.int64)
    work_end = np.where(stalled & was_active, stall_at, work_end)
    path, fade_start, pause_start, pause_end = _paths(
        seed, stalled & was_active, activated, work_end, ended, now
    )

    order = np.lexsort((np.arange(n), created))  # ids in the order the rows were made
    enrollment_id = np.empty(n, dtype=np.int64)
    enrollment_id[order] = ids.take("enrollments", n)

    # --- people and trainers -----------------------------------------------------------------
    rng = stream(seed, "people")
    student_created = first_created - rng.uniform(MINUTE, 2 * DAY, students).astype(np.int64)
    trainer_created = now - ((days + rng.uniform(30, 120, trainers)) * DAY).astype(np.int64)
    names = np.char.add(
        np.char.add(
            np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), students + trainers)], " "
        ),
        np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), students + trainers)],
    )
    # The students of a track dealt out to its trainers in a shuffled order: at most
    # ceil(students / trainers) each, never more than the cap.
    trainer_of = np.empty(students, dtype=np.int64)
    for t in range(n_tracks):
        pool = np.flatnonzero(trainer_track == t)
        mine = np.flatnonzero(primary_track == t)
        trainer_of[mine] = pool[rng.permutation(len(mine)) % len(pool)] if len(mine) else 0
    assigned = np.bincount(trainer_of, minlength=trainers)
    assigned_at = np.minimum(
        first_created + rng.uniform(MINUTE, DAY, students).astype(np.int64), now - MINUTE
    )
    all_names = [*trainer_names, *usernames]
    all_created = np.concatenate([trainer_created, student_created])
    people = pa.table(
        {
            "id": ints(np.concatenate([trainer_ids, student_ids])),
            "username": strings(all_names),
            "name": strings(names.tolist()),
            "email": strings([f"{name}@{EMAIL_DOMAIN}" for name in all_names]),
            "is_active": constant(True, students + trainers),
            "assigned_students": ints(np.concatenate([assigned, np.zeros(students)])),
            "created_at": ts(all_created),
            "updated_at": ts(all_created),
        }
    )
    assignments = pa.table(
        {
            "id": ints(ids.take("trainer_assignments", students)),
            "trainer_id": ints(trainer_ids[trainer_of]),
            "student_id": ints(student_ids),
            "assigned_by": constant(ASSIGNED_BY, students),
            "created_at": ts(assigned_at),
        }
    )

    # --- enrollment history and payments ------------------------------------------------
    events = _enrollment_events(
        ids,
        enrollment_id,
        e_student,
        usernames,
        status,
        source,
        never_active,
        created,
        activated,
        ended,
    )
    updated = np.maximum.reduce([created, np.where(was_active, activated, 0), ended])
    enrollments = pa.table(
        {
            "id": ints(enrollment_id[order]),
            "person_id": ints(student_ids[e_student][order]),
            "track_id": ints(np.array([t.id for t in tracks])[e_track][order]),
            "status": pick(STATUS, status[order]),
            "source": pick(SOURCE, source[order]),
            "created_at": ts(created[order]),
            "updated_at": ts(updated[order]),
        }
    )
    payments = _payments(
        seed,
        ids,
        curriculum,
        student_ids[e_student],
        e_track,
        status,
        source,
        never_active,
        created,
        activated,
        ended,
        now,
    )

    # --- progress and submissions (enrollments that were active) ----------------------
    learners = np.flatnonzero(was_active)
    completions, submissions = _progress(
        seed,
        ids,
        curriculum,
        learners,
        e_student,
        e_track,
        student_ids,
        usernames,
        trainer_names,
        trainer_of,
        theta,
        activated,
        work_end,
        now,
        fade_start,
        pause_start,
        pause_end,
    )
    tables = {
        "people": people,
        "trainer_assignments": assignments,
        "enrollments": enrollments,
        "enrollment_events": events,
        "payments": payments,
        "step_completions": completions,
        **submissions,
    }
    return School(
        student_ids=student_ids,
        usernames=usernames,
        theta=theta,
        learner_student=e_student[learners],
        learner_track=e_track[learners],
        learner_start=activated[learners],
        learner_end=work_end[learners],
        learner_primary=e_primary[learners],
        trainer_usernames=trainer_names,
        tables=tables,
        learner_path=path[learners],
        learner_fade_start=fade_start[learners],
        learner_pause_start=pause_start[learners],
        learner_pause_end=pause_end[learners],
        trainer_ids=trainer_ids,
        trainer_created=trainer_created,
        trainer_of=trainer_of,
        learner_active=status[learners] == ACTIVE,
    )


def _trainer_tracks(per_track: np.ndarray, trainers: int, cap: int) -> np.ndarray:
    """The track of each trainer: enough for every track's students under the cap, and the
    trainers asked for beyond that spread over the tracks with most students per trainer."""
    need = -(-per_track // cap)  # ceil: every track with students has one at least
    if need.sum() == 0:
        need[0] = 1
    while need.sum() < trainers:
        need[np.argmax(per_track / np.maximum(need, 1))] += 1
    return np.repeat(np.arange(len(per_track)), need)


def _paths(seed, stalled, start, end, ended, now):
    """Each enrollment's dropout path, from a stream of its own (the other draws are the same
    with or without paths). Fading takes 2-4 weeks before the stop (or all the time there
    was); a break starts at least a week in, lasts 10-24 days and ends a week before `now`
    at the latest, so the return shows."""
    rng = stream(seed, "dropout paths")
    n = len(start)
    fades = stalled & (rng.random(n) < FADER_SHARE)
    fade_len = rng.uniform(14, 28, n) * DAY
    fade_start = np.where(fades, np.maximum(start, end - fade_len.astype(np.int64)), 0)
    pause_len = (rng.uniform(10, 24, n) * DAY).astype(np.int64)
    room = now - 7 * DAY - pause_len - (start + 7 * DAY)
    returns = ~stalled & (ended == 0) & (room > 0) & (rng.random(n) < RETURNER_SHARE)
    pause_start = np.where(
        returns, start + 7 * DAY + (rng.random(n) * np.maximum(room, 0)).astype(np.int64), 0
    )
    pause_end = np.where(returns, pause_start + pause_len, 0)
    path = np.select([fades, stalled, returns], [FADER, STOPPER, RETURNER], STEADY)
    return path, fade_start, pause_start, pause_end


def _enrollment_events(
    ids,
    enrollment_id,
    e_student,
    usernames,
    status,
    source,
    never_active,
    created,
    activated,
    ended,
) -> pa.Table:
    """Each enrollment's status changes, as the LMS writes them."""
    paid = source == PAYMENT
    parts = []  # (mask, from, to, actor kind, reason, at)
    # 0 student, 1 office, 2 provider
    parts.append((paid, None, "pending_payment", 0, "Checkout started", created))
    parts.append((~paid, None, "active", 1, "Granted by the school", created))
    paid_up = paid & ~never_active
    parts.append((paid_up, "pending_payment", "active", 2, "Payment succeeded", activated))
    cancelled = status == CANCELLED
    parts.append((cancelled & ~never_active, "active", "cancelled", 1, "Left the course", ended))
    parts.append((cancelled & never_active, "pending_payment", "cancelled", 1, "Never paid", ended))
    parts.append((status == REFUNDED, "active", "refunded", 2, "Payment refunded", ended))
    rows = {k: [] for k in ("enrollment", "student", "from", "to", "actor", "reason", "at", "seq")}
    for seq, (mask, from_status, to_status, actor, _reason, at) in enumerate(parts):
        which = np.flatnonzero(mask)
        rows["enrollment"].append(which)
        rows["student"].append(e_student[which])
        before = -1 if from_status is None else STATUS.index(from_status)
        rows["from"].append(np.full(len(which), before))
        rows["to"].append(np.full(len(which), STATUS.index(to_status)))
        rows["actor"].append(np.full(len(which), actor))
        rows["reason"].append(np.full(len(which), seq))
        rows["at"].append(at[which])
        rows["seq"].append(np.full(len(which), seq))
    cat = {k: np.concatenate(v) for k, v in rows.items()}
    order = np.lexsort((cat["seq"], cat["enrollment"], cat["at"]))
    cat = {k: v[order] for k, v in cat.items()}
    m = len(order)
    students = pa.array(usernames).take(pa.array(cat["student"]))
    actor = np.where(
        cat["actor"] == 0,
        students.to_numpy(zero_copy_only=False),
        np.where(cat["actor"] == 1, OFFICE, PROVIDER),
    )
    reasons = [p[4] for p in parts]
    return pa.table(
        {
            "id": ints(ids.take("enrollment_events", m)),
            "enrollment_id": ints(enrollment_id[cat["enrollment"]]),
            "from_status": pa.array([None, *STATUS], type=pa.string()).take(
                pa.array(cat["from"] + 1)
            ),
            "to_status": pick(STATUS, cat["to"]),
            "source": pick(SOURCE, source[cat["enrollment"]]),
            "actor": strings(actor.tolist()),
            "reason": pick(reasons, cat["reason"]),
            "created_at": ts(cat["at"]),
        }
    )


def _payments(
    seed,
    ids,
    curriculum,
    person_id,
    e_track,
    status,
    source,
    never_active,
    created,
    activated,
    ended,
    now,
) -> pa.Table:
    """Stripe payments of the paid enrollments: succeeded (some after a failed try),
    refunded, pending and failed."""
    rng = stream(seed, "payments")
    n = len(status)
    price = np.array([t.price_cents for t in curriculum.tracks])[e_track]
    currency = np.array([t.currency for t in curriculum.tracks])[e_track]
    discount = np.select([rng.random(n) < 0.05, rng.random(n) < 0.12], [0.25, 0.10], 0.0)
    amount = (np.round(price * (1 - discount) / 100) * 100).astype(np.int64)
    paid = (source == PAYMENT) & ~never_active
    pending = never_active & (status == PENDING)
    u = rng.random(n)
    rows = []  # (mask, status, created, paid_at, refunded_at, refunded_cents)
    none = np.zeros(n, dtype=np.int64)
    # a failed try before the payment that went through
    tried = paid & (rng.random(n) < 0.06)
    rows.append((tried, "failed", created + (activated - created) // 5, none, none, none))
    ok = paid & (status != REFUNDED)
    at = created + (activated - created) * 3 // 5
    rows.append((ok, "succeeded", at, activated, none, none))
    full = rng.random(n) < 0.8
    refund = np.where(full, amount, amount // 2)
    rows.append((status == REFUNDED, "refunded", at, activated, ended, refund))
    waiting = created + rng.uniform(SECOND, 5 * MINUTE, n).astype(np.int64)
    rows.append((pending & (u < 0.55), "pending", waiting, none, none, none))
    rows.append((pending & (u >= 0.55) & (u < 0.8), "failed", waiting, none, none, none))
    gave_up = never_active & (status == CANCELLED) & (u < 0.5)
    rows.append((gave_up, "failed", waiting, none, none, none))
    statuses = ["pending", "succeeded", "failed", "refunded"]
    parts = {k: [] for k in ("e", "status", "created", "paid", "refunded", "cents")}
    for mask, name, made, paid_at, refunded_at, cents in rows:
        which = np.flatnonzero(mask)
        parts["e"].append(which)
        parts["status"].append(np.full(len(which), statuses.index(name)))
        parts["created"].append(np.minimum(made[which], now - SECOND))
        parts["paid"].append(paid_at[which])
        parts["refunded"].append(refunded_at[which])
        parts["cents"].append(cents[which])
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    order = np.lexsort((cat["e"], cat["created"]))
    cat = {k: v[order] for k, v in cat.items()}
    m = len(order)
    payment_id = ids.take("payments", m)
    failed_at = cat["created"] + rng.uniform(5 * SECOND, 2 * MINUTE, m).astype(np.int64)
    updated = np.where(
        cat["refunded"] > 0,
        cat["refunded"],
        np.where(
            cat["paid"] > 0, cat["paid"], np.where(cat["status"] == 2, failed_at, cat["created"])
        ),
    )
    intent = [f"pi_synthetic_{i}" for i in payment_id.tolist()]
    return pa.table(
        {
            "id": ints(payment_id),
            "person_id": ints(person_id[cat["e"]]),
            "track_id": ints(np.array([t.id for t in curriculum.tracks])[e_track[cat["e"]]]),
            "amount_cents": ints(amount[cat["e"]]),
            "currency": strings(currency[cat["e"]].tolist()),
            "status": pick(statuses, cat["status"]),
            "provider": constant("stripe", m),
            "checkout_session_id": strings([f"cs_synthetic_{i}" for i in payment_id.tolist()]),
            "payment_intent_id": pa.array(intent, mask=cat["status"] == 0),
            "refunded_cents": ints(cat["cents"]),
            "paid_at": ts(cat["paid"], null=cat["paid"] == 0),
            "refunded_at": ts(cat["refunded"], null=cat["refunded"] == 0),
            "created_at": ts(cat["created"]),
            "updated_at": ts(updated),
        }
    )


def _progress(
    seed,
    ids,
    curriculum,
    learners,
    e_student,
    e_track,
    student_ids,
    usernames,
    trainer_names,
    trainer_of,
    theta,
    start,
    end,
    now,
    fade_start,
    pause_start,
    pause_end,
) -> tuple[pa.Table, dict[str, pa.Table]]:
    """Steps marked done at each student's pace until they stop (slower while fading, none
    during a break), and the deliverables they hand in (most after finishing the project, a
    few while still on it; some never)."""
    rng = stream(seed, "progress")
    done_person, done_step, done_at = [], [], []
    sub_rows = {k: [] for k in ("student", "deliverable", "kind", "required", "at")}
    speed = MEDIAN_SPEED * np.exp(0.35 * theta + 0.3 * rng.standard_normal(len(theta)))
    for t, track in enumerate(curriculum.tracks):
        mine = learners[e_track[learners] == t]
        if not len(track.steps) or not len(mine):
            continue
        students = e_student[mine]
        nominal = track.duration_weeks * 7 * DAY * track.step_schedule()
        noise = rng.lognormal(0.0, 0.35, (len(mine), len(track.steps)))
        times = start[mine, None] + np.cumsum(nominal[None, :] * noise / speed[students, None], 1)
        fading = fade_start[mine, None]
        times = np.where(
            (fading > 0) & (times > fading), fading + (times - fading) * FADE_SLOWDOWN, times
        )
        paused = pause_start[mine, None]
        times = np.where(
            (paused > 0) & (times > paused), times + (pause_end[mine, None] - paused), times
        )
        stop = np.minimum(end[mine], now - MINUTE)[:, None]
        done = times < stop
        step_ids = np.array([s for s, _ in track.steps])
        rows, cols = np.nonzero(done)
        done_person.append(student_ids[students[rows]])
        done_step.append(step_ids[cols])
        done_at.append(times[rows, cols].astype(np.int64))
        step_project = np.array([p for _, p in track.steps])
        for deliverable_id, project_id, kind, required in track.deliverables:
            in_project = np.flatnonzero(step_project == project_id)
            if not len(in_project):
                continue
            first, last = in_project[0], in_project[-1]
            finished = done[:, last]
            started = done[:, first] & ~finished
            p = np.where(finished, 0.93 if required else 0.45, 0.0)
            p = np.where(started, 0.12 if required else 0.04, p)
            hand_in = rng.random(len(mine)) < p
            after = np.where(
                finished,
                times[:, last] + rng.uniform(HOUR, 2 * DAY, len(mine)),
                times[:, first] + rng.uniform(0, 1, len(mine)) * (stop[:, 0] - times[:, first]),
            )
            in_break = (pause_start[mine] > 0) & (after >= pause_start[mine])
            after = np.where(in_break, after + (pause_end[mine] - pause_start[mine]), after)
            hand_in &= after < np.where(in_break, stop[:, 0], now) - MINUTE
            which = np.flatnonzero(hand_in)
            sub_rows["student"].append(students[which])
            sub_rows["deliverable"].append(np.full(len(which), deliverable_id))
            sub_rows["kind"].append(np.full(len(which), kind, dtype=object))
            sub_rows["required"].append(np.full(len(which), required))
            sub_rows["at"].append(after[which].astype(np.int64))
    person = np.concatenate(done_person) if done_person else np.zeros(0, np.int64)
    step = np.concatenate(done_step) if done_step else np.zeros(0, np.int64)
    at = np.concatenate(done_at) if done_at else np.zeros(0, np.int64)
    order = np.lexsort((step, person, at))
    completions = pa.table(
        {
            "id": ints(ids.take("step_completions", len(order))),
            "person_id": ints(person[order]),
            "step_id": ints(step[order]),
            "created_at": ts(at[order]),
        }
    )
    subs = {
        k: np.concatenate(v) if v else np.zeros(0, dtype=object if k == "kind" else np.int64)
        for k, v in sub_rows.items()
    }
    return completions, _submissions(
        rng, ids, subs, student_ids, usernames, trainer_names, trainer_of, now
    )


def _submissions(rng, ids, subs, student_ids, usernames, trainer_names, trainer_of, now):
    """One submission per handed-in deliverable, its versions (1 or 2) and review events."""
    order = np.lexsort((subs["deliverable"], subs["student"], subs["at"]))
    subs = {k: v[order] for k, v in subs.items()}
    n = len(order)
    submission_id = ids.take("submissions", n)
    first = subs["at"]
    review1 = first + rng.lognormal(np.log(2 * DAY), 0.6, n).astype(np.int64)
    reviewed1 = review1 < now - MINUTE
    approved1 = reviewed1 & (rng.random(n) < 0.72)
    changes1 = reviewed1 & ~approved1
    second = review1 + rng.uniform(0.5 * DAY, 4 * DAY, n).astype(np.int64)
    resubmitted = changes1 & (second < now - MINUTE) & (rng.random(n) < 0.7)
    review2 = second + rng.lognormal(np.log(2 * DAY), 0.6, n).astype(np.int64)
    reviewed2 = resubmitted & (review2 < now - MINUTE)
    approved2 = reviewed2 & (rng.random(n) < 0.9)
    status = np.select(
        [approved2, reviewed2, resubmitted, approved1, changes1],
        ["approved", "changes_requested", "submitted", "approved", "changes_requested"],
        "submitted",
    )
    version = np.where(resubmitted, 2, 1)
    updated = np.select([reviewed2, resubmitted, reviewed1], [review2, second, review1], first)
    student = subs["student"]
    submissions = pa.table(
        {
            "id": ints(submission_id),
            "person_id": ints(student_ids[student]),
            "deliverable_id": ints(subs["deliverable"]),
            "status": strings(status.tolist()),
            "current_version": ints(version),
            "created_at": ts(first),
            "updated_at": ts(updated),
        }
    )
    # versions: number 1 for all, 2 for the resubmitted
    v_sub = np.concatenate([np.arange(n), np.flatnonzero(resubmitted)])
    v_number = np.concatenate([np.ones(n, np.int64), np.full(resubmitted.sum(), 2)])
    v_at = np.concatenate([first, second[resubmitted]])
    v_order = np.lexsort((v_number, v_sub, v_at))
    v_sub, v_number, v_at = v_sub[v_order], v_number[v_order], v_at[v_order]
    urls, files, types, sizes, digests, notes = [], [], [], [], [], []
    size_draw = rng.integers(20_000, 2_000_000, len(v_sub))
    for i, number, size in zip(v_sub.tolist(), v_number.tolist(), size_draw.tolist(), strict=True):
        user, kind, deliverable = usernames[student[i]], subs["kind"][i], subs["deliverable"][i]
        slug = f"deliverable-{deliverable}"
        notes.append("" if number == 1 else "Updated after the review.")
        if kind in ("url", "github_pr"):
            urls.append(
                f"https://github.com/{user}/{slug}/pull/{number}"
                if kind == "github_pr"
                else f"https://{user}.{EMAIL_DOMAIN}/{slug}/v{number}"
            )
            files.append(None)
            types.append(None)
            sizes.append(None)
            digests.append(None)
        else:
            notebook = kind == "notebook"
            urls.append(None)
            files.append(f"{slug}-v{number}.{'ipynb' if notebook else 'pdf'}")
            types.append("application/x-ipynb+json" if notebook else "application/pdf")
            sizes.append(size)
            digests.append(
                hashlib.sha256(f"synthetic:{submission_id[i]}:{number}".encode()).hexdigest()
            )
    versions = pa.table(
        {
            "id": ints(ids.take("submission_versions", len(v_sub))),
            "submission_id": ints(submission_id[v_sub]),
            "number": ints(v_number),
            "url": pa.array(urls, type=pa.string()),
            "filename": pa.array(files, type=pa.string()),
            "content_type": pa.array(types, type=pa.string()),
            "size_bytes": pa.array(sizes, type=pa.int64()),
            "sha256": pa.array(digests, type=pa.string()),
            "note": strings(notes),
            "created_at": ts(v_at),
        }
    )
    # events: handed in, reviewed, handed in again, reviewed again
    reviewer = np.array(trainer_names, dtype=object)[trainer_of[student]]
    author = np.array(usernames, dtype=object)[student]
    parts = [
        (np.ones(n, bool), 1, None, None, author, "", first),
        (
            reviewed1,
            1,
            "submitted",
            np.where(approved1, "approved", "changes_requested"),
            reviewer,
            np.where(approved1, "Well done.", "Please address the comments."),
            review1,
        ),
        (resubmitted, 2, "changes_requested", "submitted", author, "", second),
        (
            reviewed2,
            2,
            "submitted",
            np.where(approved2, "approved", "changes_requested"),
            reviewer,
            np.where(approved2, "Approved, thank you.", "Almost there."),
            review2,
        ),
    ]
    e = {k: [] for k in ("sub", "seq", "version", "from", "to", "actor", "feedback", "at")}
    for seq, (mask, number, from_status, to_status, actor, feedback, at) in enumerate(parts):
        which = np.flatnonzero(mask)
        e["sub"].append(which)
        e["seq"].append(np.full(len(which), seq))
        e["version"].append(np.full(len(which), number))
        e["from"].append(np.full(len(which), from_status, dtype=object))
        e["to"].append(
            np.full(len(which), to_status or "submitted", dtype=object)
            if not isinstance(to_status, np.ndarray)
            else to_status[which]
        )
        e["actor"].append(actor[which])
        e["feedback"].append(
            np.full(len(which), feedback, dtype=object)
            if not isinstance(feedback, np.ndarray)
            else feedback[which]
        )
        e["at"].append(at[which])
    cat = {k: np.concatenate(v) for k, v in e.items()}
    order = np.lexsort((cat["seq"], cat["sub"], cat["at"]))
    cat = {k: v[order] for k, v in cat.items()}
    events = pa.table(
        {
            "id": ints(ids.take("submission_events", len(order))),
            "submission_id": ints(submission_id[cat["sub"]]),
            "version": ints(cat["version"]),
            "from_status": pa.array(cat["from"].tolist(), type=pa.string()),
            "to_status": strings(cat["to"].tolist()),
            "actor": strings(cat["actor"].tolist()),
            "feedback": strings(cat["feedback"].tolist()),
            "created_at": ts(cat["at"]),
        }
    )
    return {
        "submissions": submissions,
        "submission_versions": versions,
        "submission_events": events,
    }
