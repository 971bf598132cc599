#!/bin/sh
# Run once by the postgres image's entrypoint (/docker-entrypoint-initdb.d), when the data
# volume is still empty; later changes of these settings need a manual ALTER ROLE.
#
#   - DAGSTER_POSTGRES_DB, owned by DAGSTER_POSTGRES_USER: the Dagster instance's storage
#     (runs, event logs, schedules), kept apart from the LMS schema (both use Alembic).
#   - LMS_READER_USER: the pipelines' read-only login to the LMS database POSTGRES_DB. It may
#     read every table the LMS owner (POSTGRES_USER) creates, now or later, and nothing else;
#     its sessions are read-only by default.
set -eu
: "${POSTGRES_USER:?}" "${POSTGRES_DB:?}"
: "${DAGSTER_POSTGRES_DB:?}" "${DAGSTER_POSTGRES_USER:?}" "${DAGSTER_POSTGRES_PASSWORD:?}"
: "${LMS_READER_USER:?}" "${LMS_READER_PASSWORD:?}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set=lms_db="$POSTGRES_DB" \
    --set=lms_owner="$POSTGRES_USER" \
    --set=dagster_db="$DAGSTER_POSTGRES_DB" \
    --set=dagster_user="$DAGSTER_POSTGRES_USER" \
    --set=dagster_password="$DAGSTER_POSTGRES_PASSWORD" \
    --set=reader_user="$LMS_READER_USER" \
    --set=reader_password="$LMS_READER_PASSWORD" <<'SQL'
CREATE ROLE :"dagster_user" LOGIN PASSWORD :'dagster_password';
CREATE DATABASE :"dagster_db" OWNER :"dagster_user";
REVOKE ALL ON DATABASE :"dagster_db" FROM PUBLIC;

CREATE ROLE :"reader_user" LOGIN PASSWORD :'reader_password';
ALTER ROLE :"reader_user" SET default_transaction_read_only = on;
REVOKE ALL ON DATABASE :"lms_db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"lms_db" TO :"lms_owner", :"reader_user";
GRANT USAGE ON SCHEMA public TO :"reader_user";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"reader_user";
ALTER DEFAULT PRIVILEGES FOR ROLE :"lms_owner" IN SCHEMA public
    GRANT SELECT ON TABLES TO :"reader_user";
SQL
