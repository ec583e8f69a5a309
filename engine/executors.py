"""The process's executor for CPU and GPU work, kept off the event loop.

numba kernels and CTranslate2 release the GIL, so a thread pool gives real
parallelism without pickling frames between processes.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

_executor: ThreadPoolExecutor | None = None


def work_executor() -> ThreadPoolExecutor:
    """The shared executor (one thread per core, created on first use)."""
    global _executor
    if _executor is None:
        workers = int(os.environ.get("AURALINK_WORKER_THREADS", "0")) or (os.cpu_count() or 2)
        _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="auralink-work")
    return _executor
