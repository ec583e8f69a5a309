"""Control-plane fixtures: every test runs on SQLite with in-process stores (the embedded default)
and on a fresh PostgreSQL database with Redis (production), both real."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import profiles
from litestar import Litestar
from litestar.testing import TestClient

from control_plane.app import create_app
from control_plane.auth.passwords import use_parameters
from settings import Settings
from tests.support.databases import Backend, migrated_backend, settings_for


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> None:
    """Argon2 at production cost takes most of a second here; the code path is the same at any cost."""
    use_parameters(profiles.CHEAPEST)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """A migrated database for the whole run: a SQLite file, or a fresh PostgreSQL database dropped after."""
    with migrated_backend(request.param, tmp_path_factory.mktemp(f"control-plane-{request.param}")) as found:
        yield found


@pytest.fixture
def settings(backend: Backend) -> Settings:
    return settings_for(backend)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, migrate=False)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client
