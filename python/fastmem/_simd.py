"""Choose the build of the C++ core that suits this CPU.

pip builds on x86-64 ship two copies of the extension: ``_core`` (baseline
SSE2, runs anywhere) and ``_core_x86_64_v3`` (AVX2 + FMA, about 3x faster on
GEMM-bound kernels). Eigen fixes its SIMD kernels at compile time, so the choice
is made here, once, at import. ``FASTMEM_SIMD=baseline`` forces the first. The
two give the same results up to floating-point rounding (FMA contracts a*b+c).
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

_V3_FLAGS = {"avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "lzcnt", "xsave"}
# /proc/cpuinfo spells LZCNT "abm" and BMI1 "bmi1".
_CPUINFO_ALIASES = {"lzcnt": "abm"}


def cpu_supports_x86_64_v3() -> bool:
    """True on Linux x86-64 CPUs with every feature of the x86-64-v3 level."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return all(flag in flags or _CPUINFO_ALIASES.get(flag) in flags for flag in _V3_FLAGS)
    except OSError:
        return False
    return False


def load_core() -> ModuleType:
    """Import the fastest usable core and register it as ``fastmem._core``."""
    choice = os.environ.get("FASTMEM_SIMD", "auto").strip().lower()
    if choice not in ("auto", "baseline", "x86-64-v3"):
        raise ImportError(f"FASTMEM_SIMD must be 'auto', 'baseline' or 'x86-64-v3', got {choice!r}")
    if choice != "baseline" and (choice == "x86-64-v3" or cpu_supports_x86_64_v3()):
        try:
            module = importlib.import_module(f"{__package__}._core_x86_64_v3")
        except ImportError:
            if choice == "x86-64-v3":
                raise
        else:
            sys.modules[f"{__package__}._core"] = module
            return module
    return importlib.import_module(f"{__package__}._core")
