"""Independent analytics queries run at once on PostgreSQL, one after the other on SQLite or in a transaction."""

from __future__ import annotations

import threading

import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlmodel import Session

from control_plane.analytics.side_by_side import side_by_side
from control_plane.state import app_state


def where_it_ran(db: Session) -> tuple[str, int]:
    """The thread a query ran in and, on PostgreSQL, the server process that answered it."""
    dialect = db.get_bind().dialect.name
    backend = db.execute(text("SELECT pg_backend_pid()" if dialect == "postgresql" else "SELECT 0")).scalar_one()
    return threading.current_thread().name, int(backend)


def test_on_postgresql_each_query_has_a_connection_and_a_thread_of_its_own(app: Litestar) -> None:
    with app_state(app.state).session() as db:
        placed = side_by_side(db, where_it_ran, where_it_ran, where_it_ran)
    threads, backends = {thread for thread, _ in placed}, {backend for _, backend in placed}
    if db.get_bind().dialect.name == "postgresql":
        assert len(threads) == 3 and len(backends) == 3, placed
    else:
        assert threads == {threading.current_thread().name}, placed


def test_a_session_with_an_open_transaction_runs_them_itself_and_sees_what_it_wrote(app: Litestar) -> None:
    with app_state(app.state).session() as db:
        db.execute(text("CREATE TEMPORARY TABLE seen_here (n INTEGER)"))
        db.execute(text("INSERT INTO seen_here VALUES (7)"))
        counts = side_by_side(
            db,
            lambda own: own.execute(text("SELECT n FROM seen_here")).scalar_one(),
            lambda own: own.execute(text("SELECT count(*) FROM seen_here")).scalar_one(),
        )
        assert counts == (7, 1)


def test_an_error_in_any_query_is_raised_to_the_caller(app: Litestar) -> None:
    def fails(_db: Session) -> None:
        raise LookupError("the second query failed")

    with app_state(app.state).session() as db, pytest.raises(LookupError, match="second query"):
        side_by_side(db, where_it_ran, fails)
