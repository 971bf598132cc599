"""Quizzes, attempts and answers of the synthetic school, with an item response model.

Every question has a discrimination `a` and a difficulty `b` (two-parameter logistic model):
a student of ability theta knows the answer with probability 1 / (1 + exp(-a (theta - b))).
Who does not know picks a distractor, the distractors being unequally attractive (SINGLE),
or a partly right set (MULTIPLE). A few items are broken on purpose, so the analytics can
flag them: `miskeyed` (negative a: the strong students get it wrong), `attractive_distractor`
(a hard item with one distractor chosen more often than the key) and `no_discrimination`
(a close to 0). Marks come from `lms_api.quizzes.grading.mark_answer` itself.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lms_api.quizzes.content import (
    GenerationType,
    MultipleScoring,
    QuestionType,
    QuizStatus,
    RevealPolicy,
)
from lms_api.quizzes.grading import mark_answer
from lms_api.synthetic.catalog import MULTIPLE_STEMS, STEMS, TOPICS
from lms_api.synthetic.common import (
    DAY,
    HOUR,
    MINUTE,
    SECOND,
    ints,
    join_groups,
    json_int_lists,
    positions,
    segment_ids,
    sigmoid,
    stream,
    ts,
)
from lms_api.synthetic.curriculum import Curriculum, Ids
from lms_api.synthetic.school import School

SLOTS = 6  # options per question at most (content.MAX_OPTIONS)
BROKEN_KINDS = ("miskeyed", "attractive_distractor", "no_discrimination")
# Chance that a student takes a quiz of their track (scaled by ability and time enrolled):
# about 100 answers per student with 50 quizzes over three tracks.
TAKE_RATE = 0.96
SECONDS_PER_QUESTION = 38.0
ATTEMPT_CHUNK = 50_000
POPCOUNT = np.array([bin(i).count("1") for i in range(1 << SLOTS)], dtype=np.int64)
SUBMITTED, EXPIRED = 0, 1
ANSWER_COLUMNS = [
    "id",
    "attempt_id",
    "question_id",
    "selected_option_ids",
    "answered_at",
    "changed_count",
    "is_correct",
    "score",
]


@dataclass
class QuizBank:
    """Quizzes (by index) and their questions (by global index), with the model's truth."""

    quiz_id: np.ndarray
    track: np.ndarray
    published: np.ndarray
    time_limit: np.ndarray  # seconds, 0 = none
    max_attempts: np.ndarray  # 0 = unlimited
    pass_mark: np.ndarray
    shuffle_questions: np.ndarray
    shuffle_options: np.ndarray
    q_start: np.ndarray
    q_count: np.ndarray
    max_score: np.ndarray
    question_id: np.ndarray
    a: np.ndarray
    b: np.ndarray
    points: np.ndarray
    multiple: np.ndarray
    n_options: np.ndarray
    option_base: np.ndarray  # id of the question's first option; the others follow
    correct_mask: np.ndarray  # bit i: option slot i is correct
    wrong_mask: np.ndarray
    weights: np.ndarray  # (questions, SLOTS): attractiveness of each wrong option
    score_table: np.ndarray  # (questions, SLOTS + 1, SLOTS + 1): score of R right, W wrong
    broken: dict[int, str] = field(default_factory=dict)  # question id -> kind
    tables: dict[str, pa.Table] = field(default_factory=dict)


def build_bank(
    seed: int,
    quizzes: int,
    days: int,
    now: int,
    curriculum: Curriculum,
    trainer_usernames: list[str],
    ids: Ids,
) -> QuizBank:
    rng = stream(seed, "quizzes")
    tracks = curriculum.tracks
    n_tracks = len(tracks)
    quiz_rows, question_rows, option_rows = [], [], []
    q = {k: [] for k in ("id", "a", "b", "points", "multiple", "n_options", "base", "right")}
    q_weights, broken = [], {}
    meta = {k: [] for k in ("id", "track", "published", "limit", "max", "pass", "sq", "so")}
    q_start, q_count, max_score = [], [], []
    quiz_ids = ids.take("quizzes", quizzes)
    for j in range(quizzes):
        t = j % n_tracks
        track, round_ = tracks[t], j // n_tracks
        topics = TOPICS[track.code]
        topic = topics[round_ % len(topics)]
        title = topic if round_ < len(topics) else f"{topic} (part {round_ // len(topics) + 1})"
        project = (
            track.project_ids[round_ % len(track.project_ids)]
            if track.project_ids and rng.random() < 0.75
            else None
        )
        pool = [u for i, u in enumerate(trainer_usernames) if i % n_tracks == t]
        author = (pool or trainer_usernames)[rng.integers(len(pool or trainer_usernames))]
        kind = rng.choice(
            [GenerationType.MANUAL, GenerationType.PROMPT, GenerationType.WEB_SEARCH],
            p=[0.5, 0.35, 0.15],
        )
        generated = kind != GenerationType.MANUAL
        slug = topic.lower().replace(" ", "-")
        sources = (
            [{"title": f"{topic}: a reference", "url": f"https://docs.example.org/{slug}"}]
            if kind == GenerationType.WEB_SEARCH
            else []
        )
        n_questions = int(rng.integers(8, 13))
        limit = int(np.ceil(n_questions * rng.choice([75, 90, 120]) / 60) * 60)
        limit = limit if rng.random() < 0.6 else 0
        max_attempts = int(rng.choice([3, 3, 3, 2, 0]))
        reveal = rng.choice(
            [RevealPolicy.AFTER_SUBMISSION, RevealPolicy.AFTER_LAST_ATTEMPT, RevealPolicy.NEVER],
            p=[0.7, 0.2, 0.1],
        )
        if reveal == RevealPolicy.AFTER_LAST_ATTEMPT and not max_attempts:
            reveal = RevealPolicy.AFTER_SUBMISSION
        if rng.random() < 0.8:
            published = now - int((days + rng.uniform(1, 14)) * DAY)
        else:
            published = now - int(rng.uniform(0.3, 0.7) * days * DAY)
        created = published - int(rng.uniform(HOUR, 3 * DAY))
        pass_mark = float(rng.choice([0.5, 0.6, 0.6, 0.7]))
        partial = j % 2 == 1  # both rules for MULTIPLE questions, quiz after quiz
        shuffle_q, shuffle_o = bool(rng.random() < 0.5), bool(rng.random() < 0.5)
        quiz_rows.append(
            {
                "id": int(quiz_ids[j]),
                "title": title,
                "description": f"A check on {topic.lower()} for the {track.name} track.",
                "track_id": track.id,
                "project_id": project,
                "created_by": author,
                "generation_type": str(kind),
                "prompt": f"Write a quiz on {topic.lower()} for {track.name}." if generated else "",
                "model": "gemini-2.5-flash" if generated else "",
                "sources": json.dumps(sources),
                "status": str(QuizStatus.PUBLISHED),
                "time_limit_seconds": limit or None,
                "max_attempts": max_attempts or None,
                "pass_mark": pass_mark,
                "shuffle_questions": shuffle_q,
                "shuffle_options": shuffle_o,
                "reveal_policy": str(reveal),
                "multiple_scoring": str(
                    MultipleScoring.PARTIAL if partial else MultipleScoring.ALL_OR_NOTHING
                ),
                "published_at": published,
                "created_at": created,
                "updated_at": published,
            }
        )
        for key, value in (
            ("id", quiz_ids[j]),
            ("track", t),
            ("published", published),
            ("limit", limit),
            ("max", max_attempts),
            ("pass", pass_mark),
            ("sq", shuffle_q),
            ("so", shuffle_o),
        ):
            meta[key].append(value)
        # which item of this quiz is broken, and how
        broken_kind = (
            BROKEN_KINDS[j]
            if j < len(BROKEN_KINDS)
            else (BROKEN_KINDS[rng.integers(len(BROKEN_KINDS))] if rng.random() < 0.3 else None)
        )
        broken_at = int(rng.integers(n_questions)) if broken_kind else -1
        # about one question in five is MULTIPLE, at least one per quiz, never the broken one
        multiples = rng.random(n_questions) < 0.2
        if broken_at >= 0:
            multiples[broken_at] = False
        if not multiples.any():
            multiples[(broken_at + 1 + int(rng.integers(n_questions - 1))) % n_questions] = True
        shift = rng.normal(0.0, 0.35)
        q_start.append(len(q["id"]))
        q_count.append(n_questions)
        total = 0.0
        question_ids = ids.take("quiz_questions", n_questions)
        for i in range(n_questions):
            multiple = bool(multiples[i])
            if multiple:
                n_options = int(rng.choice([4, 5]))
                n_right = int(rng.choice([2, 3]))
            else:
                n_options = 4 if rng.random() < 0.85 else int(rng.choice([3, 5]))
                n_right = 1
            points = 2.0 if rng.random() < 0.15 else 1.0
            a = float(np.clip(rng.lognormal(0.2, 0.3), 0.35, 2.8))
            b = float(shift + rng.normal(0.0, 0.9))
            weights = rng.dirichlet(np.full(n_options - n_right, 0.9))
            if i == broken_at:
                if broken_kind == "miskeyed":
                    a, b = -rng.uniform(0.7, 1.3), rng.normal(0.0, 0.5)
                elif broken_kind == "attractive_distractor":
                    a, b = rng.uniform(0.8, 1.2), rng.uniform(1.5, 2.2)
                    weights = np.full(n_options - n_right, 0.15 / max(n_options - n_right - 1, 1))
                    weights[int(rng.integers(len(weights)))] = 0.85
                    weights /= weights.sum()
                else:
                    a, b = rng.uniform(0.0, 0.08), rng.uniform(-0.5, 0.5)
                broken[int(question_ids[i])] = broken_kind
            right = np.zeros(SLOTS, bool)
            right[rng.choice(n_options, n_right, replace=False)] = True
            slot_weights = np.zeros(SLOTS)
            slot_weights[np.flatnonzero(~right[:n_options])] = weights
            option_ids = ids.take("quiz_options", n_options)
            stems = MULTIPLE_STEMS if multiple else STEMS
            stem = stems[i % len(stems)]
            question_rows.append(
                {
                    "id": int(question_ids[i]),
                    "quiz_id": int(quiz_ids[j]),
                    "order": i + 1,
                    "text": f"{stem.format(topic=topic.lower())} ({title}, question {i + 1})",
                    "type": str(QuestionType.MULTIPLE if multiple else QuestionType.SINGLE),
                    "explanation": f"See the notes on {topic.lower()}, part {i + 1}.",
                    "tags": json.dumps([track.code.lower(), slug]),
                    "learning_objective": f"Apply {topic.lower()} in practice",
                    "points": points,
                }
            )
            for s in range(n_options):
                option_rows.append(
                    {
                        "id": int(option_ids[s]),
                        "question_id": int(question_ids[i]),
                        "order": s + 1,
                        "text": f"Choice {'ABCDEF'[s]} of question {i + 1}",
                        "is_correct": bool(right[s]),
                        "rationale": "This is right." if right[s] else "A common mistake.",
                    }
                )
            for key, value in (
                ("id", question_ids[i]),
                ("a", a),
                ("b", b),
                ("points", points),
                ("multiple", multiple),
                ("n_options", n_options),
                ("base", option_ids[0]),
                ("right", int(np.dot(right, 1 << np.arange(SLOTS)))),
            ):
                q[key].append(value)
            q_weights.append(slot_weights)
            total += points
        max_score.append(total)
    n_options = np.array(q["n_options"], dtype=np.int64)
    exists = (1 << n_options) - 1
    right_mask = np.array(q["right"], dtype=np.int64)
    bank = QuizBank(
        quiz_id=np.array(meta["id"], dtype=np.int64),
        track=np.array(meta["track"], dtype=np.int64),
        published=np.array(meta["published"], dtype=np.int64),
        time_limit=np.array(meta["limit"], dtype=np.int64),
        max_attempts=np.array(meta["max"], dtype=np.int64),
        pass_mark=np.array(meta["pass"], dtype=float),
        shuffle_questions=np.array(meta["sq"], dtype=bool),
        shuffle_options=np.array(meta["so"], dtype=bool),
        q_start=np.array(q_start, dtype=np.int64),
        q_count=np.array(q_count, dtype=np.int64),
        max_score=np.array(max_score, dtype=float),
        question_id=np.array(q["id"], dtype=np.int64),
        a=np.array(q["a"], dtype=float),
        b=np.array(q["b"], dtype=float),
        points=np.array(q["points"], dtype=float),
        multiple=np.array(q["multiple"], dtype=bool),
        n_options=n_options,
        option_base=np.array(q["base"], dtype=np.int64),
        correct_mask=right_mask,
        wrong_mask=exists & ~right_mask,
        weights=np.array(q_weights).reshape(-1, SLOTS),
        score_table=_score_table(q, [r["multiple_scoring"] for r in quiz_rows], q_count),
        broken=broken,
    )
    bank.tables = _bank_tables(quiz_rows, question_rows, option_rows)
    return bank


def _score_table(q: dict, scoring: list[str], q_count: list[int]) -> np.ndarray:
    """score_table[question, R, W]: mark_answer's score for R right and W wrong options."""
    per_question = np.repeat(np.array(scoring, dtype=object), q_count)
    table = np.zeros((len(q["id"]), SLOTS + 1, SLOTS + 1))
    for i, (multiple, n_options, right, points) in enumerate(
        zip(q["multiple"], q["n_options"], q["right"], q["points"], strict=True)
    ):
        slots = np.arange(n_options)
        right_ids = [int(s) for s in slots if right >> s & 1]
        wrong_ids = [int(s) for s in slots if not right >> s & 1]
        kind = QuestionType.MULTIPLE if multiple else QuestionType.SINGLE
        for r in range(len(right_ids) + 1):
            for w in range(len(wrong_ids) + 1):
                chosen = right_ids[:r] + wrong_ids[:w]
                table[i, r, w] = mark_answer(
                    kind, points, right_ids, list(slots), chosen, per_question[i]
                ).score
    return table


def _bank_tables(quiz_rows, question_rows, option_rows) -> dict[str, pa.Table]:
    if not quiz_rows:
        return {}
    quizzes = pa.Table.from_pylist(quiz_rows)
    for name in ("published_at", "created_at", "updated_at"):
        quizzes = quizzes.set_column(
            quizzes.schema.get_field_index(name), name, ts(quizzes[name].to_numpy())
        )
    for name in ("track_id", "project_id", "time_limit_seconds", "max_attempts"):
        quizzes = quizzes.set_column(
            quizzes.schema.get_field_index(name), name, quizzes[name].cast(pa.int64())
        )
    return {
        "quizzes": quizzes,
        "quiz_questions": pa.Table.from_pylist(question_rows),
        "quiz_options": pa.Table.from_pylist(option_rows),
    }


# --- attempts ---------------------------------------------------------------------------------
@dataclass
class Attempts:
    """Every attempt, in id order (by start time)."""

    id: np.ndarray
    quiz: np.ndarray  # quiz index
    student: np.ndarray  # student index
    number: np.ndarray
    started: np.ndarray
    deadline: np.ndarray  # 0 = no time limit
    finished: np.ndarray  # submitted_at
    status: np.ndarray
    answering: np.ndarray  # microseconds spent answering, spread over the questions
    theta: np.ndarray  # the student's ability on that day


def plan_attempts(seed: int, bank: QuizBank, school: School, days: int, now: int, ids: Ids):
    """Who takes which quiz when, and how many times (1-3, more often after a fail)."""
    rng = stream(seed, "attempts")
    speed = np.exp(-0.1 * school.theta + 0.3 * rng.standard_normal(len(school.theta)))
    parts = {k: [] for k in ("quiz", "student", "number", "started", "duration", "theta")}
    for k in range(len(bank.quiz_id)):
        learners = np.flatnonzero(school.learner_track == bank.track[k])
        student = school.learner_student[learners]
        theta = school.theta[student]
        low = np.maximum(school.learner_start[learners], bank.published[k]) + HOUR
        high = np.minimum(school.learner_end[learners], now - 2 * HOUR)
        span = (high - low).astype(float)
        share = np.clip(span / (0.5 * days * DAY), 0.0, 1.0) ** 0.5
        chance = TAKE_RATE * sigmoid(0.4 + 0.8 * theta) * share
        take = (span > 3 * HOUR) & (rng.random(len(student)) < chance)
        questions = slice(bank.q_start[k], bank.q_start[k] + bank.q_count[k])
        a, b, points = bank.a[questions], bank.b[questions], bank.points[questions]
        start = low + (rng.uniform(0.0, 0.85, len(student)) * span).astype(np.int64)
        alive = take
        limit = bank.max_attempts[k] or 3
        for number in range(1, min(limit, 3) + 1):
            day_theta = theta + 0.25 * (number - 1) + rng.normal(0.0, 0.25, len(student))
            answering = (
                bank.q_count[k]
                * SECONDS_PER_QUESTION
                * SECOND
                * speed[student]
                * rng.lognormal(0.0, 0.2, len(student))
            )
            review = rng.uniform(5, 60, len(student)) * SECOND
            duration = np.minimum(answering + review, 90 * MINUTE)
            alive = alive & (start + duration < high)
            which = np.flatnonzero(alive)
            for key, value in (
                ("quiz", np.full(len(which), k)),
                ("student", student[which]),
                ("number", np.full(len(which), number)),
                ("started", start[which]),
                ("duration", np.stack([answering[which], duration[which]], 1)),
                ("theta", day_theta[which]),
            ):
                parts[key].append(value)
            expected = (points * sigmoid(a * (theta[:, None] + 0.25 * (number - 1) - b))).sum(1)
            failing = sigmoid(-12 * (expected / points.sum() - bank.pass_mark[k]))
            again = rng.random(len(student)) < (0.1 + 0.6 * failing) * (0.7 ** (number - 1))
            gap = np.maximum(rng.lognormal(np.log(DAY), 1.0, len(student)), 10 * MINUTE)
            start = (start + duration + gap).astype(np.int64)
            alive = alive & again
    cat = {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}
    if not len(cat["quiz"]):
        cat["duration"] = np.zeros((0, 2))
    order = np.lexsort((cat["number"], cat["quiz"], cat["student"], cat["started"]))
    cat = {k: v[order] for k, v in cat.items()}
    quiz = cat["quiz"].astype(np.int64)
    started = cat["started"].astype(np.int64)
    limit = bank.time_limit[quiz] * SECOND
    planned = started + cat["duration"][:, 1].astype(np.int64)
    expired = (limit > 0) & (planned > started + limit)
    return Attempts(
        id=ids.take("quiz_attempts", len(order)),
        quiz=quiz,
        student=cat["student"].astype(np.int64),
        number=cat["number"].astype(np.int64),
        started=started,
        deadline=np.where(limit > 0, started + limit, 0),
        finished=np.where(expired, started + limit, planned),
        status=np.where(expired, EXPIRED, SUBMITTED),
        answering=cat["duration"][:, 0],
        theta=cat["theta"],
    )


# --- answers ----------------------------------------------------------------------------------
@dataclass
class Graded:
    """The answers of a run of attempts, and what they mean for the attempts."""

    answers: pa.Table
    score: np.ndarray
    revision: np.ndarray
    question_order: pa.Array
    option_order: pa.Array


def answer_chunks(
    seed: int, bank: QuizBank, attempts: Attempts, ids: Ids
) -> Iterator[tuple[slice, Graded]]:
    """The attempts graded ATTEMPT_CHUNK at a time (each chunk its own seeded stream, so
    the result does not depend on anything but the seed)."""
    for c, first in enumerate(range(0, len(attempts.id), ATTEMPT_CHUNK)):
        part = slice(first, min(first + ATTEMPT_CHUNK, len(attempts.id)))
        yield part, _grade(stream(seed, f"answers/{c}"), bank, attempts, part, ids)


def _grade(rng, bank: QuizBank, attempts: Attempts, part: slice, ids: Ids) -> Graded:
    quiz = attempts.quiz[part]
    count = bank.q_count[quiz]
    cell = segment_ids(count)  # attempt (in this chunk) of each presented question
    position = positions(count)
    n_cells = len(cell)
    key = np.where(bank.shuffle_questions[quiz][cell], rng.random(n_cells), position)
    slot = position[np.lexsort((key, cell))]
    q = bank.q_start[quiz][cell] + slot  # question (global index) at each position
    question_id = bank.question_id[q]

    # when each question was answered: the answering time split unevenly over the questions
    weight = rng.lognormal(0.0, 0.5, n_cells)
    spent = weight / np.bincount(cell, weight, len(quiz))[cell] * attempts.answering[part][cell]
    elapsed = np.cumsum(spent)
    before = np.concatenate([[0.0], elapsed])[np.cumsum(count) - count]
    answered_at = attempts.started[part][cell] + (elapsed - before[cell]).astype(np.int64)
    theta = attempts.theta[part][cell]
    skipped = rng.random(n_cells) < 0.01 + 0.03 * sigmoid(-2.0 - theta)
    answered = (answered_at <= attempts.finished[part][cell]) & ~skipped
    which = np.flatnonzero(answered)
    qa, theta = q[which], theta[which]
    m = len(which)

    # the options chosen
    knows = rng.random(m) < sigmoid(bank.a[qa] * (theta - bank.b[qa]))
    weights = bank.weights[qa]
    cumulative = np.cumsum(weights, 1)
    last = SLOTS - 1 - np.argmax(weights[:, ::-1] > 0, 1)
    cumulative[np.arange(SLOTS)[None, :] >= last[:, None]] = 1.0
    distractor = (rng.random(m)[:, None] >= cumulative).sum(1)
    chosen = np.where(knows, bank.correct_mask[qa], 0)
    single = ~bank.multiple[qa]
    guess = single & ~knows
    chosen[guess] = 1 << distractor[guess]
    partly = np.flatnonzero(~single & ~knows)
    if len(partly):
        right = (bank.correct_mask[qa[partly], None] >> np.arange(SLOTS)) & 1
        sure = 0.35 + 0.4 * sigmoid(theta[partly])[:, None]
        p = np.where(right == 1, sure, 0.08 + 0.6 * weights[partly])
        p = np.where(np.arange(SLOTS) < bank.n_options[qa[partly], None], p, 0.0)
        picked = (rng.random((len(partly), SLOTS)) < p) @ (1 << np.arange(SLOTS))
        favourite = np.argmax(weights[partly], 1)
        chosen[partly] = np.where(picked == 0, 1 << favourite, picked)
    n_right = POPCOUNT[chosen & bank.correct_mask[qa]]
    n_wrong = POPCOUNT[chosen & bank.wrong_mask[qa]]
    score = bank.score_table[qa, n_right, n_wrong]
    correct = (n_right == POPCOUNT[bank.correct_mask[qa]]) & (n_wrong == 0)
    bits = ((chosen[:, None] >> np.arange(SLOTS)) & 1).astype(bool)
    option_ids = (bank.option_base[qa][:, None] + np.arange(SLOTS))[bits]
    changed = np.minimum(rng.poisson(0.12, m), 3)

    # the attempt: total (as the LMS adds it up, in question order), saves, orders shown
    attempt_of = cell[which]
    totals = np.bincount(attempt_of, score, len(quiz))
    revision = np.bincount(attempt_of, 1 + changed, len(quiz)).astype(np.int64)
    n_options = bank.n_options[q]
    shuffle = bank.shuffle_options[quiz][cell]
    option_key = np.where(shuffle[:, None], rng.random((n_cells, SLOTS)), np.arange(SLOTS))
    option_key = np.where(np.arange(SLOTS) < n_options[:, None], option_key, SLOTS + 1)
    shown = bank.option_base[q][:, None] + np.argsort(option_key, 1, kind="stable")
    shown = shown[np.arange(SLOTS) < n_options[:, None]]
    items = pc.binary_join_element_wise(
        '"', pa.array(question_id).cast(pa.string()), '": ', json_int_lists(shown, n_options), ""
    )
    answers = pa.table(
        {
            "id": ints(ids.take("quiz_answers", m)),
            "attempt_id": ints(attempts.id[part][attempt_of]),
            "question_id": ints(question_id[which]),
            "selected_option_ids": json_int_lists(option_ids, POPCOUNT[chosen]),
            "answered_at": ts(answered_at[which]),
            "changed_count": ints(changed),
            "is_correct": pa.array(correct),
            "score": pa.array(score),
        }
    )
    return Graded(
        answers=answers,
        score=np.array([round(total, 6) for total in totals.tolist()]),
        revision=revision,
        question_order=json_int_lists(question_id, count),
        option_order=join_groups(items, count, ", ", "{", "}"),
    )


def attempt_table(bank: QuizBank, attempts: Attempts, part: slice, graded: Graded, school: School):
    quiz = attempts.quiz[part]
    maximum = bank.max_score[quiz]
    fraction = graded.score / np.where(maximum > 0, maximum, 1)
    passed = (maximum > 0) & (fraction >= bank.pass_mark[quiz])
    deadline = attempts.deadline[part]
    return pa.table(
        {
            "id": ints(attempts.id[part]),
            "quiz_id": ints(bank.quiz_id[quiz]),
            "person_id": ints(school.student_ids[attempts.student[part]]),
            "number": ints(attempts.number[part]),
            "status": pa.array(np.where(attempts.status[part] == EXPIRED, "EXPIRED", "SUBMITTED")),
            "started_at": ts(attempts.started[part]),
            "deadline_at": ts(deadline, null=deadline == 0),
            "submitted_at": ts(attempts.finished[part]),
            "score": pa.array(graded.score, type=pa.float64()),
            "max_score": pa.array(maximum, type=pa.float64()),
            "passed": pa.array(passed),
            "question_order": graded.question_order,
            "option_order": graded.option_order,
            "revision": ints(graded.revision),
        }
    )
