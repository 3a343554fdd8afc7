"""Scale handling for the solvers: finite inputs far from 1 in magnitude.

The LASSO solution is equivariant under scaling (``a(c y, c lam) = c a(y, lam)``, and
``A -> s A`` maps to ``a -> a / s``), so inputs whose squares would underflow (1e-300)
or lose precision are solved at unit scale and the result is scaled back. Inputs whose
squares overflow are refused before solving (``_validation.check_norm``).
"""

from __future__ import annotations

import numpy as np

# Magnitudes whose squares (and sums of ~1e8 squares) stay normal float64 numbers.
SAFE_LOW, SAFE_HIGH = 1e-100, 1e100


def safe_scale(peak):
    """The divisor bringing a peak magnitude into [SAFE_LOW, SAFE_HIGH]: 1 when it already is (or is 0)."""
    peak = np.asarray(peak, dtype=float)
    bad = (peak > 0) & ((peak < SAFE_LOW) | (peak > SAFE_HIGH))
    return np.where(bad, peak, 1.0)


def column_scales(Y: np.ndarray) -> np.ndarray:
    """Per column of Y (M, B): the divisor of :func:`safe_scale`."""
    return safe_scale(np.max(np.abs(Y), axis=0)) if Y.size else np.ones(Y.shape[1])


def check_operator_gain(op, name: str = "A", limit: float = 1e150) -> None:
    """Refuse a matrix-free network operator whose entries are too large for float64.

    ``||A^T g||`` for one fixed Gaussian probe g estimates ``||A||_F`` (Hutchinson); a
    network with gain > 1 over N steps (``|lambda|^N`` past 1e150) would overflow
    inside the solver, or worse, return a finite wrong answer. One adjoint: cheap next
    to a solve.
    """
    g = np.random.default_rng(0).standard_normal(op.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        v = op.rmatvec(g)
        peak = float(np.max(np.abs(v))) if v.size else 0.0
    if not np.isfinite(peak) or peak > limit:
        raise ValueError(
            f"{name} is too large for float64 arithmetic: the network operator's columns W^k Z grow past {limit:.0e} "
            f"over N = {op.N} steps (|A^T g| = {peak:.3g} for a unit Gaussian probe g); use a network with "
            "spectral radius <= 1, fewer steps, or a smaller Z"
        )
