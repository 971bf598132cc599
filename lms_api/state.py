"""Where the platform keeps its local state, and which secret values are placeholders.

The hub, lms-api, the pipelines and the dashboards all read these; one module (free of any
framework, so each part may import it) keeps them from disagreeing.
"""

import os
from pathlib import Path

STATE_DIR_ENV = "APRANOVA_STATE_DIR"
WAREHOUSE_PATH_ENV = "APRANOVA_WAREHOUSE_PATH"
DATABASE_URL_ENV = "APRANOVA_DATABASE_URL"
DEFAULT_STATE_DIR = Path(".apranova")

# Values a secret may not keep in production (compared stripped and lower-cased).
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "placeholder", "xxx"})


def is_placeholder(secret) -> bool:
    """`secret`: a str or a pydantic SecretStr."""
    plain = secret.get_secret_value() if hasattr(secret, "get_secret_value") else secret
    return plain.strip().lower() in PLACEHOLDER_SECRETS


def state_dir() -> Path:
    """The state folder: `APRANOVA_STATE_DIR`, or `.apranova` in the working directory."""
    return Path(os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR).resolve()


def lms_database_url(state: Path | None = None) -> str:
    """The LMS database's default URL: SQLite in the state folder."""
    return f"sqlite:///{(state or state_dir()).resolve() / 'lms.db'}"


def warehouse_file(state: Path | None = None) -> Path:
    """The published warehouse in the state folder (`<state>/warehouse/warehouse.duckdb`)."""
    return (state or state_dir()).resolve() / "warehouse" / "warehouse.duckdb"


def warehouse_path() -> Path:
    """The warehouse this process uses: `APRANOVA_WAREHOUSE_PATH`, else the state folder's."""
    explicit = os.environ.get(WAREHOUSE_PATH_ENV)
    return Path(explicit).resolve() if explicit else warehouse_file()
