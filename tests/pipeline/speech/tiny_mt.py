"""A tiny NLLB-style CTranslate2 translation model, written from numpy weights (no torch, no hub).

The weights are random, so its output is not a translation; what it proves is
the loading path: model.bin and vocabulary written by CTranslate2's own
model-spec API, a Hugging Face tokenizer.json beside them, NLLB language
tokens found in the vocabulary and used as source token and target prefix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from ctranslate2.specs import attention_spec, common_spec, model_spec, transformer_spec
from tokenizers import Tokenizer, models, pre_tokenizers

WORDS = ["hello", "world", "good", "morning", "friend", "olá", "mundo", "bom", "dia", "amigo"]
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "eng_Latn", "por_Latn", "deu_Latn"]
D_MODEL = 16
FFN = 32


def _fill(spec: Any, rng: np.random.Generator, vocab: int) -> None:
    """Give every required weight of ``spec`` (recursively) a random value of the right shape."""

    def rand(*shape: int) -> np.ndarray[Any, Any]:
        return (rng.standard_normal(shape) * 0.1).astype(np.float32)

    if isinstance(spec, list):
        for item in spec:
            _fill(item, rng, vocab)
        return
    if isinstance(spec, common_spec.LayerNormSpec):
        spec.gamma = np.ones(D_MODEL, dtype=np.float32)
        spec.beta = np.zeros(D_MODEL, dtype=np.float32)
        return
    if isinstance(spec, common_spec.EmbeddingsSpec):
        spec.weight = rand(vocab, D_MODEL)
        return
    if isinstance(spec, attention_spec.MultiHeadAttentionSpec):
        self_attention = len(spec.linear) == 2
        shapes = [(3 * D_MODEL, D_MODEL), (D_MODEL, D_MODEL)] if self_attention else [
            (D_MODEL, D_MODEL), (2 * D_MODEL, D_MODEL), (D_MODEL, D_MODEL)
        ]  # fmt: skip
        for linear, shape in zip(spec.linear, shapes, strict=True):
            linear.weight = rand(*shape)
            linear.bias = np.zeros(shape[0], dtype=np.float32)
        _fill(spec.layer_norm, rng, vocab)
        return
    if isinstance(spec, transformer_spec.FeedForwardSpec):
        spec.linear_0.weight, spec.linear_0.bias = rand(FFN, D_MODEL), np.zeros(FFN, dtype=np.float32)
        spec.linear_1.weight, spec.linear_1.bias = rand(D_MODEL, FFN), np.zeros(D_MODEL, dtype=np.float32)
        _fill(spec.layer_norm, rng, vocab)
        return
    if isinstance(spec, common_spec.LinearSpec):  # the decoder's output projection
        spec.weight, spec.bias = rand(vocab, D_MODEL), np.zeros(vocab, dtype=np.float32)
        return
    for value in vars(spec).values():  # a container spec: fill its sub-layers
        if isinstance(value, (list, model_spec.LayerSpec)):
            _fill(value, rng, vocab)


def write_tiny_nllb(directory: Path, seed: int = 7) -> Path:
    """Write the model into ``directory`` and return it."""
    vocabulary = SPECIALS + WORDS
    spec = transformer_spec.TransformerSpec.from_config(num_layers=1, num_heads=2)
    _fill(spec.encoder, np.random.default_rng(seed), len(vocabulary))
    _fill(spec.decoder, np.random.default_rng(seed + 1), len(vocabulary))
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.config.decoder_start_token = "</s>"
    spec.validate()
    spec.save(str(directory))
    tokenizer = Tokenizer(models.WordLevel({token: i for i, token in enumerate(vocabulary)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens(SPECIALS)
    tokenizer.save(str(directory / "tokenizer.json"))
    (directory / "README").write_text(json.dumps({"made_by": "tests/pipeline/speech/tiny_mt.py"}))
    return directory
