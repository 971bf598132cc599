"""`lms_api.database.select_rows`: the hot reads' statements on psycopg directly give the rows
SQLAlchemy gives, in the request's own transaction (issue 23, bench/README.md)."""

import asyncio

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from lms_api import database
from lms_api.auth import IS_ACTIVE
from lms_api.curriculum.reads import PROJECT, TRACK
from lms_api.database import make_engine, select_rows
from lms_api.demo import seed_demo
from lms_api.migrate import upgrade
from lms_api.progress.service import STRUCTURE_WITH_COMPLETIONS

pytestmark = pytest.mark.postgres

CASES = [
    (IS_ACTIVE, {"username": "ada"}),
    (TRACK, {"code": "DP", "username": "ada"}),
    (PROJECT, {"project_id": 1, "username": "ada"}),
    (STRUCTURE_WITH_COMPLETIONS, {"username": "ada", "status": "active"}),
]


def test_psycopg_directly_gives_sqlalchemys_rows_and_types(postgres_url):
    upgrade(postgres_url)
    seed_demo(postgres_url)

    async def scenario():
        engine = make_engine(postgres_url)
        sessions = async_sessionmaker(engine)
        async with sessions() as session, session.begin():
            await session.execute(
                text(
                    "INSERT INTO step_completions (person_id, step_id, created_at) "
                    "SELECT p.id, s.id, now() FROM people p, project_steps s "
                    "WHERE p.username = 'ada' AND s.id <= 3"
                )
            )
        answers = []
        try:
            for through_sqlalchemy in (False, True):
                if through_sqlalchemy:  # a cursor listener sends it through SQLAlchemy
                    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: None)
                async with sessions() as session, session.begin():
                    answers.append(
                        [[tuple(r) for r in await select_rows(session, *c)] for c in CASES]
                    )
                if not through_sqlalchemy:  # it did run on psycopg directly
                    assert all((c[0], "postgresql") in database._COMPILED for c in CASES)
        finally:
            await engine.dispose()
        return answers

    direct, through_sqlalchemy = asyncio.run(scenario())
    assert direct == through_sqlalchemy
    for rows, expected in zip(direct, through_sqlalchemy, strict=True):
        assert rows, "each statement finds rows in the demo school"
        assert [type(v) for v in rows[0]] == [type(v) for v in expected[0]]
    assert any(r[-1] is not None and r[-1].tzinfo for r in direct[3]), "aware timestamps"


def test_it_reads_in_the_sessions_own_transaction(postgres_url):
    """A write of the same request, not yet committed, is seen; one rolled back is gone."""
    upgrade(postgres_url)
    seed_demo(postgres_url)

    async def scenario():
        engine = make_engine(postgres_url)
        sessions = async_sessionmaker(engine)
        try:
            async with sessions() as session:
                async with session.begin():
                    await session.execute(
                        text("UPDATE people SET is_active = false WHERE username = 'ada'")
                    )
                    inside = await select_rows(session, IS_ACTIVE, {"username": "ada"})
                    await session.rollback()
                async with session.begin():
                    after = await select_rows(session, IS_ACTIVE, {"username": "ada"})
        finally:
            await engine.dispose()
        return inside, after

    inside, after = asyncio.run(scenario())
    assert [tuple(r) for r in inside] == [(False,)]
    assert [tuple(r) for r in after] == [(True,)]
