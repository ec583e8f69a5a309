"""The one form of a provider key that is ever shown or logged."""

from __future__ import annotations

import re

_LABEL = re.compile(r"^[A-Za-z]{1,8}[-_](?:[A-Za-z]{1,8}[-_])?")
"""A vendor's non-secret label, such as ``sk-``, ``sk-proj-`` or ``gsk_``."""
SHOWN_TAIL = 4
HIDDEN_AT_LEAST = 12


def mask(key: str) -> str:
    """``sk-…a1b2``: the vendor label (when the rest stays long) and the last four characters, nothing else."""
    label = _LABEL.match(key)
    prefix = label.group(0) if label and len(key) - len(label.group(0)) - SHOWN_TAIL >= HIDDEN_AT_LEAST else ""
    return f"{prefix}…{key[-SHOWN_TAIL:]}"
