"""The engine's HTTP app: WHIP ingest, WHEP playback, the room API, agents and the call page.

SDP travels as ``application/sdp`` (RFC 9725); JSON everywhere else. Every
refusal is a :class:`~pipeline.calls.errors.CallError` turned into its status
with ``{"status_code", "detail"}`` (and ``problems`` for pipeline files).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from litestar import Litestar, Request, Response, delete, get, post
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.params import Body, FromPath
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler
from pydantic import BaseModel, Field

from pipeline.calls.client import RECONNECT_HEADER
from pipeline.calls.errors import CallError, UnsupportedMediaTypeError
from pipeline.calls.json_body import BoundedJsonRequest
from pipeline.calls.room import ParticipantKind
from pipeline.calls.server import CallServer
from pipeline.calls.tokens import Grant

SDP = "application/sdp"
CALL_PAGE = Path(__file__).resolve().parent.parent.parent / "ui" / "call"
MAX_BODY_BYTES = 1024 * 1024


class RoomRequest(BaseModel):
    room: str
    max_participants: int | None = Field(None, ge=1, le=1000)


class AgentRequest(BaseModel):
    identity: str
    pipeline: str
    languages: list[str] = Field(default_factory=list)


def _server(state: State) -> CallServer:
    server: CallServer = state.call_server
    return server


def _bearer(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _offer(request: Request[Any, Any, Any]) -> bytes:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != SDP:
        raise UnsupportedMediaTypeError(
            f"the offer must be sent as Content-Type: {SDP}, not {content_type or 'nothing'!r}"
        )
    return await request.body()


async def _join(request: Request[Any, Any, Any], kind: ParticipantKind, room: str, prefix: str) -> Response[str]:
    server = _server(request.app.state)
    reconnect_of = request.headers.get(RECONNECT_HEADER) or None
    answer, participant = await server.join(kind, room, _bearer(request), await _offer(request), reconnect_of)
    location = f"{prefix}/{participant.session_id}"
    return Response(answer, status_code=201, media_type=SDP, headers={"Location": location})


@post("/whip/{room:str}", status_code=201)
async def whip_publish(request: Request[Any, Any, Any], room: FromPath[str]) -> Response[str]:
    """WHIP ingest (RFC 9725): an SDP offer that publishes into ``room`` (opening it when it does not exist)."""
    return await _join(request, ParticipantKind.WHIP, room, f"/whip/{room}")


@delete("/whip/{room:str}/{session:str}", status_code=204)
async def whip_end(request: Request[Any, Any, Any], room: FromPath[str], session: FromPath[str]) -> None:
    await _server(request.app.state).leave(room, session, _bearer(request), ParticipantKind.WHIP)


@post("/whep/{room:str}", status_code=201)
async def whep_play(request: Request[Any, Any, Any], room: FromPath[str]) -> Response[str]:
    """WHEP playback: an SDP offer that receives ``room``'s audio mix and cameras."""
    return await _join(request, ParticipantKind.WHEP, room, f"/whep/{room}")


@delete("/whep/{room:str}/{session:str}", status_code=204)
async def whep_end(request: Request[Any, Any, Any], room: FromPath[str], session: FromPath[str]) -> None:
    await _server(request.app.state).leave(room, session, _bearer(request), ParticipantKind.WHEP)


@post("/rooms", status_code=201)
async def create_room(
    request: Request[Any, Any, Any], data: Annotated[RoomRequest, Body()]
) -> Response[dict[str, Any]]:
    """Create a room (the token must name it); 200 with the room when it exists already."""
    room, created = _server(request.app.state).create_room(_bearer(request), data.room, data.max_participants)
    return Response(room.describe(), status_code=201 if created else 200)


@get("/rooms/{room:str}/participants")
async def list_participants(request: Request[Any, Any, Any], room: FromPath[str]) -> list[dict[str, Any]]:
    server = _server(request.app.state)
    server.authorize(_bearer(request), room)
    return server.room(room).describe()["participants"]  # type: ignore[no-any-return]


@delete("/rooms/{room:str}", status_code=204)
async def close_room(request: Request[Any, Any, Any], room: FromPath[str]) -> None:
    """End every session in ``room`` and remove it (needs the agent grant)."""
    server = _server(request.app.state)
    server.authorize(_bearer(request), room, Grant.AGENT)
    server.room(room)
    await server.close_room(room)


@post("/rooms/{room:str}/join", status_code=201)
async def join_room(request: Request[Any, Any, Any], room: FromPath[str]) -> Response[str]:
    """Join ``room`` with an SDP offer: publish, receive the others, and a data channel."""
    return await _join(request, ParticipantKind.ROOM, room, f"/rooms/{room}/participants")


@delete("/rooms/{room:str}/participants/{session:str}", status_code=204)
async def leave_room(request: Request[Any, Any, Any], room: FromPath[str], session: FromPath[str]) -> None:
    await _server(request.app.state).leave(room, session, _bearer(request), ParticipantKind.ROOM)


@post("/rooms/{room:str}/agents", status_code=201)
async def add_agent(
    request: Request[Any, Any, Any], room: FromPath[str], data: Annotated[AgentRequest, Body()]
) -> dict[str, str]:
    """Start a server-side participant that runs ``pipeline`` on the room's audio."""
    server = _server(request.app.state)
    agent = await server.add_agent(room, _bearer(request), data.identity, data.pipeline, data.languages)
    return {"room": room, "identity": agent.identity}


@delete("/rooms/{room:str}/agents/{identity:str}", status_code=204)
async def remove_agent(request: Request[Any, Any, Any], room: FromPath[str], identity: FromPath[str]) -> None:
    await _server(request.app.state).remove_agent(room, _bearer(request), identity)


@get("/rooms/{room:str}/ice")
async def ice_servers(request: Request[Any, Any, Any], room: FromPath[str]) -> dict[str, Any]:
    """The STUN/TURN servers a browser should use in ``room`` (TURN credentials need a token)."""
    server = _server(request.app.state)
    server.authorize(_bearer(request), room)
    return {"iceServers": server.options.ice.browser_servers()}


@get("/healthz")
async def health(request: Request[Any, Any, Any]) -> dict[str, Any]:
    server = _server(request.app.state)
    return {"status": "ok", "rooms": len(server.rooms), "sessions": len(server.sessions)}


def _call_error(request: Request[Any, Any, Any], error: CallError) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"status_code": error.status, "detail": str(error)}
    if error.problems:
        body["problems"] = error.problems
    return Response(body, status_code=error.status)


def create_engine_app(
    server: CallServer, extra_routes: Sequence[ControllerRouterHandler] = (), cors_origins: Sequence[str] = ()
) -> Litestar:
    """The engine's Litestar app; ``extra_routes`` mounts other handlers (speech WebSockets …) beside calls.

    ``cors_origins`` lets pages from those origins (the admin UI) call the engine; ``Location`` is exposed to
    them because WHIP and WHEP clients need it to end their session.
    """
    cors = (
        CORSConfig(
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", RECONNECT_HEADER],
            expose_headers=["Location"],
        )
        if cors_origins
        else None
    )
    routes: list[ControllerRouterHandler] = [
        whip_publish, whip_end, whep_play, whep_end,
        create_room, close_room, list_participants, join_room, leave_room,
        add_agent, remove_agent, ice_servers, health,
        create_static_files_router(path="/call", directories=[CALL_PAGE], html_mode=True, name="call-page"),
        *extra_routes,
    ]  # fmt: skip
    return Litestar(
        route_handlers=routes,
        state=State({"call_server": server}),
        exception_handlers={CallError: _call_error},
        cors_config=cors,
        on_shutdown=[server.aclose],
        request_max_body_size=MAX_BODY_BYTES,
        debug=False,
        logging_config=None,  # the process's logging is configured by its owner (auralink.logs)
        request_class=BoundedJsonRequest,
    )
