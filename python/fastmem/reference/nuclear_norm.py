"""Plain numpy nuclear-norm recovery: proximal gradient with singular value thresholding.

Minimises, for one right-hand side y (M,),

    F(S) = 0.5 * ||y - A @ S.reshape(-1)||_2^2 + lam * ||S||_*,     S of shape (N, L),

by the proximal-gradient iteration (ISTA; FISTA momentum with ``accelerated=True``, and the
adaptive restart of the C++ solver with ``restart=True``)

    S+ = D_{lam/Lip}(Y - (1/Lip) * (A.T @ (A @ vec(Y) - y)).reshape(N, L)),
    D_tau(Z) = U @ diag(max(sigma - tau, 0)) @ V^T     (numpy.linalg.svd),

stopping when ``||S+ - Y||_F <= tol * ||S+||_F`` (the same rule as the C++ solver) or after
``max_iter`` steps. ``greedy`` and ``continuation`` give the C++ solver's greedy FISTA and
continuation on lam, step for step (see :func:`nuclear_norm`). Written for clarity but not wastefully (one product with A and one with
A^T per step, numpy's LAPACK SVD), one right-hand side at a time; the tests and the benchmark
compare :func:`fastmem.stm.nuclear_norm` against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np


@dataclass(frozen=True)
class ReferenceNuclearNormResult:
    S_hat: np.ndarray
    objective: float
    iterations: int
    converged: bool
    lipschitz: float


def singular_value_threshold(Z: np.ndarray, tau: float) -> Tuple[np.ndarray, float, int]:
    """``D_tau(Z)``, its nuclear norm and its rank, from numpy's SVD."""
    U, s, Vt = np.linalg.svd(Z, full_matrices=False)
    kept = np.maximum(s - tau, 0.0)
    r = int(np.count_nonzero(kept))
    return (U[:, :r] * kept[:r]) @ Vt[:r], float(kept.sum()), r


def objective(A, y: np.ndarray, S: np.ndarray, lam: float) -> float:
    """``0.5 ||y - A vec(S)||^2 + lam ||S||_*``."""
    r = y - A @ S.reshape(-1)
    return 0.5 * float(r @ r) + lam * float(np.linalg.svd(S, compute_uv=False).sum())


def operator_norm_squared(A, iterations: int = 500, rtol: float = 1e-7) -> float:
    """``||A||_2^2`` by power iteration on A^T A (from a fixed start vector)."""
    v = 1.0 + 0.5 * np.cos(0.7 * np.arange(A.shape[1]) + 0.3)
    v /= np.linalg.norm(v)
    est = 0.0
    for _ in range(iterations):
        w = A.T @ (A @ v)
        new = float(np.linalg.norm(w))
        if new == 0.0:
            return 0.0
        v = w / new
        if abs(new - est) <= rtol * new:
            est = new
            break
        est = new
    return est


def nuclear_norm(
    A,
    y,
    shape: Tuple[int, int],
    lam: float,
    S0: Optional[np.ndarray] = None,
    tol: float = 1e-6,
    max_iter: int = 10000,
    lipschitz: Optional[float] = None,
    accelerated: bool = False,
    restart: bool = False,
    target_objective: Optional[float] = None,
    greedy: float = 0.0,
    continuation: float = 0.0,
    stage_tol: float = 1e-3,
) -> ReferenceNuclearNormResult:
    """Proximal gradient (ISTA; FISTA with ``accelerated``) for min 0.5||y - A vec(S)||^2 + lam ||S||_*.

    One product with A and one with A^T per step: ``A X`` is kept, and the momentum point's
    ``A Y = A X + beta (A X - A X_prev)`` follows by linearity, so the objective of every
    iterate is known without an extra product. ``restart`` adds the gradient-based adaptive
    restart of O'Donoghue & Candes (momentum reset when ``(Y - X+) . (X+ - X) > 0``), the
    rule the C++ solver uses. With ``target_objective``, also stop (``converged=True``) as
    soon as an iterate's objective is <= the target (checked every step, for free); the
    benchmark uses it to time every solver to the same accuracy.

    ``greedy = g`` in [1, 2) (needs ``accelerated``): greedy FISTA (Liang, Luo & Schoenlieb 2022),
    momentum coefficient 1, step ``g / Lip``, the gradient restart (the next momentum is zero) and
    the safeguard ``g <- max(0.96 g, 1)`` whenever ``||S+ - S||`` exceeds the first step of the
    stage. ``continuation = c`` in (0, 1) (cold starts only): solve for ``lam_max c, lam_max c^2,
    ...`` (``lam_max = ||A^T y||_2``) down to lam, each stage until its relative step is below
    ``stage_tol``, warm-starting the next with the momentum reset. The step rules are relative to
    the step taken: ``||S+ - Y|| <= tol * (g / 1) * ||S+||``. The target check uses lam itself.
    """
    N, L = shape
    y = np.asarray(y, dtype=float)
    lip = float(lipschitz) if lipschitz is not None else 1.01 * operator_norm_squared(A)
    lip = lip if lip > 0 else 1.0
    if greedy and not (accelerated and 1.0 <= greedy < 2.0):
        raise ValueError("greedy must be in [1, 2) and needs accelerated=True")
    X = np.zeros((N, L)) if S0 is None else np.array(S0, dtype=float).reshape(N, L)
    AX = A @ X.reshape(-1)
    X_prev, AX_prev = X, AX
    lam_now = lam
    if 0.0 < continuation < 1.0 and S0 is None and lam > 0.0:
        lam_max = float(np.linalg.norm((A.T @ y).reshape(N, L), 2))
        lam_now = continuation * lam_max if continuation * lam_max > lam else lam
    g = greedy if greedy else 1.0
    first, d0 = True, 0.0
    t = 1.0
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        if accelerated:
            t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            beta = 1.0 if greedy else (t - 1.0) / t_next
            Y = X + beta * (X - X_prev)
            AY = AX + beta * (AX - AX_prev)
        else:
            t_next, Y, AY = 1.0, X, AX
        h = g / lip
        grad = (A.T @ (AY - y)).reshape(N, L)
        X_new, nuc, _ = singular_value_threshold(Y - h * grad, lam_now * h)
        AX_new = A @ X_new.reshape(-1)
        step = np.linalg.norm(X_new - Y)
        g_used = g
        rst = (restart or greedy) and accelerated and float(np.vdot(Y - X_new, X_new - X)) > 0.0
        if greedy:
            dx = float(np.linalg.norm(X_new - X))
            if first:
                first, d0 = False, dx
            elif dx > d0:
                g = max(0.96 * g, 1.0)
        t = 1.0 if rst else t_next
        if greedy and rst:  # zero momentum next
            X_prev, AX_prev, X, AX = X_new, AX_new, X_new, AX_new
        else:
            X_prev, AX_prev, X, AX = X, AX, X_new, AX_new
        if lam_now > lam:
            if step <= stage_tol * g_used * np.linalg.norm(X_new):  # next continuation stage
                lam_now = continuation * lam_now if continuation * lam_now > lam else lam
                g, first = (greedy if greedy else 1.0), True
                X_prev, AX_prev, t = X, AX, 1.0
        elif step <= tol * g_used * np.linalg.norm(X_new):
            converged = True
            break
        if target_objective is not None:
            r = AX - y
            if 0.5 * float(r @ r) + lam * nuc <= target_objective:
                converged = True
                break
    return ReferenceNuclearNormResult(
        S_hat=X, objective=objective(A, y, X, lam), iterations=it, converged=converged, lipschitz=lip
    )
