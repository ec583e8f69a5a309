"""A test stage that emits transcript frames, standing in for speech-to-text in call tests.

With ``usage: true`` it also posts ``stt_audio_seconds`` usage events for the audio it heard, as the
real ``stt`` stage does (every ``every_frames`` frames, and the rest at the end of the stream).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import Field

from engine.caps import ANY_AUDIO, ANY_TEXT, Caps
from engine.frames import AudioFrame, Frame, TextFrame, TextRole
from engine.stage import Stage, StageSettings
from pipeline import registry
from pipeline.registry import register_stage


class CaptionerSettings(StageSettings):
    every_frames: int = Field(25, ge=1)
    language: str = "en"
    usage: bool = False


class TestCaptioner(Stage[CaptionerSettings]):
    """Counts audio frames; every ``every_frames`` a partial then a final transcript saying how many."""

    type_name = "test_captioner"
    settings_model = CaptionerSettings
    input_caps = ANY_AUDIO

    def __init__(self, name: str, settings: CaptionerSettings) -> None:
        super().__init__(name, settings)
        self.frames = 0
        self._unreported_s = 0.0

    def output_caps(self, upstream: Caps) -> Caps:
        return ANY_TEXT

    def process(self, frame: Frame) -> None:
        if not isinstance(frame, AudioFrame):
            return
        self.frames += 1
        self._unreported_s += frame.n_samples / frame.sample_rate
        if self.frames % self.settings.every_frames == 0:
            self._report_usage()
        n = self.frames // self.settings.every_frames
        if self.frames % self.settings.every_frames == self.settings.every_frames // 2:
            self.emit(self._text(frame, f"heard {n + 1} blocks", final=False))
        elif self.frames % self.settings.every_frames == 0:
            self.emit(self._text(frame, f"heard block {n}", final=True))

    def end_of_stream(self) -> None:
        self._report_usage()

    def _report_usage(self) -> None:
        if not self.settings.usage or self._unreported_s <= 0:
            return
        seconds, self._unreported_s = self._unreported_s, 0.0
        self.post(
            "usage",
            metric="stt_audio_seconds",
            quantity=round(seconds, 3),
            provider="test-captioner",
            feature="stt",
            key=uuid.uuid4().hex,
        )

    def _text(self, frame: AudioFrame, text: str, final: bool) -> TextFrame:
        return TextFrame(
            pts_ns=frame.pts_ns,
            ingest_ns=frame.ingest_ns,
            text=text,
            role=TextRole.TRANSCRIPT,
            is_final=final,
            language=self.settings.language,
            attributes={"confidence": 0.9},
        )


@contextmanager
def captioner_registered() -> Iterator[None]:
    """``test_captioner`` is a stage type while the block runs (the registry is process-wide)."""
    register_stage(TestCaptioner)
    try:
        yield
    finally:
        registry._types.pop(TestCaptioner.type_name, None)


CAPTION_PIPELINE = """\
version: 1
name: test-captions
stages:
  - name: room
    type: webrtc_source
    settings: {sample_rate: 16000}
  - name: captioner
    type: test_captioner
    settings: {every_frames: 25}
  - name: out
    type: datachannel_sink
"""


METERED_CAPTION_PIPELINE = CAPTION_PIPELINE.replace("{every_frames: 25}", "{every_frames: 25, usage: true}")
"""A captioner that reports the audio it heard as usage, like the real ``stt`` stage."""
