"""A dashboard process that stays up sees every publish, and no read fails during one.

The pipeline publishes by renaming a new file over the one the dashboards read; these tests
publish through the real `Warehouse.publish` and read through `dashboards.data.query`, in
one long-lived process as the Streamlit server is.
"""

import threading

import pytest
import streamlit as st

from dashboards import data
from pipelines.resources import Warehouse, mark_updated


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Warehouse:
    st.cache_resource.clear()
    st.cache_data.clear()
    warehouse = Warehouse(path=str(tmp_path / "warehouse" / "warehouse.duckdb"))
    monkeypatch.setenv("APRANOVA_WAREHOUSE_PATH", warehouse.path)
    yield warehouse
    st.cache_resource.clear()
    st.cache_data.clear()


def publish(warehouse: Warehouse, students: int) -> None:
    """Marts with `students` enrollments, published as the pipeline's last step does."""
    with warehouse.connect() as db:
        db.execute(
            "CREATE OR REPLACE TABLE marts.enrollments AS "
            "SELECT 'student' || i AS student FROM range(?) t(i)",
            [students],
        )
        mark_updated(db, "enrollments")
    warehouse.publish(run_id=f"run-{students}")


def students(extra: int = 0) -> int:
    frame = data.query("SELECT count(*) + $extra AS n FROM marts.enrollments", extra=extra)
    return int(frame["n"].iloc[0]) - extra


def test_each_new_publish_is_read_by_the_same_process(warehouse):
    publish(warehouse, 1)
    assert students() == 1
    # The first file's connection is still open (cached), as in a running dashboard.
    publish(warehouse, 2)
    assert students() == 2
    publish(warehouse, 3)
    assert students() == 3
    assert data.refresh().refreshed_at is not None


@pytest.mark.slow
def test_readers_never_fail_while_the_pipeline_publishes(warehouse):
    publish(warehouse, 1)
    errors: list[BaseException] = []
    seen: set[int] = set()
    done = threading.Event()

    def read(offset: int) -> None:
        extra = offset
        while not done.is_set():
            extra += 4  # a new parameter each time: a real read, not the query cache
            try:
                seen.add(students(extra))
            except BaseException as exc:  # any failure is the finding
                errors.append(exc)
                return

    readers = [threading.Thread(target=read, args=(i,)) for i in range(4)]
    for reader in readers:
        reader.start()
    try:
        for count in range(2, 16):
            publish(warehouse, count)
    finally:
        done.set()
        for reader in readers:
            reader.join(timeout=30)
    assert errors == []
    assert students() == 15
    assert len(seen) > 1  # the readers saw publishes go by, not one frozen file
