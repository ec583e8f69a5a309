"""Route decorators for handlers that use the (blocking) database session: they run in a worker thread."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Annotated

import litestar
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter
from sqlmodel import Session

from control_plane.principals import Tenant
from control_plane.state import app_state

get = partial(litestar.get, sync_to_thread=True)
post = partial(litestar.post, sync_to_thread=True)
patch = partial(litestar.patch, sync_to_thread=True)
put = partial(litestar.put, sync_to_thread=True)
delete = partial(litestar.delete, sync_to_thread=True)

PUBLIC = {"exclude_from_auth": True}
"""``opt`` of the few routes anyone may call (sign-up, login, health)."""

Db = NamedDependency[Session]
"""The request's database session."""
CurrentTenant = NamedDependency[Tenant]
"""The organisation the request acts in (its route guard checked the permission)."""

Limit = Annotated[int, QueryParameter(ge=1, le=1000, description="most rows returned")]
IdParam = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]
"""A path id: a positive 32-bit integer (anything else is a 400, never a database error)."""
Offset = Annotated[int, QueryParameter(ge=0, le=10_000_000, description="rows skipped")]


def provide_db(state: State) -> Iterator[Session]:
    """The ``db`` dependency: one session per request, closed (and rolled back if uncommitted) after it."""
    with app_state(state).session() as db:
        yield db
