# Local stand-in for Docker Hub's python:3.11-slim-bookworm, for machines that cannot pull
# from Docker Hub (images/build-compose-local.sh). From the debootstrap base
# apranova/base:bookworm (Debian bookworm minbase + python3, python3-venv, ca-certificates;
# images/build-local.sh makes it) plus Debian's pip; Python is Debian's 3.11.
# What images/platform/Dockerfile and images/superset/Dockerfile use of the official image:
# python3 (with venv, tomllib), pip, apt-get, groupadd/useradd, a UTF-8 locale.
ARG BASE_IMAGE=apranova/base:bookworm
FROM ${BASE_IMAGE}
# The host's extra CA certificates (ca/, filled by images/build-compose-local.sh), for pip and npm
# behind a TLS-inspecting proxy; an empty ca/ changes nothing.
COPY ca/ /usr/local/share/ca-certificates/
RUN rm -f /usr/local/share/ca-certificates/README.md && update-ca-certificates >/dev/null
ENV LANG=C.UTF-8 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
RUN set -eu; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3-pip python-is-python3; \
    rm -rf /var/lib/apt/lists/*; \
    python3 -c 'import sys, tomllib, venv; assert sys.version_info[:2] == (3, 11), sys.version'; \
    python3 -m pip --version; \
    command -v useradd groupadd >/dev/null
CMD ["python3"]
