"""The connection pool follows the settings, so a busy process does not open and close a
PostgreSQL connection per request (bench/README.md shows what that costs)."""

from lms_api.config import Settings
from lms_api.main import create_app


def test_the_pool_size_setting_reaches_the_postgresql_engine(postgres_url):
    for size in (3, 7):
        app = create_app(Settings(database_url=postgres_url, database_pool_size=size))
        assert app.state.database.engine.pool.size() == size
