"""The regression gate's decision rule, on synthetic samples with known shifts."""

import numpy as np
import pytest

from benchmarks.engine_gate import INJECT_ENV, injected_slowdown
from benchmarks.gate import Verdict, confidence_interval, decide


def noisy(rng: np.random.Generator, centre: float, n: int, spread: float = 0.03) -> list[float]:
    return [float(value) for value in rng.normal(centre, centre * spread, n)]


def test_a_ten_percent_slowdown_is_caught() -> None:
    rng = np.random.default_rng(1)
    caught = sum(
        decide(noisy(rng, 100, 10), noisy(rng, 110, 10), "lower", 1.05).verdict is Verdict.REGRESSED for _ in range(100)
    )
    assert caught >= 99


def test_identical_distributions_pass() -> None:
    rng = np.random.default_rng(2)
    verdicts = [decide(noisy(rng, 100, 10), noisy(rng, 100, 10), "lower", 1.05).verdict for _ in range(200)]
    assert Verdict.REGRESSED not in verdicts
    same = [4.0, 4.0, 4.0, 4.0, 4.0]
    decision = decide(same, same, "lower")
    assert decision.verdict is Verdict.SAME and decision.ratio == 1.0


def test_a_change_within_the_factor_is_not_a_regression_however_significant() -> None:
    base = [100.0 + i * 0.01 for i in range(10)]
    head = [value * 1.08 for value in base]
    assert decide(base, head, "lower", 1.10).verdict is Verdict.SAME
    assert decide(base, head, "lower", 1.05).verdict is Verdict.REGRESSED


def test_a_change_past_the_factor_that_noise_explains_is_not_a_regression() -> None:
    base = [50.0, 150.0, 90.0, 60.0, 140.0, 100.0]
    head = [55.0, 160.0, 120.0, 70.0, 150.0, 115.0]
    decision = decide(base, head, "lower")
    assert decision.worse_by > 1.10 and decision.verdict is Verdict.SAME
    assert decision.method == "mann-whitney" and decision.p_value is not None and decision.p_value > 0.05


def test_higher_is_better_is_respected() -> None:
    base = [1000.0, 1010.0, 990.0, 1005.0, 995.0, 1002.0]
    slower = [value * 0.8 for value in base]
    faster = [value * 1.2 for value in base]
    assert decide(base, slower, "higher").verdict is Verdict.REGRESSED
    assert decide(base, faster, "higher").verdict is Verdict.IMPROVED
    assert decide(base, faster, "lower").verdict is Verdict.REGRESSED


def test_few_samples_fall_back_to_confidence_intervals() -> None:
    base, head = [10.0, 10.1, 9.9], [12.0, 12.1, 11.9]  # 3 + 3: Mann–Whitney cannot reach p < 0.05
    decision = decide(base, head, "lower")
    assert decision.method == "confidence-intervals" and decision.verdict is Verdict.REGRESSED
    overlapping = decide([10.0, 13.0, 7.0], [12.0, 15.0, 9.0], "lower")
    assert overlapping.method == "confidence-intervals" and overlapping.verdict is Verdict.SAME
    low, high = confidence_interval(base)
    assert low < 10.0 < high


def test_one_sample_a_side_decides_nothing() -> None:
    decision = decide([10.0], [20.0], "lower")
    assert decision.method == "none" and decision.verdict is Verdict.UNDECIDED
    assert decide([10.0], [10.2], "lower").verdict is Verdict.SAME


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="factor"):
        decide([1.0], [1.0], "lower", 0.9)
    with pytest.raises(ValueError, match="at least one sample"):
        decide([], [1.0], "lower")


def test_a_zero_base_is_an_infinite_ratio_not_a_crash() -> None:
    assert decide([0.0] * 5, [1.0] * 5, "lower").verdict is Verdict.REGRESSED
    assert decide([0.0] * 5, [0.0] * 5, "lower").verdict is Verdict.SAME


def test_the_calibration_switch_is_parsed_strictly() -> None:
    assert injected_slowdown({}) is None
    slowdown = injected_slowdown({INJECT_ENV: "source:0.10"})
    assert slowdown is not None and slowdown.stage == "source" and slowdown.fraction == pytest.approx(0.10)
    assert slowdown.every == 10
    for bad in ("source", "source:ten", ":0.1", "source:-0.1", "source:0", "source:2"):
        with pytest.raises(ValueError, match="STAGE:FRACTION"):
            injected_slowdown({INJECT_ENV: bad})
    with pytest.raises(ValueError, match="'source' only"):
        injected_slowdown({INJECT_ENV: "pass3:0.1"})


async def test_the_injected_slowdown_repeats_the_chains_own_work() -> None:
    from benchmarks.chain import LatencySink, chain_graph
    from benchmarks.engine_gate import RepeatingSource
    from engine.runner import GraphRunner

    source, sink = RepeatingSource(100, 10), LatencySink(record=False)
    result = await GraphRunner(chain_graph(3, source, sink)).run()
    assert result.ok and source.sent == sink.received == 110
