import time
from pathlib import Path

import numpy as np
import pytest

from engine.frames import AudioFrame
from engine.harness import run_source
from pipeline.sources.file import FileSource, FileSourceSettings
from pipeline.sources.microphone import MicrophoneSource, MicrophoneSourceSettings
from pipeline.sources.synthetic import SyntheticSource, SyntheticSourceSettings
from tests.support.media import dominant_frequency, tone, write_audio
from tests.support.paths import SPEECH_SAMPLE


def joined(frames: list[AudioFrame]) -> np.ndarray:
    return np.concatenate([frame.samples for frame in frames])


async def test_tone_has_its_frequency_level_and_exact_length() -> None:
    settings = SyntheticSourceSettings(
        signal="tone", frequency_hz=1000, level_dbfs=-6, sample_rate=16000, channels=2, duration_s=0.5, frame_ms=20
    )
    collected = await run_source(SyntheticSource("tone", settings))
    frames = collected.of_type(AudioFrame)
    samples = joined(frames)
    assert samples.shape == (8000, 2) and len(frames) == 25
    assert dominant_frequency(samples, 16000) == pytest.approx(1000, abs=5)
    assert np.abs(samples).max() == pytest.approx(32767 * 10 ** (-6 / 20), rel=0.01)
    assert [frame.pts_ns for frame in frames[:3]] == [0, 20_000_000, 40_000_000]


async def test_silence_is_zero_and_noise_is_random_but_seeded() -> None:
    silence = await run_source(SyntheticSource("s", SyntheticSourceSettings(signal="silence", duration_s=0.1)))
    assert not joined(silence.of_type(AudioFrame)).any()
    noise = [
        joined(
            (
                await run_source(
                    SyntheticSource("n", SyntheticSourceSettings(signal="noise", seed=seed, duration_s=0.1))
                )
            ).of_type(AudioFrame)
        )
        for seed in (1, 1, 2)
    ]
    assert np.array_equal(noise[0], noise[1]) and not np.array_equal(noise[0], noise[2])
    assert noise[0].std() > 1000


async def test_realtime_pacing_releases_frames_no_faster_than_the_clock() -> None:
    started = time.monotonic()
    await run_source(SyntheticSource("t", SyntheticSourceSettings(duration_s=0.3, realtime=True)))
    assert time.monotonic() - started >= 0.28


async def test_the_bundled_speech_sample_decodes_completely() -> None:
    source = FileSource("speech", FileSourceSettings(path=SPEECH_SAMPLE, frame_ms=20))
    collected = await run_source(source)
    frames = collected.of_type(AudioFrame)
    assert collected.result.ok
    assert {frame.sample_rate for frame in frames} == {16000}
    assert sum(frame.n_samples for frame in frames) == 113_600  # 7.1 s, as soxi reports
    assert all(frame.n_samples == 320 for frame in frames[:-1])
    assert np.abs(joined(frames)).max() > 3000  # real speech, not silence


@pytest.mark.parametrize(
    ("suffix", "codec", "rate", "channels"),
    [
        (".wav", "pcm_s16le", 48000, 2),
        (".flac", "flac", 22050, 1),
        (".mp3", "libmp3lame", 44100, 2),
        (".ogg", "libopus", 48000, 1),
        (".mp4", "aac", 44100, 2),
    ],
)
async def test_common_containers_decode_with_their_rate_and_channels(
    tmp_path: Path, suffix: str, codec: str, rate: int, channels: int
) -> None:
    path = write_audio(tmp_path / f"tone{suffix}", tone(1.0, rate, channels, frequency=880), rate, codec)
    source = FileSource("f", FileSourceSettings(path=path))
    frames = (await run_source(source)).of_type(AudioFrame)
    samples = joined(frames)
    assert frames[0].sample_rate == rate and samples.shape[1] == channels
    assert samples.shape[0] == pytest.approx(rate, rel=0.06)  # lossy codecs pad a little
    assert dominant_frequency(samples, rate) == pytest.approx(880, abs=10)


async def test_a_corrupt_file_fails_the_run_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "broken.flac"
    path.write_bytes(b"fLaC" + bytes(range(256)) * 10)
    collected = await run_source(FileSource("f", FileSourceSettings(path=path)))
    assert collected.result.error is not None
    assert collected.result.error.startswith("stage 'f' failed: cannot ")
    assert str(path) in collected.result.error


async def test_a_file_without_audio_says_so(tmp_path: Path) -> None:
    import av

    path = tmp_path / "video.mp4"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for index in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), index * 40, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    collected = await run_source(FileSource("f", FileSourceSettings(path=path)))
    assert collected.result.error == f"stage 'f' failed: '{path}' has no audio stream"


async def test_microphone_without_a_device_fails_with_a_clear_message() -> None:
    collected = await run_source(MicrophoneSource("mic", MicrophoneSourceSettings()))
    assert collected.result.error in {
        "stage 'mic' failed: no audio input device found on this machine; use file_source or synthetic_source instead",
        "stage 'mic' failed: the PortAudio library is missing, so no sound device can be opened "
        "(on Debian or Ubuntu: apt-get install libportaudio2)",
    }
