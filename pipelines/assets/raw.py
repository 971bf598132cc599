"""Raw layer: LMS tables copied as they are, one asset per table."""

from dagster import AssetsDefinition, MaterializeResult, asset

from pipelines.resources import LmsDatabase, Warehouse

RAW_TABLES = {
    "people": "SELECT id, username, created_at FROM people",
    "tracks": "SELECT id, code, name, duration_weeks FROM tracks",
    "enrollments": (
        "SELECT id, person_id, track_id, status, source, created_at, updated_at FROM enrollments"
    ),
}


def raw_table(table: str, query: str) -> AssetsDefinition:
    @asset(name=table, key_prefix="raw", group_name="raw", description=f"LMS `{table}` as is.")
    def _raw(lms: LmsDatabase, warehouse: Warehouse) -> MaterializeResult:
        frame = lms.read(query)
        with warehouse.connect() as db:
            db.register("incoming", frame)
            db.execute(f"CREATE OR REPLACE TABLE raw.{table} AS SELECT * FROM incoming")
        return MaterializeResult(metadata={"rows": len(frame)})

    return _raw


raw_assets = [raw_table(table, query) for table, query in RAW_TABLES.items()]
