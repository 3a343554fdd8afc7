"""numpy reference of the LASSO solver of :mod:`fastmem.stm.lasso`: plain FISTA.

Minimises ``0.5 ||y - A x||^2 + lam ||x||_1`` for one right-hand side with a
fixed step ``1 / ||A||_2^2`` (exact spectral norm), Beck & Teboulle's momentum and
no restarts; stops when the duality gap is below ``tol`` times the objective.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np


def objective(A: np.ndarray, y: np.ndarray, x: np.ndarray, lam: float) -> float:
    """``0.5 ||y - A x||^2 + lam ||x||_1``."""
    r = y - A @ x
    return 0.5 * float(r @ r) + lam * float(np.abs(x).sum())


def dual_objective(A: np.ndarray, y: np.ndarray, x: np.ndarray, lam: float) -> float:
    """``0.5||y||^2 - 0.5||y - theta||^2`` at the dual point ``theta = r min(1, lam / ||A^T r||_inf)``, r = y - A x."""
    r = y - A @ x
    c = np.abs(A.T @ r).max() if A.size else 0.0
    theta = r * (min(1.0, lam / c) if c > 0 else 1.0)
    return 0.5 * float(y @ y) - 0.5 * float((y - theta) @ (y - theta))


def duality_gap(A: np.ndarray, y: np.ndarray, x: np.ndarray, lam: float) -> float:
    """Primal minus dual objective (>= 0; an upper bound on the suboptimality of x)."""
    return objective(A, y, x, lam) - dual_objective(A, y, x, lam)


def soft_threshold(v: np.ndarray, t: float) -> np.ndarray:
    return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)


def lasso(A, y, lam: float, tol: float = 1e-6, max_iter: int = 100000) -> Tuple[np.ndarray, float, float, int]:
    """Plain FISTA. Returns (x, objective, gap, iterations)."""
    A = np.asarray(A, dtype=float)
    y = np.asarray(y, dtype=float)
    P = A.shape[1]
    Lip = np.linalg.norm(A, 2) ** 2 if A.size else 0.0
    Lip = Lip if Lip > 0 else 1.0
    x = np.zeros(P)
    z = x.copy()
    t = 1.0
    it = 0
    for it in range(1, max_iter + 1):
        x_new = soft_threshold(z - A.T @ (A @ z - y) / Lip, lam / Lip)
        t_new = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        z = x_new + (t - 1) / t_new * (x_new - x)
        x, t = x_new, t_new
        if it % 10 == 0:
            F = objective(A, y, x, lam)
            if F - dual_objective(A, y, x, lam) <= tol * F:
                break
    F = objective(A, y, x, lam)
    return x, F, F - dual_objective(A, y, x, lam), it
