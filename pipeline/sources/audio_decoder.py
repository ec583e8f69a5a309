"""Blocking audio decoding with PyAV, re-chunked into fixed-size s16 frames.

Used from the work executor: every call here may block on disk and CPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from av.audio.fifo import AudioFifo
from av.audio.resampler import AudioResampler

from engine.stage import StageError


def probe_audio(path: Path) -> tuple[int, int]:
    """``(sample_rate, channels)`` of the first audio stream in ``path``."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise StageError(f"'{path}' has no audio stream")
            stream = container.streams.audio[0]
            return int(stream.codec_context.sample_rate), int(stream.codec_context.channels)
    except av.error.FFmpegError as error:
        # FFmpeg's own text carries an errno and the path again ("[Errno 1094995529] Invalid data found …: 'x'")
        reason = str(getattr(error, "strerror", None) or error).lower()
        raise StageError(f"cannot read '{path}' as audio: {reason}") from error


class AudioDecoder:
    """Decodes the first audio stream of a file into ``(n, channels)`` int16 chunks."""

    def __init__(self, path: Path, frame_samples: int) -> None:
        self.path = path
        self.frame_samples = frame_samples
        try:
            self._container: Any = av.open(str(path))
        except av.error.FFmpegError as error:
            raise StageError(f"cannot open '{path}': {error}") from error
        if not self._container.streams.audio:
            self._container.close()
            raise StageError(f"'{path}' has no audio stream")
        self._stream = self._container.streams.audio[0]
        self.sample_rate = int(self._stream.codec_context.sample_rate)
        self.channels = int(self._stream.codec_context.channels)
        layout = "mono" if self.channels == 1 else self._stream.codec_context.layout.name
        self._resampler = AudioResampler(format="s16", layout=layout, rate=self.sample_rate)
        self._fifo = AudioFifo()
        self._frames = self._container.decode(self._stream)
        self._exhausted = False

    def read(self, max_chunks: int) -> list[npt.NDArray[np.int16]]:
        """Up to ``max_chunks`` chunks; a shorter last chunk; ``[]`` at the end."""
        chunks: list[npt.NDArray[np.int16]] = []
        while len(chunks) < max_chunks:
            if self._fifo.samples >= self.frame_samples:
                chunks.append(self._take(self.frame_samples))
            elif self._exhausted:
                if self._fifo.samples:
                    chunks.append(self._take(self._fifo.samples))
                break
            else:
                self._decode_more()
        return chunks

    def _decode_more(self) -> None:
        try:
            frame = next(self._frames)
        except StopIteration:
            self._exhausted = True
            for flushed in self._resampler.resample(None):
                self._fifo.write(flushed)
            return
        except av.error.FFmpegError as error:
            raise StageError(f"cannot decode '{self.path}': {error}") from error
        frame.pts = None
        for converted in self._resampler.resample(frame):
            converted.pts = None
            self._fifo.write(converted)

    def _take(self, count: int) -> npt.NDArray[np.int16]:
        frame = self._fifo.read(count)
        assert frame is not None
        return np.asarray(frame.to_ndarray(), dtype=np.int16).reshape(-1, self.channels)

    def close(self) -> None:
        self._container.close()
