"""Running a pipeline inside a room: the per-participant room pipeline and server-side agents."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from engine.bus import Subscriber
from engine.frames import EventFrame
from engine.runner import GraphRunner, GraphState
from pipeline.calls.bindings import load_room_pipeline
from pipeline.calls.errors import UnprocessableError
from pipeline.calls.room import Room
from pipeline.config import ConfigError

log = logging.getLogger(__name__)

MAX_PIPELINE_BYTES = 256 * 1024


async def start_agent_pipeline(
    text: str,
    path: Path,
    room: Room,
    hears: str | None,
    speaker: str | None,
    on_event: Subscriber | None = None,
    before_start: Callable[[GraphRunner], None] | None = None,
) -> GraphRunner:
    """Load ``text`` bound to ``room`` and start it; :class:`UnprocessableError` when it does not load or start.

    ``on_event`` hears every bus event from before the first frame to the last (the usage of the drain too);
    ``before_start`` is given the runner before it starts (to add probes).
    """
    if len(text.encode()) > MAX_PIPELINE_BYTES:
        raise UnprocessableError(f"the pipeline is larger than {MAX_PIPELINE_BYTES} bytes")
    try:
        loaded = load_room_pipeline(text, path, room.key, hears, speaker)
    except ConfigError as error:
        problems = [str(problem) for problem in error.problems]
        raise UnprocessableError(f"the pipeline does not load ({len(problems)} problems)", problems) from None
    runner = GraphRunner(loaded.graph)
    runner.bus.subscribe(lambda event: _log_failure(room, speaker, event))
    if on_event is not None:
        runner.bus.subscribe(on_event)
    if before_start is not None:
        before_start(runner)
    await runner.start()
    if runner.state is not GraphState.RUNNING:
        result = await runner.stop()
        raise UnprocessableError(f"the pipeline could not start: {result.error}", [result.error or ""])
    return runner


def _log_failure(room: Room, speaker: str | None, event: EventFrame) -> None:
    if event.name in ("graph-error", "stage-error"):
        log.warning("pipeline of %s in room %s: %s", speaker or "the room", room.name, event.data)
