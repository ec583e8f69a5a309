"""The database lets erasure pseudonymise an audit entry's identity columns, and nothing else, ever."""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError

from control_plane.state import app_state


def _entry(engine: Engine) -> int:
    marker = uuid.uuid4().hex
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_entry (action, resource_type, resource_id, ip, user_agent, request_id, created_at)"
                " VALUES ('user.update', 'user', :marker, '10.0.0.1', 'curl', '', CURRENT_TIMESTAMP)"
            ),
            {"marker": marker},
        )
        found = connection.execute(
            text("SELECT id FROM audit_entry WHERE resource_id = :m"), {"m": marker}
        ).scalar_one()
    return int(found)


def _refused(engine: Engine, statement: str, match: str = "cannot be changed or deleted") -> None:
    with pytest.raises(DatabaseError, match=match), engine.begin() as connection:
        connection.execute(text(statement))


def test_without_a_redaction_marker_no_entry_changes(app: Litestar) -> None:
    engine = app_state(app.state).engine
    entry = _entry(engine)
    _refused(engine, f"UPDATE audit_entry SET resource_id = 'erased-x' WHERE id = {entry}")
    _refused(engine, f"DELETE FROM audit_entry WHERE id = {entry}")


def test_with_a_marker_only_the_identity_columns_change_and_the_marker_stays(app: Litestar) -> None:
    engine = app_state(app.state).engine
    entry = _entry(engine)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO audit_redaction (entry_id, request_id, created_at) VALUES (:e, 1, CURRENT_TIMESTAMP)"),
            {"e": entry},
        )
        connection.execute(
            text("UPDATE audit_entry SET resource_id = 'erased-x', ip = 'erased-y', user_agent = '' WHERE id = :e"),
            {"e": entry},
        )
    for forged in (
        "action = 'forged'",
        "actor_user_id = 99",
        "created_at = '2001-01-01 00:00:00'",
        "organization_id = 5",
    ):
        _refused(engine, f"UPDATE audit_entry SET {forged} WHERE id = {entry}")
    _refused(engine, f"DELETE FROM audit_entry WHERE id = {entry}")
    _refused(engine, f"DELETE FROM audit_redaction WHERE entry_id = {entry}", "markers cannot be changed or deleted")
    _refused(engine, f"UPDATE audit_redaction SET entry_id = 0 WHERE entry_id = {entry}", "markers cannot")
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT action, resource_id, ip FROM audit_entry WHERE id = :e"), {"e": entry}
        ).one()
    assert tuple(row) == ("user.update", "erased-x", "erased-y")
