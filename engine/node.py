"""Node: a stage as it lives inside a running graph.

The node counts and times what the stage does, applies its error policy
(restart with backoff, or stop the graph), tracks end-of-stream from every
upstream link, and — for stages behind a queue — runs the worker that feeds it.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable
from time import perf_counter_ns
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from engine.executors import work_executor
from engine.frames import ControlFrame, ControlType, EventFrame, Frame, FrameKind, end_of_stream, now_ns
from engine.metrics import StageStats
from engine.queues import FrameQueue
from engine.stage import Placement, Source, Stage

log = logging.getLogger(__name__)


class ErrorAction(enum.Enum):
    STOP = "stop"
    RESTART = "restart"


class ErrorPolicy(BaseModel):
    """What happens when a stage raises."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: ErrorAction = Field(ErrorAction.STOP, description="stop the graph, or restart the stage")
    max_restarts: int = Field(5, ge=0, description="restarts allowed before the graph stops")
    backoff_initial_s: float = Field(0.1, ge=0, description="wait before the first restart")
    backoff_max_s: float = Field(5.0, ge=0, description="longest wait between restarts")

    def backoff(self, attempt: int) -> float:
        return float(min(self.backoff_initial_s * 2**attempt, self.backoff_max_s))


class NodeState(enum.Enum):
    RUNNING = "running"
    RESTARTING = "restarting"
    FAILED = "failed"
    FINISHED = "finished"


class Supervisor(Protocol):
    """What a node reports to its runner."""

    def node_failed(self, node: Node, error: BaseException) -> None: ...

    def node_finished(self, node: Node) -> None: ...

    def post(self, message: EventFrame) -> None: ...


class Link(Protocol):
    def deliver(self, frame: Frame) -> None: ...


class Node:
    """One stage in a graph, with its links, statistics and error handling."""

    def __init__(
        self,
        name: str,
        factory: Callable[[], Stage[Any]],
        policy: ErrorPolicy,
        supervisor: Supervisor,
        first: Stage[Any] | None = None,
    ) -> None:
        self.name = name
        self.factory = factory
        self.policy = policy
        self.supervisor = supervisor
        self.stage = first if first is not None else factory()
        self.outputs: list[Link] = []
        self.upstream_count = 0
        self.input_queue: FrameQueue | None = None
        self.boundary_queues: list[FrameQueue] = []
        self.stats = StageStats()
        self.state = NodeState.RUNNING
        self._eos_seen = 0
        self._downstream_ns = 0
        self._collected: list[Frame] | None = None
        self._collected_events: list[EventFrame] = []
        self._restart_task: asyncio.Task[None] | None = None
        self._is_sink = True
        self._bind()

    # -- wiring -----------------------------------------------------------
    @property
    def is_source(self) -> bool:
        return isinstance(self.stage, Source)

    @property
    def running(self) -> bool:
        return self.state is NodeState.RUNNING

    @property
    def is_sink(self) -> bool:
        return self._is_sink

    def seal(self) -> None:
        """Called once the graph's links are in place, before probes are added."""
        self._is_sink = not self.outputs

    @property
    def placement(self) -> Placement:
        return self.stage.placement

    def _bind(self) -> None:
        if self.placement is Placement.EXECUTOR:
            self.stage.bind(self._collect, self._collect_event)
        else:
            self.stage.bind(self.emit, self.supervisor.post)

    def attach_queue(self, queue: FrameQueue) -> None:
        self.input_queue = queue
        self.stats.queue = queue

    # -- the data path ----------------------------------------------------
    def emit(self, frame: Frame) -> None:
        """Send ``frame`` down every output link (bound as the stage's ``emit``)."""
        started = perf_counter_ns()
        if frame.kind is not FrameKind.CONTROL:
            self.stats.frames_out += 1
        for link in self.outputs:
            link.deliver(frame)
        self._downstream_ns += perf_counter_ns() - started

    def _collect(self, frame: Frame) -> None:
        if self._collected is not None:
            self._collected.append(frame)

    def _collect_event(self, event: EventFrame) -> None:
        self._collected_events.append(event)

    def _admit(self, frame: Frame) -> bool:
        """Route control frames, drop frames while the stage is not running; true when the stage takes it."""
        if frame.kind is FrameKind.CONTROL:
            self._on_control(frame)  # type: ignore[arg-type]
            return False
        if self.state is not NodeState.RUNNING:
            self.stats.dropped += 1
            return False
        self.stats.frames_in += 1
        return True

    def _account(self, frame: Frame, processing_ns: int) -> None:
        self.stats.processing.observe(processing_ns)
        if self._is_sink:
            self.stats.latency.observe(now_ns() - frame.ingest_ns)

    def receive(self, frame: Frame) -> None:
        """Process one frame in the caller's task (direct links, inline workers)."""
        if not self._admit(frame):
            return
        self._downstream_ns = 0
        started = perf_counter_ns()
        try:
            self.stage.process(frame)
        except Exception as error:  # noqa: BLE001 - supervisor boundary: the policy decides
            self.fail(error)
        self._account(frame, perf_counter_ns() - started - self._downstream_ns)

    async def receive_async(self, frame: Frame) -> None:
        """Process one frame of a ``TASK`` stage."""
        if not self._admit(frame):
            return
        self._downstream_ns = 0
        started = perf_counter_ns()
        try:
            await self.stage.process_async(frame)
        except Exception as error:  # noqa: BLE001 - supervisor boundary: the policy decides
            self.fail(error)
        self._account(frame, perf_counter_ns() - started - self._downstream_ns)

    async def receive_in_executor(self, frame: Frame) -> None:
        """Process one frame of an ``EXECUTOR`` stage in the work executor."""
        if not self._admit(frame):
            return
        loop = asyncio.get_running_loop()
        outputs, error, elapsed = await loop.run_in_executor(
            work_executor(), self._run_collecting, self.stage.process, frame
        )
        self._release(outputs, error)
        self._account(frame, elapsed)

    def _run_collecting(self, call: Callable[..., None], *args: Any) -> tuple[list[Frame], BaseException | None, int]:
        self._collected = []
        error: BaseException | None = None
        started = perf_counter_ns()
        try:
            call(*args)
        except Exception as caught:  # noqa: BLE001 - handed back to the loop thread
            error = caught
        elapsed = perf_counter_ns() - started
        outputs, self._collected = self._collected, None
        return outputs, error, elapsed

    def _release(self, outputs: list[Frame], error: BaseException | None) -> None:
        """Back on the loop thread: send an executor call's output and events on."""
        events, self._collected_events = self._collected_events, []
        for event in events:
            self.supervisor.post(event)
        for produced in outputs:
            self.emit(produced)
        if error is not None:
            self.fail(error)

    # -- control and end-of-stream ---------------------------------------
    def _on_control(self, frame: ControlFrame) -> None:
        if frame.control is not ControlType.END_OF_STREAM:
            self.emit(frame)
            return
        if self.count_end_of_stream():
            self.finish()

    def count_end_of_stream(self) -> bool:
        """Note one upstream's end; true when every upstream has ended."""
        self._eos_seen += 1
        return self._eos_seen >= self.upstream_count and self.state is not NodeState.FINISHED

    def finish(self) -> None:
        """Flush the stage, send end-of-stream downstream, and report."""
        if self.state is NodeState.RUNNING and self.placement is not Placement.EXECUTOR:
            self._downstream_ns = 0
            try:
                self.stage.end_of_stream()
            except Exception as error:  # noqa: BLE001 - supervisor boundary: the policy decides
                self.fail(error)
        self._end()

    async def finish_in_executor(self) -> None:
        """``finish`` for an ``EXECUTOR`` stage: its flush may be heavy work too."""
        if self.state is NodeState.RUNNING:
            loop = asyncio.get_running_loop()
            outputs, error, _ = await loop.run_in_executor(
                work_executor(), self._run_collecting, self.stage.end_of_stream
            )
            self._release(outputs, error)
        self._end()

    def _end(self) -> None:
        self.emit(end_of_stream())
        if self.state is not NodeState.FAILED:
            self.state = NodeState.FINISHED
        self.supervisor.node_finished(self)

    # -- failure and restart ---------------------------------------------
    def fail(self, error: BaseException) -> None:
        """Apply the error policy to a failure of this stage."""
        self.stats.errors += 1
        restart = (
            self.policy.action is ErrorAction.RESTART
            and self.stats.restarts < self.policy.max_restarts
            and self.state is NodeState.RUNNING
        )
        self.supervisor.post(
            EventFrame(
                pts_ns=0,
                ingest_ns=now_ns(),
                name="stage-error",
                source=self.name,
                data={
                    "error": type(error).__name__,
                    "message": str(error),
                    "action": "restart" if restart else "stop",
                },
            )
        )
        if restart:
            self.state = NodeState.RESTARTING
            if not self.is_source:
                self._restart_task = asyncio.get_running_loop().create_task(self.restart())
            return
        if self.state is not NodeState.FAILED:
            self.state = NodeState.FAILED
            self.supervisor.node_failed(self, error)

    async def restart(self) -> None:
        """Replace the stage with a fresh instance after the policy's backoff."""
        attempt = self.stats.restarts
        await self.stop_stage()
        await asyncio.sleep(self.policy.backoff(attempt))
        if self.state is not NodeState.RESTARTING:
            return  # the stream ended or the graph stopped meanwhile
        self.stats.restarts += 1
        self.stage = self.factory()
        self._bind()
        self.state = NodeState.RUNNING
        try:
            await self.stage.start()
        except Exception as error:  # noqa: BLE001 - supervisor boundary: the policy decides
            self.fail(error)
            return
        self.supervisor.post(
            EventFrame(
                pts_ns=0,
                ingest_ns=now_ns(),
                name="stage-restarted",
                source=self.name,
                data={"restarts": self.stats.restarts},
            )
        )

    async def shut_down(self) -> None:
        """Cancel a pending restart and stop the stage (the graph is stopping)."""
        if self._restart_task is not None and not self._restart_task.done():
            self._restart_task.cancel()
            await asyncio.gather(self._restart_task, return_exceptions=True)
        await self.stop_stage()

    async def stop_stage(self) -> None:
        try:
            await self.stage.stop()
        except Exception:
            log.exception("stage %s failed to stop cleanly", self.name)

    # -- backpressure -----------------------------------------------------
    async def wait_for_room(self) -> None:
        """Wait while a ``block`` queue this node's task feeds is full."""
        for queue in self.boundary_queues:
            if queue.is_full:
                await queue.wait_for_room()
