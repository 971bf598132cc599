import stat

import pytest
from pydantic import ValidationError

from hub.secrets import ensure_local_secrets
from hub.settings import SECRET_FIELDS, HubSettings


def test_local_secrets_are_generated_private_and_kept(tmp_path):
    path = ensure_local_secrets(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_text()
    for field in SECRET_FIELDS:
        assert f"APRANOVA_{field.upper()}=" in first
    ensure_local_secrets(tmp_path)
    assert path.read_text() == first  # a second `make up` reuses them
    settings = HubSettings(_env_file=path, state_dir=tmp_path)
    cookie, token = (
        settings.cookie_secret.get_secret_value(),
        settings.lms_api_token.get_secret_value(),
    )
    assert len(cookie) == 64 and cookie != token


def test_production_refuses_placeholder_secrets(tmp_path):
    with pytest.raises(ValidationError, match="APRANOVA_COOKIE_SECRET"):
        HubSettings(
            production=True,
            state_dir=tmp_path,
            cookie_secret="change-me",
            proxy_auth_token="a" * 64,
            lms_api_token="b" * 64,
            hub_service_token="c" * 64,
        )


def test_local_defaults_live_in_the_state_folder(tmp_path):
    settings = HubSettings(state_dir=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'lms.db'}"
    assert settings.warehouse_path.startswith(str(tmp_path))
    assert settings.mode == "local" and settings.authenticator == "local"


def test_production_oauth_needs_real_client_credentials(tmp_path):
    real = {f: "f" * 64 for f in SECRET_FIELDS}
    with pytest.raises(ValidationError, match="APRANOVA_OAUTH_CLIENT_SECRET"):
        HubSettings(
            production=True,
            state_dir=tmp_path,
            authenticator="github",
            oauth_client_id="Iv1.abc",
            oauth_client_secret="change-me",
            **real,
        )


def test_external_services_need_their_urls(tmp_path):
    with pytest.raises(ValidationError, match="APRANOVA_DASHBOARDS_URL"):
        HubSettings(state_dir=tmp_path, external_services=True, dagster_url="http://dagster:8030")
    settings = HubSettings(
        state_dir=tmp_path,
        external_services=True,
        lms_api_url="http://lms-api:8010/",
        dashboards_url="http://dashboards:8020",
        dagster_url="http://dagster-webserver:8030",
    )
    assert settings.lms_api_base == "http://lms-api:8010/services/lms-api/api/v1"


def test_the_start_line_takes_two_starts_per_core_unless_set(tmp_path, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert HubSettings(state_dir=tmp_path).workspace_starts_at_once == 12
    assert HubSettings(state_dir=tmp_path, workspace_starts_at_once=3).workspace_starts_at_once == 3
