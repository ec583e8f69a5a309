"""Alembic: upgrade builds exactly the models' schema, downgrade removes it, the audit trail is append-only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DatabaseError

from control_plane.db.migrate import downgrade, upgrade
from control_plane.db.tables import metadata
from tests.support.databases import Backend, create_postgres_database, drop_postgres_database


@pytest.fixture
def empty_database(backend: Backend) -> Iterator[str]:
    """A database of the backend's kind with nothing in it."""
    if backend.name == "sqlite":
        yield f"sqlite:///{backend.data_dir / 'migrations.db'}"
        (backend.data_dir / "migrations.db").unlink(missing_ok=True)
        return
    url = create_postgres_database(suffix="_migrations")
    yield url.replace("postgresql://", "postgresql+psycopg://", 1)
    drop_postgres_database(url.rpartition("/")[2])


def test_upgrade_matches_the_models_and_downgrade_removes_everything(empty_database: str) -> None:
    upgrade(empty_database)
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
    downgrade(empty_database, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(empty_database)  # and back up again, cleanly
    assert "audit_entry" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_database_refuses_to_change_or_delete_audit_entries(empty_database: str) -> None:
    upgrade(empty_database)
    engine = create_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_entry (action, resource_type, resource_id, ip, user_agent, request_id, created_at)"
                " VALUES ('x.y', 'thing', '1', '', '', '', CURRENT_TIMESTAMP)"
            )
        )
    for statement in ("UPDATE audit_entry SET action = 'forged'", "DELETE FROM audit_entry"):
        with pytest.raises(DatabaseError, match="cannot be changed or deleted"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT action FROM audit_entry")).scalars().all() == ["x.y"]
    engine.dispose()
