"""The Dagster code location of ApraNova (`dagster dev -m pipelines.definitions`).

Layers: raw (LMS tables and hub activity, copied into the warehouse) -> staging (joined and
shaped) -> marts (the documented tables dashboards read) -> published_marts (the marts copied
into the file readers open, atomically). pipelines.automation says when each part runs.
"""

from dagster import Definitions, in_process_executor, load_assets_from_modules, map_asset_specs

from pipelines import automation, checks
from pipelines.assets import attendance, backtest, detail, marts, publish, staging
from pipelines.assets.raw import raw_assets
from pipelines.marts_contract import with_column_schema
from pipelines.resources import (
    HubApi,
    LmsDatabase,
    Warehouse,
    default_hub_api,
    default_lms_url,
    default_warehouse_path,
)
from pipelines.settings import AnalyticsSettings


def resources(lms_url: str, warehouse_path: str, hub: HubApi | None = None, **settings) -> dict:
    """The resources of a run, for tests and tools that run the assets themselves."""
    return {
        "lms": LmsDatabase(url=lms_url),
        "warehouse": Warehouse(path=warehouse_path),
        "hub": hub or HubApi(),
        "settings": AnalyticsSettings(**settings),
    }


defs = Definitions(
    assets=map_asset_specs(
        with_column_schema,
        [
            *raw_assets,
            *load_assets_from_modules([staging, marts, detail, backtest, attendance, publish]),
        ],
    ),
    asset_checks=checks.asset_checks,
    jobs=automation.jobs,
    schedules=automation.schedules,
    sensors=automation.sensors,
    resources={
        "lms": LmsDatabase(url=default_lms_url()),
        "warehouse": Warehouse(path=default_warehouse_path()),
        "hub": default_hub_api(),
        "settings": AnalyticsSettings.from_env(),
    },
    # DuckDB has one writer: run the steps of a run in one process, one after another.
    executor=in_process_executor,
)
