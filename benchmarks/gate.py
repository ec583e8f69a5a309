"""The regression gate's decision rule: is head worse than base, beyond noise?

Like asv, a figure regresses only when both hold: the change exceeds the
figure's factor (head's median over base's, turned so that above 1 is worse)
and it is significant. Significance is a one-sided Mann–Whitney U test on the
per-round samples; when there are too few samples for that test to ever reach
``ALPHA``, it falls back to 95 % confidence intervals of the mean that do not
overlap. Too few samples for either (fewer than two a side) decides nothing.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from scipy import stats

ALPHA = 0.05
"""One-sided significance level of each figure's test."""

DEFAULT_FACTOR = 1.10


class Verdict(StrEnum):
    REGRESSED = "regressed"
    IMPROVED = "improved"
    SAME = "same"
    """No change past the factor that is also significant."""
    UNDECIDED = "undecided"
    """Too few samples to tell."""


Method = Literal["mann-whitney", "confidence-intervals", "none"]


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    ratio: float
    """head / base (medians); above 1 means the figure grew, whichever way is better."""
    worse_by: float
    """The ratio turned so that above 1 is worse (ratio for ``lower``, 1/ratio for ``higher``)."""
    method: Method
    p_value: float | None
    """One-sided p-value of the change in the direction it went (Mann–Whitney only)."""


def decide(
    base: list[float], head: list[float], better: Literal["lower", "higher"], factor: float = DEFAULT_FACTOR
) -> Decision:
    """Judge one figure from its per-round samples on each side."""
    if factor < 1:
        raise ValueError(f"a factor is a ratio of at least 1, not {factor}")
    if not base or not head:
        raise ValueError("each side needs at least one sample")
    ratio = _ratio(statistics.median(base), statistics.median(head))
    worse_by = ratio if better == "lower" else (1 / ratio if ratio else math.inf)
    head_is_worse = worse_by >= 1
    method = _method(len(base), len(head))
    p_value: float | None = None
    if method == "mann-whitney":
        p_value = _p_worse(base, head, better) if head_is_worse else _p_worse(head, base, better)
        significant = p_value < ALPHA
    elif method == "confidence-intervals":
        significant = _intervals_apart(base, head)
    else:
        significant = False
    past_factor = worse_by > factor or 1 / worse_by > factor
    if not past_factor:
        verdict = Verdict.SAME
    elif method == "none":
        verdict = Verdict.UNDECIDED
    elif not significant:
        verdict = Verdict.SAME
    else:
        verdict = Verdict.REGRESSED if head_is_worse else Verdict.IMPROVED
    return Decision(verdict, ratio, worse_by, method, p_value)


def _ratio(base_median: float, head_median: float) -> float:
    if base_median == 0:
        return 1.0 if head_median == 0 else math.inf
    return head_median / base_median


def _method(n_base: int, n_head: int) -> Method:
    # the smallest one-sided p-value the exact test can give is 1 / C(n1 + n2, n1)
    if 1 / math.comb(n_base + n_head, n_base) < ALPHA:
        return "mann-whitney"
    if min(n_base, n_head) >= 2:
        return "confidence-intervals"
    return "none"


def _p_worse(reference: list[float], candidate: list[float], better: Literal["lower", "higher"]) -> float:
    """P-value that ``candidate`` is worse than ``reference``."""
    if len(set(reference) | set(candidate)) == 1:
        return 1.0
    alternative: Literal["greater", "less"] = "greater" if better == "lower" else "less"
    return float(stats.mannwhitneyu(candidate, reference, alternative=alternative).pvalue)


def confidence_interval(samples: list[float], level: float = 0.95) -> tuple[float, float]:
    """Student-t interval of the mean (a single sample is its own interval)."""
    mean = statistics.fmean(samples)
    if len(samples) < 2:
        return mean, mean
    half = float(stats.t.ppf((1 + level) / 2, len(samples) - 1)) * statistics.stdev(samples) / math.sqrt(len(samples))
    return mean - half, mean + half


def _intervals_apart(base: list[float], head: list[float]) -> bool:
    base_low, base_high = confidence_interval(base)
    head_low, head_high = confidence_interval(head)
    return head_low > base_high or base_low > head_high
