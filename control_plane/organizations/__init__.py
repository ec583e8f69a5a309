"""The organizations domain."""
