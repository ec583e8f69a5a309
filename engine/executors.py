"""The process's executor for CPU and GPU work, kept off the event loop.

numba kernels and CTranslate2 release the GIL, so a thread pool gives real
parallelism without pickling frames between processes.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

_executor: ThreadPoolExecutor | None = None
_workers = 0


def configure_executor(workers: int) -> None:
    """Set the thread count (0 = one per core); takes effect if no work has run yet."""
    global _workers
    _workers = workers


def work_executor() -> ThreadPoolExecutor:
    """The shared executor (created on first use)."""
    global _executor
    if _executor is None:
        workers = _workers or os.cpu_count() or 2
        _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="auralink-work")
    return _executor
