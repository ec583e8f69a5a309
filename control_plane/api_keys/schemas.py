from __future__ import annotations

import datetime as dt

from pydantic import Field

from control_plane.auth.permissions import Scope
from control_plane.schemas import Input, Name, Output


class ApiKeyCreate(Input):
    name: Name
    scopes: list[Scope] = Field(min_length=1, max_length=4)
    expires_at: dt.datetime | None = None
    """When the key stops working (default: never)."""
    requests_per_minute: int | None = Field(None, ge=1, le=1_000_000)
    """Its rate limit (default: the server's ``api_key_requests_per_minute``)."""


class ApiKeyRead(Output):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    requests_per_minute: int
    created_by: int | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str
    """The whole key, shown this once: only its hash is kept."""
