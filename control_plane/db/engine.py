"""One SQLAlchemy engine per process, for PostgreSQL (psycopg) or the embedded SQLite file."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from settings import ControlPlaneSettings

SQLITE_FILE = "control_plane.db"


def database_url(settings: ControlPlaneSettings) -> str:
    """The SQLAlchemy URL: ``database_url`` with psycopg as PostgreSQL's driver, else SQLite in ``data_dir``."""
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(settings.data_dir / SQLITE_FILE).resolve()}"
    url = make_url(settings.database_url)
    if url.drivername in {"postgres", "postgresql", "postgresql+psycopg2"}:
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """An engine whose SQLite connections enforce foreign keys and tolerate concurrent writers."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
