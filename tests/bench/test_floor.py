"""The floor (`bench/floor.py`) answers lms_api's three hot reads as lms_api does, with the SQL
lms_api runs: same bodies for the same data, same refusals. No timing here (`make bench-api`).

Both apps run in-process on one PostgreSQL database with the demo school, and check tokens
with the fake hub (`tests.fakes.hub`).
"""

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import create_engine, event, text

from bench import floor
from bench.harness.databases import fresh_postgres_database
from lms_api.database import sync_url
from lms_api.demo import seed_demo
from lms_api.main import create_app
from lms_api.migrate import upgrade
from lms_api.progress.service import percent
from tests.conftest import postgres_admin_url
from tests.fakes.hub import FakeHub
from tests.lms_api.conftest import app_settings

pytestmark = pytest.mark.postgres

API = "/api/v1"


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeHub]:
    fake = FakeHub().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def school() -> Iterator[str]:
    """The demo school on a fresh PostgreSQL database (the tests only read it, but one)."""
    with fresh_postgres_database(postgres_admin_url()) as url:
        upgrade(url)
        seed_demo(url)
        yield url


def execute(url: str, sql: str) -> None:
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as connection:
            connection.execute(text(sql))
    finally:
        engine.dispose()


def both(hub: FakeHub, url: str, requests: list[tuple[str, str]], tmp_path) -> tuple[list, list]:
    """Send the `(token, path)` GETs to lms_api, then to the floor, one after the other; the
    answers of each, and the statements lms_api ran (one list per request)."""

    async def scenario():
        lms = create_app(app_settings(hub, url, tmp_path / "uploads", auth_cache_seconds=60))
        statements: list[list[str]] = []

        @event.listens_for(lms.state.database.engine.sync_engine, "before_cursor_execute")
        def log(_conn, _cursor, statement, *_args) -> None:
            statements[-1].append(statement)

        low = floor.create_app(url, hub.hub_api, hub.secrets["APRANOVA_LMS_API_TOKEN"], 60, 5)
        answers = {}
        try:
            for name, app in (("lms_api", lms), ("floor", low)):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                    answers[name] = []
                    for token, path in requests:
                        statements.append([])
                        headers = {"Authorization": f"Bearer {token}"} if token else {}
                        answers[name].append(await client.get(API + path, headers=headers))
        finally:
            await lms.state.token_validator.aclose()
            await lms.state.database.dispose()
            await low.state.floor.hub.client.aclose()
            await low.state.floor.pool.close()
        return answers["lms_api"], answers["floor"], statements[: len(requests)]

    lms, low, statements = asyncio.run(scenario())
    return list(zip(requests, lms, low, strict=True)), statements


def assert_same(pairs) -> None:
    for (_token, path), lms, low in pairs:
        assert low.status_code == lms.status_code, (path, lms.text, low.text)
        if lms.status_code == 200:
            assert low.content == lms.content, path
            assert low.headers["content-type"] == lms.headers["content-type"]
        else:
            assert low.json()["error"]["code"] == lms.json()["error"]["code"], (path, lms.text)


def test_the_floor_answers_the_three_reads_with_lms_apis_bodies(hub, school, tmp_path):
    ada, trainer, admin = (hub.new_token(n)[0] for n in ("ada", "trainer", "admin"))
    # ada has done two steps of one project: progress with timestamps and a partial percent
    execute(
        school,
        "INSERT INTO step_completions (person_id, step_id, created_at) "
        "SELECT p.id, s.id, TIMESTAMPTZ '2026-03-01 10:00:00.25+02' + s.id * INTERVAL '1 hour' "
        "FROM people p, project_steps s WHERE p.username = 'ada' AND s.project_id = "
        '(SELECT min(id) FROM projects) AND s."order" <= 2',
    )
    pairs, _ = both(hub, school, [(ada, "/tracks/DP")], tmp_path)
    track = pairs[0][1].json()
    assert track["projects"], track
    reads = [(ada, "/tracks/DP"), (ada, "/progress/me")]
    reads += [(ada, f"/projects/{p['id']}") for p in track["projects"]]
    reads += [(trainer, "/tracks/DP"), (trainer, "/tracks/FSD"), (admin, "/progress/me")]
    reads += [(trainer, f"/projects/{p['id']}") for p in track["projects"][:1]]
    pairs, _ = both(hub, school, reads, tmp_path)
    assert all(lms.status_code == 200 for _, lms, _ in pairs), [p[1].text for p in pairs]
    progress = pairs[1][1].json()["tracks"][0]
    assert progress["steps_done"] == 2 and progress["last_step_at"], progress
    assert_same(pairs)


def test_the_floor_runs_the_statements_lms_api_runs(hub, school, tmp_path):
    ada = hub.new_token("ada")[0]
    reads = [
        (ada, "/progress/me"),
        (ada, "/tracks/DP"),
        (ada, "/projects/1"),
        (ada, "/progress/me"),
    ]
    _, statements = both(hub, school, reads, tmp_path)
    # The first request also made lms_api's connection (its own set-up statements).
    assert statements[1:] == [
        [floor.IS_ACTIVE, floor.TRACK],
        [floor.IS_ACTIVE, floor.PROJECT],
        [floor.IS_ACTIVE, floor.PROGRESS],
    ], "lms_api's SQL for these reads changed: copy it into bench/floor.py (see its docstring)"


def test_the_floor_refuses_what_lms_api_refuses(hub, school, tmp_path):
    linus, ada = hub.new_token("linus")[0], hub.new_token("ada")[0]
    narrow = hub.new_token("ada", scopes=["read:users:activity!user"])[0]
    service = hub.secrets["APRANOVA_HUB_SERVICE_TOKEN"]
    refused = [
        (None, "/progress/me"),  # no token: 401
        ("not-a-token", "/tracks/DP"),  # unknown to the hub: 401
        (narrow, "/progress/me"),  # no access:services scope: 403
        (service, "/progress/me"),  # a service, not a user: 403
        (linus, "/tracks/DP"),  # not enrolled in DP: 403
        (linus, "/projects/1"),
        (ada, "/tracks/NOPE"),  # 404
        (ada, "/projects/999999"),
    ]
    pairs, _ = both(hub, school, refused, tmp_path)
    assert [lms.status_code for _, lms, _ in pairs] == [401, 401, 403, 403, 403, 403, 404, 404]
    assert_same(pairs)


def test_a_deactivated_student_is_refused_by_both(hub, school, tmp_path):
    grace = "bench-deactivated"
    hub.add_user(grace)
    token = hub.new_token(grace)[0]
    execute(
        school,
        f"INSERT INTO people (username, is_active, created_at) VALUES ('{grace}', false, now())",
    )
    pairs, _ = both(hub, school, [(token, "/progress/me"), (token, "/tracks/DP")], tmp_path)
    assert [lms.status_code for _, lms, _ in pairs] == [403, 403]
    assert_same(pairs)


def test_the_floors_percent_is_lms_apis():
    for total in range(0, 40):
        for done in range(0, total + 1):
            assert floor.percent(done, total) == percent(done, total), (done, total)
