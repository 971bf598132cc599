"""The marts contract's DDL and its comparison with what a warehouse holds, in memory."""

import duckdb
import pytest

from pipelines.assets.marts import ALL_MARTS, REVENUE
from pipelines.checks import columns_result
from pipelines.marts_contract import MARTS, create_table_sql, differences


@pytest.fixture
def db():
    with duckdb.connect(":memory:") as db:
        db.execute("CREATE SCHEMA marts")
        yield db


def test_every_mart_asset_has_a_contract_and_only_the_publish_tables_have_no_asset():
    assets = {key.path[-1] for key in ALL_MARTS}
    assert set(MARTS) - assets == {"_refresh", "_sources"}
    assert assets <= set(MARTS)


def test_tables_created_from_the_contract_agree_with_it(db):
    for table in MARTS:
        db.execute(create_table_sql(table))
    assert differences(db) == []


def test_a_missing_table_is_named(db):
    assert differences(db, ["revenue"]) == ["marts.revenue: missing table"]


def test_missing_extra_and_retyped_columns_are_said_in_words(db):
    db.execute(
        "CREATE TABLE marts.workspace_activity "
        "(student VARCHAR, day TIMESTAMP, sessions INTEGER, device VARCHAR)"
    )
    assert differences(db, ["workspace_activity"]) == [
        "marts.workspace_activity: missing column active_minutes INTEGER",
        "marts.workspace_activity: extra column device VARCHAR (not in the contract)",
        "marts.workspace_activity: column day is TIMESTAMP, the contract says DATE",
    ]


def test_reordered_columns_are_said_in_words(db):
    db.execute(
        "CREATE TABLE marts.workspace_activity "
        "(day DATE, student VARCHAR, active_minutes INTEGER, sessions INTEGER)"
    )
    assert differences(db, ["workspace_activity"]) == [
        "marts.workspace_activity: columns reordered: day, student, active_minutes, sessions; "
        "the contract says student, day, active_minutes, sessions"
    ]


def test_the_pipelines_columns_check_fails_with_the_differences(db):
    db.execute(create_table_sql("revenue").replace('"currency" VARCHAR', '"currency" INTEGER'))
    result = columns_result(db, REVENUE)
    assert not result.passed
    assert result.metadata["differences"].value == [
        "marts.revenue: column currency is INTEGER, the contract says VARCHAR"
    ]
