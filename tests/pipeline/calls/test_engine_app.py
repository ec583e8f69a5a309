"""The engine's app: other handlers mount beside the calls; the call page and health are served."""

from __future__ import annotations

import secrets

import httpx
from litestar import Router, get

from pipeline.calls.http import create_engine_app
from pipeline.calls.server import CallServer, CallServerOptions
from pipeline.calls.serving import serving
from telemetry.records import MemoryReporter
from tests.support.engine import Engine


@get("/ping")
async def ping() -> dict[str, str]:
    return {"pong": "yes"}


async def test_extra_routes_are_mounted_beside_the_calls() -> None:
    server = CallServer(CallServerOptions(secret=secrets.token_urlsafe(32)), MemoryReporter())
    app = create_engine_app(server, extra_routes=[Router(path="/ws", route_handlers=[ping])])
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        assert (await http.get("/ws/ping")).json() == {"pong": "yes"}
        assert (await http.get("/healthz")).json() == {"status": "ok", "rooms": 0, "sessions": 0}


async def test_the_call_page_and_its_script_are_served(engine: Engine) -> None:
    async with httpx.AsyncClient(base_url=engine.url) as http:
        page = await http.get("/call/")
        script = await http.get("/call/call.js")
    assert page.status_code == 200 and "<title>AuraLink call</title>" in page.text
    assert script.status_code == 200 and "createDataChannel" in script.text


async def test_ice_servers_for_the_browser_need_a_token(engine: Engine) -> None:
    await engine.create_room("ice")
    async with httpx.AsyncClient(base_url=engine.url) as http:
        refused = await http.get("/rooms/ice/ice")
        allowed = await http.get("/rooms/ice/ice", headers={"Authorization": f"Bearer {engine.token('ice', 'a')}"})
    assert refused.status_code == 401 and allowed.json() == {"iceServers": []}


async def test_room_names_are_checked_and_creating_twice_returns_the_room(engine: Engine) -> None:
    async with httpx.AsyncClient(base_url=engine.url) as http:
        token = engine.token("elsewhere", "a")  # the name is checked before the token
        bad = await http.post("/rooms", json={"room": "bad name!"}, headers={"Authorization": f"Bearer {token}"})
        assert bad.status_code == 400 and "room name" in bad.json()["detail"]
        auth = {"Authorization": f"Bearer {engine.token('twice', 'a')}"}
        first = await http.post("/rooms", json={"room": "twice", "max_participants": 3}, headers=auth)
        second = await http.post("/rooms", json={"room": "twice"}, headers=auth)
        missing_field = await http.post("/rooms", json={"name": "twice"}, headers=auth)
    assert first.status_code == 201 and second.status_code == 200
    assert second.json() == {"room": "twice", "max_participants": 3, "participants": []}
    assert missing_field.status_code == 400


async def test_pages_from_allowed_origins_may_call_the_engine_and_read_location() -> None:
    server = CallServer(CallServerOptions(secret=secrets.token_urlsafe(32)), MemoryReporter())
    app = create_engine_app(server, cors_origins=["https://admin.example.org"])
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        preflight = await http.options(
            "/whip/room",
            headers={
                "Origin": "https://admin.example.org",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code in (200, 204)
        assert preflight.headers["access-control-allow-origin"] == "https://admin.example.org"
        other = await http.get("/healthz", headers={"Origin": "https://evil.example.com"})
        allowed = await http.get("/healthz", headers={"Origin": "https://admin.example.org"})
    assert "access-control-allow-origin" not in other.headers
    assert "location" in allowed.headers["access-control-expose-headers"].lower()
