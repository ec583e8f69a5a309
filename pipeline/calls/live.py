"""What a room's pipelines are doing, told to the control plane while the call lasts (its admin Live page).

Every ``interval_s`` each running pipeline's per-stage statistics (:class:`engine.metrics.StageStats`) go out
as one :class:`~telemetry.records.PipelineStats`; and the transcripts and translations its sinks receive go
out as :class:`~telemetry.records.Caption` records: every final one, and a partial at most every
``partial_every_s`` per pipeline (a partial is replaced by the next within a second, so the rest are noise).
Both through the reporter's ``report_live`` (when it has one): bounded, never journaled, never blocking.
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass, field

from engine.frames import Frame, FrameKind, TextFrame, TextRole, now_ns
from engine.metrics import StageStats
from engine.runner import GraphRunner, GraphState
from telemetry.records import MAX_CAPTION_CHARS, MAX_LIVE_STAGES, Caption, LiveReporter, PipelineStats, StageLiveStats

_CAPTION_ROLES = {TextRole.TRANSCRIPT: "transcript", TextRole.TRANSLATION: "translation"}


@dataclass
class _Watched:
    room: str
    participant: str
    runner: GraphRunner
    last_partial: float = field(default=0.0)


class LivePipelines:
    """The pipelines of one call server whose stats and captions are reported live."""

    def __init__(self, reporter: LiveReporter, interval_s: float = 1.0, partial_every_s: float = 0.5) -> None:
        self.reporter = reporter
        self.interval_s = interval_s
        self.partial_every_s = partial_every_s
        self._watched: list[_Watched] = []
        self._task: asyncio.Task[None] | None = None

    def watch(self, runner: GraphRunner, room: str, participant: str) -> None:
        """Report ``runner``'s stats and captions from now on; call before it starts (probes are added here)."""
        watched = _Watched(room, participant, runner)
        feeding_sinks = {
            link.spec.source
            for name, node in runner.nodes.items()
            if node.is_sink
            for link in runner.graph.upstream(name)
        }
        for stage in sorted(feeding_sinks):
            runner.add_probe(stage, functools.partial(self._caption, watched), [FrameKind.TEXT])
        self._watched.append(watched)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._report_every_interval())

    def _caption(self, watched: _Watched, frame: Frame) -> None:
        if not isinstance(frame, TextFrame) or frame.role not in _CAPTION_ROLES or not frame.text.strip():
            return
        now = time.monotonic()
        if not frame.is_final:
            if now - watched.last_partial < self.partial_every_s:
                return
            watched.last_partial = now
        confidence = frame.attributes.get("confidence")
        self.reporter.report_live(
            Caption(
                room=watched.room,
                speaker=watched.participant,
                text=frame.text.strip()[:MAX_CAPTION_CHARS],
                kind=_CAPTION_ROLES[frame.role],  # type: ignore[arg-type]
                final=frame.is_final,
                language=(frame.language or "")[:16],
                confidence=min(1.0, max(0.0, float(confidence))) if isinstance(confidence, int | float) else None,
                latency_ms=round(max(0.0, (now_ns() - frame.ingest_ns) / 1e6), 3),
            )
        )

    async def _report_every_interval(self) -> None:
        while self._watched:
            await asyncio.sleep(self.interval_s)
            self.report_now()

    def report_now(self) -> None:
        """One :class:`PipelineStats` per running pipeline; pipelines that stopped are forgotten."""
        self._watched = [w for w in self._watched if w.runner.state is not GraphState.STOPPED]
        for watched in self._watched:
            if watched.runner.state is GraphState.RUNNING:
                self.reporter.report_live(stats_of(watched.runner, watched.room, watched.participant))

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


def stats_of(runner: GraphRunner, room: str, participant: str) -> PipelineStats:
    stages = tuple(
        _stage(name, node.stage.type_name, node.stats) for name, node in list(runner.nodes.items())[:MAX_LIVE_STAGES]
    )
    return PipelineStats(room=room, participant=participant, pipeline=runner.graph.name, stages=stages)


def _stage(name: str, type_name: str, stats: StageStats) -> StageLiveStats:
    return StageLiveStats(
        stage=name,
        type=type_name[:100],
        frames_in=stats.frames_in,
        frames_out=stats.frames_out,
        dropped=stats.dropped_total(),
        errors=stats.errors,
        restarts=stats.restarts,
        queue_depth=stats.queue_depth(),
        processing_p50_ms=_ms(stats.processing.quantile(0.5)),
        processing_p95_ms=_ms(stats.processing.quantile(0.95)),
        latency_p50_ms=_ms(stats.latency.quantile(0.5)),
        latency_p95_ms=_ms(stats.latency.quantile(0.95)),
    )


def _ms(value_ns: float | None) -> float | None:
    """Milliseconds, or ``None`` when nothing was measured (or only beyond the last bucket)."""
    if value_ns is None or value_ns == float("inf"):
        return None
    return round(value_ns / 1e6, 3)
