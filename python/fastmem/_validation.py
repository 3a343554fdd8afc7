"""Argument checks shared by every public function.

The rule for arrays: real numeric input (float32, integers, bool) is converted to
C-contiguous float64; complex, object and string arrays raise TypeError; NaN or
Inf raise ValueError unless allowed; non-contiguous views are copied. Every
message names the argument and says what was expected.
"""

from __future__ import annotations

import numbers
import os
from typing import Optional, Sequence, Tuple

import numpy as np

# Refuse allocations larger than this fraction of physical memory before making them.
_MEMORY_FRACTION = 0.8


def physical_memory_bytes() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 16 * 2**30


_NUMBER_CHARACTERS = frozenset("0123456789.eE+-")


def memory_limit_bytes() -> float:
    """Bytes fastmem may allocate: ``FASTMEM_MEMORY_LIMIT`` (bytes) if set, else 80% of physical memory.

    Set the variable when a job may use less than the machine holds (a batch scheduler's
    memory limit); the C++ core reads the same variable.
    """
    env = os.environ.get("FASTMEM_MEMORY_LIMIT", "")
    if env:
        # Digits, '.', 'e', signs only (8e9, 8000000000): the grammar on which Python's float() and
        # the C++ core's strtod agree, so both sides accept and reject the same strings (float()
        # alone would take ' 8e9', '8_000' and 'infinity', which the core refuses).
        try:
            value = float(env) if set(env) <= _NUMBER_CHARACTERS else float("nan")
        except ValueError:
            value = float("nan")
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"FASTMEM_MEMORY_LIMIT must be a positive number of bytes, got {env!r}")
        return value
    return _MEMORY_FRACTION * physical_memory_bytes()


def check_allocation(n_values: int, what: str, itemsize: int = 8) -> None:
    """Raise MemoryError before allocating ``n_values`` numbers that cannot fit in memory."""
    need = int(n_values) * itemsize
    limit = memory_limit_bytes()
    if need > limit:
        raise MemoryError(
            f"{what} would need {need / 2**30:.1f} GiB, more than this machine can hold "
            f"({limit / 2**30:.1f} GiB usable; FASTMEM_MEMORY_LIMIT sets it); reduce the sizes"
        )


def as_float_array(
    x,
    name: str,
    ndim: Optional[int | Sequence[int]] = None,
    shape: Optional[Tuple[Optional[int], ...]] = None,
    allow_empty: bool = True,
    finite: bool = True,
) -> np.ndarray:
    """Return ``x`` as a C-contiguous float64 array after checking it.

    Parameters
    ----------
    x : array_like
    name : str
        The argument's name, used in error messages.
    ndim : int or sequence of int, optional
        Allowed numbers of dimensions.
    shape : tuple, optional
        Expected shape; ``None`` entries match any size.
    allow_empty : bool
        Whether an array with zero elements is accepted.
    finite : bool
        Reject NaN and Inf.
    """
    if x is None:
        raise TypeError(f"{name} must be an array, got None")
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except Exception as exc:  # ragged nested lists and the like
            raise TypeError(f"{name} must be a numeric array: {exc}") from None
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-d" for d in allowed)
            raise ValueError(f"{name} must be {want}, got {arr.ndim}-d array of shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    # a broadcast or strided view can be far larger than the memory it occupies
    check_allocation(arr.size, f"{name} of shape {arr.shape} as float64")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if finite and arr.size and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or Inf")
    return arr


def check_int(value, name: str, minimum: Optional[int] = None, maximum: Optional[int] = None) -> int:
    """An integer argument (Python or numpy int, not bool, not float) within bounds."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_float(
    value,
    name: str,
    minimum: Optional[float] = None,
    maximum: Optional[float] = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
) -> float:
    """A finite real scalar within bounds."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and (value < minimum or (not min_inclusive and value == minimum)):
        op = ">=" if min_inclusive else ">"
        raise ValueError(f"{name} must be {op} {minimum}, got {value}")
    if maximum is not None and (value > maximum or (not max_inclusive and value == maximum)):
        op = "<=" if max_inclusive else "<"
        raise ValueError(f"{name} must be {op} {maximum}, got {value}")
    return value


def check_bool(value, name: str) -> bool:
    """A bool argument (Python or numpy bool; not an int, a string or an array)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}")
    return value


def check_threads(n_threads) -> int:
    """``n_threads`` keyword -> the kernels' convention (0 = the process-wide setting)."""
    if n_threads is None:
        return 0
    return check_int(n_threads, "n_threads", minimum=1, maximum=4096)


# Norms above this are refused where the solvers square them (sums of squares over up to
# ~1e8 terms then stay far below float64's 1.8e308).
MAX_NORM = 1e150


def check_norm(arr: np.ndarray, name: str, limit: float = MAX_NORM) -> None:
    """Refuse a finite array whose Euclidean norm is too large to square in float64.

    Finite inputs like ``A * 1e300`` would otherwise overflow to Inf/NaN inside a
    solver. One pass (the largest magnitude) in the common case; the exact norm is
    computed only when that bound is inconclusive.
    """
    if arr.size == 0:
        return
    peak = float(np.max(np.abs(arr)))
    if peak == 0.0 or peak * np.sqrt(arr.size) <= limit:
        return
    norm = peak * float(np.linalg.norm((arr / peak).reshape(-1)))
    if not norm <= limit:
        raise ValueError(
            f"{name} is too large for float64 arithmetic: its norm {norm:.3g} exceeds {limit:.0e} "
            f"(its square would overflow); rescale {name}"
        )
