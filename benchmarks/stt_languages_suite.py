"""Streaming speech-to-text beyond read English: 8 kHz telephone prompts and espeak-ng speech (``bench stt-languages``).

Each recording streams (20 ms packets) through the same
:class:`~pipeline.speech.streaming.StreamingTranscriber` a call uses, on
Whisper base, twice: with its language given, and with none (detected once
per speaker from the first seconds of speech). Per set: WER of each run, the
language the detector kept and its probability. Telephone prompts are
Asterisk's own (Debian ``asterisk-core-sounds-en-wav`` and ``…-es-wav``,
Mexican Spanish, 8 kHz, resampled to 16 kHz); their reference texts are
written without accents, so accents are folded before scoring.
"""

from __future__ import annotations

import gzip
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from benchmarks.core import BenchOptions, Figure, SuiteResult, register_suite, stamp
from benchmarks.stt_suite import read_audio, wer
from pipeline.speech.models import models_dir
from pipeline.speech.streaming import StreamingOptions, StreamingTranscriber
from pipeline.speech.whisper import WhisperEngine, load_whisper

SOUNDS = Path("/usr/share/asterisk/sounds")
TEXTS = Path("/usr/share/doc")
PROMPTS = ["demo-congrats", "agent-alreadyon", "conf-onlyperson", "conf-getchannel", "agent-newlocation"]
ESPEAK = {
    "es": ["Buenos días, ¿cómo estás? Hoy hace mucho calor en la ciudad.", "Mañana vamos a visitar a mis abuelos."],
    "de": ["Ich trinke jeden Morgen einen Kaffee.", "Der Zug nach Berlin fährt um acht Uhr ab."],
}


@dataclass
class Recording:
    audio: npt.NDArray[np.float32]
    reference: str


def telephone_prompts(language: str, quick: bool) -> list[Recording]:
    """Asterisk's prompts in ``language`` (``en`` or ``es``) with their reference texts."""
    texts = {}
    lines = gzip.decompress((TEXTS / f"asterisk-core-sounds-{language}/core-sounds-{language}.txt.gz").read_bytes())
    for line in lines.decode().splitlines():
        name, _, text = line.partition(":")
        texts[name.strip()] = text.strip()
    names = PROMPTS[:1] if quick else PROMPTS
    return [Recording(read_audio(SOUNDS / language / f"{name}.wav"), texts[name]) for name in names]


def espeak_recordings(language: str, quick: bool) -> list[Recording]:
    sentences = ESPEAK[language][:1] if quick else ESPEAK[language]
    recordings = []
    with tempfile.TemporaryDirectory() as folder:
        for index, sentence in enumerate(sentences):
            path = Path(folder) / f"{index}.wav"
            subprocess.run(["espeak-ng", "-v", language, "-s", "150", "-w", str(path), sentence], check=True)
            recordings.append(Recording(read_audio(path), sentence))
    return recordings


@dataclass
class LanguageRun:
    wer: float
    kept: list[str]
    """Per recording: the language kept at its end, with its probability (``-`` when still undecided)."""
    languages_seen: set[str]
    """The languages its finals were committed in."""


def transcribe_all(engine: WhisperEngine, recordings: list[Recording], language: str | None) -> LanguageRun:
    """Each recording as its own stream (its own speaker); WER over all of them together."""
    heard: list[str] = []
    seen: set[str] = set()
    kept: list[str] = []
    for recording in recordings:
        stream = StreamingTranscriber(engine, StreamingOptions(language=language))
        silence = np.zeros(16000, np.float32)
        audio = np.concatenate([recording.audio, silence])
        updates = [update for start in range(0, len(audio), 320) for update in stream.push(audio[start : start + 320])]
        updates += stream.finish()
        seen |= {update.language for update in updates if update.committed}
        heard.append(stream.committed_text())
        kept.append(f"{stream.language}:{stream.language_probability:.2f}" if stream.language else "-")
    reference = " ".join(recording.reference for recording in recordings)
    return LanguageRun(wer(reference, " ".join(heard)), kept, seen)


def _set_figures(name: str, language: str, engine: WhisperEngine, recordings: list[Recording]) -> list[Figure]:
    given = transcribe_all(engine, recordings, language)
    detected = transcribe_all(engine, recordings, None)
    seen = ",".join(sorted(detected.languages_seen))
    return [
        Figure(f"{name}_wer_language_given", given.wer, "ratio", "lower", 0.3),
        Figure(f"{name}_wer_language_detected", detected.wer, "ratio", "lower", 0.3),
        Figure(
            f"{name}_finals_in_the_spoken_language",
            float(detected.languages_seen == {language}),
            "bool",
            "info",
            note=f"finals in {seen or '-'}; kept per recording {' '.join(detected.kept)}",
        ),
    ]


@register_suite("stt-languages")
def stt_languages_suite(options: BenchOptions) -> SuiteResult:
    base = load_whisper("base", models_dir(), "cpu", "int8")
    figures = []
    figures += _set_figures("telephone_es", "es", base, telephone_prompts("es", options.quick))
    figures += _set_figures("telephone_en", "en", base, telephone_prompts("en", options.quick))
    figures += _set_figures("espeak_es", "es", base, espeak_recordings("es", options.quick))
    figures += _set_figures("espeak_de", "de", base, espeak_recordings("de", options.quick))
    tiny = load_whisper("tiny.en", models_dir(), "cpu", "int8")
    english = transcribe_all(tiny, telephone_prompts("en", options.quick), "en")
    figures.append(Figure("telephone_en_tiny_en_wer", english.wer, "ratio", "lower", 0.3))
    notes = [
        "Whisper base int8 unless named; each recording streamed in 20 ms packets with 1 s of silence after it",
        f"telephone prompts (Asterisk, 8 kHz): {', '.join(PROMPTS[:1] if options.quick else PROMPTS)}",
    ]
    return stamp(SuiteResult("stt-languages", figures, notes=notes), "faster-whisper", "ctranslate2")
