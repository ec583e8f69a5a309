"""What usage costs: list prices per unit of each usage metric (USD)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case
from sqlalchemy.sql.elements import ColumnElement

PRICE_PER_UNIT: dict[str, float] = {
    "call_seconds": 0.004 / 60,  # $0.004 a participant-minute
    "stt_audio_seconds": 0.006 / 60,  # $0.006 a minute of transcribed audio
    "translation_characters": 20 / 1_000_000,  # $20 a million characters
    "aic_bytes_saved": 0.0,  # a saving, valued separately
}
BANDWIDTH_PRICE_PER_GB = 0.05
"""What a gigabyte of egress costs; AIC's savings are valued at this price."""


def cost_of(metric: Any, quantity: Any) -> ColumnElement[Any]:
    """An SQL expression for the cost of ``quantity`` units of ``metric``."""
    price: ColumnElement[Any] = case(PRICE_PER_UNIT, value=metric, else_=0.0)
    return quantity * price  # type: ignore[no-any-return]
