"""The live-captions example: file -> resample -> stt -> translate -> JSON lines, with usage billed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.runner import GraphRunner
from pipeline.config import load_pipeline
from pipeline.speech.usage import usage_forwarder
from telemetry.records import MemoryReporter, UsageEvent
from tests.support.paths import EXAMPLES
from tests.support.recordings import SAMPLE_TRANSCRIPT as SAMPLE_TEXT
from tests.support.recordings import wer


async def test_live_captions_streams_captions_and_portuguese(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runner = GraphRunner(load_pipeline(EXAMPLES / "live_captions.yaml").graph)
    reporter = MemoryReporter()
    runner.bus.subscribe(usage_forwarder(reporter, room="demo-room"))
    result = await runner.run()
    assert result.ok, result.error
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    finals = [line for line in lines if line["role"] == "transcript" and line["final"]]
    partials = [line for line in lines if line["role"] == "transcript" and not line["final"]]
    translations = [line for line in lines if line["role"] == "translation"]
    assert partials and finals and translations
    assert wer(SAMPLE_TEXT, " ".join(line["text"] for line in finals)) <= 0.2
    assert all(line["language"] == "pt" and line["source_text"] for line in translations)
    assert all(line["latency_ms"] >= 0 and line["words"] for line in finals)
    usage = reporter.of_type(UsageEvent)
    seconds = sum(u.quantity for u in usage if u.metric == "stt_audio_seconds")
    characters = sum(u.quantity for u in usage if u.metric == "translation_characters")
    assert seconds == pytest.approx(7.1, abs=0.05) and characters >= len(SAMPLE_TEXT) - 20
    assert {u.room for u in usage} == {"demo-room"} and len({u.idempotency_key for u in usage}) == len(usage)
