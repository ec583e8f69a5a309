"""Fixtures and helpers shared by the secrets tests: the Vault API test double, settings for each secret
backend, and a scan of every table for a value that must never be stored."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, LargeBinary, select

from control_plane.db.tables import metadata
from settings import Settings
from tests.control_plane.vault_api_server import VaultApiServer

VAULT_TOKEN = f"test-token-{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def vault_server() -> Iterator[VaultApiServer]:
    """The Vault API test double on 127.0.0.1, for the whole run."""
    server = VaultApiServer(VAULT_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def vault(vault_server: VaultApiServer) -> Iterator[VaultApiServer]:
    """The test double, unsealed before and after the test."""
    vault_server.unseal()
    yield vault_server
    vault_server.unseal()


def vault_settings(settings: Settings, url: str, token: str = VAULT_TOKEN) -> Settings:
    """``settings`` with the Vault backend at ``url``, failing fast when it does not answer."""
    run = uuid.uuid4().hex[:8]
    return settings.model_copy(
        update={
            "secret_backend": "vault",
            "vault_url": url,
            "vault_token": SecretStr(token),
            "vault_timeout_s": 2.0,
            # one test's organisation ids recur in the next database: its own prefixes keep them apart in Vault
            "vault_kv_prefix": f"auralink-test-{run}",
            "vault_transit_key": f"auralink-test-{run}",
        }
    )


def with_secret_backend(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """``settings`` with the backend a ``["local", "vault"]``-parametrised fixture names (Vault: the test double)."""
    if request.param == "vault":
        server: VaultApiServer = request.getfixturevalue("vault")
        return vault_settings(settings, server.url)
    return settings


def unused_port_url() -> str:
    """An address where nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def places_holding(engine: Engine, needle: str, data_dir: Path | None = None) -> list[str]:
    """Every table column (and, for SQLite, the database files) whose stored bytes contain ``needle``."""
    found: list[str] = []
    raw = needle.encode()
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    stored = bytes(value) if isinstance(column.type, LargeBinary) and value else str(value).encode()
                    if raw in stored:
                        found.append(f"{table.name}.{column.name}")
    if data_dir is not None:
        for path in data_dir.glob("control_plane.db*"):
            if raw in path.read_bytes():
                found.append(path.name)
    return found
