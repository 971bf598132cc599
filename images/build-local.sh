#!/usr/bin/env bash
# Build the workspace images where no registry can be reached and pip cannot reach PyPI inside
# `docker build` (the project's machines, CI): a Debian base made with debootstrap, wheels
# downloaded on the host into images/<kind>/wheels/ (with the notebook client's own wheel,
# apranova-client, built from lms_api/), then `docker build` from the local base.
#
#   images/build-local.sh                  # jupyterlab, superset and code-server
#   images/build-local.sh jupyterlab       # one of them
#
# code-server's npm packages (Node 22, npm, code-server) are fetched on the host as well
# (images/code-server/prepare-npm.sh: needs npm and the npm registry); its Dockerfile installs
# Debian packages (compilers, git, ripgrep) from Debian's mirror, the one thing it fetches
# inside `docker build`. About 4 minutes from nothing on 2 cores (images/README.md).
#
# Needs a running Docker engine, debootstrap and root (for debootstrap). Idempotent: an
# existing base image and existing wheels are reused; the build itself uses Docker's cache.
# Tags: apranova/workspace-<kind>:latest (what the hub's settings default to).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE="${APRANOVA_LOCAL_BASE_IMAGE:-apranova/base:bookworm}"
PIP="${PIP:-.venv/bin/pip}"
PYTHON="${PYTHON:-.venv/bin/python}"
pip() { "$PIP" "$@" 2> >(grep -v "is neither a file nor a directory" >&2); }
kinds=("$@")
((${#kinds[@]})) || kinds=(jupyterlab superset code-server)

if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "== base image $BASE_IMAGE (debootstrap, about a minute)"
  rootfs="$(mktemp -d)"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
  tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi

base_python="$(docker run --rm --network none "$BASE_IMAGE" python3 -c \
  'import platform; print(platform.python_version())')"

for kind in "${kinds[@]}"; do
  dir="images/$kind"
  [[ -f "$dir/Dockerfile" && -f "$dir/requirements.txt" ]] || { echo "no $dir" >&2; exit 2; }
  hub_version="$(sed -n 's/^ARG JUPYTERHUB_VERSION=//p' "$dir/Dockerfile")"
  # The wheels are made again when the requirements (or the pinned jupyterhub) change.
  wanted="$(cat "$dir"/*.txt - <<<"jupyterhub==$hub_version python $base_python" | sha256sum | cut -c1-16)"
  if [[ "$(cat "$dir/wheels/.made-for" 2>/dev/null)" != "$wanted" ]]; then
    find "$dir/wheels" -name '*.whl' -delete
    echo "== wheels for $kind (jupyterhub==$hub_version, Python $base_python of the base)"
    # Packages published only as sources are built into wheels with this host's Python, then
    # everything is resolved for the base image's Python, from wheels only.
    built="$(mktemp -d)"
    pip wheel --quiet --wheel-dir "$built" "jupyterhub==$hub_version" -r "$dir/requirements.txt"
    pip download --quiet --only-binary=:all: --python-version "$base_python" \
      --find-links "$built" --dest "$dir/wheels" "jupyterhub==$hub_version" -r "$dir/requirements.txt"
    rm -rf "$built"
    echo "$wanted" > "$dir/wheels/.made-for"
  fi
  # code-server's npm side (Node 22, npm, code-server's tree) is fetched on the host too.
  if [[ -x "$dir/prepare-npm.sh" ]]; then
    echo "== npm packages for $kind"
    "$dir/prepare-npm.sh"
  fi
  # The client's wheel: made again when its sources changed (seconds), else reused.
  if grep -q build-client-wheel.py "$dir/Dockerfile"; then
    echo "== apranova-client wheel for $kind"
    "$PYTHON" images/build-client-wheel.py --reuse "$dir/wheels" "$dir/wheels" >/dev/null
  fi
  echo "== image apranova/workspace-$kind:latest"
  args=(--build-arg BASE_IMAGE="$BASE_IMAGE")
  # The stage that makes the client's wheel, where the Dockerfile has one of its own.
  if grep -q '^ARG CLIENT_BUILD_IMAGE=' "$dir/Dockerfile"; then
    args+=(--build-arg CLIENT_BUILD_IMAGE="$BASE_IMAGE")
  fi
  start=$SECONDS
  docker build --quiet -f "$dir/Dockerfile" "${args[@]}" \
    -t "apranova/workspace-$kind:latest" . >/dev/null
  echo "   built in $((SECONDS - start)) s"
done
