"""The cluster's front: one HTTP address for every room, each request proxied to the worker its room lives on.

A request that names a room (``POST /rooms`` by its body; ``/rooms/R/…``, ``/whip/R…``, ``/whep/R…`` by its
path) is checked against its join token first, so nobody places rooms without one. Then the registry places
the room — where it already lives, or on the least-loaded serving worker — and the front proxies the
request there (WHIP, WHEP, joins, agents, the call page's signalling: one path for all of them, so the SDP,
``Location`` and errors are the worker's own). A room placed anew on a worker that has not opened it is
created there first with the caller's token, which is how a room comes back after its worker died. A
worker that refuses connections is retired at once and the room placed again, so a crash is noticed by
the first request rather than after the heartbeat's TTL.

A new placement is pending until the worker opens the room (see :mod:`pipeline.cluster.registry`): a WHIP
offer answered with a 307 that is never followed leaves nothing behind.

Only ``POST /rooms`` and a WHIP offer may place a room the registry does not know; any other request for
one (WHEP, a join, a read) is the 404 a single engine answers, and nothing is placed.

Media never passes through the front: the worker's ICE candidates are in its answer.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar, Request, Response, get, route
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.static_files import create_static_files_router

from pipeline.calls.authorize import authorize
from pipeline.calls.errors import (
    BadGatewayError,
    BadRequestError,
    CallError,
    NotFoundError,
    ServiceUnavailableError,
    room_not_found,
)
from pipeline.calls.json_body import MAX_JSON_DEPTH, json_depth
from pipeline.calls.tokens import ROOM_NAME, ROOM_NAME_RULE
from pipeline.cluster.registry import PENDING_PLACEMENT_MS, ClusterRegistry, ClusterUnavailableError, Placement

log = logging.getLogger(__name__)

CALL_PAGE = Path(__file__).resolve().parent.parent.parent / "ui" / "call"
MAX_BODY_BYTES = 1024 * 1024
ROOM_KINDS = ("rooms", "whip", "whep")
FORWARDED_REQUEST_HEADERS = ("authorization", "content-type", "accept", "x-auralink-reconnect")
FORWARDED_RESPONSE_HEADERS = ("content-type", "location", "retry-after")
WORKER_TIMEOUT_S = 30.0


class Front:
    """Routing state of one front: the registry, the join-token secret and a pooled HTTP client."""

    def __init__(
        self,
        registry: ClusterRegistry,
        secret: str,
        timeout_s: float = WORKER_TIMEOUT_S,
        whip_redirect: bool = False,
        pending_placement_ms: int = PENDING_PLACEMENT_MS,
    ) -> None:
        self.registry = registry
        self.secret = secret
        self.whip_redirect = whip_redirect
        """Answer a WHIP offer with 307 to the room's worker (RFC 9725 §4.5) instead of proxying it."""
        self.pending_placement_ms = pending_placement_ms
        """How long a new placement waits for its worker to open the room (a 307 may never be followed)."""
        self.http = httpx.AsyncClient(timeout=timeout_s)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def place(self, room: str, create: bool = True) -> tuple[Placement, str]:
        """The room's placement and its worker's URL; without ``create``, 404 for a room the cluster does not
        know, as a single engine answers."""
        for _ in range(3):  # a worker can die between the placement and the lookup of its URL
            placement = await self.registry.place(room, create, self.pending_placement_ms)
            if not placement.known:
                raise room_not_found(room)
            if placement.worker is None:
                raise ServiceUnavailableError(f"no engine worker is serving: room '{room}' cannot be placed now")
            url = await self.registry.worker_url(placement.worker)
            if url is not None:
                return placement, url
        raise ServiceUnavailableError(f"the engine workers are going away: room '{room}' cannot be placed now")

    async def forward(self, request: Request[Any, Any, Any], room: str, body: bytes) -> Response[bytes]:
        """Proxy ``request`` for ``room`` to its worker; a worker that refuses connections is replaced once."""
        authorize(self.secret, _bearer(request), room)
        if _needs_no_room(request) and await self.registry.room_worker(room) is None:
            return await self._send_to_any_worker(room, request, body)
        for attempt in range(2):
            placement, url = await self.place(room, create=_creates_room(request))
            if self.whip_redirect and _is_whip_offer(request):
                return _redirect(url, request)
            try:
                if placement.placed and _needs_open_room(request):
                    await self._open_room(url, room, request)
                answer = await self._send(url, request, body)
                if answer.status_code == 404 and request.method == "POST" and _needs_open_room(request):
                    # another front placed the room a moment ago and is opening it there: open it, once more
                    await self._open_room(url, room, request)
                    answer = await self._send(url, request, body)
                return answer
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                assert placement.worker is not None
                log.warning("engine worker %s at %s unreachable (%s): retired", placement.worker, url, error)
                await self.registry.retire(placement.worker)
                if attempt == 1:
                    raise BadGatewayError(f"the engine worker for room '{room}' is unreachable") from None
            except httpx.HTTPError as error:
                raise _failed_to_answer(room, error) from None
        raise AssertionError("unreachable")

    async def _send_to_any_worker(self, room: str, request: Request[Any, Any, Any], body: bytes) -> Response[bytes]:
        """A request a worker answers without the room (its ICE servers), for a room not placed: to the worker
        a new room would go to, placing nothing."""
        worker = await self.registry.least_loaded_worker()
        url = await self.registry.worker_url(worker) if worker is not None else None
        if url is None:
            raise ServiceUnavailableError(f"no engine worker is serving: room '{room}' cannot be answered now")
        try:
            return await self._send(url, request, body)
        except httpx.HTTPError as error:
            raise _failed_to_answer(room, error) from None

    async def _open_room(self, url: str, room: str, request: Request[Any, Any, Any]) -> None:
        headers = {"authorization": request.headers.get("authorization", "")}
        body = {"room": room, "max_participants": await self.registry.room_size(room)}
        response = await self.http.post(f"{url}/rooms", json=body, headers=headers)
        if response.status_code not in (200, 201):
            log.warning("could not open room %s on %s: %s %s", room, url, response.status_code, response.text[:200])

    async def _send(self, url: str, request: Request[Any, Any, Any], body: bytes) -> Response[bytes]:
        headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
        answer = await self.http.request(
            request.method, f"{url}{request.url.path}", params=request.url.query or None, content=body, headers=headers
        )
        kept = {name: answer.headers[name] for name in FORWARDED_RESPONSE_HEADERS if name in answer.headers}
        media_type = kept.pop("content-type", None)
        return Response(answer.content, status_code=answer.status_code, headers=kept, media_type=media_type)


def _failed_to_answer(room: str, error: httpx.HTTPError) -> BadGatewayError:
    return BadGatewayError(f"the engine worker for room '{room}' failed to answer: {type(error).__name__}")


def _is_whip_offer(request: Request[Any, Any, Any]) -> bool:
    parts = request.url.path.strip("/").split("/")
    return request.method == "POST" and parts[0] == "whip" and len(parts) == 2


def _redirect(url: str, request: Request[Any, Any, Any]) -> Response[bytes]:
    """307 keeps the method and the offer: the client posts it to the worker, whose ``Location`` it then uses."""
    query = f"?{request.url.query}" if request.url.query else ""
    return Response(b"", status_code=307, headers={"location": f"{url}{request.url.path}{query}"})


def _needs_no_room(request: Request[Any, Any, Any]) -> bool:
    """``GET /rooms/R/ice``: an engine answers it whether or not the room exists."""
    parts = request.url.path.strip("/").split("/")
    return request.method == "GET" and len(parts) == 3 and parts[0] == "rooms" and parts[2] == "ice"


def _creates_room(request: Request[Any, Any, Any]) -> bool:
    """Only creating a room (``POST /rooms``) and a WHIP offer (``POST /whip/R``) may place a room the cluster
    does not know; anything else about an unknown room is a 404, as on a single engine."""
    parts = request.url.path.strip("/").split("/")
    return (request.method == "POST" and parts == ["rooms"]) or _is_whip_offer(request)


def _needs_open_room(request: Request[Any, Any, Any]) -> bool:
    """Every request but creating the room (``POST /rooms``) and WHIP (which opens its room) needs it open."""
    parts = request.url.path.strip("/").split("/")
    return not (parts == ["rooms"] or parts[0] == "whip")


def _bearer(request: Request[Any, Any, Any]) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _front(state: State) -> Front:
    front: Front = state.front
    return front


def _room_in_body(body: bytes) -> tuple[str, int | None]:
    """The room a ``POST /rooms`` names, and its size when it gives one (the worker checks the rest)."""
    if json_depth(body) > MAX_JSON_DEPTH:
        raise BadRequestError(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError('the body must be JSON: {"room": NAME, "max_participants": N}') from None
    room = data.get("room") if isinstance(data, dict) else None
    if not isinstance(room, str) or not ROOM_NAME.fullmatch(room):
        raise BadRequestError(f"the body's 'room' must be a room name: {ROOM_NAME_RULE}")
    size = data.get("max_participants")
    return room, size if isinstance(size, int) and not isinstance(size, bool) else None


@route("/rooms", http_method=["POST"])
async def create_room(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Create a room on the worker it is placed on; its size is kept for when it must be opened elsewhere."""
    body = await request.body()
    room, size = _room_in_body(body)
    front = _front(request.app.state)
    response = await front.forward(request, room, body)
    if response.status_code == 201 and size is not None:
        await front.registry.remember_room_size(room, size)
    return response


async def _room_request(request: Request[Any, Any, Any], kind: str, room: str) -> Response[bytes]:
    if kind not in ROOM_KINDS:
        raise NotFoundError(f"no such path: {request.url.path}")
    if not ROOM_NAME.fullmatch(room):
        raise BadRequestError(ROOM_NAME_RULE)
    return await _front(request.app.state).forward(request, room, await request.body())


@route("/{kind:str}/{room:str}", http_method=["GET", "POST", "DELETE"])
async def room_request(request: Request[Any, Any, Any], kind: FromPath[str], room: FromPath[str]) -> Response[bytes]:
    """WHIP and WHEP offers, and anything else that names a room at the second segment of its path."""
    return await _room_request(request, kind, room)


@route("/{kind:str}/{room:str}/{rest:path}", http_method=["GET", "POST", "DELETE"])
async def room_subrequest(
    request: Request[Any, Any, Any], kind: FromPath[str], room: FromPath[str], rest: FromPath[str]
) -> Response[bytes]:
    """Joins, sessions, participants, agents, ICE servers: everything under a room."""
    return await _room_request(request, kind, room)


@get("/cluster/workers")
async def list_workers(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Every live worker: id, URL, pid, state, the rooms placed on it, participants and load."""
    workers = await _front(request.app.state).registry.workers()
    return {"workers": [worker.describe() for worker in workers]}


@get("/healthz")
async def health(request: Request[Any, Any, Any]) -> dict[str, Any]:
    workers = await _front(request.app.state).registry.workers()
    return {"status": "ok", "workers": len(workers), "serving": sum(w.state == "serving" for w in workers)}


def _call_error(request: Request[Any, Any, Any], error: CallError) -> Response[dict[str, Any]]:
    return Response({"status_code": error.status, "detail": str(error)}, status_code=error.status)


def _cluster_error(request: Request[Any, Any, Any], error: ClusterUnavailableError) -> Response[dict[str, Any]]:
    return Response({"status_code": 503, "detail": str(error)}, status_code=503, headers={"Retry-After": "2"})


def create_front_app(front: Front) -> Litestar:
    """The front's Litestar app: the room routes, ``/cluster/workers``, ``/healthz`` and the call page."""
    return Litestar(
        route_handlers=[
            create_room,
            room_request,
            room_subrequest,
            list_workers,
            health,
            create_static_files_router(path="/call", directories=[CALL_PAGE], html_mode=True, name="call-page"),
        ],
        state=State({"front": front}),
        exception_handlers={CallError: _call_error, ClusterUnavailableError: _cluster_error},
        on_shutdown=[front.aclose],
        request_max_body_size=MAX_BODY_BYTES,
        debug=False,
        logging_config=None,
    )
