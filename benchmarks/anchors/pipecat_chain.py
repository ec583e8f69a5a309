"""The benchmark chain run on Pipecat, as an anchor for AuraLink's numbers.

Builds the topology of :mod:`benchmarks.chain` on Pipecat's own runtime: a
``Pipeline`` of K pass-through ``FrameProcessor`` subclasses followed by a sink
processor, run by a ``PipelineWorker`` under a ``WorkerRunner`` (the names
Pipecat 1.3 and later give to ``PipelineTask`` and ``PipelineRunner``). Nothing of Pipecat's runtime is bypassed: every
processor keeps its own input queue and task, and frames enter through
``worker.queue_frame`` as an application's would.

The runtime is set up lean, so that only the frame path is measured:

* ``enable_rtvi=False``: no RTVI processor is prepended and no RTVI observer
  watches every frame.
* ``enable_turn_tracking=False`` and ``enable_tracing=False``: no turn
  tracking, latency or tracing observers.
* ``idle_timeout_secs=None``: no idle observer and no idle monitor task.
* ``PipelineParams(enable_metrics=False, enable_usage_metrics=False,
  enable_heartbeats=False)``: no metrics frames, no heartbeat tasks.
* ``WorkerRunner(handle_sigint=False, handle_sigterm=False)``: no signal
  handlers are installed on the event loop.

Each frame is an ``InputAudioRawFrame`` (what a Pipecat input transport emits
for microphone audio) carrying 20 ms of 16 kHz mono int16 silence, 640 bytes.
The source stamps ``time.monotonic_ns()`` into the frame's ``metadata`` when it
creates it; the sink reads it back, so latency is measured on the same clock as
AuraLink's ``ingest_ns``. The sink consumes the audio frames, as AuraLink's
sink does, and passes every other frame (``StartFrame``, ``EndFrame``) on so
that the worker sees the pipeline start and end.

Pipecat logs through loguru, at DEBUG by default. While a run is in progress
(and while Pipecat is imported, which logs a banner) records from the
``pipecat`` modules below WARNING are dropped; warnings and errors still show.
Loguru cannot change an existing handler's level, so the first time this module
needs it, loguru's untouched default handler (id 0: stderr, DEBUG) is replaced
by an identical handler that applies that filter; outside a run it lets
everything through, as the default did. An application that has configured
loguru itself (handler 0 already removed) keeps its own configuration.

Example:
    >>> import asyncio
    >>> from benchmarks.anchors.pipecat_chain import pipecat_available, run_pipecat_chain
    >>> if pipecat_available():
    ...     run = asyncio.run(run_pipecat_chain(10, 2_000, None))
    ...     print(f"{run.frames_per_s:.0f} frames/s")
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from benchmarks.chain import FRAME_SAMPLES, SAMPLE_RATE, ChainRun

if TYPE_CHECKING:
    from loguru import Record

__all__ = ["pipecat_available", "pipecat_version", "run_pipecat_chain"]

CREATED_NS_KEY = "auralink_bench_created_ns"
"""The key of ``Frame.metadata`` under which the source stamps a frame's creation time."""

FRAME_NS = 20_000_000
"""Each frame's duration, which advances its ``pts``."""

BASE_TIMEOUT_S = 60.0
"""How long a run may take beyond its own pacing before it is called stuck and cancelled."""

CANCEL_GRACE_S = 5.0
"""How long a failed run is given to wind down, each time it is asked."""

_WARNING_LEVEL_NO = 30  # loguru's WARNING
_quiet_runs = 0
_log_filter_installed = False


def _keep_record(record: Record) -> bool:
    """Drop Pipecat's records below WARNING while a run is in progress; keep all others."""
    if not _quiet_runs or record["level"].no >= _WARNING_LEVEL_NO:
        return True
    name = record["name"] or ""
    return not (name == "pipecat" or name.startswith("pipecat."))


def _install_log_filter() -> None:
    """Replace loguru's untouched default handler with an identical one that filters."""
    global _log_filter_installed
    if _log_filter_installed:
        return
    _log_filter_installed = True
    try:
        from loguru import logger
    except ImportError:
        return
    try:
        logger.remove(0)  # the handler loguru adds on import: stderr, DEBUG, default format
    except ValueError:
        return  # the application configured loguru itself: its handlers, its levels
    logger.add(sys.stderr, filter=_keep_record)


@contextmanager
def _quiet_pipecat_logs() -> Iterator[None]:
    """Hold Pipecat's own log records below WARNING back while the block runs."""
    global _quiet_runs
    _install_log_filter()
    _quiet_runs += 1
    try:
        yield
    finally:
        _quiet_runs -= 1


with _quiet_pipecat_logs():
    try:
        from pipecat.frames.frames import EndFrame, Frame, InputAudioRawFrame
        from pipecat.pipeline.pipeline import Pipeline
        from pipecat.pipeline.worker import PipelineParams, PipelineWorker
        from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
        from pipecat.workers.runner import WorkerRunner
    except ImportError as error:
        _IMPORT_ERROR: ImportError | None = error
    else:
        _IMPORT_ERROR = None


def pipecat_available() -> bool:
    """Whether ``pipecat-ai`` could be imported.

    Returns:
        True when the anchor can run.
    """
    return _IMPORT_ERROR is None


def pipecat_version() -> str:
    """The installed ``pipecat-ai`` version.

    Returns:
        The version string, or ``"not installed"``.
    """
    try:
        return version("pipecat-ai")
    except PackageNotFoundError:
        return "not installed"


if _IMPORT_ERROR is None:

    class _PassThrough(FrameProcessor):
        """Pushes every frame on, unchanged, in the direction it came."""

        async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            await self.push_frame(frame, direction)

    class _LatencySink(FrameProcessor):
        """Counts the benchmark's audio frames and records each one's end-to-end latency.

        Audio frames end here; every other frame goes on, so that the worker
        sees the ``StartFrame`` and the ``EndFrame`` reach the end of the pipeline.
        """

        def __init__(self, expected: int, record: bool) -> None:
            super().__init__()
            self.expected = expected
            self.record = record
            self.received = 0
            self.latencies_ns: list[int] = []
            self.last_frame_s = 0.0
            self.done = asyncio.Event()

        async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            if not isinstance(frame, InputAudioRawFrame):
                await self.push_frame(frame, direction)
                return
            now = time.monotonic_ns()
            self.received += 1
            if self.record:
                self.latencies_ns.append(now - frame.metadata[CREATED_NS_KEY])
            if self.received == self.expected:
                self.last_frame_s = time.perf_counter()
                self.done.set()


async def _await_or_fail(
    awaitable: Awaitable[Any], running: asyncio.Task[None], timeout_s: float, what: Callable[[], str]
) -> None:
    """Wait for ``awaitable`` unless the runner finishes first or ``timeout_s`` passes.

    Raises:
        RuntimeError: Saying ``what()`` went wrong, read when it did.
    """
    waiter = asyncio.ensure_future(awaitable)
    try:
        finished, _ = await asyncio.wait({waiter, running}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not waiter.done():
            waiter.cancel()
            with suppress(asyncio.CancelledError):
                await waiter
    if waiter in finished:
        return
    if running not in finished:
        raise RuntimeError(f"pipecat chain: {what()} within {timeout_s:.0f} s")
    cause = None if running.cancelled() else running.exception()
    raise RuntimeError(f"pipecat chain: {what()}: the runner ended first") from cause


async def _take_down(runner: WorkerRunner, running: asyncio.Task[None]) -> None:
    """Take a failed run down without waiting on Pipecat for ever.

    Pipecat cancels a pipeline with a ``CancelFrame`` that enters through the
    push queue, behind the ``EndFrame`` already queued, and waits for the
    ``EndFrame`` to reach the end with no timeout: a processor stuck on a frame
    holds both for ever. So the runner is asked to cancel first, and then every
    task its task manager still holds is cancelled outright.
    """
    with suppress(Exception):
        await runner.cancel()
    await asyncio.wait({running}, timeout=CANCEL_GRACE_S)
    for _ in range(3):
        if running.done():
            break
        tasks: set[asyncio.Task[Any]] = {running}
        with suppress(Exception):  # no task manager: nothing was started
            tasks.update(runner.task_manager.current_tasks())
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=CANCEL_GRACE_S)
    if running.done() and not running.cancelled():
        running.exception()  # retrieved: the error being raised already says the run failed


async def run_pipecat_chain(k: int, frames: int, interval_s: float | None) -> ChainRun:
    """Run the chain on Pipecat; latency is recorded only when paced.

    Args:
        k: How many pass-through processors stand between the source and the sink.
        frames: How many 20 ms audio frames to push.
        interval_s: Seconds between frames, or None to push them back to back.

    Returns:
        The frames delivered, the seconds from the first frame queued to the
        last one received by the sink, and (when paced) each frame's latency
        in nanoseconds.

    Raises:
        RuntimeError: When pipecat-ai is not installed, or the sink did not
            receive every frame.
        ValueError: When ``k`` is negative or ``frames`` is not positive.
    """
    if _IMPORT_ERROR is not None:
        raise RuntimeError("pipecat-ai is not installed (pip install 'auralink[bench]')") from _IMPORT_ERROR
    if k < 0 or frames < 1:
        raise ValueError(f"need k >= 0 and frames >= 1, got k={k}, frames={frames}")
    with _quiet_pipecat_logs():
        return await _run(k, frames, interval_s)


async def _run(k: int, frames: int, interval_s: float | None) -> ChainRun:
    sink = _LatencySink(frames, record=interval_s is not None)
    pipeline = Pipeline([*(_PassThrough() for _ in range(k)), sink])
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(
            audio_in_sample_rate=SAMPLE_RATE,
            enable_heartbeats=False,
            enable_metrics=False,
            enable_usage_metrics=False,
        ),
        enable_rtvi=False,
        enable_tracing=False,
        enable_turn_tracking=False,
        idle_timeout_secs=None,
    )
    started = asyncio.Event()

    async def on_pipeline_started(_worker: object, _frame: Frame) -> None:
        started.set()

    worker.add_event_handler("on_pipeline_started", on_pipeline_started)
    runner = WorkerRunner(handle_sigint=False, handle_sigterm=False)
    await runner.add_workers(worker)
    running = asyncio.create_task(runner.run())
    timeout_s = BASE_TIMEOUT_S + frames * (interval_s or 0.0)
    try:
        await _await_or_fail(started.wait(), running, BASE_TIMEOUT_S, lambda: "the pipeline did not start")
        audio = bytes(FRAME_SAMPLES * 2)
        first_s = time.perf_counter()
        for index in range(frames):
            if interval_s is not None:
                delay = first_s + index * interval_s - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            frame = InputAudioRawFrame(audio=audio, sample_rate=SAMPLE_RATE, num_channels=1)
            frame.pts = index * FRAME_NS
            frame.metadata[CREATED_NS_KEY] = time.monotonic_ns()
            await worker.queue_frame(frame)
        await worker.queue_frame(EndFrame())
        await _await_or_fail(
            sink.done.wait(), running, timeout_s, lambda: f"K={k}: the sink received {sink.received}/{frames} frames"
        )
        await asyncio.wait_for(asyncio.shield(running), BASE_TIMEOUT_S)
    finally:
        if not running.done():
            await _take_down(runner, running)
    if sink.received != frames:
        raise RuntimeError(f"pipecat chain K={k} delivered {sink.received}/{frames} frames")
    return ChainRun(frames, sink.last_frame_s - first_s, sink.latencies_ns)
