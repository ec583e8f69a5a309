"""Fixtures shared with the calls tests: loopback-only ICE for every test here, the test captioner stage."""

from tests.pipeline.calls.conftest import captioner, loopback_only

__all__ = ["captioner", "loopback_only"]
