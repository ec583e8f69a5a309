"""The E-model and scoring of getStats reports (pure code)."""

from __future__ import annotations

import datetime as dt

import pytest
from aiortc.stats import RTCInboundRtpStreamStats, RTCRemoteInboundRtpStreamStats, RTCTransportStats

from pipeline.webrtc.emodel import delay_impairment, loss_impairment, mos, mos_from_r, r_factor
from pipeline.webrtc.quality import Counters, score

NOW = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)


def test_a_clean_loopback_call_scores_the_e_models_best_narrowband_mos() -> None:
    assert mos(rtt_ms=1, jitter_ms=0.5, loss_fraction=0) == pytest.approx(4.41, abs=0.01)  # R = 93.2 - Id


def test_mos_falls_with_delay_jitter_and_loss_and_stays_in_range() -> None:
    clean = mos(20, 2, 0)
    assert mos(400, 2, 0) < clean and mos(20, 80, 0) < clean and mos(20, 2, 0.05) < clean
    assert mos(20, 2, 0.05) == pytest.approx(mos_from_r(r_factor(20, 2, 0.05)), abs=1e-3)
    assert 1.0 <= mos(5000, 500, 1.0) <= mos(0, 0, 0) <= 4.5
    assert mos_from_r(-5) == 1.0 and mos_from_r(120) == 4.5


def test_g107_reference_points() -> None:
    assert delay_impairment(100) == pytest.approx(2.4)  # below the knee: 0.024 d
    assert delay_impairment(277.3) == pytest.approx(0.024 * 277.3 + 0.11 * 100)
    assert loss_impairment(0) == 0 and loss_impairment(25.1) == pytest.approx(47.5)  # half of 95 at Ppl = Bpl
    assert mos_from_r(93.2) == pytest.approx(4.41, abs=0.01) and mos_from_r(50) == pytest.approx(2.58, abs=0.01)


def inbound(received: int, lost: int, jitter_ticks: int) -> RTCInboundRtpStreamStats:
    return RTCInboundRtpStreamStats(
        timestamp=NOW, type="inbound-rtp", id="in", ssrc=1, kind="audio", transportId="t",
        packetsReceived=received, packetsLost=lost, jitter=jitter_ticks,
    )  # fmt: skip


def transport(bytes_total: int) -> RTCTransportStats:
    return RTCTransportStats(
        timestamp=NOW, type="transport", id="t", packetsSent=0, packetsReceived=0,
        bytesSent=0, bytesReceived=bytes_total, iceRole="controlled", dtlsState="connected",
    )  # fmt: skip


def test_score_divides_jitter_by_the_clock_rate_and_uses_interval_loss_and_bitrate() -> None:
    first, counters = score("r", "alice", [inbound(100, 0, 480), transport(10_000)], None, now=10.0)
    assert first is not None and first.jitter_ms == pytest.approx(10.0)  # 480 ticks at 48 kHz
    assert first.loss_fraction == 0 and first.bitrate_kbps == 0 and first.rtt_ms is None
    second, _ = score("r", "alice", [inbound(340, 10, 96), transport(50_000)], counters, now=15.0)
    assert second is not None and second.direction == "inbound"
    assert second.loss_fraction == pytest.approx(10 / 250)  # 240 received + 10 lost in the interval
    assert second.bitrate_kbps == pytest.approx(8 * 40_000 / 5 / 1000)
    assert second.packets_lost == 10 and second.mos < first.mos


def test_a_receive_only_participant_is_scored_from_its_receiver_reports() -> None:
    remote = RTCRemoteInboundRtpStreamStats(
        timestamp=NOW, type="remote-inbound-rtp", id="ri", ssrc=2, kind="audio", transportId="t",
        packetsReceived=500, packetsLost=5, jitter=240, roundTripTime=0.08, fractionLost=0.01,
    )  # fmt: skip
    sample, _ = score("r", "viewer", [remote], None, now=1.0)
    assert sample is not None and sample.direction == "outbound"
    assert sample.rtt_ms == pytest.approx(80) and sample.jitter_ms == pytest.approx(5) and sample.loss_fraction == 0.01


def test_no_audio_stream_no_sample() -> None:
    previous = Counters(1.0, 1, 0, 0)
    assert score("r", "p", [transport(5)], previous, now=2.0) == (None, previous)
