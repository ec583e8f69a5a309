"""Settings of the speech models and endpoints (``auralink transcribe``, ``auralink serve speech``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from settings.base import CommonSettings


class SpeechSettings(CommonSettings):
    """Which speech model runs where, and the WebSocket endpoints' limits."""

    models_dir: Path | None = Field(None, description="cache of joined speech models; unset = DATA_DIR/models")
    stt_model: str = Field("tiny.en", description="speech model of `auralink transcribe` and the speech endpoints")
    stt_device: Literal["cpu", "cuda", "auto"] = Field("auto", description="where Whisper runs; auto = cuda if seen")
    stt_compute_type: str = Field("auto", description="CTranslate2 compute type; auto = int8 on CPU, float16 on GPU")
    speech_ws_max_message_bytes: int = Field(65536, ge=1024, le=16 << 20, description="largest audio message")
    speech_ws_max_backlog_s: float = Field(10.0, gt=0, le=120, description="audio waiting per connection, at most")

    @property
    def speech_models_dir(self) -> Path:
        """Where joined speech models are cached."""
        return self.models_dir or self.data_dir / "models"
