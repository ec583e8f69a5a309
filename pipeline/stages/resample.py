"""Sample-rate, channel and sample-format conversion through PyAV's resampler."""

from __future__ import annotations

from typing import Literal

from av.audio.resampler import AudioResampler
from pydantic import Field

from engine.caps import ANY_AUDIO, Caps, audio
from engine.frames import AudioFrame, Frame, FrameKind
from engine.stage import Stage, StageSettings
from pipeline.pcm import AV_FORMATS, from_av_frame, layout_for, to_av_frame
from pipeline.registry import register_stage


class ResampleSettings(StageSettings):
    sample_rate: int = Field(16000, ge=8000, le=192000, description="output sample rate")
    channels: int = Field(1, ge=1, le=8, description="output channels (mixed down or up)")
    format: Literal["s16", "f32"] = Field("s16", description="output sample format")


@register_stage
class Resample(Stage[ResampleSettings]):
    """Converts audio to a fixed rate, channel count and sample format."""

    type_name = "resample"
    settings_model = ResampleSettings
    input_caps = ANY_AUDIO
    description = "convert sample rate, channels and format (PyAV)"

    def __init__(self, name: str, settings: ResampleSettings) -> None:
        super().__init__(name, settings)
        self._resampler: AudioResampler | None = None
        self._input_shape: tuple[int, int, str] | None = None
        self._emitted = 0
        self._last_ingest_ns = 0
        self._start_pts_ns = 0

    def output_caps(self, upstream: Caps) -> Caps:
        s = self.settings
        return upstream.replace(FrameKind.AUDIO, audio(rate=s.sample_rate, channels=s.channels, sample_format=s.format))

    def process(self, frame: Frame) -> None:
        if not isinstance(frame, AudioFrame):
            self.emit(frame)
            return
        s = self.settings
        shape = (frame.sample_rate, frame.channels, frame.sample_format)
        if shape == (s.sample_rate, s.channels, s.format) and self._resampler is None:
            self.emit(frame)
            return
        if shape != self._input_shape:
            self._flush()
            self._resampler = AudioResampler(
                format=AV_FORMATS[s.format], layout=layout_for(s.channels), rate=s.sample_rate
            )
            self._input_shape = shape
            self._start_pts_ns = frame.pts_ns
            self._emitted = 0
        self._last_ingest_ns = frame.ingest_ns
        assert self._resampler is not None
        self._send(self._resampler.resample(to_av_frame(frame.samples, frame.sample_rate)))

    def end_of_stream(self) -> None:
        self._flush()

    def _flush(self) -> None:
        if self._resampler is not None:
            self._send(self._resampler.resample(None))
            self._resampler = None

    def _send(self, converted: list) -> None:  # type: ignore[type-arg]
        rate = self.settings.sample_rate
        for av_frame in converted:
            samples = from_av_frame(av_frame)
            pts_ns = self._start_pts_ns + self._emitted * 1_000_000_000 // rate
            self._emitted += samples.shape[0]
            self.emit(AudioFrame(pts_ns=pts_ns, ingest_ns=self._last_ingest_ns, samples=samples, sample_rate=rate))
