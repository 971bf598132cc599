"""lms_api trusts only tokens the real hub issued, and takes roles from the hub: the one
file of LMS API tests on the real JupyterHub (the others use the fake hub that
`tests/e2e/test_hub_contract.py` holds to the real one)."""

import time

import httpx
import pytest
from fastapi.testclient import TestClient

from lms_api.main import create_app
from tests.lms_api.conftest import app_settings, bearer

pytestmark = pytest.mark.e2e


@pytest.fixture
def api(platform, database_url, upload_dir, seeded):
    """The LMS app checking tokens with the real hub (not the fake of the other API tests)."""
    seeded.restore(database_url)
    with TestClient(create_app(app_settings(platform, database_url, upload_dir))) as client:
        yield client


def test_health_is_public(api):
    response = api.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_student_sees_own_role_and_enrollment(api, platform):
    token, _ = platform.new_token("ada")
    response = api.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "ada"
    assert body["role"] == "student"
    assert [(e["track_code"], e["status"]) for e in body["enrollments"]] == [("DP", "active")]
    assert body["enrollments"][0]["workspace_kinds"] == ["jupyterlab", "superset"]


def test_trainer_and_admin_roles_come_from_the_hub(api, platform):
    trainer_token, _ = platform.new_token("trainer")
    me = api.get("/api/v1/me", headers={"Authorization": f"token {trainer_token}"}).json()
    assert (me["username"], me["role"], me["enrollments"]) == ("trainer", "trainer", [])
    admin_token, _ = platform.new_token("admin")
    assert api.get("/api/v1/me", headers=bearer(admin_token)).json()["role"] == "superadmin"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-real-token"}, {"Authorization": "Basic YWRhOnB3"}],
    ids=["none", "bad", "wrong-scheme"],
)
def test_missing_or_bad_token_is_401_with_error_body(api, headers):
    response = api.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "not_authenticated"
    assert error["message"]
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_revoked_token_stops_working(api, platform):
    token, token_id = platform.new_token("ada")
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 200
    platform.revoke("ada", token_id)
    time.sleep(0.6)  # past this app's auth cache (0.5 s)
    response = api.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


def test_workspace_rule_is_for_the_hub_only(api, platform):
    hub_token = platform.secrets["APRANOVA_HUB_SERVICE_TOKEN"]
    allowed = api.get(
        "/api/v1/workspaces/allowed", params={"user": "ada"}, headers=bearer(hub_token)
    )
    assert allowed.status_code == 200
    body = allowed.json()
    assert (body["user"], body["kinds"]) == ("ada", ["jupyterlab", "superset"])
    # the track behind each kind: the hub picks datasets and limits by it
    assert body["tracks"] == [{"track_code": "DP", "workspace_kinds": ["jupyterlab", "superset"]}]
    # what she could still buy, and that it cannot be paid online here (no Stripe keys)
    assert [o["track_code"] for o in body["offers"]] == ["FSD"]
    assert body["payments_enabled"] is False
    linus = api.get("/api/v1/workspaces/allowed?user=linus", headers=bearer(hub_token)).json()
    assert linus["kinds"] == ["jupyterlab", "code-server"]
    nobody = api.get("/api/v1/workspaces/allowed?user=grace", headers=bearer(hub_token)).json()
    assert nobody["kinds"] == [] and nobody["tracks"] == []
    student_token, _ = platform.new_token("ada")
    refused = api.get("/api/v1/workspaces/allowed?user=ada", headers=bearer(student_token))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


def test_invalid_input_gets_the_error_body(api, platform):
    hub_token = platform.secrets["APRANOVA_HUB_SERVICE_TOKEN"]
    response = api.get("/api/v1/workspaces/allowed", headers=bearer(hub_token))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert "user" in error["message"]


def test_a_service_token_has_no_profile(api, platform):
    hub_token = platform.secrets["APRANOVA_HUB_SERVICE_TOKEN"]
    assert api.get("/api/v1/me", headers=bearer(hub_token)).status_code == 403


def test_the_hub_serves_the_api_and_its_docs_under_its_prefix(platform):
    token, _ = platform.new_token("linus")
    base = f"{platform.url}/services/lms-api"
    me = httpx.get(f"{base}/api/v1/me", headers=bearer(token))
    assert me.status_code == 200 and me.json()["enrollments"][0]["track_code"] == "FSD"
    docs = httpx.get(f"{base}/docs")
    assert docs.status_code == 200 and "/services/lms-api/openapi.json" in docs.text
    spec = httpx.get(f"{base}/openapi.json").json()
    assert {"/api/v1/health", "/api/v1/me", "/api/v1/workspaces/allowed"} <= set(spec["paths"])


def test_the_python_client_speaks_for_a_user_and_raises_the_error_body(platform):
    from lms_api.client import LmsApiError, LmsClient

    base = f"{platform.url}/services/lms-api/api/v1"
    token, _ = platform.new_token("linus")
    with LmsClient(base_url=base, token=token) as client:
        me = client.me()
        assert (me.username, me.role) == ("linus", "student")
        assert [t.code for t in client.tracks().results] == ["DP", "FSD"]
    with pytest.raises(LmsApiError) as raised, LmsClient(base_url=base, token="bogus") as client:
        client.me()
    assert (raised.value.status, raised.value.code) == (401, "not_authenticated")
