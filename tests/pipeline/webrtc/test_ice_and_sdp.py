"""ICE policy and SDP offer checks (pure code), and the call stages outside a call."""

from __future__ import annotations

import aioice.ice
import pytest

from engine.frames import EventFrame, TextFrame, TextRole, now_ns
from engine.harness import run_source
from pipeline.calls.sdp import OfferError, check_offer
from pipeline.webrtc.datachannel_sink import datachannel_message
from pipeline.webrtc.ice import IceConfigError, IcePolicy, apply_host_addresses
from pipeline.webrtc.source import WebrtcSource, WebrtcSourceSettings

OFFER = (
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=sendrecv\r\na=ice-ufrag:abcd\r\na=ice-pwd:x\r\n"
    "a=fingerprint:sha-256 AA:BB\r\n"
    "a=candidate:1 1 udp 2130706431 10.1.2.3 5000 typ host\r\n"
    "a=candidate:2 1 udp 2130706431 127.0.0.1 5001 typ host\r\n"
    "a=candidate:3 1 udp 2130706431 abc.local 5002 typ host\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\n"
)


def test_no_servers_means_an_explicit_empty_list_so_aiortc_never_asks_a_public_stun_server() -> None:
    assert IcePolicy().rtc_configuration().iceServers == []
    policy = IcePolicy.from_settings(["stun:stun.example.org:3478", "turn:t.example.org:3478"], "u", "p", [], [])
    servers = policy.rtc_configuration().iceServers
    assert servers is not None and servers[0].urls == ["stun:stun.example.org:3478", "turn:t.example.org:3478"]
    assert policy.browser_servers() == [{"urls": list(policy.servers), "username": "u", "credential": "p"}]


def test_bad_ice_settings_are_named() -> None:
    with pytest.raises(IceConfigError, match="ice_servers: 'http://x' is not a stun"):
        IcePolicy.from_settings(["http://x"], None, None, [], [])
    with pytest.raises(IceConfigError, match="ice_host_addresses: 'eth0' is not an IP address"):
        IcePolicy.from_settings([], None, None, ["eth0"], [])
    with pytest.raises(IceConfigError, match="ice_remote_networks"):
        IcePolicy.from_settings([], None, None, [], ["10.0.0.0/33"])


def test_remote_candidates_outside_the_allowed_networks_and_mdns_names_are_dropped() -> None:
    policy = IcePolicy.from_settings([], None, None, [], ["127.0.0.0/8"])
    filtered = policy.filter_offer(OFFER)
    assert "127.0.0.1 5001" in filtered and "10.1.2.3" not in filtered and "abc.local" not in filtered
    assert IcePolicy().filter_offer(OFFER) == OFFER


def test_host_candidates_can_be_pinned_to_loopback_and_restored() -> None:
    apply_host_addresses(["127.0.0.1", "::1"])
    try:
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False) == ["127.0.0.1"]
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1", "::1"]
    finally:
        apply_host_addresses([])
    assert "127.0.0.1" not in aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False)


def test_an_offer_is_summarised_by_kind_and_direction() -> None:
    text, summary = check_offer(OFFER.encode())
    assert text == OFFER
    assert summary.sends("audio") and summary.receives("audio") and summary.receives("video")
    assert not summary.sends("video") and not summary.has_data_channel


@pytest.mark.parametrize(
    ("offer", "message"),
    [
        (OFFER.replace("v=0", "v=1"), "must start with 'v=0'"),
        (OFFER.replace("s=-", "s-"), "line 3 is not of the form"),
        (OFFER.replace("a=ice-ufrag:abcd\r\n", ""), "no ICE credentials"),
        (OFFER + "m=audio 9 X 0\r\n" * 20, "at most 16 are accepted"),
    ],
)
def test_unusable_offers_are_refused_with_a_reason(offer: str, message: str) -> None:
    with pytest.raises(OfferError, match=message):
        check_offer(offer.encode())


def test_datachannel_messages_carry_text_roles_attributes_speaker_and_latency() -> None:
    text = TextFrame(
        pts_ns=1_500_000_000,
        ingest_ns=now_ns(),
        text="hola",
        role=TextRole.TRANSLATION,
        is_final=False,
        language="es",
        attributes={"source_language": "en"},
    )
    message = datachannel_message(text, "alice")
    assert message["type"] == "translation" and message["text"] == "hola" and message["final"] is False
    assert message["language"] == "es" and message["source_language"] == "en" and message["speaker"] == "alice"
    assert message["pts_ms"] == 1500 and message["latency_ms"] >= 0 and "kind" not in message
    event = datachannel_message(
        EventFrame(pts_ns=0, ingest_ns=now_ns(), name="audio-level", source="m", data={"rms_dbfs": -20}), None
    )
    assert event["type"] == "event" and event["event"] == "audio-level" and event["data"] == {"rms_dbfs": -20}


async def test_webrtc_source_outside_a_call_fails_with_a_message_that_says_where_it_runs() -> None:
    stage = WebrtcSource("participant", WebrtcSourceSettings())
    result = (await run_source(stage)).result
    assert result.error is not None and "runs in a room's pipeline under `auralink serve engine`" in result.error
