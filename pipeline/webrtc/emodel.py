"""Mean opinion score from the ITU-T G.107 E-model, in its simplified VoIP form.

Pure arithmetic, no I/O: ``R = R0 - Id - Ie_eff`` with the delay impairment
``Id`` of Cole and Rosenbluth's simplification of G.107 and the equipment
impairment of random packet loss ``Ie_eff = Ie + (95 - Ie) * Ppl / (Ppl + Bpl)``
(G.107 §3.6 with BurstR = 1), then G.107's R-to-MOS mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

R0 = 93.2
"""Basic signal-to-noise ratio with G.107's default values."""
CODEC_DELAY_MS = 10.0
"""Packetisation and look-ahead added to the network delay (20 ms Opus frames, half counted)."""
DELAY_KNEE_MS = 177.3


@dataclass(frozen=True, slots=True)
class CodecImpairment:
    """G.113 Appendix I values: ``ie`` (equipment impairment) and ``bpl`` (loss robustness)."""

    ie: float
    bpl: float


OPUS = CodecImpairment(ie=0.0, bpl=25.1)
"""Opus at wideband rates with its loss concealment; G.711-with-PLC figures as the conservative stand-in."""


def delay_impairment(one_way_delay_ms: float) -> float:
    """``Id`` for a mouth-to-ear delay (ms)."""
    d = max(0.0, one_way_delay_ms)
    return 0.024 * d + (0.11 * (d - DELAY_KNEE_MS) if d > DELAY_KNEE_MS else 0.0)


def loss_impairment(loss_percent: float, codec: CodecImpairment = OPUS) -> float:
    """``Ie_eff`` for random packet loss in percent."""
    ppl = min(100.0, max(0.0, loss_percent))
    return codec.ie + (95.0 - codec.ie) * ppl / (ppl + codec.bpl)


def r_factor(rtt_ms: float | None, jitter_ms: float, loss_fraction: float, codec: CodecImpairment = OPUS) -> float:
    """The transmission rating R (0..100).

    One-way delay is half the round trip (0 when unknown) plus twice the jitter
    (what a jitter buffer adds) plus the codec's own delay.
    """
    one_way = (rtt_ms or 0.0) / 2 + 2 * max(0.0, jitter_ms) + CODEC_DELAY_MS
    r = R0 - delay_impairment(one_way) - loss_impairment(100.0 * loss_fraction, codec)
    return min(100.0, max(0.0, r))


def mos_from_r(r: float) -> float:
    """G.107's mapping from R to the estimated MOS (1..4.5)."""
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r)


def mos(rtt_ms: float | None, jitter_ms: float, loss_fraction: float, codec: CodecImpairment = OPUS) -> float:
    """MOS (1..4.5) for a stream with this round-trip time, jitter and loss."""
    return round(mos_from_r(r_factor(rtt_ms, jitter_ms, loss_fraction, codec)), 3)
