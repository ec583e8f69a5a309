"""Speech: packaged Whisper models, streaming speech-to-text, translation and their WebSocket endpoints."""
