"""The integration tests' fixtures: loopback-only ICE for every test here, the test captioner stage, and a
control plane on SQLite (the embedded default) with its gRPC telemetry on a free port, with or without the admin
UI."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from pydantic import SecretStr

from control_plane.app import create_app
from control_plane.db.migrate import upgrade
from settings import Settings
from tests.control_plane.helpers import owner
from tests.support.admin_ui import Served, control_plane_with_ui
from tests.support.control_plane import ControlPlane
from tests.support.engine import captioner, loopback_only

__all__ = ["ControlPlane", "captioner", "loopback_only"]


@pytest.fixture
def engine_secret() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture
def control_plane(tmp_path: Path, engine_secret: str) -> Iterator[ControlPlane]:
    upgrade(f"sqlite:///{tmp_path / 'control_plane.db'}")
    settings = Settings(data_dir=tmp_path, telemetry_port=0, join_token_secret=SecretStr(engine_secret))
    app = create_app(settings, migrate=False)
    with TestClient(app) as client:
        yield ControlPlane(app, client, owner(app))


@pytest.fixture
def served(tmp_path: Path, engine_secret: str) -> Iterator[Served]:
    """The control plane with the admin UI on real HTTP (SQLite), its gRPC telemetry on a free port."""
    upgrade(f"sqlite:///{tmp_path / 'control_plane.db'}")
    settings = Settings(data_dir=tmp_path, telemetry_port=0, join_token_secret=SecretStr(engine_secret))
    with control_plane_with_ui(settings) as running:
        yield running
