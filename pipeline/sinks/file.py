"""Record audio to a WAV or FLAC file through PyAV."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from pydantic import Field, model_validator

from engine.caps import ANY_AUDIO
from engine.frames import AudioFrame, Frame
from engine.stage import Placement, Stage, StageError, StageSettings
from pipeline.paths import OutputPath
from pipeline.pcm import layout_for, to_av_frame
from pipeline.registry import register_stage

CODECS = {".wav": {"s16": "pcm_s16le", "f32": "pcm_f32le"}, ".flac": {"s16": "flac"}}


class FileSinkSettings(StageSettings):
    path: OutputPath = Field(description="file to write (.wav or .flac), relative to the working directory")

    @model_validator(mode="after")
    def _known_extension(self) -> Self:
        if self.path.suffix.lower() not in CODECS:
            raise ValueError(f"path must end in {' or '.join(CODECS)}, not '{self.path.suffix or self.path.name}'")
        return self


@register_stage
class FileSink(Stage[FileSinkSettings]):
    """Encodes the audio it receives into one file; the format follows the extension."""

    type_name = "file_sink"
    settings_model = FileSinkSettings
    input_caps = ANY_AUDIO
    placement = Placement.EXECUTOR
    description = "record audio to .wav or .flac (PyAV)"

    def __init__(self, name: str, settings: FileSinkSettings) -> None:
        super().__init__(name, settings)
        self._container: Any = None
        self._stream: Any = None
        self._shape: tuple[int, int, str] | None = None
        self.samples_written = 0

    async def start(self) -> None:
        parent = Path(self.settings.path).parent
        if not parent.is_dir():
            raise StageError(f"cannot write '{self.settings.path}': directory '{parent}' does not exist")

    def process(self, frame: Frame) -> None:
        if not isinstance(frame, AudioFrame):
            return
        shape = (frame.sample_rate, frame.channels, frame.sample_format)
        if self._container is None:
            self._open(*shape)
        elif shape != self._shape:
            raise StageError(f"audio changed from {self._shape} to {shape} mid-stream; put a resample stage before")
        av_frame = to_av_frame(frame.samples, frame.sample_rate)
        av_frame.pts = self.samples_written
        for packet in self._stream.encode(av_frame):
            self._container.mux(packet)
        self.samples_written += frame.n_samples

    def _open(self, rate: int, channels: int, sample_format: str) -> None:
        import av

        suffix = self.settings.path.suffix.lower()
        codec = CODECS[suffix].get(sample_format)
        if codec is None:
            raise StageError(f"{suffix} files take s16 audio, not {sample_format}; resample with format: s16")
        self._container = av.open(str(self.settings.path), mode="w")
        self._stream = self._container.add_stream(codec, rate=rate, layout=layout_for(channels))
        self._shape = (rate, channels, sample_format)

    def end_of_stream(self) -> None:
        self._close()

    async def stop(self) -> None:
        self._close()

    def _close(self) -> None:
        if self._container is None:
            return
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        self._container = None
