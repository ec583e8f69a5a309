"""Error messages name the problem in words: no field declares a regular expression for pydantic to quote.

A pydantic ``pattern`` constraint fails with "String should match pattern '^[…]$'", which a person cannot
read; every such rule is a check that says it in words instead (``control_plane.schemas.shaped``, the
pipeline loader's name rule, the settings' validators, the telemetry wire's NUL check).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from settings import SettingsError, load_settings
from telemetry.records import QualitySample
from telemetry.wire import WireError, from_proto, to_proto
from tests.support.paths import REPO

PATTERN_ALLOWED = {"pipeline/config/document.py", "pipeline/config/schema.py", "telemetry/records.py"}
"""Patterns still declared because a schema shows them, each worded where it fails: the pipeline's names (the
loader's NAME_RULE) and the telemetry records' NUL check (the wire's message)."""


def _pattern_keywords(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and any(keyword.arg == "pattern" for keyword in node.keywords)
    ]


def test_no_field_outside_the_pipeline_loader_declares_a_pattern() -> None:
    found = [
        f"{path.relative_to(REPO)}:{line}"
        for package in ("control_plane", "settings", "telemetry", "pipeline", "engine", "auralink")
        for path in sorted((REPO / package).rglob("*.py"))
        if str(path.relative_to(REPO)) not in PATTERN_ALLOWED
        for line in _pattern_keywords(path)
    ]
    assert found == [], "state the rule in words (control_plane.schemas.shaped) instead of pattern="


def test_a_settings_value_of_the_wrong_form_is_explained() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(vault_transit_key="two words")
    assert str(error.value).endswith("vault_transit_key: a transit key's name is letters, digits, '_' and '-' only")


def test_a_nul_in_a_telemetry_name_is_named() -> None:
    message = to_proto(QualitySample("room", "bob", "audio", 1.0, 0, 0.0, None, 10.0, 4.0))
    message.quality_sample.participant = "b\x00b"
    with pytest.raises(WireError) as error:
        from_proto(message)
    assert str(error.value) == "quality_sample.participant is 'b\\x00b': contains a NUL character"
