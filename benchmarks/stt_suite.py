"""Streaming speech-to-text: commit latency, WER, compute and memory, beside whisperlivekit (``auralink bench stt``).

Real read speech (Debian's LibriVox clips, joined into one stream with their
own pauses plus 0.6 s between clips, and 1 s of silence at the end) is fed in
20 ms packets on a computation-aware simulated clock: audio arrives at the
pace of the real world, and every call into the recogniser advances the clock
by the time it really took, so a slow decode delays everything after it just
as it would live. Per committed word, latency = the clock when the word was
committed minus the word's end in the audio. The same stream then goes through
whisperlivekit's LocalAgreement policy on the same model (see
:mod:`benchmarks.anchors.whisperlivekit_la`), and the whole recording once
through offline faster-whisper (beam 5, its defaults), in the same process:
the anchor for latency, offline for how accurate the finals can be.

Where AuraLink's time goes is reported per stage: compute of the VAD, the
fast first pass, the careful final pass and language detection (each as a
share of the audio's duration), and commit latency split by what committed
the word (LocalAgreement, a pause, the buffer bound, the end) with the part of
it that was the committing decode itself; the rest is waiting (for agreement,
or for the pause to be long enough).
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jiwer
import numpy as np
import numpy.typing as npt
import psutil

from benchmarks.anchors import whisperlivekit_la
from benchmarks.core import BenchOptions, Figure, SuiteResult, register_suite, stamp
from pipeline.speech.models import models_dir
from pipeline.speech.streaming import StageTimes, StreamingTranscriber, TranscriptUpdate
from pipeline.speech.whisper import SAMPLE_RATE, Word, load_whisper

LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
PACKET_S = 0.02
GAP_S = 0.6
TAIL_S = 1.0
COMPUTE_TYPE = "int8"


@dataclass
class StreamRun:
    """What one recogniser did with the stream."""

    latencies: list[float] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    compute_s: float = 0.0
    peak_rss_mb: float = 0.0
    reasons: list[str] = field(default_factory=list)
    """Per committed word (AuraLink only): what committed it."""
    commit_compute_s: list[float] = field(default_factory=list)
    """Per committed word (AuraLink only): how long the decode that committed it took."""
    stages: StageTimes = field(default_factory=StageTimes)

    def quantile(self, q: float) -> float:
        return float(np.quantile(self.latencies, q)) if self.latencies else float("nan")

    @property
    def text(self) -> str:
        return "".join(word.text for word in self.words)


Feed = Callable[[npt.NDArray[np.float32]], list[Word]]


def simulate(audio: npt.NDArray[np.float32], feed: Feed, finish: Callable[[], list[Word]]) -> StreamRun:
    """Run one recogniser over ``audio`` on the computation-aware clock."""
    run = StreamRun()
    process = psutil.Process()
    total = len(audio) / SAMPLE_RATE
    clock = fed = 0.0
    while fed < total:
        arrived = min(total, max(clock, fed + PACKET_S))
        chunk = audio[round(fed * SAMPLE_RATE) : round(arrived * SAMPLE_RATE)]
        fed, clock = arrived, max(clock, arrived)
        clock = _timed(run, lambda chunk=chunk: feed(chunk), clock)  # type: ignore[misc]
        run.peak_rss_mb = max(run.peak_rss_mb, process.memory_info().rss / 2**20)
    _timed(run, finish, clock)
    return run


def _timed(run: StreamRun, call: Callable[[], list[Word]], clock: float) -> float:
    started = time.perf_counter()
    committed = call()
    elapsed = time.perf_counter() - started
    run.compute_s += elapsed
    clock += elapsed
    run.latencies.extend(clock - word.end for word in committed)
    run.words.extend(committed)
    return clock


def read_audio(path: Path) -> npt.NDArray[np.float32]:
    """A recording as 16 kHz mono float samples, whatever its own rate."""
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    with av.open(str(path)) as container:
        chunks = [out.to_ndarray().reshape(-1) for f in container.decode(audio=0) for out in resampler.resample(f)]
    chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32)


def workload(quick: bool) -> tuple[npt.NDArray[np.float32], str]:
    """The LibriVox clips as one stream, and its reference transcript."""
    references = []
    pieces = []
    for line in (LIBRIVOX / "transcription").read_text().splitlines()[: 2 if quick else None]:
        match = re.match(r"<s> (.*) </s> \((.*)\)", line)
        if match:
            references.append(match.group(1))
            pieces += [read_audio(LIBRIVOX / f"{match.group(2)}.wav"), np.zeros(int(GAP_S * SAMPLE_RATE), np.float32)]
    pieces.append(np.zeros(int(TAIL_S * SAMPLE_RATE), np.float32))
    return np.concatenate(pieces), " ".join(references)


def _words(text: str) -> str:
    spoken = {"mr": "mister", "mrs": "missus"}
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    tokens = re.sub(r"[^a-z0-9' ]", " ", folded.replace("-", " ").replace("ß", "ss")).split()
    return " ".join(spoken.get(token, token) for token in tokens) or "<empty>"


def wer(reference: str, hypothesis: str) -> float:
    return float(jiwer.wer(_words(reference), _words(hypothesis)))


def run_auralink(audio: npt.NDArray[np.float32], model: str) -> StreamRun:
    engine = load_whisper(model, models_dir(), "cpu", COMPUTE_TYPE)
    engine.transcribe(audio[: SAMPLE_RATE * 2], language="en")  # warm up
    stream = StreamingTranscriber(engine)
    reasons: list[str] = []
    computes: list[float] = []

    def committed(updates: list[TranscriptUpdate]) -> list[Word]:
        for update in updates:
            reasons.extend([update.reason or ""] * len(update.committed))
            computes.extend([update.compute_s] * len(update.committed))
        return [word for update in updates for word in update.committed]

    run = simulate(audio, lambda chunk: committed(stream.push(chunk)), lambda: committed(stream.finish()))
    run.reasons, run.commit_compute_s, run.stages = reasons, computes, stream.times
    return run


def run_offline(audio: npt.NDArray[np.float32], model: str) -> StreamRun:
    """The whole recording at once through plain faster-whisper (beam 5 and its other defaults)."""
    path = load_whisper(model, models_dir(), "cpu", COMPUTE_TYPE).path
    whisper = whisperlivekit_la.load_anchor_model(path, COMPUTE_TYPE)
    run = StreamRun()
    started = time.perf_counter()
    segments, _ = whisper.transcribe(audio, language="en", beam_size=5, word_timestamps=True)
    run.words = [
        Word(word.start, word.end, word.word, word.probability) for segment in segments for word in segment.words or ()
    ]
    run.compute_s = time.perf_counter() - started
    return run


def run_anchor(audio: npt.NDArray[np.float32], model: str) -> StreamRun:
    path = load_whisper(model, models_dir(), "cpu", COMPUTE_TYPE).path
    whisper = whisperlivekit_la.load_anchor_model(path, COMPUTE_TYPE)
    list(whisper.transcribe(audio[: SAMPLE_RATE * 2], language="en")[0])  # warm up
    anchor = whisperlivekit_la.LocalAgreementAnchor(whisper)
    pending = [0.0]

    def feed(chunk: npt.NDArray[np.float32]) -> list[Word]:
        anchor.insert(chunk)
        pending[0] += len(chunk) / SAMPLE_RATE
        if pending[0] < whisperlivekit_la.MIN_CHUNK_S:
            return []
        pending[0] = 0.0
        return anchor.process()

    return simulate(audio, feed, anchor.finish)


def _figures(prefix: str, run: StreamRun, reference: str, seconds: float, targets: bool) -> list[Figure]:
    return [
        Figure(f"{prefix}p50_commit_latency_s", run.quantile(0.5), "s", "lower", 0.3, 1.0 if targets else None),
        Figure(f"{prefix}p90_commit_latency_s", run.quantile(0.9), "s", "lower", 0.3, 2.5 if targets else None),
        Figure(f"{prefix}max_commit_latency_s", max(run.latencies, default=float("nan")), "s", "info"),
        Figure(f"{prefix}wer", wer(reference, run.text), "ratio", "lower", 0.3),
        Figure(f"{prefix}rtf", run.compute_s / seconds, "x", "lower", 0.3, 0.5 if targets else None),
        Figure(f"{prefix}peak_rss_mb", run.peak_rss_mb, "MB", "lower", 0.3),
        Figure(f"{prefix}committed_words", len(run.words), "words", "info"),
    ]


def _stage_figures(run: StreamRun, seconds: float) -> list[Figure]:
    """Where AuraLink's compute went, and what its commit latency was made of."""
    stages = run.stages
    figures = [
        Figure("vad_rtf", stages.vad_s / seconds, "x", "info"),
        Figure("first_pass_rtf", stages.first_pass_s / seconds, "x", "info", note=f"{stages.first_passes} decodes"),
        Figure("final_pass_rtf", stages.final_pass_s / seconds, "x", "info", note=f"{stages.final_passes} decodes"),
        Figure("language_detection_rtf", stages.language_s / seconds, "x", "info"),
    ]
    for reason in ("agreement", "pause", "buffer", "end"):
        picked = [index for index, why in enumerate(run.reasons) if why == reason]
        if not picked:
            continue
        latency = float(np.median([run.latencies[index] for index in picked]))
        decode = float(np.median([run.commit_compute_s[index] for index in picked]))
        figures += [
            Figure(f"{reason}_words", len(picked), "words", "info"),
            Figure(f"{reason}_p50_commit_latency_s", latency, "s", "info"),
            Figure(f"{reason}_p50_committing_decode_s", decode, "s", "info", note="the rest is waiting"),
        ]
    return figures


@register_suite("stt")
def stt_suite(options: BenchOptions) -> SuiteResult:
    model = "tiny.en"
    audio, reference = workload(options.quick)
    seconds = len(audio) / SAMPLE_RATE
    ours = run_auralink(audio, model)
    figures = _figures("", ours, reference, seconds, targets=True) + _stage_figures(ours, seconds)
    ours_wer = wer(reference, ours.text)
    notes = [
        f"{seconds:.1f} s of LibriVox speech, {model} {COMPUTE_TYPE}, 20 ms packets on a computation-aware clock",
        f"auralink transcript: {ours.text.strip()}",
    ]
    offline = run_offline(audio, model)
    figures += [
        Figure("offline_wer", wer(reference, offline.text), "ratio", "info"),
        Figure("offline_rtf", offline.compute_s / seconds, "x", "info"),
    ]
    notes.append(f"offline faster-whisper (beam 5, whole recording), transcript: {offline.text.strip()}")
    if whisperlivekit_la.available():
        anchor = run_anchor(audio, model)
        figures += _figures("anchor_", anchor, reference, seconds, targets=False)
        figures += [
            Figure("p50_latency_vs_anchor", ours.quantile(0.5) / anchor.quantile(0.5), "x", "lower", 0.3, 0.6),
            Figure("wer_minus_anchor", ours_wer - wer(reference, anchor.text), "ratio", "lower", 1.0, 0.0),
        ]
        notes.append(f"anchor: whisperlivekit LocalAgreement (OnlineASRProcessor), transcript: {anchor.text.strip()}")
    else:
        notes.append("anchor skipped: whisperlivekit is not installed (pip install --no-deps whisperlivekit==0.2.26)")
    result = SuiteResult("stt", figures, notes=notes)
    return stamp(result, "faster-whisper", "ctranslate2", "whisperlivekit")
