"""Staging layer: raw tables joined and typed for the marts."""

from dagster import AssetKey, MaterializeResult, asset

from pipelines.resources import Warehouse


@asset(
    key_prefix="staging",
    group_name="staging",
    deps=[AssetKey(["raw", t]) for t in ("people", "tracks", "enrollments")],
    description="Enrollments with the student's username and the track's code.",
)
def enrollments(warehouse: Warehouse) -> MaterializeResult:
    with warehouse.connect() as db:
        db.execute(
            """
            CREATE OR REPLACE TABLE staging.enrollments AS
            SELECT p.username                      AS student,
                   t.code                          AS track,
                   t.name                          AS track_name,
                   lower(e.status)                 AS status,
                   lower(e.source)                 AS source,
                   CAST(e.created_at AS TIMESTAMP) AS enrolled_at,
                   CAST(e.updated_at AS TIMESTAMP) AS updated_at
            FROM raw.enrollments e
            JOIN raw.people p ON p.id = e.person_id
            JOIN raw.tracks t ON t.id = e.track_id
            """
        )
        rows = db.execute("SELECT count(*) FROM staging.enrollments").fetchone()[0]
    return MaterializeResult(metadata={"rows": rows})
