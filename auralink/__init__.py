"""AuraLink's process shell: the ``auralink`` command line and process-wide settings.

The product lives in the top-level packages ``engine`` (graph runtime),
``pipeline`` (stages and pipeline files), ``kernels``, ``control_plane``,
``ui``, ``protos`` and ``benchmarks``; this package only wires them together.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("auralink")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
