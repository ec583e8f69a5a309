"""Small stages for testing the runtime."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import ClassVar

from engine.caps import ANY_AUDIO, ANY_TEXT, ANYTHING, Caps, audio
from engine.frames import AudioFrame, Frame, TextFrame, now_ns
from engine.stage import Placement, Source, Stage, StageSettings
from tests.support.frames import audio_frame

NO_SETTINGS = StageSettings()


class CountingSource(Source[StageSettings]):
    """``count`` audio frames at 16 kHz; ``live`` marks it as a live source."""

    def __init__(
        self,
        name: str = "src",
        count: int = 10,
        live: bool = False,
        fail_at: int | None = None,
        interval_s: float = 0.0,
    ) -> None:
        super().__init__(name, NO_SETTINGS)
        self.count = count
        self.interval_s = interval_s
        self.is_live_source = live
        self.fail_at = fail_at

    def live(self) -> bool:
        return self.is_live_source

    def source_caps(self) -> Caps:
        return Caps.of(audio(rate=16000, channels=1, sample_format="s16"))

    async def frames(self) -> AsyncIterator[Frame]:
        for index in range(self.count):
            frame = audio_frame(index)
            if index == self.fail_at:
                raise RuntimeError(f"source broke at frame {index}")
            if self.interval_s:
                await asyncio.sleep(self.interval_s)
            yield frame


class Recorder(Stage[StageSettings]):
    """A sink that keeps frames and the order of events it saw."""

    input_caps: ClassVar[Caps] = ANYTHING

    def __init__(self, name: str, log: list[str] | None = None) -> None:
        super().__init__(name, NO_SETTINGS)
        self.frames: list[Frame] = []
        self.log = log if log is not None else []

    def process(self, frame: Frame) -> None:
        self.frames.append(frame)

    def end_of_stream(self) -> None:
        self.log.append(f"eos:{self.name}")


class Tagger(Stage[StageSettings]):
    """Passes audio on and emits one text frame per audio frame."""

    input_caps: ClassVar[Caps] = ANY_AUDIO

    def __init__(self, name: str, log: list[str] | None = None) -> None:
        super().__init__(name, NO_SETTINGS)
        self.log = log if log is not None else []

    def output_caps(self, upstream: Caps) -> Caps:
        return upstream.union(ANY_TEXT)

    def process(self, frame: Frame) -> None:
        self.emit(frame)
        self.emit(TextFrame(pts_ns=frame.pts_ns, ingest_ns=frame.ingest_ns, text=f"{self.name}:{frame.pts_ns}"))

    def end_of_stream(self) -> None:
        self.log.append(f"eos:{self.name}")


class TextOnly(Recorder):
    input_caps: ClassVar[Caps] = ANY_TEXT


class Rate48kOnly(Recorder):
    input_caps: ClassVar[Caps] = Caps.of(audio(rate=48000))


class Failing(Stage[StageSettings]):
    """Raises on every ``fail_every``-th frame of each instance."""

    instances = 0

    def __init__(self, name: str = "failing", fail_on: int = 3) -> None:
        super().__init__(name, NO_SETTINGS)
        self.fail_on = fail_on
        self.seen = 0
        Failing.instances += 1

    def process(self, frame: Frame) -> None:
        self.seen += 1
        if self.seen == self.fail_on:
            raise ValueError("cannot handle this frame")
        self.emit(frame)


class ThreadRecorder(Stage[StageSettings]):
    """Executor stage: notes the thread it ran on, and doubles every frame."""

    placement = Placement.EXECUTOR

    def __init__(self, name: str = "work") -> None:
        super().__init__(name, NO_SETTINGS)
        self.threads: set[str] = set()

    def process(self, frame: Frame) -> None:
        self.threads.add(threading.current_thread().name)
        self.emit(frame)
        self.emit(frame)
        self.post("worked", pts_ns=frame.pts_ns)

    def end_of_stream(self) -> None:
        self.emit(TextFrame(pts_ns=0, ingest_ns=now_ns(), text="flushed"))


class SlowTask(Stage[StageSettings]):
    """A task stage that awaits ``delay_s`` per frame."""

    placement = Placement.TASK

    def __init__(self, name: str = "slow", delay_s: float = 0.01) -> None:
        super().__init__(name, NO_SETTINGS)
        self.delay_s = delay_s

    async def process_async(self, frame: Frame) -> None:
        await asyncio.sleep(self.delay_s)
        self.emit(frame)


def samples_of(frames: list[Frame]) -> list[int]:
    """The counter value each audio frame carries (see ``audio_frames``)."""
    return [int(frame.samples[0, 0]) for frame in frames if isinstance(frame, AudioFrame)]
