"""At image build: finish the metadata template every student's Superset starts from.

    APRANOVA_SUPERSET_DB=<template> superset db upgrade && superset init && python init_metadata.py

Adds the database connection "Course datasets": DuckDB, read-only, SQL Lab allowed, no DML, no
uploads, no extension downloads. It points at ~/.superset/course.duckdb, a symlink that
superset-entrypoint re-points at each start to
/opt/apranova/datasets/$APRANOVA_TRACK/datasets.duckdb, so the connection follows the track.
"""

import json
import os

from superset.app import create_app

NAME = "Course datasets"
URI = "duckdb:////home/jovyan/.superset/course.duckdb"
EXTRA = {
    "engine_params": {
        "connect_args": {
            "read_only": True,
            # No downloads from the internet; the extensions built into duckdb still load.
            "config": {"autoinstall_known_extensions": False},
        }
    },
    "allows_virtual_table_explore": True,
    "schemas_allowed_for_file_upload": [],
}

app = create_app()
with app.app_context():
    from superset import db
    from superset.models.core import Database

    database = db.session.query(Database).filter_by(database_name=NAME).one_or_none()
    if database is None:
        database = Database(database_name=NAME)
        db.session.add(database)
    database.sqlalchemy_uri = URI
    database.extra = json.dumps(EXTRA)
    database.expose_in_sqllab = True
    database.allow_run_async = False
    database.allow_dml = False
    database.allow_file_upload = False
    database.allow_ctas = False
    database.allow_cvas = False
    db.session.commit()
    print(f"{NAME!r} ({URI}) in {os.environ.get('APRANOVA_SUPERSET_DB')}")
