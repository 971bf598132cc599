#!/usr/bin/env bash
# Build what docker-compose.yml runs on a machine that cannot pull from Docker Hub: local
# stand-ins for its three images, made from Debian packages and the npm registry on the
# debootstrap base apranova/base:bookworm (images/build-local.sh makes it), then the platform
# image with `docker-compose build`, its build args pointing at them.
#
#   images/build-compose-local.sh
#
#   apranova-local/python:3.11   for python:3.11-slim-bookworm  (images/local-bases/python.Dockerfile)
#   apranova-local/node:22       for node:22-bookworm-slim      (images/local-bases/node.Dockerfile)
#   apranova-local/postgres:15   for postgres:16                (images/local-bases/postgres.Dockerfile)
#   $APRANOVA_PLATFORM_IMAGE     the platform, default apranova-local/platform:latest
#
# Use them with compose through the environment or .env:
#   APRANOVA_PLATFORM_IMAGE=apranova-local/platform:latest
#   APRANOVA_PLATFORM_BASE_IMAGE=apranova-local/python:3.11
#   APRANOVA_NODE_IMAGE=apranova-local/node:22
#   APRANOVA_POSTGRES_IMAGE=apranova-local/postgres:15
# The workspace image (apranova/workspace-jupyterlab:latest) comes from images/build-local.sh.
#
# pip and npm still fetch from PyPI and the npm registry inside `docker build` (or use the
# offline folders, images/README.md). Behind a TLS-inspecting proxy, the host's extra CA
# certificates (/usr/local/share/ca-certificates/*.crt) are copied into the python and node
# stand-ins (images/local-bases/ca/, git-ignored) so that they trust it; so do the images
# built on them: these are local images, not for shipping.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE="${APRANOVA_LOCAL_BASE_IMAGE:-apranova/base:bookworm}"
export APRANOVA_PLATFORM_IMAGE="${APRANOVA_PLATFORM_IMAGE:-apranova-local/platform:latest}"
export APRANOVA_PLATFORM_BASE_IMAGE=apranova-local/python:3.11
export APRANOVA_NODE_IMAGE=apranova-local/node:22
export APRANOVA_POSTGRES_IMAGE=apranova-local/postgres:15
COMPOSE="${COMPOSE:-docker-compose}"

docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || {
  echo "no $BASE_IMAGE: make it first (images/build-local.sh makes it with debootstrap)" >&2
  exit 2
}

ctx=images/local-bases
find "$ctx/ca" -name '*.crt' -delete
for crt in /usr/local/share/ca-certificates/*.crt; do
  [[ -f "$crt" ]] && cp "$crt" "$ctx/ca/"
done

build() {  # tag dockerfile
  local start=$SECONDS
  docker build --quiet --build-arg BASE_IMAGE="$BASE_IMAGE" -f "$ctx/$2" -t "$1" "$ctx" >/dev/null
  echo "== $1 ($2): $((SECONDS - start)) s"
}
build "$APRANOVA_PLATFORM_BASE_IMAGE" python.Dockerfile
build "$APRANOVA_NODE_IMAGE" node.Dockerfile
build "$APRANOVA_POSTGRES_IMAGE" postgres.Dockerfile

# Every platform service shares one image and build: building the hub's builds it.
# Required variables of the compose file that a build does not use get placeholders here.
start=$SECONDS
placeholders=()
for var in APRANOVA_PUBLIC_URL APRANOVA_COOKIE_SECRET APRANOVA_PROXY_AUTH_TOKEN \
  APRANOVA_LMS_API_TOKEN APRANOVA_HUB_SERVICE_TOKEN APRANOVA_DASHBOARDS_API_TOKEN \
  APRANOVA_DAGSTER_API_TOKEN APRANOVA_POSTGRES_PASSWORD APRANOVA_POSTGRES_READER_PASSWORD \
  APRANOVA_DAGSTER_POSTGRES_PASSWORD APRANOVA_DOCKER_GID; do
  [[ -n "${!var:-}" ]] || placeholders+=("$var=unused-by-build")
done
env "${placeholders[@]}" "$COMPOSE" -p apranova-local-build build hub >/dev/null
echo "== $APRANOVA_PLATFORM_IMAGE (docker-compose build hub): $((SECONDS - start)) s"
