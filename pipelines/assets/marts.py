"""Marts: the documented tables dashboards read. Names and columns are a contract.

`marts.enrollments(student, track, track_name, status, source, enrolled_at, updated_at)`:
one row per student and track.
"""

from dagster import (
    AssetCheckResult,
    AssetKey,
    MaterializeResult,
    asset,
    asset_check,
)

from pipelines.resources import Warehouse

ENROLLMENTS = AssetKey(["marts", "enrollments"])


@asset(
    key=ENROLLMENTS,
    group_name="marts",
    deps=[AssetKey(["staging", "enrollments"])],
    description="One row per student and track, with status; published for the dashboards.",
)
def enrollments_mart(warehouse: Warehouse) -> MaterializeResult:
    with warehouse.connect() as db:
        db.execute(
            """
            CREATE OR REPLACE TABLE marts.enrollments AS
            SELECT student, track, track_name, status, source, enrolled_at, updated_at
            FROM staging.enrollments
            ORDER BY track, student
            """
        )
        by_status = dict(
            db.execute("SELECT status, count(*) FROM marts.enrollments GROUP BY 1").fetchall()
        )
    published = warehouse.publish()
    return MaterializeResult(
        metadata={"rows": sum(by_status.values()), "published": str(published), **by_status}
    )


@asset_check(asset=ENROLLMENTS, description="student and track are present and unique together.")
def enrollments_keys_unique(warehouse: Warehouse) -> AssetCheckResult:
    with warehouse.connect() as db:
        nulls, duplicates = db.execute(
            """
            SELECT (SELECT count(*) FROM marts.enrollments
                    WHERE student IS NULL OR track IS NULL),
                   (SELECT count(*) FROM (SELECT student, track FROM marts.enrollments
                                          GROUP BY 1, 2 HAVING count(*) > 1))
            """
        ).fetchone()
    return AssetCheckResult(
        passed=nulls == 0 and duplicates == 0,
        metadata={"null_keys": nulls, "duplicate_keys": duplicates},
    )
