"""The ``stt`` stage: streaming speech-to-text on faster-whisper.

16 kHz mono audio in (put a ``resample`` stage before it); partial and final
transcript frames out (see :mod:`pipeline.speech.frames`). Whisper runs in the
work executor. With ``task: translate`` on a multilingual model the same stage
emits English translations of any spoken language (role ``translation``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from typing import Any, Literal

from pydantic import Field

from engine.caps import Caps, audio
from engine.executors import work_executor
from engine.frames import AudioFrame, Frame, FrameKind, TextRole, now_ns
from engine.stage import Placement, Stage, StageError, StageSettings
from pipeline.registry import register_stage
from pipeline.speech.frames import transcript_frame, words_text
from pipeline.speech.models import ModelError, models_dir
from pipeline.speech.streaming import StreamingOptions, StreamingTranscriber, TranscriptUpdate
from pipeline.speech.usage import STT_LATENCY_EVENT, USAGE_EVENT
from pipeline.speech.whisper import SAMPLE_RATE, Device, WhisperEngine, Word, load_whisper

USAGE_EVERY_S = 10.0
"""Report audio seconds at least this often (and at the end of the stream)."""


class SttSettings(StageSettings):
    model: str = Field("tiny.en", description="tiny.en, base, or a faster-whisper model directory")
    language: str | None = Field(None, description="spoken language (ISO 639-1); unset = detected")
    task: Literal["transcribe", "translate"] = Field("transcribe", description="translate: into English")
    device: Device = Field("auto", description="cpu, cuda, or auto (cuda when CTranslate2 sees a GPU)")
    compute_type: str = Field("auto", description="CTranslate2 compute type; auto = int8 on CPU, float16 on GPU")
    beam_size: int = Field(3, ge=1, le=10, description="streaming decodes (partials, agreed words); 1 = greedy")
    final_beam_size: int = Field(3, ge=1, le=10, description="final pass at each endpoint: beam width")
    two_pass: bool = Field(True, description="re-decode each utterance at its endpoint with beam search")
    final_at_agreement: bool = Field(False, description="run the final pass at each LocalAgreement commit too")
    step_ms: int = Field(500, ge=100, le=5000, description="re-read the buffer after this much new audio")
    vad: bool = Field(True, description="skip silence with the Silero VAD")
    endpoint_silence_ms: int = Field(500, ge=100, le=5000, description="a pause this long finalises an utterance")
    max_buffer_s: float = Field(20.0, ge=2.0, le=30.0, description="hard bound on buffered audio")
    partials: bool = Field(True, description="emit partial (unstable) transcripts too")


@register_stage
class SpeechToText(Stage[SttSettings]):
    """Streaming transcription of 16 kHz mono speech with committed (final) and partial text."""

    type_name = "stt"
    settings_model = SttSettings
    placement = Placement.EXECUTOR
    input_caps = Caps.of(audio(rate=SAMPLE_RATE, channels=1))
    description = "streaming speech-to-text (faster-whisper, VAD, LocalAgreement+endpointing)"

    def __init__(self, name: str, settings: SttSettings) -> None:
        super().__init__(name, settings)
        self._stream: StreamingTranscriber | None = None
        self._ingest: deque[tuple[float, int]] = deque()
        self._last_partial = ""
        self._reported_s = 0.0

    def output_caps(self, upstream: Caps) -> Caps:
        return Caps.any_of(FrameKind.TEXT)

    async def warm(self) -> None:
        await self._engine()

    async def _engine(self) -> WhisperEngine:
        s = self.settings
        try:  # off the loop: loading (or joining base the first time) takes a while; the process keeps it
            return await asyncio.get_running_loop().run_in_executor(
                work_executor(), load_whisper, s.model, models_dir(), s.device, s.compute_type
            )
        except ModelError as error:
            raise StageError(str(error)) from error

    async def start(self) -> None:
        s = self.settings
        engine = await self._engine()
        if s.task == "translate" and not engine.multilingual:
            raise StageError(f"task 'translate' needs a multilingual model; '{s.model}' is English only (use 'base')")
        options = StreamingOptions(
            language=s.language,
            task=s.task,
            beam_size=s.beam_size,
            step_s=s.step_ms / 1000,
            vad=s.vad,
            endpoint_silence_s=s.endpoint_silence_ms / 1000,
            max_buffer_s=s.max_buffer_s,
            final_beam_size=s.final_beam_size,
            two_pass=s.two_pass,
            final_at_agreement=s.final_at_agreement,
        )
        self._stream = StreamingTranscriber(engine, options)

    def process(self, frame: Frame) -> None:
        if not isinstance(frame, AudioFrame):
            return
        if frame.sample_rate != SAMPLE_RATE or frame.channels != 1:
            raise StageError(
                f"stt needs 16 kHz mono audio, got {frame.sample_rate} Hz x {frame.channels}: "
                "put a resample stage (sample_rate: 16000, channels: 1) before it"
            )
        stream = self._require_stream()
        self._ingest.append((stream.audio_seconds + frame.n_samples / SAMPLE_RATE, frame.ingest_ns))
        for update in stream.push(frame.as_float32()[:, 0]):
            self._publish(update)
        if stream.audio_seconds - self._reported_s >= USAGE_EVERY_S:
            self._report_usage()

    def end_of_stream(self) -> None:
        if self._stream is None:
            return
        for update in self._stream.finish():
            self._publish(update)
        self._report_usage()

    def _require_stream(self) -> StreamingTranscriber:
        if self._stream is None:
            raise StageError("stt stage used before start()")
        return self._stream

    def _ingest_of(self, at_s: float) -> int:
        """The ingest time of the frame that carried the audio at ``at_s`` (for honest end-to-end latency)."""
        while len(self._ingest) > 1 and self._ingest[0][0] < at_s:
            self._ingest.popleft()
        return self._ingest[0][1] if self._ingest else now_ns()

    def _publish(self, update: TranscriptUpdate) -> None:
        stream = self._require_stream()
        if update.committed:
            ingest = self._ingest_of(update.committed[-1].end)
            utterance_end = update.endpoint and not update.partial
            self.emit(self._frame(update, update.committed, ingest, final=True, utterance_end=utterance_end))
            self.post(
                STT_LATENCY_EVENT,
                pts_ns=int(update.committed[-1].end * 1e9),
                latency_ms=round((now_ns() - ingest) / 1e6, 1),
                compute_ms=round(update.compute_s * 1000, 1),
                words=len(update.committed),
                model=stream.engine.label,
                reason=update.reason,
            )
            self._last_partial = ""
        text = words_text(update.partial)
        if self.settings.partials and update.partial and text != self._last_partial:
            ingest = self._ingest_of(update.partial[-1].end)
            self.emit(self._frame(update, update.partial, ingest, final=False))
            self._last_partial = text

    def _frame(self, update: TranscriptUpdate, words: list[Word], ingest: int, *, final: bool, **extra: Any) -> Frame:
        return transcript_frame(
            words,
            final=final,
            language=update.language,
            model=self._require_stream().engine.label,
            ingest_ns=ingest,
            role=TextRole.TRANSLATION if self.settings.task == "translate" else TextRole.TRANSCRIPT,
            language_probability=round(update.language_probability, 3),
            **extra,
        )

    def _report_usage(self) -> None:
        stream = self._require_stream()
        seconds = stream.audio_seconds - self._reported_s
        if seconds <= 0:
            return
        self._reported_s = stream.audio_seconds
        self.post(
            USAGE_EVENT,
            metric="stt_audio_seconds",
            quantity=round(seconds, 3),
            provider=stream.engine.label,
            feature="stt" if self.settings.task == "transcribe" else "translate",
            key=uuid.uuid4().hex,
        )
