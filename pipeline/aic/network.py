"""Network adaptation: from samples of bandwidth, RTT and loss to a predicted bandwidth, a stability score and a mode.

The prediction is the harmonic mean of the recent throughput samples (the
estimator adaptive-bitrate players use: one slow sample pulls it down far more
than one fast sample pushes it up), discounted by the share of packets lost.
Stability is one minus the samples' coefficient of variation, lowered further
by RTT swings and loss. Under 1 Mbit/s the recommended mode is aggressive,
under 5 Mbit/s adaptive, otherwise conservative.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.aic.types import Mode

AGGRESSIVE_BELOW_KBPS = 1000.0
ADAPTIVE_BELOW_KBPS = 5000.0
RECENT_SAMPLES = 8
HEADROOM = 0.85
"""Share of the predicted bandwidth a sender should plan to use."""


@dataclass(frozen=True, slots=True)
class NetworkSample:
    bandwidth_kbps: float
    rtt_ms: float = 0.0
    loss: float = 0.0
    """Fraction of packets lost, 0..1."""
    jitter_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class NetworkAnalysis:
    predicted_bandwidth_kbps: float
    stability: float
    """0 (erratic) .. 1 (steady)."""
    recommended_mode: Mode
    recommended_bitrate_kbps: float
    mean_rtt_ms: float
    mean_loss: float
    samples: int


class NetworkError(ValueError):
    """Samples that cannot describe a network (negative bandwidth, loss outside 0..1)."""


def check_sample(sample: NetworkSample) -> None:
    if not sample.bandwidth_kbps >= 0 or not sample.rtt_ms >= 0 or not sample.jitter_ms >= 0:
        raise NetworkError("bandwidth, RTT and jitter must be non-negative numbers")
    if not 0.0 <= sample.loss <= 1.0:
        raise NetworkError(f"loss must be a fraction 0..1, got {sample.loss}")


def recommend_mode(bandwidth_kbps: float) -> Mode:
    if bandwidth_kbps < AGGRESSIVE_BELOW_KBPS:
        return Mode.AGGRESSIVE
    if bandwidth_kbps < ADAPTIVE_BELOW_KBPS:
        return Mode.ADAPTIVE
    return Mode.CONSERVATIVE


def analyse(samples: Sequence[NetworkSample]) -> NetworkAnalysis:
    """Predict the path from ``samples`` (oldest first); at least one sample is needed."""
    if not samples:
        raise NetworkError("at least one network sample is needed")
    for sample in samples:
        check_sample(sample)
    recent = list(samples[-RECENT_SAMPLES:])
    rates = [sample.bandwidth_kbps for sample in recent]
    harmonic = 0.0 if min(rates) <= 0 else statistics.harmonic_mean(rates)
    mean_loss = statistics.fmean(sample.loss for sample in recent)
    predicted = harmonic * (1.0 - mean_loss)
    rtts = [sample.rtt_ms for sample in recent]
    mean_rtt = statistics.fmean(rtts)
    variation = statistics.pstdev(rates) / statistics.fmean(rates) if statistics.fmean(rates) > 0 else 1.0
    rtt_variation = statistics.pstdev(rtts) / mean_rtt if mean_rtt > 0 else 0.0
    stability = max(0.0, min(1.0, 1.0 - variation - 0.5 * rtt_variation - 2.0 * mean_loss))
    return NetworkAnalysis(
        predicted_bandwidth_kbps=predicted,
        stability=stability,
        recommended_mode=recommend_mode(predicted),
        recommended_bitrate_kbps=predicted * HEADROOM * (0.5 + 0.5 * stability),
        mean_rtt_ms=mean_rtt,
        mean_loss=mean_loss,
        samples=len(recent),
    )
