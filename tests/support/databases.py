"""The real databases the control-plane tests run on: a fresh PostgreSQL database per run, and Redis."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

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
