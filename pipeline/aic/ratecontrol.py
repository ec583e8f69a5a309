"""Rate control: which quantiser a frame is coded with, and whether to try again.

Each stream keeps a running qp. Without a size target it steers towards the
mode's quality target (a little above the floor); with a target ratio or
bitrate it steers towards the frame budget, never below the floor. Within a
frame, a reconstruction under the floor is retried at a finer qp, and one far
over budget (with quality to spare) at a coarser qp, while the latency cap
leaves time for another attempt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kernels.transform import MAX_QP
from pipeline.aic.types import QUALITY_FLOOR, CompressOptions, quality_target

START_QP = {"conservative": 20, "adaptive": 30, "aggressive": 38, "off": 0}
MIN_QP = 4
MAX_ATTEMPTS = 4
HYSTERESIS = 0.02
"""SSIM distance from the target before the qp moves: a steady qp lets static content skip."""
QP_PER_DOUBLING = 6
"""qp steps that halve the bits, roughly (the step size doubles every 6)."""


@dataclass(slots=True)
class Attempt:
    qp: int
    size: int
    ssim: float
    ms: float


def frame_budget(original_size: int, options: CompressOptions) -> float | None:
    """The most bytes this frame should take, or None without a size target."""
    budgets = []
    if options.target_ratio > 0:
        budgets.append(original_size / options.target_ratio)
    if options.target_bitrate_kbps > 0 and options.fps > 0:
        budgets.append(options.target_bitrate_kbps * 1000 / 8 / options.fps)
    return min(budgets) if budgets else None


class RateController:
    """One stream's quantiser: its running qp and the per-attempt time it measured."""

    def __init__(self) -> None:
        self.qp: dict[str, int] = {}
        self.attempt_ms = 0.0

    def first_qp(self, options: CompressOptions) -> int:
        mode = options.mode.value
        return self.qp.get(mode, START_QP[mode])

    def retry_qp(self, attempt: Attempt, budget: float | None, options: CompressOptions) -> int | None:
        """The qp of another attempt, or None when this one should stand."""
        floor = QUALITY_FLOOR[options.mode]
        if attempt.ssim < floor:
            shortfall = floor - attempt.ssim
            step = max(2, min(12, round(shortfall * 200)))
            return max(MIN_QP, attempt.qp - step) if attempt.qp > MIN_QP else None
        if budget is not None and attempt.size > budget * 1.5 and attempt.ssim > floor + 0.02:
            step = min(8, max(1, round(QP_PER_DOUBLING * math.log2(attempt.size / budget))))
            return min(MAX_QP, attempt.qp + step) if attempt.qp < MAX_QP else None
        return None

    def finish(self, chosen: Attempt, budget: float | None, options: CompressOptions) -> None:
        """Learn from the frame just coded: where the next frame of this mode starts."""
        mode = options.mode.value
        target = quality_target(options.mode)
        qp = chosen.qp
        if chosen.ssim < QUALITY_FLOOR[options.mode] + 0.005:
            qp -= 2
        elif budget is not None and chosen.size > budget:
            qp += min(4, max(1, round(QP_PER_DOUBLING * math.log2(chosen.size / budget))))
        elif budget is not None and chosen.size < budget * 0.7 and chosen.ssim < target:
            qp -= 1
        elif budget is None and chosen.ssim > target + HYSTERESIS:
            qp += 1
        elif budget is None and chosen.ssim < target - HYSTERESIS:
            qp -= 1
        self.qp[mode] = min(MAX_QP, max(MIN_QP, qp))
        self.attempt_ms = chosen.ms if self.attempt_ms == 0 else 0.8 * self.attempt_ms + 0.2 * chosen.ms
