"""The one settings object of the lms-api process, read from the environment and `.env`."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lms_api.state import DEFAULT_STATE_DIR, is_placeholder, lms_database_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APRANOVA_", env_file=".env", extra="ignore")

    production: bool = Field(
        False, description="Refuse placeholder secrets and require explicit configuration."
    )
    state_dir: Path = Field(DEFAULT_STATE_DIR, description="Local, git-ignored state folder.")
    database_url: str = Field(
        "", description="SQLAlchemy URL of the LMS database; default: SQLite in state_dir."
    )
    database_pool_size: int = Field(
        20,
        ge=1,
        le=500,
        description="PostgreSQL connections each API process keeps open. Size it for the "
        "requests one process runs at once: beyond it, connections are opened and closed per "
        "request (costly); processes x (pool + 10 overflow) must fit max_connections.",
    )
    hub_api_url: str = Field(
        "http://127.0.0.1:8081/hub/api", description="JupyterHub REST API, for token checks."
    )
    lms_api_token: SecretStr = Field(
        SecretStr(""),
        description="This service's hub token (JUPYTERHUB_API_TOKEN when hub-managed); "
        "used to read users' roles from the hub.",
    )
    auth_cache_seconds: float = Field(
        30.0, ge=0, description="How long a validated token is trusted before re-asking the hub."
    )
    trusted_services: list[str] = Field(
        default_factory=lambda: ["apranova-hub"],
        description="Hub services allowed to ask service-only questions (workspace rule).",
    )
    max_students_per_trainer: int = Field(
        20, ge=1, description="Cap on students assigned to one trainer (enforced atomically)."
    )
    upload_dir: Path | None = Field(
        None,
        description="Where uploaded submission files are kept (outside the database); "
        "default: state_dir/uploads. Share it between lms-api replicas.",
    )
    max_upload_bytes: int = Field(
        20 * 1024 * 1024, ge=1, description="Largest file a student may upload (bytes)."
    )
    upload_drain_max_bytes: int | None = Field(
        None,
        ge=0,
        description="How much of a body over the limit is read and dropped so that its sender "
        "(the hub's proxy) gets the 413 rather than a cut connection; larger ones are cut. "
        "Default: 3 x the body limit (max_upload_bytes + 1 MiB), 63 MiB.",
    )
    gemini_api_key: SecretStr = Field(
        SecretStr(""),
        description="Google Gemini API key for quiz generation; without it the generate "
        "route answers 503 and quizzes are written by hand or imported.",
    )
    gemini_model: str = Field("gemini-2.5-flash", description="Gemini model that writes quizzes.")
    gemini_base_url: str | None = Field(
        None, description="Override of the Gemini API address (a proxy, or a fake in tests)."
    )
    gemini_timeout_seconds: float = Field(
        60.0, gt=0, le=600, description="Longest wait for one Gemini answer."
    )
    gemini_max_attempts: int = Field(
        3, ge=1, le=10, description="Gemini calls per generation before giving up on bad output."
    )
    quiz_generations_per_hour: int = Field(
        20, ge=0, description="Quiz generations one trainer may start per rolling hour."
    )
    quiz_time_grace_seconds: float = Field(
        5.0,
        ge=0,
        le=300,
        description="Network slack after a quiz's time limit before answers are refused.",
    )
    session_late_after_minutes: int = Field(
        10,
        ge=0,
        le=720,
        description="Attendance of a class session: a student whose first activity (workspace "
        "or LMS) comes more than this many minutes after the start is late, not present.",
    )
    stripe_secret_key: SecretStr = Field(
        SecretStr(""),
        description="Stripe secret key (sk_live_... / sk_test_...); without it the payment "
        "routes answer 503 and admins enroll students by grant.",
    )
    stripe_webhook_secret: SecretStr = Field(
        SecretStr(""),
        description="Signing secret of the Stripe webhook endpoint (whsec_...): every event "
        "is checked against it before anything changes.",
    )
    stripe_api_base: str | None = Field(
        None, description="Override of the Stripe API address (a local fake in tests)."
    )
    stripe_webhook_tolerance_seconds: int = Field(
        300,
        ge=1,
        le=3600,
        description="Oldest signature timestamp accepted on a webhook (replay protection).",
    )
    stripe_timeout_seconds: float = Field(
        20.0, gt=0, le=120, description="Longest wait for one Stripe API answer."
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="Where students reach the hub; Stripe Checkout sends them back there.",
    )
    service_prefix: str = Field(
        "/services/lms-api", description="Path prefix under which the hub proxy serves the API."
    )

    hub_prefix: str = Field(
        "/hub/", description="The hub's URL prefix, for the portal's links to hub pages."
    )
    portal_oauth_client_id: str = Field(
        "service-lms-api",
        description="The OAuth client the hub made for this service (browser sign-in to the "
        "portal): JUPYTERHUB_CLIENT_ID when hub-managed.",
    )
    authenticator: str = Field(
        "local",
        description="The hub's login kind (as APRANOVA_AUTHENTICATOR): with local accounts the "
        "portal links to the hub's password page.",
    )
    school_contact: str = Field(
        "the school office",
        description="Who a student without an enrollment asks when online payment is off "
        "(an e-mail address or words), shown on the portal's catalog.",
    )

    swagger_ui_dir: Path = Field(
        Path(__file__).resolve().parent.parent / "node_modules" / "swagger-ui-dist",
        description="Swagger UI's files for the API docs page (npm package swagger-ui-dist, "
        "installed by `make install`), served by this service rather than from a CDN.",
    )

    @field_validator("service_prefix", "public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def payments_enabled(self) -> bool:
        return bool(
            self.stripe_secret_key.get_secret_value()
            and self.stripe_webhook_secret.get_secret_value()
        )

    def model_post_init(self, _context: object) -> None:
        if not self.database_url:
            self.database_url = lms_database_url(self.state_dir)
        if self.upload_dir is None:
            self.upload_dir = (self.state_dir / "uploads").resolve()
        if self.production and is_placeholder(self.lms_api_token):
            raise ValueError(
                "APRANOVA_LMS_API_TOKEN is missing or a placeholder; "
                "production mode refuses to start without a real secret."
            )
        for name in ("stripe_secret_key", "stripe_webhook_secret"):
            value = getattr(self, name).get_secret_value()
            if self.production and value and is_placeholder(value):
                raise ValueError(
                    f"APRANOVA_{name.upper()} is a placeholder; production mode refuses it "
                    "(leave it empty to run without payments)."
                )


@lru_cache
def get_settings() -> Settings:
    return Settings()
