"""Synthetic test signals: a tone, silence, or white noise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, Self

import numpy as np
from pydantic import Field, model_validator

from engine.caps import Caps, audio
from engine.frames import AudioFrame, Frame, now_ns
from engine.stage import Source, StageSettings
from pipeline.registry import register_stage
from pipeline.sources.pacing import Pacer


class SyntheticSourceSettings(StageSettings):
    signal: Literal["tone", "silence", "noise"] = Field("tone", description="what to generate")
    frequency_hz: float = Field(440.0, gt=0, description="tone frequency")
    level_dbfs: float = Field(-12.0, le=0, ge=-120, description="peak level of tone and noise")
    sample_rate: int = Field(48000, ge=8000, le=192000)
    channels: int = Field(1, ge=1, le=8)
    frame_ms: int = Field(20, ge=1, le=1000, description="duration of each frame")
    duration_s: float | None = Field(5.0, gt=0, description="length of the stream; null runs until stopped")
    realtime: bool = Field(False, description="release frames at the pace of the clock, like a live source")
    seed: int = Field(0, description="noise generator seed")

    @model_validator(mode="after")
    def _tone_below_nyquist(self) -> Self:
        if self.signal == "tone" and self.frequency_hz >= self.sample_rate / 2:
            raise ValueError(
                f"frequency_hz {self.frequency_hz:g} must be below half the sample rate ({self.sample_rate / 2:g})"
            )
        return self


@register_stage
class SyntheticSource(Source[SyntheticSourceSettings]):
    """Generates a tone, silence or noise as 16-bit PCM."""

    type_name = "synthetic_source"
    settings_model = SyntheticSourceSettings
    description = "test signal: tone, silence or noise"

    def live(self) -> bool:
        return self.settings.realtime

    def source_caps(self) -> Caps:
        s = self.settings
        return Caps.of(audio(rate=s.sample_rate, channels=s.channels, sample_format="s16"))

    async def frames(self) -> AsyncIterator[Frame]:
        s = self.settings
        per_frame = s.sample_rate * s.frame_ms // 1000
        total = None if s.duration_s is None else round(s.duration_s * s.sample_rate)
        amplitude = 32767 * 10 ** (s.level_dbfs / 20)
        rng = np.random.default_rng(s.seed)
        pacer = Pacer(s.realtime)
        produced = 0
        while total is None or produced < total:
            count = per_frame if total is None else min(per_frame, total - produced)
            pts_ns = produced * 1_000_000_000 // s.sample_rate
            await pacer.wait_until(pts_ns)
            samples = self._signal(produced, count, amplitude, rng)
            yield AudioFrame(pts_ns=pts_ns, ingest_ns=now_ns(), samples=samples, sample_rate=s.sample_rate)
            produced += count

    def _signal(self, start: int, count: int, amplitude: float, rng: np.random.Generator) -> np.ndarray:
        s = self.settings
        if s.signal == "silence":
            mono = np.zeros(count)
        elif s.signal == "noise":
            mono = rng.uniform(-amplitude, amplitude, count)
        else:
            t = (np.arange(start, start + count)) / s.sample_rate
            mono = amplitude * np.sin(2 * np.pi * s.frequency_hz * t)
        return np.repeat(np.round(mono).astype(np.int16)[:, None], s.channels, axis=1)
