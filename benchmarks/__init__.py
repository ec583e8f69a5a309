"""Benchmark suites, run by ``auralink bench`` and guarded against regressions."""
