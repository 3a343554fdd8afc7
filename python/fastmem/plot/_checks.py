"""Argument checks shared by the plot functions (messages name the argument).

The plot layer draws results of fastmem's own functions; these checks turn a wrong
argument (None, a string, a bare number where a mapping, a Figure or an Axes is
expected, a bad figure size) into a TypeError/ValueError naming it, instead of an
AttributeError from deep inside matplotlib.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any, Optional, Tuple

import numpy as np

from .._validation import check_bool, check_float, check_int


def check_mapping(value: Any, name: str, what: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping {what}, got {type(value).__name__}")
    if len(value) == 0:
        raise ValueError(f"{name} must hold at least one entry ({what})")
    return value


def check_optional_mapping(value: Any, name: str, what: str) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be None or a mapping {what}, got {type(value).__name__}")
    return value


def check_instance(value: Any, name: str, cls, what: Optional[str] = None):
    if not isinstance(value, cls):
        want = what or getattr(cls, "__name__", str(cls))
        raise TypeError(f"{name} must be a {want}, got {type(value).__name__}")
    return value


def check_figsize(value: Any, name: str = "figsize") -> Optional[Tuple[float, float]]:
    """None or a pair of positive, finite numbers (inches)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a pair (width, height) in inches, got {value!r}")
    w = check_float(value[0], f"{name}[0]", minimum=0.0, maximum=1000.0, min_inclusive=False)
    h = check_float(value[1], f"{name}[1]", minimum=0.0, maximum=1000.0, min_inclusive=False)
    return (w, h)


def check_figure(value: Any, name: str = "fig"):
    """None or a matplotlib Figure."""
    if value is None:
        return None
    from matplotlib.figure import Figure

    return check_instance(value, name, Figure, "matplotlib Figure")


def check_axes(value: Any, name: str = "ax"):
    """None or a matplotlib Axes."""
    if value is None:
        return None
    from matplotlib.axes import Axes

    return check_instance(value, name, Axes, "matplotlib Axes")


def check_positive_int(value: Any, name: str, maximum: Optional[int] = None) -> int:
    return check_int(value, name, minimum=1, maximum=maximum)


def check_flag(value: Any, name: str) -> bool:
    return check_bool(value, name)


def check_real(value: Any, name: str, **bounds) -> float:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    return check_float(value, name, **bounds)
