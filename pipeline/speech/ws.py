"""The live speech WebSocket endpoints, ``/ws/stt`` and ``/ws/translate``, as a Litestar router.

Each connection owns one :class:`~pipeline.speech.streaming.StreamingTranscriber`
(the models are shared by the process). Audio is received on the event loop
and transcribed in the work executor by a second task, which always takes all
the audio that arrived meanwhile (computation-aware, like the benchmark's
clock). Limits are per connection: message size, and the backlog of audio not
yet transcribed; a client past either is closed with a reason code while every
other connection carries on. See :mod:`pipeline.speech.ws_protocol` for the
messages.

What a connection uses goes to the telemetry reporter like a call's does: the
audio seconds transcribed (every ``USAGE_REPORT_S`` of audio and when the
connection ends, however it ends) and the characters of every translation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from litestar import Router, WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from engine.executors import work_executor
from pipeline.speech.frames import confidence, words_text
from pipeline.speech.models import ModelError
from pipeline.speech.sentences import Sentence, SentenceGatherer
from pipeline.speech.streaming import StreamingOptions, StreamingTranscriber, TranscriptUpdate
from pipeline.speech.translators import TextTranslator, TranslationError, translator_for
from pipeline.speech.usage import new_usage
from pipeline.speech.whisper import SAMPLE_RATE, Device, Word, load_whisper
from pipeline.speech.ws_protocol import (
    CLOSE_POLICY,
    CLOSE_SERVER_ERROR,
    CLOSE_TOO_BIG,
    CLOSE_UNSUPPORTED,
    AudioDecoder,
    ProtocolError,
    StreamStart,
    parse_control,
    parse_start,
)
from telemetry.records import TelemetryReporter

log = logging.getLogger(__name__)

USAGE_REPORT_S = 30.0
"""Transcribed audio is reported every this many seconds of it, so a long stream is not billed at its end only."""


@dataclass(frozen=True)
class SpeechServiceConfig:
    """How the endpoints transcribe and what each connection may use."""

    models_dir: Path
    model: str = "tiny.en"
    allowed_models: tuple[str, ...] = ("tiny.en", "base")
    """Models a client may ask for by name (never a path)."""
    device: Device = "auto"
    compute_type: str = "auto"
    max_message_bytes: int = 64 * 1024
    max_backlog_s: float = 10.0
    """Audio received but not yet transcribed, per connection, before the client is closed."""
    translation_engine: str = "auto"
    translation_model: Path | None = None


def speech_routes(config: SpeechServiceConfig, reporter: TelemetryReporter | None = None) -> Router:
    """The ``/ws/stt`` and ``/ws/translate`` endpoints, ready to mount on any Litestar app.

    ``reporter`` receives each connection's usage (``None``: not reported, for tests of the protocol alone).
    """

    @websocket("/ws/stt")
    async def stt(socket: WebSocket[Any, Any, Any]) -> None:
        await SpeechSession(socket, config, translate=False, reporter=reporter).run()

    @websocket("/ws/translate")
    async def translate(socket: WebSocket[Any, Any, Any]) -> None:
        await SpeechSession(socket, config, translate=True, reporter=reporter).run()

    return Router(path="/", route_handlers=[stt, translate])


@dataclass
class _Backlog:
    chunks: list[npt.NDArray[np.float32]] = field(default_factory=list)
    seconds: float = 0.0
    closed: bool = False
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def put(self, audio: npt.NDArray[np.float32]) -> None:
        self.chunks.append(audio)
        self.seconds += len(audio) / SAMPLE_RATE
        self.arrived.set()

    def take(self) -> npt.NDArray[np.float32]:
        audio = np.concatenate(self.chunks) if self.chunks else np.zeros(0, dtype=np.float32)
        self.chunks, self.seconds = [], 0.0
        self.arrived.clear()
        return audio


class SpeechSession:
    """One client's stream, from the start message to the close."""

    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        config: SpeechServiceConfig,
        *,
        translate: bool,
        reporter: TelemetryReporter | None = None,
    ) -> None:
        self.socket = socket
        self.config = config
        self.translate = translate
        self.reporter = reporter
        self.stream: StreamingTranscriber | None = None
        self._reported_s = 0.0
        self._backlog = _Backlog()
        self._gatherer = SentenceGatherer()
        self._translators: dict[tuple[str, str], TextTranslator] = {}
        self._language_sent: str | None = None
        self._last_partial = ""

    async def run(self) -> None:
        await self.socket.accept()
        worker: asyncio.Task[None] | None = None
        try:
            first = await self._receive()
            start = parse_start(parse_control(first["text"])) if first.get("text") is not None else StreamStart()
            self.start = start
            self.decoder = AudioDecoder(start)
            self.stream = await self._open_stream(start)
            await self._send_ready()
            if first.get("bytes") is not None:
                self._accept_audio(first["bytes"])
            worker = asyncio.create_task(self._transcribe_forever())
            await self._receive_until_stop(worker)
            # let the worker drain: cancelling it would leave its executor call running beside _finish
            self._backlog.closed = True
            self._backlog.arrived.set()
            await worker
            await self._finish()
            await self.socket.close(1000, "end of stream")
        except ProtocolError as error:
            await self._close(error.code, error.reason)
        except WebSocketDisconnect:
            pass
        except Exception:  # the connection boundary: one client's failure never reaches the others
            log.exception("speech connection failed")
            await self._close(CLOSE_SERVER_ERROR, "the server failed to transcribe this stream")
        finally:
            if worker is not None:
                worker.cancel()
            self._report_audio()

    async def _receive(self) -> dict[str, Any]:
        message: dict[str, Any] = dict(await self.socket.receive())
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(detail="client left", code=int(message.get("code", 1000)))
        return message

    async def _open_stream(self, start: StreamStart) -> StreamingTranscriber:
        name = start.model or self.config.model
        if name not in {self.config.model, *self.config.allowed_models}:
            allowed = ", ".join(sorted({self.config.model, *self.config.allowed_models}))
            raise ProtocolError(CLOSE_POLICY, f"model '{name}' is not served here (choose {allowed})")
        loop = asyncio.get_running_loop()
        try:
            engine = await loop.run_in_executor(
                work_executor(),
                load_whisper,
                name,
                self.config.models_dir,
                self.config.device,
                self.config.compute_type,
            )
        except ModelError as error:
            log.error("speech endpoint cannot load model %s: %s", name, error)
            raise ProtocolError(CLOSE_SERVER_ERROR, f"model '{name}' is unavailable on this server") from error
        language = start.language if engine.multilingual else "en"
        if self.translate and not start.targets:
            raise ProtocolError(CLOSE_POLICY, '/ws/translate needs targets in the start message, e.g. ["pt"]')
        if self.translate and language is not None:
            for target in start.targets:
                self._translator(language, target)
        return StreamingTranscriber(engine, StreamingOptions(language=language))

    def _translator(self, source: str, target: str) -> TextTranslator:
        key = (source, target)
        if key not in self._translators:
            try:
                self._translators[key] = translator_for(
                    source, target, self.config.translation_engine, self.config.translation_model
                )
            except TranslationError as error:
                raise ProtocolError(CLOSE_POLICY, str(error)) from error
        return self._translators[key]

    async def _send_ready(self) -> None:
        await self.socket.send_json(
            {
                "type": "ready",
                "model": self._stream.engine.label,
                "format": self.start.format,
                "sample_rate": self.start.sample_rate,
                "language": self._stream.language,
                "targets": self.start.targets if self.translate else [],
                "max_message_bytes": self.config.max_message_bytes,
                "max_backlog_s": self.config.max_backlog_s,
            }
        )

    def _accept_audio(self, payload: bytes) -> None:
        if len(payload) > self.config.max_message_bytes:
            raise ProtocolError(CLOSE_TOO_BIG, f"audio messages may hold {self.config.max_message_bytes} bytes at most")
        self._backlog.put(self.decoder.decode(payload))
        if self._backlog.seconds > self.config.max_backlog_s:
            raise ProtocolError(
                CLOSE_POLICY,
                f"audio arrives faster than it is transcribed: over {self.config.max_backlog_s:g} s waiting",
            )

    async def _receive_until_stop(self, worker: asyncio.Task[None]) -> None:
        receiving: asyncio.Task[dict[str, Any]] | None = None
        while True:
            receiving = asyncio.ensure_future(self._receive())
            done, _ = await asyncio.wait({receiving, worker}, return_when=asyncio.FIRST_COMPLETED)
            if worker in done:  # the worker ends early only by failing: surface its error
                receiving.cancel()
                worker.result()
                return
            message = receiving.result()
            if message.get("bytes") is not None:
                self._accept_audio(message["bytes"])
                continue
            control = parse_control(message.get("text") or "")
            if control["type"] == "stop":
                return
            raise ProtocolError(CLOSE_UNSUPPORTED, f"unknown message type '{control['type']}' (send audio or stop)")

    async def _transcribe_forever(self) -> None:
        while True:
            if self._backlog.chunks:
                await self._transcribe(self._backlog.take())
            elif self._backlog.closed:
                return
            else:
                await self._backlog.arrived.wait()

    async def _transcribe(self, audio: npt.NDArray[np.float32]) -> None:
        loop = asyncio.get_running_loop()
        updates = await loop.run_in_executor(work_executor(), self._stream.push, audio)
        if self._stream.audio_seconds - self._reported_s >= USAGE_REPORT_S:
            self._report_audio()
        for update in updates:
            await self._publish(update)

    @property
    def _stream(self) -> StreamingTranscriber:
        assert self.stream is not None, "the stream opens before any audio is transcribed"
        return self.stream

    def _report_audio(self) -> None:
        if self.reporter is None or self.stream is None:
            return
        seconds = self.stream.audio_seconds - self._reported_s
        if seconds > 0:
            self._reported_s = self.stream.audio_seconds
            self.reporter.report(new_usage("stt_audio_seconds", seconds, "stt", self.stream.engine.label))

    async def _finish(self) -> None:
        await self._transcribe(self._backlog.take())
        loop = asyncio.get_running_loop()
        for update in await loop.run_in_executor(work_executor(), self._stream.finish):
            await self._publish(update)
        if self.translate and (sentence := self._gatherer.flush()) is not None:
            await self._translate(sentence)
        await self.socket.send_json({"type": "end", "audio_seconds": round(self._stream.audio_seconds, 3)})

    async def _publish(self, update: TranscriptUpdate) -> None:
        if self._stream.language is not None and self._stream.language != self._language_sent:
            self._language_sent = self._stream.language  # again if it changes (a long silence, a clear switch)
            await self.socket.send_json(
                {
                    "type": "language",
                    "language": self._stream.language,
                    "probability": self._stream.language_probability,
                }
            )
        if update.committed:
            await self.socket.send_json(
                _transcript("final", update.committed, update.language, update.language_probability)
            )
            self._last_partial = ""
            if self.translate:
                pause = update.endpoint and not update.partial
                words = update.committed
                sentence = self._gatherer.add(words_text(words), words[0].start, words[-1].end, pause=pause)
                if sentence is not None:
                    await self._translate(sentence)
        partial = words_text(update.partial)
        if self.start.partials and partial and partial != self._last_partial:
            self._last_partial = partial
            await self.socket.send_json(
                _transcript("partial", update.partial, update.language, update.language_probability)
            )

    async def _translate(self, sentence: Sentence) -> None:
        source = self._stream.language or "en"
        loop = asyncio.get_running_loop()
        for target in self.start.targets:
            if target == source:
                continue
            try:
                translator = self._translator(source, target)
            except ProtocolError as error:  # a detected language no engine covers: say so, keep transcribing
                await self.socket.send_json({"type": "error", "message": error.reason})
                continue
            texts = await loop.run_in_executor(work_executor(), translator.translate, [sentence.text], source, target)
            if self.reporter is not None:
                self.reporter.report(
                    new_usage("translation_characters", len(sentence.text), "translate", translator.name)
                )
            await self.socket.send_json(
                {
                    "type": "translation",
                    "language": target,
                    "text": texts[0],
                    "source_language": source,
                    "source_text": sentence.text,
                    "start": round(sentence.start, 3),
                    "end": round(sentence.end, 3),
                    "engine": translator.name,
                }
            )

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await self.socket.close(code, reason)


def _transcript(kind: str, words: list[Word], language: str, probability: float) -> dict[str, Any]:
    return {
        "type": kind,
        "text": words_text(words),
        "start": round(words[0].start, 3),
        "end": round(words[-1].end, 3),
        "language": language,
        "language_probability": round(probability, 3),
        "confidence": confidence(words),
        "words": [word.to_json() for word in words],
    }
