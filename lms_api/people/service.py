"""Profiles are created on first use, so the hub stays the only place accounts are made."""

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from lms_api.people.models import Person, TrainerAssignment


async def find_person(session: AsyncSession, username: str) -> Person | None:
    return await session.scalar(select(Person).where(Person.username == username))


async def get_or_create_person(session: AsyncSession, username: str) -> Person:
    person = await find_person(session, username)
    if person is not None:
        return person
    try:
        async with session.begin_nested():  # a concurrent first call may win the insert
            person = Person(username=username)
            session.add(person)
    except IntegrityError:
        person = await find_person(session, username)
        assert person is not None
    return person


async def is_trainer_of(session: AsyncSession, trainer: str, student: str) -> bool:
    """Whether `trainer` is the assigned trainer of `student`."""
    trainer_person = aliased(Person)
    student_person = aliased(Person)
    found = await session.scalar(
        select(TrainerAssignment.id)
        .join(trainer_person, TrainerAssignment.trainer_id == trainer_person.id)
        .join(student_person, TrainerAssignment.student_id == student_person.id)
        .where(trainer_person.username == trainer, student_person.username == student)
    )
    return found is not None


def students_of_trainer(trainer: str) -> Select[tuple[int]]:
    """Person ids of a trainer's students, for `WHERE person_id IN (...)` filters."""
    trainer_person = aliased(Person)
    return (
        select(TrainerAssignment.student_id)
        .join(trainer_person, TrainerAssignment.trainer_id == trainer_person.id)
        .where(trainer_person.username == trainer)
    )
