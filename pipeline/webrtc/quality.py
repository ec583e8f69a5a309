"""Call quality from aiortc's ``getStats()``: jitter, loss, RTT, bitrate and an E-model MOS.

:func:`score` is pure: one stats report plus the counters of the previous one
give a :class:`telemetry.records.QualitySample`. :class:`QualityMonitor` samples
a peer connection every few seconds and reports what it finds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.stats import (
    RTCInboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats,
    RTCTransportStats,
)

from pipeline.webrtc.emodel import mos
from pipeline.webrtc.tasks import cancel_and_wait
from telemetry.records import QualitySample

log = logging.getLogger(__name__)

OPUS_CLOCK_RATE = 48000
BASELINE_DELAY_S = 0.2


@dataclass(frozen=True, slots=True)
class Counters:
    """The cumulative counters one sample needs from the previous one."""

    at: float
    packets_received: int
    packets_lost: int
    transport_bytes: int


def score(
    room: str,
    participant: str,
    stats: Iterable[Any],
    previous: Counters | None,
    now: float,
    clock_rate: int = OPUS_CLOCK_RATE,
) -> tuple[QualitySample | None, Counters | None]:
    """The audio quality sample for one stats report, and the counters for the next.

    What the engine receives from the participant (``inbound-rtp``) is scored
    when the participant publishes audio; otherwise what the participant reports
    about the audio it receives (``remote-inbound-rtp``). Jitter arrives in RTP
    clock ticks and is divided by ``clock_rate``; RTT comes from
    ``remote-inbound-rtp``; bitrate is the connection's bytes over the interval.
    """
    entries = list(stats)
    inbound = _first(entries, RTCInboundRtpStreamStats, "audio")
    remote = _first(entries, RTCRemoteInboundRtpStreamStats, "audio")
    stream = inbound or remote
    if stream is None:
        return None, previous
    transport = _first(entries, RTCTransportStats, None)
    transport_bytes = (transport.bytesReceived + transport.bytesSent) if transport is not None else 0
    counters = Counters(now, stream.packetsReceived, max(0, stream.packetsLost), transport_bytes)
    loss_fraction, bitrate_kbps = _interval(counters, previous)
    if inbound is None and remote is not None and previous is None:
        loss_fraction = max(0.0, min(1.0, remote.fractionLost))
    jitter_ms = 1000.0 * stream.jitter / clock_rate
    rtt_ms = 1000.0 * remote.roundTripTime if remote is not None and remote.roundTripTime is not None else None
    sample = QualitySample(
        room=room,
        participant=participant,
        media="audio",
        jitter_ms=round(jitter_ms, 3),
        packets_lost=counters.packets_lost,
        loss_fraction=round(loss_fraction, 5),
        rtt_ms=round(rtt_ms, 3) if rtt_ms is not None else None,
        bitrate_kbps=round(bitrate_kbps, 2),
        mos=mos(rtt_ms, jitter_ms, loss_fraction),
        direction="inbound" if inbound is not None else "outbound",
        connection_type="udp-host",
    )
    return sample, counters


def _first(entries: list[Any], kind: type[Any], media: str | None) -> Any:
    for entry in entries:
        if isinstance(entry, kind) and (media is None or getattr(entry, "kind", None) == media):
            return entry
    return None


def _interval(now: Counters, before: Counters | None) -> tuple[float, float]:
    if before is None or now.at <= before.at:
        expected = now.packets_received + now.packets_lost
        return (now.packets_lost / expected if expected else 0.0), 0.0
    lost = max(0, now.packets_lost - before.packets_lost)
    expected = max(0, now.packets_received - before.packets_received) + lost
    bits = 8 * max(0, now.transport_bytes - before.transport_bytes)
    return (lost / expected if expected else 0.0), bits / (now.at - before.at) / 1000.0


class QualityMonitor:
    """Samples one peer connection's stats every ``interval_s`` and hands each sample on."""

    def __init__(
        self,
        room: str,
        participant: str,
        pc: RTCPeerConnection,
        interval_s: float,
        on_sample: Callable[[QualitySample], None],
    ) -> None:
        self.room, self.participant, self.pc = room, participant, pc
        self.interval_s = interval_s
        self.on_sample = on_sample
        self._previous: Counters | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"quality:{self.participant}")

    async def sample_once(self, report_it: bool = True) -> QualitySample | None:
        """Read the stats; hand on the sample (unless ``report_it`` is false: a baseline for the next one)."""
        report = await self.pc.getStats()
        sample, self._previous = score(self.room, self.participant, report.values(), self._previous, time.time())
        if sample is not None and report_it:
            self.on_sample(sample)
        return sample

    async def _run(self) -> None:
        baseline_taken = False  # the first read is only a baseline, so every reported sample covers an interval
        while True:
            await asyncio.sleep(self.interval_s if baseline_taken else BASELINE_DELAY_S)
            if self.pc.connectionState != "connected":
                continue
            try:
                await self.sample_once(report_it=baseline_taken)
                baseline_taken = True
            except Exception as error:  # noqa: BLE001 - a connection closing mid-sample must not end the sampler
                log.debug("quality sample of %s failed: %r", self.participant, error)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
