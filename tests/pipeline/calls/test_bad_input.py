"""Bad input gets a clear HTTP error, and the calls already running go on."""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.calls.client import ToneTrack
from pipeline.calls.tokens import Grant, mint_join_token
from tests.support.engine import Engine
from tests.support.waiting import eventually

SDP = {"Content-Type": "application/sdp"}


async def real_offer(data_only: bool = False) -> str:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    if data_only:
        pc.createDataChannel("only-data")
    else:
        pc.addTransceiver("audio", "sendrecv")
    await pc.setLocalDescription(await pc.createOffer())
    sdp: str = pc.localDescription.sdp
    await pc.close()
    return sdp


async def post(
    engine: Engine, path: str, body: bytes | str, token: str | None, headers: dict[str, str] = SDP
) -> httpx.Response:
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=engine.url) as http:
        return await http.post(path, content=body, headers={**headers, **auth})


def detail(response: httpx.Response) -> str:
    body: dict[str, Any] = response.json()
    return str(body["detail"])


async def test_tokens_are_required_verified_and_scoped(engine: Engine) -> None:
    await engine.create_room("guarded")
    offer = await real_offer()
    cases = [
        (None, 401, "join token is required"),
        ("not-a-jwt", 401, "malformed join token"),
        (
            mint_join_token(secrets.token_urlsafe(32), "guarded", "eve"),
            401,
            "signed with a different secret than this server's",
        ),
        (mint_join_token(engine.secret, "guarded", "old", ttl_s=60, now=1_000_000.0), 401, "expired"),
        (engine.token("elsewhere", "bob"), 403, "for room 'elsewhere'"),
        (engine.token("guarded", "viewer", frozenset({Grant.SUBSCRIBE})), 403, "lacks the publish grant"),
    ]
    for token, status, message in cases:
        response = await post(engine, "/rooms/guarded/join", offer, token)
        assert response.status_code == status, (token, response.text)
        assert message in detail(response)
    assert engine.server.sessions == {} and not engine.server.peers


async def test_missing_room_wrong_content_type_and_malformed_offers(engine: Engine) -> None:
    await engine.create_room("r")
    offer = await real_offer()
    token = engine.token("r", "alice")
    assert (await post(engine, "/rooms/nowhere/join", offer, engine.token("nowhere", "a"))).status_code == 404
    wrong_type = await post(engine, "/rooms/r/join", offer, token, {"Content-Type": "application/json"})
    assert wrong_type.status_code == 415 and "application/sdp" in detail(wrong_type)
    bad_offers = {
        b"": "must start with 'v=0'",
        b"\xff\xfe\x00garbage": "not UTF-8",
        b"hello world": "must start with 'v=0'",
        ("v=0\r\n" + "a=x\r\n" * 20000).encode(): "at most",
        (await real_offer(data_only=True)).encode(): "no audio or video section",
        offer.replace("a=fingerprint:", "a=fingerprimt:").encode(): "no DTLS fingerprint",
        re.sub(r"m=audio \d+ ", "m=audio nine ", offer).encode(): "malformed media line",
        offer.replace("m=audio", "m=text").encode(): "unsupported media kind",
    }
    for body, message in bad_offers.items():
        response = await post(engine, "/rooms/r/join", body, token)
        assert response.status_code in (400, 413), (message, response.text)
        if response.status_code == 400:
            assert message in detail(response), response.text
    assert engine.server.sessions == {} and not engine.server.peers


async def test_whip_without_media_to_send_and_whep_without_media_to_receive_are_refused(engine: Engine) -> None:
    await engine.create_room("w")
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("audio", "recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    receive_only = pc.localDescription.sdp
    await pc.close()
    response = await post(engine, "/whip/w", receive_only, engine.token("w", "enc"))
    assert response.status_code == 400 and "must send audio or video" in detail(response)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(ToneTrack(), "sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    send_only = pc.localDescription.sdp
    await pc.close()
    response = await post(engine, "/whep/w", send_only, engine.token("w", "viewer"))
    assert response.status_code == 400 and "must receive audio or video" in detail(response)


async def test_a_full_room_refuses_the_next_participant_and_the_others_go_on(engine: Engine) -> None:
    await engine.create_room("tiny", max_participants=2)
    first, second = engine.client("tiny", "a"), engine.client("tiny", "b")
    assert (await first.join("/rooms/tiny/join", publish=ToneTrack())).status_code == 201
    assert (await second.join("/rooms/tiny/join", publish=ToneTrack())).status_code == 201
    third = await post(engine, "/rooms/tiny/join", await real_offer(), engine.token("tiny", "c"))
    assert third.status_code == 409 and "full" in detail(third)
    await first.connected()
    await eventually(lambda: first.audio.loud_frames > 10, what="the call goes on")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_mutated_offers_never_cause_a_server_error(engine: Engine, data: st.DataObject) -> None:
    if "fuzz" not in engine.server.rooms:
        await engine.create_room("fuzz")
    lines = (await real_offer()).split("\r\n")
    index = data.draw(st.integers(0, len(lines) - 1))
    mutation = data.draw(st.sampled_from(["drop", "garble", "duplicate", "truncate"]))
    if mutation == "drop":
        del lines[index]
    elif mutation == "garble":
        lines[index] = lines[index][:2] + data.draw(st.text(max_size=40))
    elif mutation == "duplicate":
        lines.insert(index, lines[index])
    else:
        lines[index] = lines[index][: data.draw(st.integers(0, max(0, len(lines[index]) - 1)))]
    response = await post(
        engine, "/rooms/fuzz/join", "\r\n".join(lines).encode("utf-8", "surrogatepass"), engine.token("fuzz", "fuzzer")
    )
    assert response.status_code < 500, response.text
    if response.status_code == 201:
        async with httpx.AsyncClient(base_url=engine.url) as http:
            await http.delete(
                response.headers["location"], headers={"Authorization": f"Bearer {engine.token('fuzz', 'fuzzer')}"}
            )


@pytest.mark.parametrize("path", ["/whip/x/unknown", "/rooms/x/participants/unknown"])
async def test_deleting_an_unknown_session_is_404(engine: Engine, path: str) -> None:
    await engine.create_room("x")
    async with httpx.AsyncClient(base_url=engine.url) as http:
        response = await http.delete(path, headers={"Authorization": f"Bearer {engine.token('x', 'a')}"})
    assert response.status_code == 404 and "no such session" in detail(response)


async def test_simultaneous_joins_never_overfill_a_room(engine: Engine) -> None:
    await engine.create_room("rush", max_participants=3)
    offers = [await real_offer() for _ in range(6)]
    responses = await asyncio.gather(
        *(post(engine, "/rooms/rush/join", offer, engine.token("rush", f"p{i}")) for i, offer in enumerate(offers))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, 201, 201, 409, 409, 409]
    assert len(engine.server.rooms["rush"].participants) == 3
