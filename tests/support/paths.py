"""Where the repository and its bundled media are."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "pipeline" / "examples"
SPEECH_SAMPLE = REPO / "pipeline" / "samples" / "speech_en_16k.flac"
