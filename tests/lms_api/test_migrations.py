"""Alembic owns the schema: upgrade, downgrade and upgrade again on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from lms_api.database import sync_url
from lms_api.migrate import downgrade, upgrade
from lms_api.models import Base

pytestmark = pytest.mark.dialects

TABLES = {
    "people",
    "tracks",
    "projects",
    "project_steps",
    "enrollments",
    "deliverables",
    "enrollment_events",
    "step_completions",
    "trainer_assignments",
    "outbox_events",
    "submissions",
    "submission_versions",
    "submission_events",
    "class_sessions",
    "class_session_students",
    "workspace_activity",
}


def tables(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(database_url):
    upgrade(database_url)
    assert tables(database_url) >= TABLES
    downgrade(database_url)
    assert tables(database_url) & TABLES == set()
    upgrade(database_url)
    assert tables(database_url) >= TABLES


def test_migrations_match_the_models(database_url):
    upgrade(database_url)
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations disagree; add a migration: {diff}"
