"""Hallucination guards on real recordings through the real model: nothing is added after the last word spoken."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.speech.commit import normalise
from pipeline.speech.streaming import StreamingOptions, StreamingTranscriber
from pipeline.speech.whisper import SAMPLE_RATE, WhisperEngine
from tests.support.recordings import Clip, asterisk_clips, librivox_clips, read_mono, wer, words

STEADY = StreamingOptions(max_compute_share=100.0)
"""Decode every ``step_s`` whatever a decode took, so a loaded machine hears the same buffers as an idle one."""


def stream_with_tail(engine: WhisperEngine, clip: Clip, tail: np.ndarray) -> tuple[StreamingTranscriber, float]:
    speech = read_mono(clip.path)
    audio = np.concatenate([speech, tail.astype(np.float32)])
    transcriber = StreamingTranscriber(engine, STEADY)
    for start in range(0, len(audio), 320):
        transcriber.push(audio[start : start + 320])
    transcriber.finish()
    return transcriber, len(speech) / SAMPLE_RATE


def tails() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(17)
    return {
        "silence": np.zeros(2 * SAMPLE_RATE, np.float32),
        "room noise": (rng.standard_normal(2 * SAMPLE_RATE) * 0.003).astype(np.float32),
    }


CLIPS = [*librivox_clips(), *asterisk_clips(["agent-alreadyon", "conf-onlyperson", "vm-goodbye", "auth-thankyou"])]


@pytest.mark.slow
@pytest.mark.parametrize("tail", ["silence", "room noise"])
def test_a_clip_that_ends_on_a_word_gets_no_word_after_it(tiny: WhisperEngine, tail: str) -> None:
    misses = []
    for clip in CLIPS:
        transcriber, speech_end = stream_with_tail(tiny, clip, tails()[tail])
        committed = transcriber.policy.committed
        last_said = words(clip.transcript)[-1]
        heard = [normalise(word.text) for word in committed]
        if not heard or heard[-1] != last_said or any(word.start >= speech_end for word in committed):
            misses.append((clip.path.name, clip.transcript, transcriber.committed_text()))
        heard_text = transcriber.committed_text()
        assert wer(clip.transcript, heard_text) <= 0.35, (clip.path.name, heard_text)
    assert not misses, misses
