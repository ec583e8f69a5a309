"""AuraLink's process shell: the ``auralink`` command line, composing the services it launches.

The product lives in the top-level packages ``engine`` (graph runtime), ``pipeline``
(stages and pipeline files), ``kernels``, ``control_plane``, ``ui``, ``protos`` and
``benchmarks``; each service's settings live in ``settings`` and the telemetry contract in
``telemetry``. Nothing in those imports this package: it only wires them together.
"""

from settings import package_version

__version__ = package_version()
