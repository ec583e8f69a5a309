"""Audio from a media file (wav, flac, mp3, ogg, the audio of mp4 …) through PyAV."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from pydantic import Field

from engine.caps import ANY_AUDIO, Caps, audio
from engine.executors import work_executor
from engine.frames import AudioFrame, Frame, now_ns
from engine.stage import Source, StageError, StageSettings
from pipeline.paths import InputPath
from pipeline.registry import register_stage
from pipeline.sources.audio_decoder import AudioDecoder, probe_audio
from pipeline.sources.pacing import Pacer

CHUNKS_PER_READ = 50


class FileSourceSettings(StageSettings):
    path: InputPath = Field(description="media file, relative to the pipeline file")
    frame_ms: int = Field(20, ge=1, le=1000, description="duration of each frame")
    realtime: bool = Field(False, description="release frames at the pace of the clock")


@register_stage
class FileSource(Source[FileSourceSettings]):
    """Decodes a file's first audio stream into 16-bit PCM frames."""

    type_name = "file_source"
    settings_model = FileSourceSettings
    description = "audio from a media file (PyAV)"

    def live(self) -> bool:
        return self.settings.realtime

    def source_caps(self) -> Caps:
        try:
            rate, channels = probe_audio(self.settings.path)
        except StageError:
            return ANY_AUDIO  # the run reports the real error, with the path
        return Caps.of(audio(rate=rate, channels=channels, sample_format="s16"))

    async def frames(self) -> AsyncIterator[Frame]:
        loop = asyncio.get_running_loop()
        executor = work_executor()
        path = self.settings.path
        rate, _ = await loop.run_in_executor(executor, probe_audio, path)
        decoder = await loop.run_in_executor(executor, AudioDecoder, path, rate * self.settings.frame_ms // 1000)
        pacer = Pacer(self.settings.realtime)
        produced = 0
        try:
            while chunks := await loop.run_in_executor(executor, decoder.read, CHUNKS_PER_READ):
                for samples in chunks:
                    pts_ns = produced * 1_000_000_000 // rate
                    await pacer.wait_until(pts_ns)
                    yield AudioFrame(pts_ns=pts_ns, ingest_ns=now_ns(), samples=samples, sample_rate=rate)
                    produced += samples.shape[0]
        finally:
            decoder.close()
