"""Live: rooms in progress with each participant's latest MOS, jitter, loss, RTT and bitrate, pushed every second
over server-sent events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import anyio.to_thread
from litestar import Controller
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template

from control_plane.analytics.calls import LiveRoom, live_rooms
from control_plane.auth.guards import requires
from control_plane.auth.permissions import Permission
from control_plane.context import AnyRequest
from control_plane.routing import CurrentTenant, Db, get
from control_plane.state import AppState, app_state
from ui.admin.web import page

PUSH_INTERVAL_S = 1.0
STREAM_LIFETIME_S = 600.0
"""A stream ends after this long; the browser's EventSource reconnects at once (a session that ended stops it)."""


class LivePages(Controller):
    path = "/ui/live"
    include_in_schema = False
    guards = requires(Permission.READ)

    @get("/")
    def live(self, db: Db, tenant: CurrentTenant, request: AnyRequest) -> Template:
        return page(request, db, "live.html", rooms=live_rooms(db, tenant.organization_id), now=time.time())

    @get("/stream", sync_to_thread=False)
    def stream(self, tenant: CurrentTenant, request: AnyRequest) -> ServerSentEvent:
        state = app_state(request.app.state)
        template = request.app.template_engine.get_template("partials/live_rooms.html")  # type: ignore[union-attr]

        async def updates() -> AsyncIterator[ServerSentEventMessage]:
            ends = time.monotonic() + STREAM_LIFETIME_S
            while time.monotonic() < ends:
                rooms = await anyio.to_thread.run_sync(_rooms, state, tenant.organization_id)
                yield ServerSentEventMessage(data=template.render(rooms=rooms, now=time.time()), event="rooms")
                await asyncio.sleep(PUSH_INTERVAL_S)

        return ServerSentEvent(updates())


def _rooms(state: AppState, organization_id: int) -> list[LiveRoom]:
    with state.session() as db:
        return live_rooms(db, organization_id)
