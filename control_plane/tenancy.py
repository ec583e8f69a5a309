"""Reading one row of the acting organisation: another organisation's row is simply not found."""

from __future__ import annotations

from typing import Protocol, TypeVar

from sqlmodel import Session

from control_plane.domain_errors import NotFound


class Owned(Protocol):
    organization_id: int


OwnedT = TypeVar("OwnedT", bound=Owned)


def owned(db: Session, model: type[OwnedT], row_id: int, organization_id: int, what: str) -> OwnedT:
    """The ``model`` row ``row_id`` if it belongs to ``organization_id``; 404 naming ``what`` otherwise."""
    row = db.get(model, row_id)
    if row is None or row.organization_id != organization_id:
        raise NotFound(f"{what} {row_id} not found")
    return row
