"""Process-wide thread control and build information."""

from __future__ import annotations

import contextlib
import importlib
import platform
import sys
from typing import Iterator, Optional

from . import _core
from ._version import __version__


def get_num_threads() -> int:
    """Number of threads fastmem kernels use when a call does not say (``n_threads=None``)."""
    return int(_core.get_num_threads())


def set_num_threads(n: int) -> None:
    """Set the process-wide number of threads of fastmem kernels.

    One setting serves every Python thread (``omp_set_num_threads`` would only
    affect the thread that calls it). Results do not depend on this number beyond
    rounding: parallel loops split work in fixed blocks.

    Parameters
    ----------
    n : int
        Number of threads, >= 1.
    """
    from ._validation import check_int

    _core.set_num_threads(check_int(n, "n", minimum=1))


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Context manager that sets the thread count for a block and restores it after."""
    old = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(old)


def _optional_version(name: str) -> Optional[str]:
    try:
        module = importlib.import_module(name)
    except Exception:  # pragma: no cover - absent optional dependency
        return None
    return getattr(module, "__version__", "unknown")


def build_info() -> dict:
    """Versions, OpenMP availability, threads and compiler flags, as a dict."""
    info = dict(_core.build_info())
    info["python"] = sys.version.split()[0]
    info["platform"] = platform.platform()
    info["threads"] = get_num_threads()
    info["hardware_threads"] = int(_core.hardware_threads())
    info["numpy"] = _optional_version("numpy")
    for name in ("scipy", "pandas", "matplotlib", "tqdm", "sklearn", "celer", "cvxpy", "torch", "dask", "reservoirpy"):
        info[name] = _optional_version(name)
    return info


def show_config(file=None) -> None:
    """Print fastmem's version, OpenMP, thread count, Eigen and compiler flags, and optional packages."""
    if file is not None and not callable(getattr(file, "write", None)):
        raise TypeError(f"file must be a writable text stream (with .write) or None, got {type(file).__name__}")
    info = build_info()
    out = file or sys.stdout
    print(f"fastmem {__version__}", file=out)
    for key in ("python", "platform", "numpy", "openmp", "openmp_version", "threads", "hardware_threads",
                "eigen", "simd_variant", "eigen_simd", "eigen_threads", "compiler_flags"):
        print(f"  {key:<17} {info[key]}", file=out)
    print("  optional packages:", file=out)
    for name in ("scipy", "pandas", "matplotlib", "tqdm", "sklearn", "celer", "cvxpy", "torch", "dask", "reservoirpy"):
        print(f"    {name:<15} {info[name] or 'not installed'}", file=out)
