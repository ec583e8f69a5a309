"""Audio level metering: RMS and peak in dBFS, as events beside the passing audio."""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from engine.caps import ANY_AUDIO, ANY_EVENT, Caps
from engine.frames import AudioFrame, EventFrame, Frame, now_ns
from engine.stage import Stage, StageSettings
from pipeline.registry import register_stage

FLOOR_DBFS = -120.0


def dbfs(value: float) -> float:
    """A linear level (full scale = 1.0) in dBFS, floored at -120."""
    return FLOOR_DBFS if value <= 1e-6 else max(FLOOR_DBFS, 20 * math.log10(value))


class LevelMeterSettings(StageSettings):
    interval_ms: int = Field(100, ge=1, le=60000, description="how often a level event is emitted")
    silence_dbfs: float = Field(-50.0, le=0, description="RMS below this counts as silence")


@register_stage
class LevelMeter(Stage[LevelMeterSettings]):
    """Passes audio through and emits ``audio-level`` events every ``interval_ms``."""

    type_name = "level_meter"
    settings_model = LevelMeterSettings
    input_caps = ANY_AUDIO
    description = "RMS and peak levels as events; audio passes through"

    def __init__(self, name: str, settings: LevelMeterSettings) -> None:
        super().__init__(name, settings)
        self._window_pts_ns: int | None = None
        self._boundary_ns = 0
        self._reset()

    def _reset(self) -> None:
        self._energy = 0.0
        self._peak = 0.0
        self._samples = 0
        self._clipped = 0

    def output_caps(self, upstream: Caps) -> Caps:
        return upstream.union(ANY_EVENT)

    def process(self, frame: Frame) -> None:
        if isinstance(frame, AudioFrame):
            self._measure(frame)
        self.emit(frame)

    def _measure(self, frame: AudioFrame) -> None:
        samples = frame.as_float32()
        window_ns = self.settings.interval_ms * 1_000_000
        if self._window_pts_ns is None:
            self._window_pts_ns = frame.pts_ns
            self._boundary_ns = frame.pts_ns + window_ns
        self._energy += float(np.dot(samples.ravel(), samples.ravel()))
        self._peak = max(self._peak, float(np.abs(samples).max(initial=0.0)))
        self._samples += samples.size
        self._clipped += int(np.count_nonzero(np.abs(samples) >= 0.999))
        if frame.pts_ns + frame.duration_ns >= self._boundary_ns:
            self._report(frame)
            self._window_pts_ns = self._boundary_ns
            self._boundary_ns += window_ns

    def end_of_stream(self) -> None:
        if self._samples:
            self._report(None)

    def _report(self, last: AudioFrame | None) -> None:
        rms = math.sqrt(self._energy / self._samples) if self._samples else 0.0
        rms_dbfs = dbfs(rms)
        self.emit(
            EventFrame(
                pts_ns=self._window_pts_ns or 0,
                ingest_ns=last.ingest_ns if last is not None else now_ns(),
                name="audio-level",
                source=self.name,
                data={
                    "rms_dbfs": round(rms_dbfs, 2),
                    "peak_dbfs": round(dbfs(self._peak), 2),
                    "clipped_samples": self._clipped,
                    "silent": rms_dbfs < self.settings.silence_dbfs,
                },
            )
        )
        self._reset()
