"""The real databases the control-plane tests run on: a fresh PostgreSQL database per run, and Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

from control_plane.db.migrate import upgrade
from settings import Settings

POSTGRES_ADMIN_URL = os.environ.get("AURALINK_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("AURALINK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = uuid.uuid4().hex[:12]
JOIN_SECRET = "test-join-secret-" + "x" * 32
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Backend:
    name: str
    database_url: str | None
    redis_url: str | None
    data_dir: Path


def create_postgres_database(suffix: str = "") -> str:
    name = f"auralink_test_{RUN_ID}{suffix}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return _url_with_database(name)


def _url_with_database(name: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def drop_postgres_database(name: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def migrated_backend(name: str, data_dir: Path, suffix: str = "") -> Iterator[Backend]:
    """A migrated database for a whole run: a SQLite file, or a fresh PostgreSQL database (named with ``suffix``,
    so that two test packages each have their own) dropped after, with the run's Redis keys."""
    if name == "sqlite":
        upgrade(f"sqlite:///{data_dir / 'control_plane.db'}")
        yield Backend("sqlite", None, None, data_dir)
        return
    url = create_postgres_database(suffix)
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


def settings_for(backend: Backend) -> Settings:
    """Settings of a control plane on ``backend``, with a Redis key prefix of its own."""
    return Settings(
        data_dir=backend.data_dir,
        database_url=backend.database_url,
        redis_url=backend.redis_url,
        redis_key_prefix=f"auralink-test-{RUN_ID}-{uuid.uuid4().hex[:8]}:",
        telemetry_port=None,
        join_token_secret=JOIN_SECRET,
    )
