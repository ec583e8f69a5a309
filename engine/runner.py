"""The runner: brings a :class:`Graph` to life and supervises it.

States follow GStreamer's spirit: ``created → running → draining → stopped``.
End-of-stream drains in order — each stage flushes once every upstream has
ended. A stage failure is an error event on the bus; its policy restarts it or
stops this graph, and never anything outside this graph.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.bus import Bus
from engine.frames import ControlFrame, ControlType, EventFrame, Frame, FrameKind, now_ns
from engine.graph import Graph
from engine.links import DirectLink, ProbeLink, QueueLink
from engine.metrics import StageStats
from engine.node import Node, NodeState
from engine.queues import FrameQueue, QueuePolicy
from engine.stage import Placement, StageError

log = logging.getLogger(__name__)

YIELD_EVERY = 32
"""Frames a source may push before it lets other tasks run."""


class GraphState(enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    DRAINING = "draining"
    STOPPED = "stopped"


@dataclass
class RunResult:
    """How a run ended."""

    graph: str
    state: GraphState
    error: str | None = None
    failed_stage: str | None = None
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


class GraphRunner:
    """Runs one graph; many runners can share one event loop and process."""

    def __init__(self, graph: Graph, bus: Bus | None = None, drain_timeout_s: float = 30.0) -> None:
        self.graph = graph
        self.bus = bus or Bus()
        self.drain_timeout_s = drain_timeout_s
        self.state = GraphState.CREATED
        self.nodes: dict[str, Node] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._source_tasks: list[asyncio.Task[None]] = []
        self._unfinished = 0
        self._done: asyncio.Event | None = None
        self._error: tuple[str, str] | None = None
        self._build_nodes()

    # -- construction ------------------------------------------------------
    def _build_nodes(self) -> None:
        for name in self.graph.order:
            spec = self.graph.stages[name]
            self.nodes[name] = Node(name, spec.factory, spec.policy, self, self.graph.instance(name))
        for name, planned in self.graph.queues.items():
            self.nodes[name].attach_queue(FrameQueue(planned.max_size, planned.policy))
        for link in self.graph.links:
            source, target = self.nodes[link.spec.source], self.nodes[link.spec.target]
            target.upstream_count += 1
            if target.input_queue is not None:
                source.outputs.append(QueueLink(target.input_queue, link.kinds))
            else:
                source.outputs.append(DirectLink(target, link.kinds))
        for node in self.nodes.values():
            node.boundary_queues = self._blocking_queues_fed_by(node)
            node.seal()

    def add_probe(
        self, stage: str, callback: Callable[[Frame], None], kinds: Iterable[FrameKind] | None = None
    ) -> None:
        """Call ``callback`` with every frame ``stage`` emits (of ``kinds``, default all)."""
        if self.state is not GraphState.CREATED:
            raise RuntimeError("probes are added before the graph starts")
        wanted = frozenset(kinds) if kinds is not None else frozenset(FrameKind)
        self.nodes[stage].outputs.append(ProbeLink(callback, wanted))

    def _blocking_queues_fed_by(self, node: Node) -> list[FrameQueue]:
        """The ``block`` queues this node's task reaches through plain calls."""
        found: list[FrameQueue] = []
        pending = [node]
        while pending:
            current = pending.pop()
            for link in current.outputs:
                if isinstance(link, QueueLink):
                    if link.queue.policy is QueuePolicy.BLOCK and link.queue not in found:
                        found.append(link.queue)
                elif isinstance(link, DirectLink):
                    pending.append(link.target)
        return found

    # -- running -----------------------------------------------------------
    async def run(self) -> RunResult:
        """Start, run until every stream has ended (or a failure), stop."""
        await self.start()
        assert self._done is not None
        try:
            await self._done.wait()
        except asyncio.CancelledError:
            await self._teardown()
            raise
        await self._teardown()
        return self.result()

    async def start(self) -> None:
        """Start every stage (sinks first), then the queue workers and sources."""
        if self.state is not GraphState.CREATED:
            raise RuntimeError(f"graph '{self.graph.name}' was already started")
        self._done = asyncio.Event()
        self._unfinished = len(self.nodes)
        for name in reversed(self.graph.order):
            node = self.nodes[name]
            try:
                await node.stage.start()
            except Exception as error:  # noqa: BLE001 - reported as the graph's failure
                self._set_state(GraphState.RUNNING)
                node.stats.errors += 1
                self.node_failed(node, error)
                return
        self._set_state(GraphState.RUNNING)
        loop = asyncio.get_running_loop()
        for node in self.nodes.values():
            if node.input_queue is not None:
                self._tasks.append(loop.create_task(self._feed(node), name=f"{self.graph.name}:{node.name}"))
            elif node.is_source:
                task = loop.create_task(self._pump(node), name=f"{self.graph.name}:{node.name}")
                self._source_tasks.append(task)
                self._tasks.append(task)

    async def _pump(self, node: Node) -> None:
        """A source's task: pull its frames and push them downstream."""
        while True:
            try:
                await self._pump_once(node)
                break
            except Exception as error:  # noqa: BLE001 - supervisor boundary: the policy decides
                node.fail(error)
                if node.state is not NodeState.RESTARTING:
                    return
                await node.restart()
                if not node.running:
                    return
        node.finish()

    async def _pump_once(self, node: Node) -> None:
        emit = node.emit
        pushed = 0
        async for frame in node.stage.frames():  # type: ignore[attr-defined]
            emit(frame)
            pushed += 1
            if node.boundary_queues:
                await node.wait_for_room()
            if pushed % YIELD_EVERY == 0:
                await asyncio.sleep(0)

    async def _feed(self, node: Node) -> None:
        """The worker behind a stage's input queue."""
        queue = node.input_queue
        assert queue is not None
        while node.state is not NodeState.FINISHED:
            frame = await queue.get()
            if isinstance(frame, ControlFrame) and frame.control is ControlType.END_OF_STREAM:
                if node.count_end_of_stream():
                    if node.placement is Placement.EXECUTOR:
                        await node.finish_in_executor()
                    else:
                        node.finish()
                    return
                continue
            if node.placement is Placement.EXECUTOR:
                await node.receive_in_executor(frame)
            elif node.placement is Placement.TASK:
                await node.receive_async(frame)
            else:
                node.receive(frame)
            if node.boundary_queues:
                await node.wait_for_room()

    def request_stop(self) -> None:
        """Stop the sources and drain what is in flight (Ctrl-C does this)."""
        if self.state is not GraphState.RUNNING:
            return
        self._set_state(GraphState.DRAINING)
        for task in self._source_tasks:
            task.cancel()
        for node in self.nodes.values():
            if node.is_source and node.state is not NodeState.FINISHED:
                node.finish()

    async def stop(self) -> RunResult:
        """Request a stop and wait for the drain (bounded by ``drain_timeout_s``)."""
        self.request_stop()
        if self._done is not None:
            try:
                await asyncio.wait_for(self._done.wait(), self.drain_timeout_s)
            except TimeoutError:
                self._error = self._error or ("", f"drain did not finish within {self.drain_timeout_s} s")
        await self._teardown()
        return self.result()

    async def _teardown(self) -> None:
        if self.state is GraphState.STOPPED:
            return
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for node in self.nodes.values():
            await node.shut_down()
        self._set_state(GraphState.STOPPED)

    def result(self) -> RunResult:
        stage, error = self._error or (None, None)
        return RunResult(self.graph.name, self.state, error, stage or None, self.snapshot())

    # -- the supervisor interface used by nodes ----------------------------
    def node_failed(self, node: Node, error: BaseException) -> None:
        if self._error is None:
            # a StageError is already said in words; anything else is a bug, and its type helps find it
            said = str(error) if isinstance(error, StageError) else f"{type(error).__name__}: {error}"
            self._error = (node.name, f"stage '{node.name}' failed: {said}")
        self.post(self._message("graph-error", stage=node.name, message=str(error)))
        if self._done is not None:
            self._done.set()

    def node_finished(self, node: Node) -> None:
        self._unfinished -= 1
        if (
            node.is_source
            and self.state is GraphState.RUNNING
            and all(n.state is NodeState.FINISHED for n in self.nodes.values() if n.is_source)
        ):
            self._set_state(GraphState.DRAINING)
        if self._unfinished <= 0 and self._done is not None:
            self._done.set()

    def post(self, message: EventFrame) -> None:
        self.bus.post(message)

    # -- observation ---------------------------------------------------------
    def _set_state(self, state: GraphState) -> None:
        previous, self.state = self.state, state
        self.post(self._message("state-changed", old=previous.value, new=state.value))

    def _message(self, name: str, **data: Any) -> EventFrame:
        return EventFrame(pts_ns=0, ingest_ns=now_ns(), name=name, source=self.graph.name, data=data)

    def stats(self) -> Iterator[tuple[str, str, StageStats]]:
        for name, node in self.nodes.items():
            yield self.graph.name, name, node.stats

    def snapshot(self) -> dict[str, dict[str, Any]]:
        return {name: node.stats.snapshot() for name, node in self.nodes.items()}
