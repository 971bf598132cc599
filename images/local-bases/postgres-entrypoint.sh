#!/bin/sh
# The entrypoint of images/local-bases/postgres.Dockerfile: the parts of the official postgres
# image's docker-entrypoint.sh that docker-compose.yml relies on. Runs as user postgres.
#   - empty $PGDATA: initdb with superuser $POSTGRES_USER (password $POSTGRES_PASSWORD,
#     scram-sha-256), database $POSTGRES_DB, then /docker-entrypoint-initdb.d/*.sh (sourced
#     environment: POSTGRES_* and the rest of the container's env) against a temporary server
#     on the Unix socket only, as the official image does;
#   - then `postgres` on all interfaces, port 5432; host connections need the password.
set -eu
if [ "${1:-postgres}" != postgres ]; then exec "$@"; fi
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
export POSTGRES_USER="${POSTGRES_USER:-postgres}"
export POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
    rm -f "$pwfile"
    {
        echo "host all all all scram-sha-256"
    } >> "$PGDATA/pg_hba.conf"
    # Temporary server: socket only, so nothing on the network sees a half-made database.
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start >/dev/null
    if [ "$POSTGRES_DB" != postgres ]; then
        psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
            --set=db="$POSTGRES_DB" <<'SQL'
CREATE DATABASE :"db";
SQL
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh) echo "entrypoint: running $f"; sh "$f" ;;
            *.sql) echo "entrypoint: running $f"; psql -v ON_ERROR_STOP=1 --no-psqlrc \
                --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -f "$f" ;;
            *) ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "entrypoint: database initialised"
fi
exec postgres -c listen_addresses='*' -c port=5432
