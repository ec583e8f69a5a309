"""Access to sound cards through sounddevice (PortAudio), with operator-friendly errors."""

from __future__ import annotations

from types import ModuleType
from typing import Any, Literal

from engine.stage import StageError

Direction = Literal["input", "output"]


def load_sounddevice() -> ModuleType:
    """Import sounddevice, explaining a missing PortAudio library."""
    try:
        import sounddevice
    except OSError as error:
        raise StageError(
            "the PortAudio library is missing, so no sound device can be opened "
            "(on Debian or Ubuntu: apt-get install libportaudio2)"
        ) from error
    module: ModuleType = sounddevice
    return module


def find_device(direction: Direction, device: str | int | None) -> dict[str, Any]:
    """The device that ``device`` names (or the default), or a clear :class:`StageError`."""
    sd = load_sounddevice()
    channels_key = "max_input_channels" if direction == "input" else "max_output_channels"
    available = [d for d in sd.query_devices() if d[channels_key] > 0]
    if not available:
        hint = "use file_source or synthetic_source" if direction == "input" else "use file_sink"
        raise StageError(f"no audio {direction} device found on this machine; {hint} instead")
    if device is None:
        try:
            return dict(sd.query_devices(kind=direction))
        except (ValueError, sd.PortAudioError) as error:
            raise StageError(f"no default audio {direction} device: {error}") from error
    for candidate in available:
        if device in (candidate["index"], candidate["name"]):
            return dict(candidate)
    names = ", ".join(f"{d['index']}: {d['name']}" for d in available)
    raise StageError(f"no audio {direction} device '{device}'; available: {names}")
