"""Streaming voice-activity detection with the Silero model shipped inside faster-whisper.

faster-whisper's own wrapper scores a whole buffer at once; a stream needs the
recurrent state carried from one chunk to the next, so this keeps it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

WINDOW = 512
"""Samples per decision at 16 kHz (32 ms), as the model was trained."""
CONTEXT = 64


class StreamingVad:
    """Speech probability for each 32 ms window of a 16 kHz mono stream."""

    def __init__(self) -> None:
        from faster_whisper.vad import get_vad_model  # heavy: imported with the first stream

        self._session = get_vad_model().session
        self._state_h = np.zeros((1, 1, 128), dtype=np.float32)
        self._state_c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def feed(self, audio: npt.NDArray[np.float32]) -> list[float]:
        """Add samples; returns one probability per window completed by them."""
        pending = np.concatenate([self._pending, audio])
        usable = len(pending) - len(pending) % WINDOW
        self._pending = pending[usable:]
        probabilities = []
        for start in range(0, usable, WINDOW):
            window = pending[start : start + WINDOW]
            batch = np.concatenate([self._context, window])[np.newaxis, :]
            output, self._state_h, self._state_c = self._session.run(
                None, {"input": batch, "h": self._state_h, "c": self._state_c}
            )
            self._context = window[-CONTEXT:]
            probabilities.append(float(np.asarray(output).reshape(-1)[0]))
        return probabilities
