"""Publishing: the marts become visible to readers in one atomic rename."""

from datetime import timedelta

from dagster import AssetExecutionContext, AssetKey, FreshnessPolicy, MaterializeResult, asset

from pipelines.assets.marts import ALL_MARTS
from pipelines.resources import Warehouse

PUBLISHED = AssetKey(["published_marts"])


@asset(
    key=PUBLISHED,
    group_name="publish",
    deps=ALL_MARTS,
    # Activity collection publishes every 5 minutes and the nightly rebuild once a day:
    # two hours without a publish is worth a look, 26 hours means the pipeline is stuck.
    freshness_policy=FreshnessPolicy.time_window(
        fail_window=timedelta(hours=26), warn_window=timedelta(hours=2)
    ),
    description="Every marts table copied into a fresh DuckDB file that replaces the one the "
    "dashboards read (APRANOVA_WAREHOUSE_PATH), with marts._refresh saying when.",
)
def published_marts(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    path, rows = warehouse.publish(run_id=context.run.run_id)
    return MaterializeResult(
        metadata={"path": str(path), **{f"rows.{k}": v for k, v in rows.items()}}
    )
