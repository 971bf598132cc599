"""docker-compose.yml for real (issue 22, defect 2): PostgreSQL, lms-api and the hub as
compose runs them, a student's workspace started through the hub, and the notebook client
inside her container reaching lms-api by its service name. The images are this machine's
local stand-ins for Docker Hub's (images/build-compose-local.sh, run by .ci/run)."""

import shutil

import pytest

from bench.compose_check import LOCAL_IMAGES, Check
from bench.harness.docker_workspaces import docker_client, missing_images
from tests.conftest import require

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RUN_IMAGES = ("APRANOVA_PLATFORM_IMAGE", "APRANOVA_POSTGRES_IMAGE")


def test_a_notebook_in_a_compose_workspace_reaches_lms_api():
    client = docker_client()
    if client is None or not shutil.which("docker-compose"):
        require("a Docker engine and docker-compose")
    if missing_images(client, ("jupyterlab",)):
        require("the jupyterlab workspace image (images/build-local.sh jupyterlab)")
    for image in (LOCAL_IMAGES[name] for name in RUN_IMAGES):
        if not client.images.list(name=image):
            require(f"{image} (images/build-compose-local.sh)")
    check = Check(full=False)
    try:
        answer = check.run()
    finally:
        check.cleanup()
    assert answer["me"]["username"] == check.student
    assert [e["track_code"] for e in answer["me"]["enrollments"]] == ["DP"]
    assert answer["me"]["role"] == "student"
    # by compose's service name, on the project's network: not the host's loopback
    assert answer["lms_api_url"].startswith("http://lms-api:8010/"), answer["lms_api_url"]
