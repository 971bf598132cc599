"""Profiles are created on first use, so the hub stays the only place accounts are made."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.people.models import Person


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
