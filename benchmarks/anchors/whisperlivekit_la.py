"""whisperlivekit's LocalAgreement policy, run on the same faster-whisper model, as the anchor for ``bench stt``.

whisperlivekit (``pip install --no-deps whisperlivekit``, as ``dev.sh`` does for
the ``bench`` extra) declares torch, torchaudio, fastapi and a hub client as
dependencies, but its LocalAgreement path — ``local_agreement/online_asr.py``
(``OnlineASRProcessor``, ``HypothesisBuffer``) and ``timed_objects.py`` — needs
only numpy. Its package ``__init__`` imports the server (and so torch), so the
two modules are loaded under a bare package object instead; nothing else of
whisperlivekit runs.

The ASR object handed to ``OnlineASRProcessor`` is the faster-whisper backend
exactly as whisperlivekit's ``FasterWhisperASR`` configures it (beam size 5,
word timestamps, conditioning on previous text, faster-whisper's default
temperature-fallback ladder), over the same model directory and compute type
as AuraLink's run. whisperlivekit's own streaming VAD (``vac``) needs torch and
is not used; its defaults otherwise: ``buffer_trimming="segment"``, 15 s,
``confidence_validation=False``, ``min_chunk_size=0.1``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel

from pipeline.speech.whisper import Word

MIN_CHUNK_S = 0.1
"""whisperlivekit's default ``min_chunk_size``."""


def available() -> bool:
    return importlib.util.find_spec("whisperlivekit") is not None


def _online_asr() -> Any:
    spec = importlib.util.find_spec("whisperlivekit")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("whisperlivekit is not installed: pip install --no-deps 'whisperlivekit==0.2.26'")
    if "whisperlivekit" not in sys.modules:
        package = types.ModuleType("whisperlivekit")
        package.__path__ = list(spec.submodule_search_locations)
        package.__spec__ = spec
        sys.modules["whisperlivekit"] = package
    return importlib.import_module("whisperlivekit.local_agreement.online_asr")


class _FasterWhisperBackend:
    """whisperlivekit's ``FasterWhisperASR`` over an already loaded model."""

    sep = ""
    tokenizer = None
    buffer_trimming = "segment"
    buffer_trimming_sec = 15.0
    confidence_validation = False

    def __init__(self, model: WhisperModel, language: str) -> None:
        self.model = model
        self.original_language = language
        self.transcribe_kargs: dict[str, Any] = {}

    def transcribe(self, audio: npt.NDArray[np.float32], init_prompt: str = "") -> list[Any]:
        segments, _ = self.model.transcribe(
            audio,
            language=self.original_language,
            initial_prompt=init_prompt,
            beam_size=5,
            word_timestamps=True,
            condition_on_previous_text=True,
            **self.transcribe_kargs,
        )
        return list(segments)

    def ts_words(self, segments: list[Any]) -> list[Any]:
        timed = importlib.import_module("whisperlivekit.timed_objects")
        tokens = []
        for segment in segments:
            if segment.no_speech_prob > 0.9:
                continue
            for word in segment.words:
                tokens.append(timed.ASRToken(word.start, word.end, word.word, probability=word.probability))
        return tokens

    def segments_end_ts(self, segments: list[Any]) -> list[float]:
        return [segment.end for segment in segments]


class LocalAgreementAnchor:
    """One stream through whisperlivekit's ``OnlineASRProcessor``."""

    def __init__(self, model: WhisperModel, language: str = "en") -> None:
        self.processor = _online_asr().OnlineASRProcessor(_FasterWhisperBackend(model, language))

    def insert(self, audio: npt.NDArray[np.float32]) -> None:
        self.processor.insert_audio_chunk(audio)

    def process(self) -> list[Word]:
        committed, _ = self.processor.process_iter()
        return [_word(token) for token in committed]

    def finish(self) -> list[Word]:
        committed, _ = self.processor.finish()
        return [_word(token) for token in (committed or [])]


def _word(token: Any) -> Word:
    return Word(float(token.start), float(token.end), str(token.text), float(token.probability or 0.0))


def load_anchor_model(path: Path, compute_type: str) -> WhisperModel:
    return WhisperModel(str(path), device="cpu", compute_type=compute_type, local_files_only=True)
