"""A harness that tests one stage alone: push frames in, collect what comes out.

The stage runs inside a real two- or three-node graph (a list source, the
stage, a collecting sink) under the real runner, so its placement, caps,
end-of-stream handling and error policy behave exactly as in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from engine.caps import ANYTHING, Caps
from engine.frames import EventFrame, Frame
from engine.graph import Graph, LinkSpec, StageSpec
from engine.node import ErrorPolicy
from engine.runner import GraphRunner, RunResult
from engine.stage import Source, Stage, StageSettings


class ListSource(Source[StageSettings]):
    """Emits a fixed list of frames, then ends."""

    type_name = "list_source"

    def __init__(self, frames: Iterable[Frame], caps: Caps = ANYTHING) -> None:
        super().__init__("input", StageSettings())
        self._frames = list(frames)
        self._caps = caps

    def source_caps(self) -> Caps:
        return self._caps

    async def frames(self) -> AsyncIterator[Frame]:
        for frame in self._frames:
            yield frame


class CollectSink(Stage[StageSettings]):
    """Keeps every frame it receives."""

    type_name = "collect_sink"
    input_caps: ClassVar[Caps] = ANYTHING

    def __init__(self) -> None:
        super().__init__("output", StageSettings())
        self.frames: list[Frame] = []

    def process(self, frame: Frame) -> None:
        self.frames.append(frame)


@dataclass
class Collected:
    """What a stage produced under the harness."""

    frames: list[Frame]
    events: list[EventFrame]
    result: RunResult
    errors: list[EventFrame] = field(default_factory=list)

    def of_type(self, kind: type[Frame]) -> list[Any]:
        return [frame for frame in self.frames if isinstance(frame, kind)]


StageOrFactory = Stage[Any] | Callable[[], Stage[Any]]


def _factory(stage: StageOrFactory) -> tuple[str, Callable[[], Stage[Any]]]:
    """The stage's name, and a factory whose first call returns the instance already made."""
    if isinstance(stage, Stage):
        return stage.name, lambda: stage
    made = [stage()]
    return made[0].name, lambda: made.pop() if made else stage()


async def run_stage(
    stage: StageOrFactory,
    frames: Iterable[Frame],
    *,
    input_caps: Caps = ANYTHING,
    policy: ErrorPolicy | None = None,
) -> Collected:
    """Push ``frames`` through ``stage`` (then end-of-stream) and collect the output."""
    name, factory = _factory(stage)
    source = ListSource(frames, input_caps)
    return await _run(
        [StageSpec("input", lambda: source), StageSpec(name, factory, policy or ErrorPolicy())],
        [LinkSpec("input", name)],
        name,
    )


async def run_source(source: StageOrFactory, *, policy: ErrorPolicy | None = None) -> Collected:
    """Run a source until it ends and collect what it produced."""
    name, factory = _factory(source)
    return await _run([StageSpec(name, factory, policy or ErrorPolicy())], [], name)


async def _run(stages: list[StageSpec], links: list[LinkSpec], last: str) -> Collected:
    sink = CollectSink()
    graph = Graph.build(
        "harness",
        [*stages, StageSpec("output", lambda: sink)],
        [*links, LinkSpec(last, "output")],
    )
    runner = GraphRunner(graph)
    events: list[EventFrame] = []
    runner.bus.subscribe(events.append)
    result = await runner.run()
    errors = [event for event in events if event.name == "stage-error"]
    return Collected(sink.frames, events, result, errors)
