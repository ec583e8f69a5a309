"""Calls through a cluster's front: real worker processes, real Redis, real aiortc peers on loopback."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import pytest
from aiortc import RTCPeerConnection

from control_plane.agents.engine_client import send_agent
from pipeline.calls.client import CallClient, ToneTrack
from pipeline.calls.http import create_engine_app
from pipeline.calls.server import CallServer
from pipeline.calls.serving import serving
from pipeline.calls.tokens import Grant
from telemetry.records import MemoryReporter
from tests.pipeline.calls.stages import CAPTION_PIPELINE
from tests.support.cluster import Cluster, running_cluster
from tests.support.engine import engine_options
from tests.support.paths import EXAMPLES
from tests.support.waiting import eventually, eventually_async

pytestmark = pytest.mark.slow

LEVELS = EXAMPLES / "room_levels.yaml"


async def _in_call(client: CallClient, room: str, publish: ToneTrack | None = None) -> None:
    response = await client.join(f"/rooms/{room}/join", publish=publish or ToneTrack())
    assert response.status_code == 201, response.text
    await client.connected()


def _levels(client: CallClient) -> int:
    return sum(m.get("type") == "event" and m.get("event") == "audio-level" for m in client.messages)


async def _create(cluster: Cluster, room: str, max_participants: int | None) -> httpx.Response:
    return await cluster.create_room(room, max_participants)


async def _workers(cluster: Cluster) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=cluster.url) as http:
        response = await http.get("/cluster/workers")
    assert response.status_code == 200
    workers: list[dict[str, object]] = response.json()["workers"]
    return workers


async def test_rooms_spread_over_workers_and_every_request_reaches_the_rooms_worker(tmp_path: Path) -> None:
    async with running_cluster(tmp_path, workers=2) as cluster:
        async with httpx.AsyncClient(base_url=cluster.url) as http:
            created = await http.post(
                "/rooms", json={"room": "standup"}, headers={"Authorization": f"Bearer {cluster.token('standup', 'x')}"}
            )
        assert created.status_code == 201, created.text
        alice, bob = cluster.client("standup", "alice"), cluster.client("standup", "bob")
        await _in_call(alice, "standup", ToneTrack(440))
        await _in_call(bob, "standup", ToneTrack(660))
        await eventually(lambda: alice.audio.loud_frames > 20 and bob.audio.loud_frames > 20, what="both hear")
        await eventually(lambda: _levels(alice) > 0, what="the room pipeline's events on the data channel")

        # a WHIP publish opens a second room, on the other (less loaded) worker
        publisher = CallClient(cluster.url, cluster.token("radio", "dj", frozenset({Grant.PUBLISH})))
        cluster.clients.append(publisher)
        whip = await publisher.join("/whip/radio", publish=ToneTrack(), receive_audio=False, data_channel=False)
        assert whip.status_code == 201, whip.text
        viewer = CallClient(cluster.url, cluster.token("radio", "fan", frozenset({Grant.SUBSCRIBE})))
        cluster.clients.append(viewer)
        whep = await viewer.join("/whep/radio", data_channel=False)
        assert whep.status_code == 201, whep.text
        await eventually(lambda: viewer.audio.loud_frames > 10, what="the WHEP viewer hears the WHIP publisher")

        workers = await _workers(cluster)
        rooms = {worker["id"]: worker["rooms"] for worker in workers}
        assert sorted(map(tuple, rooms.values())) == [("radio",), ("standup",)]  # type: ignore[arg-type]
        assert {w["state"] for w in workers} == {"serving"}
        assert {w["pid"] for w in workers} == {w.process.pid for w in cluster.workers}
        standup = next(w for w in workers if w["rooms"] == ["standup"])
        assert set(standup) >= {"id", "url", "pid", "state", "rooms", "participants", "load"}

        # the control plane sends an agent through the front as through any engine URL
        agent = await asyncio.to_thread(
            send_agent, cluster.url, cluster.secret, "standup", "notes", LEVELS.read_text(), ["en"], 600
        )
        assert agent == {"room": "standup", "identity": "notes"}
        async with httpx.AsyncClient(base_url=cluster.url) as http:
            listed = await http.get(
                "/rooms/standup/participants", headers={"Authorization": f"Bearer {cluster.token('standup', 'x')}"}
            )
        assert sorted(p["identity"] for p in listed.json()) == ["alice", "bob", "notes"]

        assert await alice.leave() == 204  # the DELETE of its Location, through the front
        assert await viewer.leave() == 204


async def test_the_front_refuses_bad_requests_in_words(tmp_path: Path) -> None:
    async with running_cluster(tmp_path, workers=1) as cluster, httpx.AsyncClient(base_url=cluster.url) as http:
        no_token = await http.post("/rooms/r1/join", content=b"v=0", headers={"Content-Type": "application/sdp"})
        other_room = await http.post(
            "/rooms", json={"room": "r2"}, headers={"Authorization": f"Bearer {cluster.token('r1', 'x')}"}
        )
        not_json = await http.post("/rooms", content=b"\xff\x00", headers={"Content-Type": "application/json"})
        bad_name = await http.post("/whip/" + "x" * 100, headers={"Authorization": "Bearer nope"})
        unknown = await http.get("/nothing/here")
        deep = await http.post("/rooms", content=b"[" * 100_000, headers={"Content-Type": "application/json"})
        binary = await http.post("/rooms", content=bytes(range(256)) * 100)
        assert deep.status_code == 400 and "nests deeper" in deep.json()["detail"]
        assert binary.status_code == 400
        assert (no_token.status_code, no_token.json()["detail"]) == (
            401,
            "a join token is required: send 'Authorization: Bearer <token>'",
        )
        assert other_room.status_code == 403 and "not 'r2'" in other_room.json()["detail"]
        assert not_json.status_code == 400 and "must be JSON" in not_json.json()["detail"]
        assert bad_name.status_code == 400
        assert unknown.status_code == 404
        assert await cluster.registry.room_worker("r2") is None  # nothing placed for a refused request


async def test_a_worker_killed_mid_call_its_participants_are_back_within_5_s(tmp_path: Path) -> None:
    async with running_cluster(tmp_path, workers=2, room_pipeline=LEVELS) as cluster:
        assert (await _create(cluster, "crash", 3)).status_code == 201
        alice, bob = cluster.client("crash", "alice"), cluster.client("crash", "bob")
        await _in_call(alice, "crash", ToneTrack(440))
        await _in_call(bob, "crash", ToneTrack(660))
        await eventually(lambda: alice.audio.loud_frames > 20 and bob.audio.loud_frames > 20, what="both hear")
        doomed = await cluster.worker_of("crash")

        doomed.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        heard, levels = alice.audio.loud_frames, _levels(alice)
        await eventually(
            lambda: all(c.reconnects > 0 and c.pc.connectionState == "connected" for c in (alice, bob)),
            timeout_s=5 - (time.monotonic() - killed),
            what="both back in a call within 5 s of the kill",
        )
        back_s = time.monotonic() - killed
        await eventually(lambda: alice.audio.loud_frames > heard + 20, what="alice hears bob again")
        await eventually(lambda: _levels(alice) > levels, what="the room's pipeline talks again")
        survivor = await cluster.worker_of("crash")
        assert survivor is not doomed
        again = await _create(cluster, "crash", None)
        assert (again.status_code, again.json()["max_participants"]) == (200, 3)  # the room came back as it was
        assert back_s < 5


async def test_sigterm_drains_a_worker_the_call_finishes_then_it_exits(tmp_path: Path) -> None:
    async with running_cluster(tmp_path, workers=2, room_pipeline=LEVELS) as cluster:
        alice = cluster.client("long", "alice")
        assert (await cluster.create_room("long")).status_code == 201
        await _in_call(alice, "long")
        draining = await cluster.worker_of("long")
        draining_id = await cluster.registry.room_worker("long")
        assert draining_id is not None

        draining.process.send_signal(signal.SIGTERM)
        await eventually_async_state(cluster, "draining")

        newcomer = cluster.client("later", "carol")
        assert (await cluster.create_room("later")).status_code == 201
        await _in_call(newcomer, "later")
        assert await cluster.worker_of("later") is not draining  # no new room on a draining worker
        frames = alice.audio.frames
        await asyncio.sleep(1.0)
        assert alice.audio.frames > frames + 30 and alice.reconnects == 0  # the call in progress goes on
        assert draining.process.returncode is None

        assert await alice.leave() == 204
        assert await asyncio.wait_for(draining.process.wait(), 15) == 0
        keys = [key.decode() async for key in cluster.registry.client.scan_iter(f"{cluster.key_prefix}*")]
        assert not [key for key in keys if draining_id in key or key.endswith(":long")], keys  # it kept nothing
        workers = await cluster.registry.client.smembers(f"{cluster.registry.prefix}workers")
        assert draining_id.encode() not in workers


async def eventually_async_state(cluster: Cluster, state: str, timeout_s: float = 10.0) -> None:
    async def some_worker_is() -> bool:
        return any(w.state == state for w in await cluster.registry.workers())

    await eventually_async(some_worker_is, timeout_s, what=f"a worker to become {state}")


async def _receive_only_offer() -> str:
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("audio", "recvonly")
        offer = await pc.createOffer()
        await pc.setLocalDescription(offer)
        return str(pc.localDescription.sdp)
    finally:
        await pc.close()


async def test_a_room_that_never_existed_is_a_404_through_the_front_as_on_one_engine(tmp_path: Path) -> None:
    """WHEP, joins, reads and removals for an unknown room: the front answers what a single engine answers
    (404, in the engine's words) and places nothing; only POST /rooms and WHIP create a room."""
    offer = await _receive_only_offer()
    agent = {"identity": "scribe", "pipeline": CAPTION_PIPELINE}
    asks: list[tuple[str, str, dict[str, object]]] = [
        ("POST", "/whep/ghost", {"content": offer, "headers": {"Content-Type": "application/sdp"}}),
        ("POST", "/rooms/ghost/join", {"content": offer, "headers": {"Content-Type": "application/sdp"}}),
        ("GET", "/rooms/ghost/participants", {}),
        ("POST", "/rooms/ghost/agents", {"json": agent}),
        ("DELETE", "/rooms/ghost/agents/scribe", {}),
        ("DELETE", "/rooms/ghost", {}),
        ("GET", "/rooms/ghost/ice", {}),  # an engine answers this without the room
    ]
    async with running_cluster(tmp_path, workers=1) as cluster:
        engine = CallServer(engine_options(cluster.secret, room_pipeline=None), MemoryReporter())
        async with serving(create_engine_app(engine)) as engine_url:
            every_grant = frozenset(Grant)
            bearer = {"Authorization": f"Bearer {cluster.token('ghost', 'viewer', every_grant)}"}
            for method, path, extra in asks:
                answers = []
                for base in (cluster.url, engine_url):
                    async with httpx.AsyncClient(base_url=base, headers=bearer) as http:
                        answers.append(await http.request(method, path, **extra))  # type: ignore[arg-type]
                through_front, on_one_engine = answers
                assert (through_front.status_code, through_front.json()) == (
                    on_one_engine.status_code,
                    on_one_engine.json(),
                ), (method, path)
                assert through_front.status_code == (200 if path.endswith("/ice") else 404), (method, path)
        assert await cluster.registry.room_worker("ghost") is None
        assert all(worker["rooms"] == [] for worker in await _workers(cluster))
        assert not engine.rooms

        whep_after_whip = cluster.client("ghost", "viewer")
        publisher = cluster.client("ghost", "radio")
        assert (await publisher.join("/whip/ghost", publish=ToneTrack(), data_channel=False)).status_code == 201
        assert (await whep_after_whip.join("/whep/ghost", data_channel=False)).status_code == 201
        assert await cluster.registry.room_worker("ghost") is not None


async def test_a_front_set_to_redirect_whip_answers_307_to_the_rooms_worker(tmp_path: Path) -> None:
    """``cluster_whip_redirect``: the offer goes to the worker itself (RFC 9725 allows a 307), the query kept;
    the publisher's session lives there and a WHEP viewer through the front (proxied) hears it."""
    async with running_cluster(tmp_path, workers=2, whip_redirect=True, pending_placement_ms=5000) as cluster:
        token = cluster.token("radio", "publisher")
        async with httpx.AsyncClient(base_url=cluster.url) as http:
            sent_on = await http.post(
                "/whip/radio?codec=opus",
                content=b"v=0",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/sdp"},
            )
        worker = next(w for w in await _workers(cluster) if "radio" in w["rooms"])  # type: ignore[operator]
        assert sent_on.status_code == 307, sent_on.text
        assert sent_on.headers["location"] == f"{worker['url']}/whip/radio?codec=opus"

        publisher, viewer = cluster.client("radio", "publisher"), cluster.client("radio", "viewer")
        whip = await publisher.join("/whip/radio", publish=ToneTrack(), receive_audio=False, data_channel=False)
        assert whip.status_code == 201, whip.text
        assert publisher.location is not None and publisher.location.startswith(f"{worker['url']}/whip/radio/")
        await publisher.connected()
        assert (await viewer.join("/whep/radio", data_channel=False)).status_code == 201
        await eventually(lambda: viewer.audio.loud_frames > 25, what="the viewer hears the redirected publisher")
        assert await publisher.leave() == 204
        assert await viewer.leave() == 204
        assert await cluster.registry.client.pttl(f"{cluster.registry.prefix}room:radio") == -1  # confirmed

        async with httpx.AsyncClient(base_url=cluster.url) as http:  # a 307 nobody follows
            never_followed = await http.post(
                "/whip/lost",
                content=b"v=0",
                headers={"Authorization": f"Bearer {cluster.token('lost', 'x')}", "Content-Type": "application/sdp"},
            )
        assert never_followed.status_code == 307
        assert await cluster.registry.room_worker("lost") is not None
        await asyncio.sleep(5.0)
        assert await cluster.registry.room_worker("lost") is None
        await eventually_async(
            lambda: _no_worker_lists(cluster, "lost"), what="the worker's rooms forget the unopened room"
        )


async def _no_worker_lists(cluster: Cluster, room: str) -> bool:
    return all(room not in worker.rooms for worker in await cluster.registry.workers())
