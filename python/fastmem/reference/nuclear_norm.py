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


def nuclear_norm_dr(
    A,
    y,
    shape: Tuple[int, int],
    lam: float,
    S0: Optional[np.ndarray] = None,
    tol: float = 1e-6,
    max_iter: int = 10000,
    memory: int = 10,
    target_objective: Optional[float] = None,
) -> ReferenceNuclearNormResult:
    """Douglas-Rachford splitting with Anderson acceleration, the algorithm of
    ``nuclear_norm(method="dr")`` (``cpp/include/fastmem/nuclear_norm_dr.hpp``) step for step.

    With ``f = 0.5 ||y - A x||^2``, ``g = lam ||S||_*`` and step t, on the point z:
    ``x = (I + t A^T A)^{-1} (z + t A^T y)`` (by Woodbury, ``b - t A^T (I + t A A^T)^{-1} A b``,
    one Cholesky factor of ``I + t A A^T`` per t), ``w = D_{t lam}(2 x - z)`` and
    ``T(z) = z + w - x``; Anderson type II (memory ``memory``) on T, the history cleared and z
    reset to the best plain step whenever ``||T(z) - z||`` grows above the best seen by more
    than 1e-4 relative; ``t = (P / ||A||_F^2) 2^k``, k from ``round(log2(0.1 lam_max / lam))``
    and moved by one every 10 iterations (at most 10 times) when the relative primal residual
    ``||w - x|| / ||w||`` and dual residual ``||w - w_prev|| / (t ||grad f(x)||)`` differ by more
    than 3x; a warm start S0 enters as ``z = S0 + t grad f(S0)`` (``prox_{t f}(z) = S0``). Stops
    when ``||w - x|| <= tol ||w|| + 256 eps ||b||`` (``b = z + t A^T y``: the rounding floor of
    x; or ``||w - x|| <= tol ||z - x||`` where w = 0); the answer is w. With
    ``target_objective``, also stops (``converged=True``) once w's objective is <= the target
    (one extra product per step; the benchmark's equal-accuracy timing). ``lipschitz`` of the
    result is 0 (no step uses it).
    """
    import scipy.linalg

    N, L = shape
    A = np.asarray(A, dtype=float)
    y = np.asarray(y, dtype=float)
    P = N * L
    K = A @ A.T
    q = A.T @ y
    lam_max = float(np.linalg.norm(q.reshape(N, L), 2))
    trK = float(np.trace(K))
    unit = P / trK if trK > 0 and np.isfinite(trK) else 1.0
    k = int(np.clip(np.round(np.log2(0.1 * lam_max / lam)), -40, 40)) if lam > 0 and lam_max > 0 else 0
    factors = {}

    def solve(k_: int, rhs: np.ndarray) -> np.ndarray:
        if k_ not in factors:
            factors[k_] = scipy.linalg.cho_factor(np.eye(K.shape[0]) + unit * 2.0**k_ * K, lower=True)
        return scipy.linalg.cho_solve(factors[k_], rhs)

    t = unit * 2.0**k
    w = np.zeros(P) if S0 is None else np.array(S0, dtype=float).reshape(-1)
    z = w.copy() if S0 is None else w + t * (A.T @ (A @ w - y))  # prox_{t f}(z) = S0
    Zh, Fh = [], []
    best, zb, wprev, changes = np.inf, z, None, 0
    converged = False
    it = 0
    while it < max_iter:
        b = z + t * q
        x = b - t * (A.T @ solve(k, A @ b))
        w, nuc, _ = singular_value_threshold((2.0 * x - z).reshape(N, L), t * lam)
        w = w.reshape(-1)
        it += 1
        f = w - x
        fn, wn = float(np.linalg.norm(f)), float(np.linalg.norm(w))
        u = (z - x) / t
        floor = 256.0 * np.finfo(float).eps * float(np.linalg.norm(b))  # rounding of x = b - t A^T v
        if fn <= tol * wn + floor or (wn == 0.0 and fn <= tol * t * np.linalg.norm(u)) or fn == 0.0:
            converged = True
            break
        if target_objective is not None:
            r = A @ w - y
            if 0.5 * float(r @ r) + lam * nuc <= target_objective:
                converged = True
                break
        if it >= max_iter:
            break
        if wprev is not None and it % 10 == 0 and changes < 10:
            rp = fn / max(wn, np.finfo(float).tiny)
            sd = float(np.linalg.norm(w - wprev)) / max(t * float(np.linalg.norm(u)), np.finfo(float).tiny)
            kn = k - 1 if rp > 3.0 * sd else (k + 1 if sd > 3.0 * rp else k)
            kn = int(np.clip(kn, -40, 40))
            if kn != k:
                k, t = kn, unit * 2.0**kn
                z = w + t * u
                Zh, Fh, best, wprev = [], [], np.inf, None
                changes += 1
                continue
        wprev = w
        Tz = z + f
        if Zh and fn > best * (1.0 + 1e-4):  # safeguard: restart from the best plain step
            Zh, Fh, z, best = [], [], zb, np.inf  # T(z_best) is taken whatever its residual
            continue
        if fn < best:
            best, zb = fn, Tz
        if memory == 0:
            z = Tz
            continue
        Zh.append(Tz)
        Fh.append(f)
        if len(Zh) > memory + 1:
            Zh.pop(0)
            Fh.pop(0)
        if len(Zh) == 1:
            z = Tz
            continue
        dF = np.diff(np.array(Fh).T, axis=1)
        H = dF.T @ dF
        tr = float(np.trace(H))
        if not (tr > 0.0 and np.isfinite(tr)):
            z = Tz
            continue
        gamma = np.linalg.solve(H + 1e-9 * tr * np.eye(H.shape[0]), dF.T @ f)
        if not np.all(np.isfinite(gamma)):
            z = Tz
            continue
        z = Tz - np.diff(np.array(Zh).T, axis=1) @ gamma
    S = w.reshape(N, L)
    return ReferenceNuclearNormResult(S_hat=S, objective=objective(A, y, S, lam), iterations=it, converged=converged,
                                      lipschitz=0.0)
