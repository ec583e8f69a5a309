from __future__ import annotations

import datetime as dt
from typing import Any

from control_plane.schemas import Output


class AuditEntryRead(Output):
    id: int
    organization_id: int | None
    actor_user_id: int | None
    actor_api_key_id: int | None
    action: str
    resource_type: str
    resource_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str
    user_agent: str
    request_id: str
    created_at: dt.datetime
