"""Live: rooms in progress with each participant's latest MOS, jitter, loss, RTT and bitrate, each room pipeline's
per-stage latency and drops, and the room's latest captions, pushed every second over server-sent events.

Quality comes from the database (the samples engines report); pipelines and captions from the live store
(``control_plane.telemetry.live``), which only engines' live reports fill."""

from __future__ import annotations

import asyncio
import dataclasses
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
from control_plane.telemetry.live import LivePipelineStore, RoomLive
from telemetry.records import Caption
from ui.admin.web import page

PUSH_INTERVAL_S = 1.0
CAPTIONS_SHOWN = 12
STREAM_LIFETIME_S = 600.0
"""A stream ends after this long; the browser's EventSource reconnects at once (a session that ended stops it)."""


class LivePages(Controller):
    path = "/ui/live"
    include_in_schema = False
    guards = requires(Permission.READ)

    @get("/")
    def live(self, db: Db, tenant: CurrentTenant, request: AnyRequest) -> Template:
        rooms = live_rooms(db, tenant.organization_id)
        pipelines = _pipelines(app_state(request.app.state).live, tenant.organization_id, rooms)
        return page(request, db, "live.html", rooms=rooms, pipelines=pipelines, now=time.time())

    @get("/stream", sync_to_thread=False)
    def stream(self, tenant: CurrentTenant, request: AnyRequest) -> ServerSentEvent:
        state = app_state(request.app.state)
        template = request.app.template_engine.get_template("partials/live_rooms.html")  # type: ignore[union-attr]

        async def updates() -> AsyncIterator[ServerSentEventMessage]:
            ends = time.monotonic() + STREAM_LIFETIME_S
            while time.monotonic() < ends:
                rooms, pipelines = await anyio.to_thread.run_sync(_rooms, state, tenant.organization_id)
                html = template.render(rooms=rooms, pipelines=pipelines, now=time.time())
                yield ServerSentEventMessage(data=html, event="rooms")
                await asyncio.sleep(PUSH_INTERVAL_S)

        return ServerSentEvent(updates())


def _rooms(state: AppState, organization_id: int) -> tuple[list[LiveRoom], dict[int, RoomLive]]:
    with state.session() as db:
        rooms = live_rooms(db, organization_id)
    return rooms, _pipelines(state.live, organization_id, rooms)


def _pipelines(store: LivePipelineStore, organization_id: int, rooms: list[LiveRoom]) -> dict[int, RoomLive]:
    """Each open call's pipelines and the captions worth reading (by call id): reports from before the call
    started (an earlier call in a room of the same name) are left out."""
    shown = {}
    for room in rooms:
        found = store.room(organization_id, room.call.room, since=room.call.started_at)
        shown[room.call.id or 0] = RoomLive(found.pipelines, readable(found.captions)[-CAPTIONS_SHOWN:])
    return shown


def readable(captions: list[Caption]) -> list[Caption]:
    """Captions as lines a person reads: a speaker's consecutive final fragments joined until a sentence ends
    (or someone else, or a translation, comes between), and their partial only while it is newer than their
    last final one."""
    latest_final: dict[str, float] = {}
    for caption in captions:
        if caption.final and caption.kind == "transcript":
            latest_final[caption.speaker] = caption.at
    newest_partial = {c.speaker: c for c in captions if not c.final}
    lines: list[Caption] = []
    for caption in captions:
        if not caption.final:
            if newest_partial[caption.speaker] is caption and caption.at > latest_final.get(caption.speaker, 0.0):
                lines.append(caption)
            continue
        last = lines[-1] if lines else None
        if last is not None and _continues(last, caption):
            lines[-1] = dataclasses.replace(caption, text=f"{last.text} {caption.text}")
        else:
            lines.append(caption)
    return lines


def _continues(line: Caption, caption: Caption) -> bool:
    same = (line.speaker, line.kind, line.language, line.final) == (
        caption.speaker,
        caption.kind,
        caption.language,
        True,
    )
    return same and caption.kind == "transcript" and not line.text.rstrip().endswith((".", "?", "!"))
