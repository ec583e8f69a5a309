import asyncio
from collections.abc import Callable

import pytest

from engine.frames import AudioFrame, EventFrame, TextFrame
from engine.graph import Graph, LinkSpec, QueueSpec, StageSpec
from engine.harness import run_source, run_stage
from engine.node import ErrorAction, ErrorPolicy
from engine.queues import QueuePolicy
from engine.runner import GraphRunner, GraphState
from tests.engine.stages import (
    CountingSource,
    Failing,
    Recorder,
    SlowTask,
    Tagger,
    TextOnly,
    ThreadRecorder,
    samples_of,
)
from tests.support.frames import audio_frames


def runner_for(stages: list[StageSpec], links: list[LinkSpec]) -> GraphRunner:
    return GraphRunner(Graph.build("test", stages, links))


async def test_frames_arrive_in_order_and_the_graph_stops() -> None:
    out = Recorder("out")
    runner = runner_for(
        [StageSpec("src", lambda: CountingSource(count=50)), StageSpec("out", lambda: out)], [LinkSpec("src", "out")]
    )
    states: list[str] = []
    runner.bus.subscribe(lambda m: states.append(m.data["new"]) if m.name == "state-changed" else None)
    result = await runner.run()
    assert result.ok and result.state is GraphState.STOPPED
    assert samples_of(out.frames) == list(range(50))
    assert states == ["running", "draining", "stopped"]
    assert result.stats["out"]["frames_in"] == 50


async def test_fan_out_and_fan_in_deliver_each_frame_once_per_path() -> None:
    log: list[str] = []
    merged = TextOnly("merged", log)
    stages = [
        StageSpec("src", lambda: CountingSource(count=5)),
        StageSpec("a", lambda: Tagger("a", log)),
        StageSpec("b", lambda: Tagger("b", log)),
        StageSpec("merged", lambda: merged),
    ]
    links = [LinkSpec("src", "a"), LinkSpec("src", "b"), LinkSpec("a", "merged"), LinkSpec("b", "merged")]
    result = await runner_for(stages, links).run()
    assert result.ok
    texts = sorted(frame.text for frame in merged.frames if isinstance(frame, TextFrame))
    assert len(texts) == 10 and texts[0].startswith("a:") and texts[-1].startswith("b:")
    # end-of-stream drains in order: the fan-in flushes once, after both of its inputs
    assert log == ["eos:a", "eos:b", "eos:merged"]


async def test_executor_stage_runs_off_the_loop_and_its_output_comes_back_in_order() -> None:
    work = ThreadRecorder()
    collected = await run_stage(work, audio_frames(20))
    assert collected.result.ok
    assert work.threads and all(name.startswith("auralink-work") for name in work.threads)
    assert samples_of(collected.frames) == [i for i in range(20) for _ in (0, 1)]
    assert collected.of_type(TextFrame)[-1].text == "flushed"
    assert sum(1 for event in collected.events if event.name == "worked") == 20


async def test_stop_policy_stops_only_the_failing_graph() -> None:
    failing = runner_for(
        [
            StageSpec("src", lambda: CountingSource(count=1000)),
            StageSpec("bad", Failing),
            StageSpec("out", lambda: Recorder("out")),
        ],
        [LinkSpec("src", "bad"), LinkSpec("bad", "out")],
    )
    healthy_out = Recorder("out")
    healthy = runner_for(
        [StageSpec("src", lambda: CountingSource(count=1000)), StageSpec("out", lambda: healthy_out)],
        [LinkSpec("src", "out")],
    )
    bad_result, good_result = await asyncio.gather(failing.run(), healthy.run())
    assert bad_result.error == "stage 'bad' failed: ValueError: cannot handle this frame"
    assert bad_result.failed_stage == "bad" and bad_result.state is GraphState.STOPPED
    assert good_result.ok and len(healthy_out.frames) == 1000


def through_failing_stage(
    source: CountingSource, failing: Callable[[], Failing], policy: ErrorPolicy, out: Recorder
) -> GraphRunner:
    """source -> bad (with ``policy``) -> out."""
    stages = [StageSpec("src", lambda: source), StageSpec("bad", failing, policy), StageSpec("out", lambda: out)]
    return runner_for(stages, [LinkSpec("src", "bad"), LinkSpec("bad", "out")])


async def test_restart_policy_replaces_the_stage_and_keeps_going() -> None:
    policy = ErrorPolicy(action=ErrorAction.RESTART, max_restarts=10, backoff_initial_s=0.001, backoff_max_s=0.002)
    before = Failing.instances
    source = CountingSource(count=200, interval_s=0.0005)
    out = Recorder("out")
    result = await through_failing_stage(source, lambda: Failing(fail_on=30), policy, out).run()
    assert result.ok, result.error
    stats = result.stats["bad"]
    assert stats["restarts"] >= 2 and stats["errors"] == stats["restarts"]
    assert Failing.instances - before == stats["restarts"] + 1  # the first instance, then one per restart
    assert len(out.frames) + stats["errors"] + stats["dropped"] == 200


async def test_restarts_are_bounded_then_the_graph_stops() -> None:
    policy = ErrorPolicy(action=ErrorAction.RESTART, max_restarts=2, backoff_initial_s=0.0, backoff_max_s=0.0)
    source = CountingSource(count=100, interval_s=0.001)
    out = Recorder("out")
    runner = through_failing_stage(source, lambda: Failing(fail_on=1), policy, out)
    events: list[EventFrame] = []
    runner.bus.subscribe(events.append)
    result = await runner.run()
    assert result.error == "stage 'bad' failed: ValueError: cannot handle this frame"
    actions = [event.data["action"] for event in events if event.name == "stage-error"]
    assert actions[:2] == ["restart", "restart"] and actions[-1] == "stop"


async def test_a_failing_source_restarts_from_a_fresh_instance() -> None:
    instances: list[CountingSource] = []

    def make() -> CountingSource:
        source = CountingSource(count=5, fail_at=3 if not instances else None)
        instances.append(source)
        return source

    policy = ErrorPolicy(action=ErrorAction.RESTART, backoff_initial_s=0.0)
    collected = await run_source(make, policy=policy)
    assert collected.result.ok
    assert samples_of(collected.frames) == [0, 1, 2, 0, 1, 2, 3, 4]


async def test_a_stage_that_cannot_start_fails_the_graph_with_its_reason() -> None:
    class NoDevice(Recorder):
        async def start(self) -> None:
            raise RuntimeError("no device here")

    collected = await run_stage(NoDevice("dev"), audio_frames(3))
    assert collected.result.error == "stage 'dev' failed: RuntimeError: no device here"


async def test_leaky_queue_bounds_a_slow_stage_and_counts_drops() -> None:
    out = Recorder("out")
    runner = runner_for(
        [
            StageSpec("src", lambda: CountingSource(count=300, live=True)),
            StageSpec("slow", lambda: SlowTask(delay_s=0.002)),
            StageSpec("out", lambda: out),
        ],
        [LinkSpec("src", "slow", QueueSpec(8)), LinkSpec("slow", "out")],
    )
    assert runner.graph.queues["slow"].policy is QueuePolicy.LEAKY
    result = await runner.run()
    dropped = result.stats["slow"]["dropped"]
    assert result.ok and dropped > 0
    assert len(out.frames) + dropped == 300
    assert samples_of(out.frames)[-1] == 299  # the newest frames survive; end-of-stream is never dropped


async def test_block_queue_applies_backpressure_without_losing_frames() -> None:
    out = Recorder("out")
    runner = runner_for(
        [
            StageSpec("src", lambda: CountingSource(count=200)),
            StageSpec("slow", lambda: SlowTask(delay_s=0.0005)),
            StageSpec("out", lambda: out),
        ],
        [LinkSpec("src", "slow", QueueSpec(4, QueuePolicy.BLOCK)), LinkSpec("slow", "out")],
    )
    depths: list[int] = []
    slow = runner.nodes["slow"]
    original = slow.receive_async

    async def watch(frame):  # type: ignore[no-untyped-def]
        depths.append(slow.stats.queue_depth())
        await original(frame)

    slow.receive_async = watch  # type: ignore[method-assign]
    result = await runner.run()
    assert result.ok and samples_of(out.frames) == list(range(200))
    assert max(depths) <= 4 + 1  # capacity, plus what one push can fan out


async def test_request_stop_drains_what_is_in_flight() -> None:
    out = Recorder("out")
    endless = CountingSource(count=10**9, live=True)
    runner = runner_for(
        [
            StageSpec("src", lambda: endless),
            StageSpec("slow", lambda: SlowTask(delay_s=0.001)),
            StageSpec("out", lambda: out),
        ],
        [LinkSpec("src", "slow"), LinkSpec("slow", "out")],
    )
    enough = asyncio.Event()
    runner.add_probe("slow", lambda frame: enough.set() if len(out.frames) >= 20 else None)
    task = asyncio.ensure_future(runner.run())
    await asyncio.wait_for(enough.wait(), 10)
    runner.request_stop()
    result = await asyncio.wait_for(task, 10)
    assert result.ok and result.state is GraphState.STOPPED
    assert result.stats["slow"]["queue_depth"] == 0  # drained, nothing left behind


async def test_sinks_record_end_to_end_latency() -> None:
    collected = await run_stage(Tagger("tag"), audio_frames(10))
    stats = collected.result.stats
    assert stats["output"]["latency_p50_ms"] is not None  # only sinks measure it
    assert stats["tag"]["latency_p50_ms"] is None
    assert stats["tag"]["frames_in"] == 10 and stats["tag"]["frames_out"] == 20


@pytest.mark.parametrize("kind", [AudioFrame, EventFrame])
async def test_probes_see_what_a_stage_emits(kind: type) -> None:
    runner = runner_for(
        [StageSpec("src", lambda: CountingSource(count=4)), StageSpec("out", lambda: Recorder("out"))],
        [LinkSpec("src", "out")],
    )
    seen: list[object] = []
    runner.add_probe("src", seen.append)
    await runner.run()
    audio = [frame for frame in seen if isinstance(frame, AudioFrame)]
    assert len(audio) == 4 and (kind is AudioFrame or not [f for f in seen if isinstance(f, EventFrame)])


async def test_a_pending_restart_is_cancelled_when_the_graph_stops() -> None:
    made: list[Failing] = []

    def make() -> Failing:
        made.append(Failing(fail_on=1))
        return made[-1]

    policy = ErrorPolicy(action=ErrorAction.RESTART, backoff_initial_s=30.0)
    collected = await asyncio.wait_for(run_stage(make, audio_frames(3), policy=policy), 5)
    await asyncio.sleep(0.05)
    assert collected.result.state is GraphState.STOPPED
    assert len(made) == 1  # no fresh instance was started after the graph stopped
