"""One transaction per request: a failure after a savepoint leaves nothing behind."""

import pytest
from sqlalchemy import select

from lms_api.database import Database
from lms_api.migrate import upgrade
from lms_api.people.models import Person

pytestmark = pytest.mark.dialects


class Boom(Exception):
    pass


async def test_a_failed_request_leaves_no_savepoint_writes(database_url):
    upgrade(database_url)
    database = Database(database_url)
    try:
        with pytest.raises(Boom):
            async with database.sessionmaker() as session, session.begin():
                async with session.begin_nested():  # the first write is inside a savepoint
                    session.add(Person(username="half-written"))
                raise Boom  # the rest of the request fails
        async with database.sessionmaker() as session:
            found = await session.scalar(select(Person).where(Person.username == "half-written"))
        assert found is None
    finally:
        await database.dispose()
