"""numpy reference of the fixed-point finder of :mod:`fastmem.dynamics.fixed_points`.

The same algorithm as the C++ kernel (Newton on G(S) = F(S) - S with a backtracking
line search on q, Levenberg-Marquardt where the Jacobian is near singular), one
initial state at a time, written for reading rather than speed.
"""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np


def tanh_map(W: np.ndarray, c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """F(S) = tanh(W S + c)."""
    return np.tanh(W @ s + c)


def speed(W: np.ndarray, c: np.ndarray, s: np.ndarray) -> float:
    """q(S) = 1/2 |F(S) - S|^2."""
    g = tanh_map(W, c, s) - s
    return 0.5 * float(g @ g)


def residual_jacobian(W: np.ndarray, c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """dG/dS = diag(1 - F(S)^2) W - I."""
    f = tanh_map(W, c, s)
    return (1.0 - f**2)[:, None] * W - np.eye(W.shape[0])


def map_jacobian(W: np.ndarray, s: np.ndarray) -> np.ndarray:
    """dF/dS at a fixed point S = F(S): diag(1 - S^2) W."""
    return (1.0 - s**2)[:, None] * W


def newton(
    W: np.ndarray,
    c: np.ndarray,
    s0: np.ndarray,
    tol_q: float = 1e-12,
    tol_grad: float = 1e-10,
    tol_step: float = 1e-12,
    max_iter: int = 200,
    rcond_min: float = 1e-8,
    max_halvings: int = 4,
    max_lm_tries: int = 40,
    chord_steps: int = 8,
    polish: bool = True,
) -> Dict[str, object]:
    """Minimise q from s0. Returns dict(point, q, iterations, status) with the kernel's status codes.

    Each iteration tries a chord step (the last factorised Jacobian again, accepted if it at
    least halves |G|, at most ``chord_steps`` in a row), then Newton's step with backtracking,
    then Levenberg-Marquardt's.
    """
    s = np.array(s0, dtype=float)
    N = s.size
    f = tanh_map(W, c, s)
    g = f - s
    q = 0.5 * g @ g
    mu: Optional[float] = None
    J_lu: Optional[np.ndarray] = None  # the last well-conditioned Jacobian (the kernel keeps its LU)
    chord_run = 0
    it = 0
    status = 3
    while True:
        if q < tol_q:
            status = 0
            if polish and q > 0:
                J = J_lu if J_lu is not None else (1.0 - f**2)[:, None] * W - np.eye(N)
                refreshes = 0
                for p in range(8):
                    if q <= 0:
                        break
                    d = np.linalg.solve(J, -g)
                    sn = s + d
                    qn = speed(W, c, sn)
                    ok = bool(np.all(np.isfinite(d)) and qn < q)
                    slow = not ok or qn > 0.25 * q  # kept if lower, but polishing stops
                    if ok:
                        s, q = sn, qn
                        g = tanh_map(W, c, s) - s
                    if slow or (p == 3 and q > 1e-6 * tol_q):
                        if refreshes > 0 or q <= 1e-6 * tol_q:
                            break
                        refreshes += 1
                        J = (1.0 - tanh_map(W, c, s) ** 2)[:, None] * W - np.eye(N)
            break
        accepted = False
        if it < max_iter and J_lu is not None and chord_run < chord_steps:
            d = np.linalg.solve(J_lu, -g)
            sn = s + d
            qn = speed(W, c, sn)
            if np.all(np.isfinite(d)) and qn <= 0.25 * q:
                accepted = True
                chord_run += 1
        if not accepted:
            # the stationarity test is made where the chord step fails
            J = (1.0 - f**2)[:, None] * W - np.eye(N)
            grad = J.T @ g
            if np.linalg.norm(grad) < tol_grad:
                status = 1
                break
            if it >= max_iter:
                status = 3
                break
            # Newton J d = -G; the 1-norm condition number stands in for the kernel's estimate.
            rcond = 1.0 / np.linalg.cond(J, 1) if np.all(np.isfinite(J)) else 0.0
            J_lu = J if rcond > rcond_min else None
            chord_run = 0
            if J_lu is not None:
                d = np.linalg.solve(J, -g)
                alpha = 1.0
                for _ in range(max_halvings + 1):
                    sn = s + alpha * d
                    qn = speed(W, c, sn)
                    if qn <= q * (1.0 - 2e-4 * alpha):
                        accepted = True
                        break
                    alpha *= 0.5
            if not accepted:
                A = J.T @ J
                if mu is None:
                    mu = 1e-3 * max(A.diagonal().max(), 1e-300)
                for _ in range(max_lm_tries):
                    d = np.linalg.solve(A + mu * np.eye(N), -grad)
                    sn = s + d
                    qn = speed(W, c, sn)
                    if np.all(np.isfinite(d)) and qn < q:
                        accepted = True
                        mu = max(mu / 3.0, 1e-12 * A.diagonal().max())
                        break
                    mu *= 4.0
        if not accepted:
            status = 2
            break
        step = np.linalg.norm(sn - s)
        scale = 1.0 + np.linalg.norm(s)
        s = sn
        f = tanh_map(W, c, s)
        g = f - s
        q = 0.5 * g @ g
        it += 1
        if step < tol_step * scale and q >= tol_q:
            status = 2
            break
    return {"point": s, "q": float(q), "iterations": it, "status": status}


def find_fixed_points(W, c, initial_states, **kwargs) -> Dict[str, np.ndarray]:
    """:func:`newton` from every row of ``initial_states``; returns stacked points, q, iterations, status."""
    res = [newton(W, c, s0, **kwargs) for s0 in np.asarray(initial_states, dtype=float)]
    return {
        "points": np.array([r["point"] for r in res]),
        "q": np.array([r["q"] for r in res]),
        "iterations": np.array([r["iterations"] for r in res]),
        "status": np.array([r["status"] for r in res]),
    }


def n_unstable(W: np.ndarray, s: np.ndarray) -> int:
    """Number of eigenvalues of diag(1 - S^2) W with modulus above 1."""
    return int((np.abs(np.linalg.eigvals(map_jacobian(W, s))) > 1.0).sum())


def deduplicate(points: np.ndarray, q: np.ndarray, tol: float):
    """One point at a time, by increasing q: a point within ``tol`` of a kept point counts for the
    nearest kept one (the first on ties), otherwise it is kept. Returns (indices kept, counts)."""
    order = np.argsort(q, kind="stable")
    kept: list = []
    counts: list = []
    for i in order:
        if kept:
            d = np.linalg.norm(points[kept] - points[i], axis=1)
            j = int(np.argmin(d))
            if d[j] <= tol:
                counts[j] += 1
                continue
        kept.append(int(i))
        counts.append(1)
    return np.asarray(kept, dtype=int), np.asarray(counts, dtype=int)
