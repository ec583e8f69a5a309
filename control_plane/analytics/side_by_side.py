"""Independent read-only queries of one answer, run at once on PostgreSQL.

A page such as the Overview is several aggregations that do not depend on one another (the busiest people,
quality by connection, usage per feature, the charts). Run one after the other, the page waits for their sum;
on PostgreSQL each can run on a pooled connection of its own, so it waits for the slowest. SQLite (one file,
one writer, and in tests one shared in-memory connection) and sessions bound to a single connection run them
one after the other, as before, and so does a session whose transaction is open (the others would not see what
it wrote).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, overload

from sqlalchemy import Engine
from sqlmodel import Session

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")

Query = Callable[[Session], Any]


@overload
def side_by_side(db: Session, first: Callable[[Session], A], second: Callable[[Session], B], /) -> tuple[A, B]: ...


@overload
def side_by_side(
    db: Session, first: Callable[[Session], A], second: Callable[[Session], B], third: Callable[[Session], C], /
) -> tuple[A, B, C]: ...


def side_by_side(db: Session, *queries: Query) -> tuple[Any, ...]:
    """Each query's answer, in order. The first runs on ``db``; on PostgreSQL the others run at the same time,
    each in a session of its own (they see the data as of their own start: fine for figures over whole hours).

    An error in any of them is raised here, as if they had run one after the other.
    """
    bind = db.get_bind()
    # another connection would not see what this session's open transaction wrote
    alone = db.in_transaction() or not isinstance(bind, Engine) or bind.dialect.name != "postgresql"
    if len(queries) < 2 or alone:
        return tuple(query(db) for query in queries)

    def in_own_session(query: Query) -> Any:
        with Session(bind) as own:
            return query(own)

    with ThreadPoolExecutor(len(queries) - 1, thread_name_prefix="analytics-query") as pool:
        others = [pool.submit(in_own_session, query) for query in queries[1:]]
        first = queries[0](db)
        return (first, *(future.result() for future in others))
