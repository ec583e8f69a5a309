"""Media files made by the tests, with PyAV, so every container is exercised for real."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from pipeline.pcm import layout_for, to_av_frame


def tone(seconds: float, rate: int, channels: int, frequency: float = 440.0, level: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    mono = level * np.sin(2 * np.pi * frequency * t)
    return np.repeat((mono * 32767).astype(np.int16)[:, None], channels, axis=1)


def write_audio(path: Path, samples: np.ndarray, rate: int, codec: str) -> Path:
    """Encode ``samples`` (``(n, channels)`` int16) into ``path`` with ``codec``."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout_for(samples.shape[1]))
        assert isinstance(stream, av.AudioStream)
        formats = stream.codec_context.codec.audio_formats
        assert formats, f"{codec} declares no sample formats"
        encoder_format = formats[0].name
        resampler = av.AudioResampler(format=encoder_format, layout=layout_for(samples.shape[1]), rate=rate)
        chunk = 1024
        pts = 0
        for start in range(0, samples.shape[0], chunk):
            frame = to_av_frame(samples[start : start + chunk], rate)
            for converted in resampler.resample(frame):
                converted.pts = pts
                pts += converted.samples
                for packet in stream.encode(converted):
                    container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """All of a file's audio as ``(n, channels)`` int16, with its rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        channels = stream.codec_context.channels
        resampler = av.AudioResampler(format="s16", layout=layout_for(channels), rate=stream.codec_context.sample_rate)
        chunks = [
            out.to_ndarray().reshape(-1, channels)
            for frame in container.decode(stream)
            for out in resampler.resample(frame)
        ]
        chunks += [out.to_ndarray().reshape(-1, channels) for out in resampler.resample(None)]
        return np.concatenate(chunks), stream.codec_context.sample_rate


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    mono = samples[:, 0].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(mono.size)))
    return float(np.fft.rfftfreq(mono.size, 1 / rate)[int(np.argmax(spectrum))])
