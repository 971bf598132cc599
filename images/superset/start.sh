#!/bin/bash
# superset-entrypoint: a student's Superset as a JupyterHub single-user server (named server
# "superset", e.g. /user/ana/superset/), run as jovyan with the student's volume on $HOME.
#
#   superset-entrypoint          prepare ~/.superset, start Superset, exec the hub proxy
#   superset-entrypoint serve    (run by the proxy) keep Superset up on 127.0.0.1:8088
#
# jupyter-standaloneproxy listens where the hub expects the server (0.0.0.0:8888), does the
# hub's OAuth login (owner only) and forwards the full prefixed path to gunicorn on
# 127.0.0.1:8088. The proxy would start its command only at the first proxied request; so
# Superset is started here at once (healthy, and warm when the student arrives) and the
# proxy's command, `serve`, only waits on it, and runs a new one should it ever stop.
#
# Environment (from the hub's spawner): JUPYTERHUB_SERVICE_PREFIX (Superset's app root),
# JUPYTERHUB_USER (the only user, Admin; superset_config.py), APRANOVA_TRACK (whose datasets
# "Course datasets" opens; default DP), the JUPYTERHUB_* OAuth and API variables (the proxy).
# Optional: APRANOVA_ACTIVITY_INTERVAL (see below), SUPERSET_GUNICORN_THREADS (8).
set -euo pipefail

state="$HOME/.superset"
template=/opt/superset-template
pidfile=/tmp/superset-gunicorn.pid
prefix="${JUPYTERHUB_SERVICE_PREFIX:-/}"
export SUPERSET_APP_ROOT="${prefix%/}"
[[ -n "$SUPERSET_APP_ROOT" ]] || SUPERSET_APP_ROOT=/

gunicorn_alive() {
    # The pid of the gunicorn master, if it runs (a zombie, reaped by no one, does not).
    local pid stat
    pid="$(cat "$pidfile" 2>/dev/null)" || return 1
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [[ "${stat%% *}" != Z ]] && echo "$pid"
}

serve() {
    local pid
    if pid="$(gunicorn_alive)"; then
        while gunicorn_alive >/dev/null; do sleep 5; done
        echo "superset-entrypoint: gunicorn $pid stopped" >&2
        exit 1  # the proxy restarts its command on a non-zero exit: a new gunicorn
    fi
    # One worker with threads: SQL Lab runs in the web process, ~1 GB of memory is enough.
    exec gunicorn --bind 127.0.0.1:8088 --workers 1 --worker-class gthread \
        --threads "${SUPERSET_GUNICORN_THREADS:-8}" --timeout 120 --graceful-timeout 10 \
        --limit-request-line 0 --limit-request-field_size 0 --no-control-socket \
        --pid "$pidfile" "superset.app:create_app()"
}

if [[ "${1:-}" == serve ]]; then
    serve
fi

# --- ~/.superset: the student's state, on the persistent volume -----------------------------
umask 077
mkdir -p "$state"
chmod 0700 "$state"
if [[ ! -s "$state/secret_key" ]]; then
    python -c 'import secrets; print(secrets.token_urlsafe(48))' > "$state/secret_key.new"
    mv "$state/secret_key.new" "$state/secret_key"
fi
chmod 0600 "$state/secret_key"

version="$(cat "$template/VERSION")"
if [[ ! -e "$state/superset.db" ]]; then
    # First start: the metadata made at build (schema, roles, "Course datasets"), no waiting
    # for migrations. Later starts keep the student's charts, dashboards and saved queries.
    cp "$template/superset.db" "$state/superset.db.new"
    mv "$state/superset.db.new" "$state/superset.db"
    echo "$version" > "$state/superset.version"
elif [[ "$(cat "$state/superset.version" 2>/dev/null)" != "$version" ]]; then
    # A newer image: bring the student's metadata up to this Superset (once).
    echo "superset-entrypoint: upgrading ~/.superset/superset.db to Superset $version" >&2
    superset db upgrade
    superset init
    echo "$version" > "$state/superset.version"
fi

# "Course datasets" opens ~/.superset/course.duckdb (read-only): this start's track.
track="${APRANOVA_TRACK:-DP}"
course="/opt/apranova/datasets/$track/datasets.duckdb"
[[ -f "$course" ]] || echo "superset-entrypoint: no datasets for track '$track' ($course)" >&2
ln -sfn "$course" "$state/course.duckdb"
umask 022

# --- Superset now, then the hub proxy as the main process -----------------------------------
rm -f "$pidfile"  # a `docker restart` keeps /tmp, not the processes
"$0" serve &

# The proxy runs as PID 1, which gets no default signal handling: on SIGTERM (docker stop, the
# spawner's stop) it stops gunicorn gracefully first (SQLite metadata), then itself.
launcher='
import os, signal, sys, time
from jupyter_server_proxy.standalone import main

PIDFILE = sys.argv.pop(1)  # the rest: the proxy command line

def stop(signum, frame):
    try:
        pid = int(open(PIDFILE).read())
        os.kill(pid, signal.SIGTERM)
        for _ in range(90):
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    break
            except ChildProcessError:
                pass
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(") ", 1)[1].startswith("Z"):
                    break
            time.sleep(0.1)
    except (OSError, ValueError, IndexError):  # gone already
        pass
    sys.exit(0)

signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
sys.argv[0] = "jupyter-standaloneproxy"
sys.exit(main())
'

# The proxy's base URL is JUPYTERHUB_SERVICE_PREFIX (Superset's app root). Its own activity
# reports say "active now" every interval for as long as it runs, so an idle server would never
# be culled: off by default, the hub still sees real use through its proxy's route activity.
# APRANOVA_ACTIVITY_INTERVAL (seconds) turns them on.
exec python -c "$launcher" "$pidfile" --address 0.0.0.0 --port 8888 --server-port 8088 \
    --absolute-url --timeout 120 --activity-interval "${APRANOVA_ACTIVITY_INTERVAL:-0}" \
    -- "$0" serve
