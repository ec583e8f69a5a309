"""Control-plane fixtures: every test runs on SQLite with in-process stores (the embedded default)
and on a fresh PostgreSQL database with Redis (production), both real."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from argon2 import profiles
from litestar import Litestar
from litestar.testing import TestClient

from control_plane.app import create_app
from control_plane.auth.passwords import use_parameters
from control_plane.db.migrate import upgrade
from settings import Settings
from tests.support.databases import (
    JOIN_SECRET,
    REDIS_URL,
    RUN_ID,
    Backend,
    create_postgres_database,
    drop_postgres_database,
)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> None:
    """Argon2 at production cost takes most of a second here; the code path is the same at any cost."""
    use_parameters(profiles.CHEAPEST)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """A migrated database for the whole run: a SQLite file, or a fresh PostgreSQL database dropped after."""
    data_dir = tmp_path_factory.mktemp(f"control-plane-{request.param}")
    if request.param == "sqlite":
        found = Backend("sqlite", None, None, data_dir)
        upgrade(f"sqlite:///{data_dir / 'control_plane.db'}")
        yield found
        return
    url = create_postgres_database()
    try:
        upgrade(url.replace("postgresql://", "postgresql+psycopg://", 1))
        yield Backend("postgresql", url, REDIS_URL, data_dir)
    finally:
        drop_postgres_database(url.rpartition("/")[2])
        _forget_redis_keys()


def _forget_redis_keys() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"auralink-test-{RUN_ID}-*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def settings(backend: Backend) -> Settings:
    return Settings(
        data_dir=backend.data_dir,
        database_url=backend.database_url,
        redis_url=backend.redis_url,
        redis_key_prefix=f"auralink-test-{RUN_ID}-{uuid.uuid4().hex[:8]}:",
        telemetry_port=None,
        join_token_secret=JOIN_SECRET,
    )


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, migrate=False)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client
