"""Give a synthetic trainer's students to a real account, so that someone who can log in
(the demo `trainer`) has a synthetic cohort to read in the dashboards.

The LMS's invariants hold afterwards: no trainer has more than the cap
(Settings.max_students_per_trainer), so the account gets the students it has room for, and
both trainers' `assigned_students` counters (what `GET /trainers` reports and the cap is
enforced on) move with the students."""

import re

from sqlalchemy import create_engine, func, select, update
from sqlalchemy.orm import Session

from lms_api.database import sync_url
from lms_api.people.models import Person, TrainerAssignment
from lms_api.synthetic.catalog import TRAINER_PREFIX

SYNTHETIC_TRAINER = re.compile(rf"{TRAINER_PREFIX}\d+")


class NoSuchAccount(ValueError):
    """The account to hand students over to is not in the LMS."""


def first_synthetic_trainer(session: Session) -> str | None:
    """trainer0001 and so on; not the demo `trainer`, whose name shares the prefix."""
    names = session.scalars(
        select(Person.username).where(Person.username.like(f"{TRAINER_PREFIX}%"))
    )
    synthetic = sorted(n for n in names if SYNTHETIC_TRAINER.fullmatch(n))
    return synthetic[0] if synthetic else None


def hand_over_students(
    database_url: str, to_username: str, from_trainer: str = "", cap: int = 20
) -> int:
    """Reassign students of `from_trainer` (default: the first synthetic trainer) to
    `to_username`, as many as fit under `cap` (lowest ids first); returns how many. One
    transaction: the moves and both counters, or nothing."""
    engine = create_engine(sync_url(database_url))
    try:
        with Session(engine) as session, session.begin():
            target = session.scalar(select(Person.id).where(Person.username == to_username))
            if target is None:
                raise NoSuchAccount(
                    f"no account {to_username!r} in the LMS (load the demo school first: "
                    "apranova-lms seed-demo)"
                )
            source_name = from_trainer or first_synthetic_trainer(session)
            source = session.scalar(select(Person.id).where(Person.username == source_name))
            if source is None:
                raise NoSuchAccount("no synthetic trainer to take students from (seed first)")
            # Lock the target's row: its counter and the moves are one change.
            has = session.scalar(
                select(Person.assigned_students).where(Person.id == target).with_for_update()
            )
            room = max(0, cap - has)
            chosen = session.scalars(
                select(TrainerAssignment.id)
                .where(TrainerAssignment.trainer_id == source)
                .order_by(TrainerAssignment.id)
                .limit(room)
            ).all()
            if not chosen or source == target:
                return 0
            session.execute(
                update(TrainerAssignment)
                .where(TrainerAssignment.id.in_(chosen))
                .values(trainer_id=target, assigned_by="seed-synthetic")
            )
            for person in (source, target):
                count = select(func.count()).where(TrainerAssignment.trainer_id == person)
                session.execute(
                    update(Person)
                    .where(Person.id == person)
                    .values(assigned_students=count.scalar_subquery())
                )
            return len(chosen)
    finally:
        engine.dispose()
