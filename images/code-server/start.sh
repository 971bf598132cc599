#!/bin/sh
# The code-server workspace as a JupyterHub single-user server: jupyter-standaloneproxy listens
# where the hub expects the server (JUPYTERHUB_SERVICE_URL, port 8888), logs the student in
# with the hub (OAuth; only the owner gets through), reports activity for the idle culler and
# forwards to VS Code on loopback. code-server itself has no password: the proxy is the door.
set -eu
: "${CODE_SERVER_PORT:=13337}"
mkdir -p "$HOME/project"
exec jupyter-standaloneproxy \
    --address=0.0.0.0 --port=8888 --server-port="$CODE_SERVER_PORT" \
    --activity-interval=60 \
    -- code-server --bind-addr "127.0.0.1:$CODE_SERVER_PORT" --auth none \
    --disable-telemetry --disable-update-check --disable-workspace-trust \
    --user-data-dir "$HOME/.local/share/code-server" "$HOME/project"
