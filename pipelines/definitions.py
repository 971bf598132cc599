"""The Dagster code location of ApraNova (`dagster dev -m pipelines.definitions`)."""

from dagster import Definitions, define_asset_job, in_process_executor, load_assets_from_modules

from pipelines.assets import marts, staging
from pipelines.assets.raw import raw_assets
from pipelines.resources import LmsDatabase, Warehouse, default_lms_url, default_warehouse_path

refresh_all = define_asset_job("refresh_all", selection="*")

defs = Definitions(
    assets=[*raw_assets, *load_assets_from_modules([staging, marts])],
    asset_checks=[marts.enrollments_keys_unique],
    jobs=[refresh_all],
    resources={
        "lms": LmsDatabase(url=default_lms_url()),
        "warehouse": Warehouse(path=default_warehouse_path()),
    },
    # DuckDB has one writer: run the steps of a run in one process, one after another.
    executor=in_process_executor,
)
