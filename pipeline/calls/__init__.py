"""Calls: rooms, join tokens and WebRTC signaling."""
