"""Who may see whose records: the one record-access rule.

A student's records (enrollments, progress, submissions, quiz attempts) are seen by the
student, their assigned trainer, and admins. It is kept in one place because the API and the
future browser pages must apply the same rule: a second copy would drift.
"""

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from lms_api.people.models import Person, TrainerAssignment
from lms_api.principal import ADMIN_ROLES, Principal, Role


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


async def may_see_records_of(session: AsyncSession, caller: Principal, student: str) -> bool:
    """The one rule for a student's records (enrollments, progress, submissions): the
    student, their assigned trainer, and admins. Routes answer 404 to everyone else."""
    if caller.role in ADMIN_ROLES or caller.name == student:
        return True
    return caller.role == Role.TRAINER and await is_trainer_of(session, caller.name, student)


def visible_records(statement: Select[Any], caller: Principal, person_id: Any) -> Select[Any]:
    """The list-side twin of `may_see_records_of`: admins every row, a trainer their students'
    rows, anyone else their own. `person_id` is the rows' person column; the statement must
    be joined with Person."""
    if caller.role in ADMIN_ROLES:
        return statement
    if caller.role == Role.TRAINER:
        return statement.where(person_id.in_(students_of_trainer(caller.name)))
    return statement.where(Person.username == caller.name)


def students_of_trainer(trainer: str) -> Select[tuple[int]]:
    """Person ids of a trainer's students, for `WHERE person_id IN (...)` filters."""
    trainer_person = aliased(Person)
    return (
        select(TrainerAssignment.student_id)
        .join(trainer_person, TrainerAssignment.trainer_id == trainer_person.id)
        .where(trainer_person.username == trainer)
    )
