"""The calls tests' fixtures: loopback-only ICE for every test here, the test captioner stage."""

from tests.support.engine import captioner, loopback_only

__all__ = ["captioner", "loopback_only"]
