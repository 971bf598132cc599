# Local stand-in for Docker Hub's postgres image, for machines that cannot pull from Docker
# Hub (images/build-compose-local.sh): Debian bookworm's PostgreSQL 15 on the debootstrap base
# apranova/base:bookworm, with an entrypoint (postgres-entrypoint.sh) doing what
# docker-compose.yml uses of the official image: POSTGRES_USER / POSTGRES_PASSWORD /
# POSTGRES_DB, /docker-entrypoint-initdb.d/*.sh run once on an empty PGDATA, then the server on
# all interfaces, port 5432, password (scram-sha-256) authentication from the network.
ARG BASE_IMAGE=apranova/base:bookworm
FROM ${BASE_IMAGE}
ENV LANG=C.UTF-8 \
    PGDATA=/var/lib/postgresql/data \
    PATH=/usr/lib/postgresql/15/bin:$PATH
RUN set -eu; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15; \
    rm -rf /var/lib/apt/lists/*; \
    install -d -o postgres -g postgres -m 2775 /var/run/postgresql; \
    install -d -o postgres -g postgres -m 0700 "$PGDATA"; \
    install -d /docker-entrypoint-initdb.d; \
    postgres --version
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER postgres
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["postgres"]
