"""Real recordings the speech tests hear (LibriVox, Asterisk prompts, espeak-ng) and how they are scored."""

from __future__ import annotations

import gzip
import re
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import jiwer
import numpy as np
import numpy.typing as npt

from tests.support.paths import REPO

LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
ASTERISK = Path("/usr/share/asterisk/sounds/en")
ASTERISK_TEXT = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
MODELS_CACHE = REPO / ".auralink" / "test-models"
"""Shared by test runs so the 145 MB base model is joined once per checkout (gitignored)."""


SAMPLE_TRANSCRIPT = " ".join(
    [
        "and mister john dashwood had then leisure to consider how much",
        "there might be prudently in his power to do for them",
    ]
)
"""What ``pipeline/samples/speech_en_16k.flac`` says (LibriVox clip 0870)."""


@dataclass(frozen=True)
class Clip:
    path: Path
    transcript: str


def librivox_clips() -> list[Clip]:
    clips = []
    for line in (LIBRIVOX / "transcription").read_text().splitlines():
        match = re.match(r"<s> (.*) </s> \((.*)\)", line)
        if match:
            clips.append(Clip(LIBRIVOX / f"{match.group(2)}.wav", match.group(1)))
    return clips


def asterisk_clips(names: list[str]) -> list[Clip]:
    texts = {}
    for line in gzip.decompress(ASTERISK_TEXT.read_bytes()).decode().splitlines():
        name, _, text = line.partition(":")
        texts[name.strip()] = text.strip()
    return [Clip(ASTERISK / f"{name}.wav", texts[name]) for name in names]


def read_mono(path: Path, rate: int = 16000) -> npt.NDArray[np.float32]:
    """A file's audio as float32 mono at ``rate``."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    chunks: list[npt.NDArray[Any]] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
    chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    return np.concatenate(chunks).astype(np.float32)


_NUMBERS = {"mr": "mister", "mrs": "missus"}


def words(text: str) -> list[str]:
    """Lower case, accents folded, no punctuation, hyphens split, a few spoken forms restored."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    tokens = re.sub(r"[^a-z0-9' ]", " ", folded.replace("-", " ").replace("ß", "ss")).split()
    return [_NUMBERS.get(token, token) for token in tokens]


def wer(reference: str, hypothesis: str) -> float:
    return float(jiwer.wer(" ".join(words(reference)), " ".join(words(hypothesis)) or "<empty>"))


def espeak(text: str, voice: str, path: Path) -> Path:
    """Synthesise ``text`` with espeak-ng into a WAV file."""
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(path), text], check=True, capture_output=True)
    return path
