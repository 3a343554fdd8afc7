"""Fixed and slow points of a tanh RNN (Sussillo & Barak's slow-point analysis).

For the autonomous map with constant input ``u``

    F(S) = tanh(W S + W_in u + b),

the finder minimises the speed ``q(S) = 1/2 |F(S) - S|^2`` from many initial states
in parallel (C++, OpenMP over states). Each step is Newton's on ``G(S) = F(S) - S``
(Jacobian ``diag(1 - F^2) W - I``) with a backtracking line search on q; where that
Jacobian is near singular, or the Newton step makes too little progress, the step is
Levenberg-Marquardt's, ``(J^T J + mu I) d = -J^T G``, which descends on q and so also
converges to local minima of q above zero (slow points). A state stops when
``q < tol_q`` (a fixed point; then a few more chord or Newton steps polish it), when
``|grad q| = |J^T G| < tol_grad`` (a stationary point of q) or when no step lowers q.

The points reached are then deduplicated (points closer than ``unique_tol`` are one
point, the one with the lowest q is kept), outliers far from the initial states are
dropped, and each point gets the eigenvalues of the map's Jacobian
``diag(1 - S*^2) W`` with ``n_unstable`` = the number of eigenvalues with
``|lambda| > 1`` (discrete-time stability, see DESIGN.md). Points with
``q < fixed_q`` are fixed points, the others slow points.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Optional, Tuple

import numpy as np
import pandas as pd

from .. import _core
from .._rng import RNGLike, as_generator
from .._validation import as_float_array, check_bool, check_float, check_int, check_threads

STATUS_NAMES = ("fixed", "stationary", "no_progress", "max_iter")
SHARE_DECREASE = 0.1  # a shared-Jacobian chord step must divide q by 10 (else the search factorises its own)
SHARE_BATCH = 64  # initial states per batch when Jacobians are shared (fixed: results do not depend on threads)
CENSUS_ROWS = ("0", "1", "2", "3", ">3")


@dataclass(frozen=True)
class FixedPointResult:
    """Distinct fixed and slow points of a tanh map.

    Attributes
    ----------
    points : ndarray (K, N)
        The distinct points, sorted by increasing q.
    q : ndarray (K,)
        Speed ``1/2 |F(S) - S|^2`` at each point.
    eigenvalues : ndarray (K, N) complex
        Eigenvalues of the map's Jacobian ``diag(1 - S^2) W`` at each point, by decreasing modulus.
    n_unstable : ndarray (K,) int
        Number of eigenvalues with ``|lambda| > 1``.
    is_fixed : ndarray (K,) bool
        ``q < fixed_q``; the others are slow points (local minima of q above zero).
    status : ndarray (K,) int
        How the search that produced the point stopped: 0 q < tol_q, 1 |grad q| < tol_grad,
        2 no step lowered q, 3 max_iter (names in ``STATUS_NAMES``).
    iterations : ndarray (K,) int
        Iterations of the search that produced the point.
    count : ndarray (K,) int
        How many initial states ended at the point (within ``unique_tol``).
    factorisations : int
        LU factorisations of a Jacobian over all searches (the O(N^3) work).
    merged : int
        Searches stopped inside the certified basin of an already known fixed point (``merge``).
    n_initial : int
        Number of initial states.
    n_outliers : int
        Points dropped as outliers.
    settings : dict
        The tolerances used.
    timings_ns : dict
        Wall time in nanoseconds (int) of the parts of the call: ``"search"`` (the C++ searches),
        ``"deduplicate"`` (outliers and duplicates), ``"eigenvalues"`` (the Jacobians' eigenvalues at
        the distinct points). Not part of the result proper: it varies from run to run.
    """

    points: np.ndarray
    q: np.ndarray
    eigenvalues: np.ndarray
    n_unstable: np.ndarray
    is_fixed: np.ndarray
    status: np.ndarray
    iterations: np.ndarray
    count: np.ndarray
    factorisations: int
    n_initial: int
    n_outliers: int
    merged: int = 0
    settings: dict = field(default_factory=dict)
    timings_ns: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.points.shape[0])

    @property
    def n_fixed(self) -> int:
        return int(self.is_fixed.sum())

    @property
    def n_slow(self) -> int:
        return int((~self.is_fixed).sum())

    @property
    def fixed_points(self) -> np.ndarray:
        return self.points[self.is_fixed]

    @property
    def slow_points(self) -> np.ndarray:
        return self.points[~self.is_fixed]

    def census(self) -> pd.DataFrame:
        """Points by number of unstable dimensions.

        Rows "0", "1", "2", "3", ">3" (unstable dimensions); columns "fixed", "slow", "total".
        """
        cat = np.minimum(self.n_unstable, 4)
        rows = []
        for i, name in enumerate(CENSUS_ROWS):
            sel = cat == i
            rows.append(
                {
                    "n_unstable": name,
                    "fixed": int((sel & self.is_fixed).sum()),
                    "slow": int((sel & ~self.is_fixed).sum()),
                }
            )
        table = pd.DataFrame(rows).set_index("n_unstable")
        table["total"] = table["fixed"] + table["slow"]
        return table


def _unpack_model(model_or_W: Any, W_in, b) -> Tuple[np.ndarray, Optional[np.ndarray], Optional[np.ndarray]]:
    if hasattr(model_or_W, "W") and not isinstance(model_or_W, np.ndarray):
        model = model_or_W
        W = getattr(model, "W")
        if W_in is None:
            W_in = getattr(model, "W_in", None)
        if b is None:
            b = getattr(model, "b", None)
    else:
        W = model_or_W
    W = as_float_array(W, "W", ndim=2, allow_empty=False)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square (N, N), got shape {W.shape}")
    N = W.shape[0]
    if W_in is not None:
        W_in = as_float_array(W_in, "W_in", ndim=2, shape=(N, None))
    if b is not None:
        b = as_float_array(b, "b", ndim=1, shape=(N,))
    return W, W_in, b


def map_offset(N: int, W_in: Optional[np.ndarray], b: Optional[np.ndarray], input=None) -> np.ndarray:
    """The constant ``c = W_in u + b`` of ``F(S) = tanh(W S + c)`` (zeros where absent)."""
    N = check_int(N, "N", minimum=1, maximum=1 << 24)
    c = np.zeros(N)
    if input is not None:
        if W_in is None:
            raise ValueError("input was given but the model has no W_in")
        W_in = as_float_array(W_in, "W_in", ndim=2, shape=(N, None))
        u = as_float_array(input, "input", ndim=1, shape=(W_in.shape[1],))
        c = c + W_in @ u
    if b is not None:
        c = c + as_float_array(b, "b", ndim=1, shape=(N,))
    return c


def sample_states(states, n: int, noise: float = 0.0, rng: RNGLike = None) -> np.ndarray:
    """Initial states for the finder: ``n`` states drawn from a trajectory, plus Gaussian noise.

    Parameters
    ----------
    states : array_like (T, N) or (B, T, N)
        Hidden states over time (a batch is flattened over trials and time).
    n : int
        Number of states to draw (without replacement when ``n <= T``, else with).
    noise : float
        Standard deviation of the isotropic Gaussian noise added to each drawn state.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    ndarray (n, N)
    """
    states = as_float_array(states, "states", ndim=(2, 3), allow_empty=False)
    n = check_int(n, "n", minimum=1, maximum=10**8)
    noise = check_float(noise, "noise", minimum=0.0)
    gen = as_generator(rng)
    flat = states.reshape(-1, states.shape[-1])
    idx = gen.choice(flat.shape[0], size=n, replace=n > flat.shape[0])
    out = flat[idx].copy()
    if noise > 0:
        out += noise * gen.standard_normal(out.shape)
    return out


def _row_norms(X: np.ndarray) -> np.ndarray:
    """Euclidean norms of the rows (np.linalg.norm(X, axis=1) is several times slower)."""
    return np.sqrt(np.einsum("ij,ij->i", X, X))


def deduplicate(points: np.ndarray, q: np.ndarray, tol: float) -> Tuple[np.ndarray, np.ndarray]:
    """Greedy deduplication: visit points by increasing q, keep a point unless it lies within
    ``tol`` (Euclidean) of a kept one (it then counts for the nearest such kept point). Returns
    (indices kept, count of points merged into each).

    Vectorised over points: one pass per kept point over the points after it (in q order),
    which removes those within ``tol`` and records the nearest earlier kept point of each; the
    same result as visiting the points one by one.
    """
    points = as_float_array(points, "points", ndim=2)
    q = as_float_array(q, "q", shape=(points.shape[0],))
    tol = check_float(tol, "tol", minimum=0.0)
    kept, counts, _ = _deduplicate(points, q, tol)
    return kept, counts


def _deduplicate(points: np.ndarray, q: np.ndarray, tol: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`deduplicate` without argument checks, also returning each point's owner (the
    position in the kept list of the kept point it counts for)."""
    order = np.argsort(q, kind="stable")
    P = points[order]
    K = P.shape[0]
    if K <= _SMALL_DEDUP:
        return _deduplicate_small(P, order, tol)
    remaining = np.ones(K, dtype=bool)
    best_d = np.full(K, np.inf)
    owner = np.full(K, -1)
    sq = np.einsum("ij,ij->i", P, P)
    screen = (1.01 * tol) ** 2 if tol < 1e150 else np.inf
    centres = []
    i = 0
    while i < K:
        # i: the lowest q not within tol of an earlier kept point
        owner[i] = len(centres)
        centres.append(i)
        # screen with |a - b|^2 = |a|^2 - 2 a.b + |b|^2 (one matrix-vector product), with a margin
        # far above its rounding error; the exact distance only for the candidates
        d2 = sq[i + 1 :] - 2.0 * (P[i + 1 :] @ P[i]) + sq[i]
        cand = i + 1 + np.flatnonzero(~(d2 > screen + 1e-12 * (sq[i + 1 :] + sq[i] + 1.0)))  # NaN: a candidate
        d = np.linalg.norm(P[cand] - P[i], axis=1)
        near = d <= tol
        closer = near & (d < best_d[cand])  # strict: the earlier kept point wins ties
        best_d[cand[closer]] = d[closer]
        owner[cand[closer]] = len(centres) - 1
        remaining[cand[near]] = False
        nxt = np.flatnonzero(remaining[i + 1 :])
        i = i + 1 + int(nxt[0]) if nxt.size else K
    counts = np.bincount(owner, minlength=len(centres)) if K else np.zeros(0, dtype=int)
    owner_in = np.empty(K, dtype=int)
    owner_in[order] = owner
    return order[np.asarray(centres, dtype=int)].astype(int), counts.astype(int), owner_in


_SMALL_DEDUP = 64  # up to this many points, _deduplicate_small (all distances at once, a plain loop)


def _deduplicate_small(P: np.ndarray, order: np.ndarray, tol: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_deduplicate` for few points (P: the points in q order): every distance by one
    broadcast, then the same greedy visit as a plain loop (numpy's per-call overhead dominated the
    vectorised loop for a few dozen points; find_fixed_points deduplicates only the searches that
    were not merged). Distances are computed as in :func:`_deduplicate` (norm of the difference)."""
    K = P.shape[0]
    D = np.linalg.norm(P[:, None, :] - P[None, :, :], axis=2).tolist()
    remaining = [True] * K
    best_d = [np.inf] * K
    owner = [-1] * K
    centres: list = []
    for i in range(K):
        if not remaining[i]:
            continue
        c = len(centres)
        owner[i] = c
        centres.append(i)
        row = D[i]
        for j in range(i + 1, K):
            d = row[j]
            if d <= tol:  # (False for NaN)
                if d < best_d[j]:  # strict: the earlier kept point wins ties
                    best_d[j] = d
                    owner[j] = c
                remaining[j] = False
    own = np.asarray(owner, dtype=int)
    counts = np.bincount(own, minlength=len(centres)) if K else np.zeros(0, dtype=int)
    owner_in = np.empty(K, dtype=int)
    owner_in[order] = own
    return order[np.asarray(centres, dtype=int)].astype(int), counts.astype(int), owner_in


def jacobian_eigenvalues(model_or_W: Any, points, n_threads: Optional[int] = None) -> np.ndarray:
    """Eigenvalues of the map's Jacobian ``diag(1 - S^2) W`` at each row S of ``points``.

    Returns a complex array (K, N), each row sorted by decreasing modulus.
    """
    W, _, _ = _unpack_model(model_or_W, None, None)
    points = as_float_array(points, "points", ndim=2, shape=(None, W.shape[0]))
    eig = _core.map_jacobian_eigenvalues(W, points, n_threads=check_threads(n_threads))
    if not np.isfinite(eig).all():
        raise ValueError("points are too large: the Jacobian diag(1 - S^2) W overflows float64")
    return eig


def find_fixed_points(
    model_or_W: Any,
    initial_states,
    input=None,
    *,
    W_in=None,
    b=None,
    tol_q: float = 1e-12,
    tol_grad: float = 1e-10,
    max_iter: int = 200,
    fixed_q: Optional[float] = None,
    max_q: Optional[float] = None,
    unique_tol: float = 1e-3,
    outlier_scale: Optional[float] = 10.0,
    rcond_min: float = 1e-8,
    chord_steps: int = 8,
    share_jacobians: bool = True,
    merge: bool = True,
    n_threads: Optional[int] = None,
) -> FixedPointResult:
    """Find the fixed and slow points of ``F(S) = tanh(W S + W_in u + b)``.

    From every initial state, minimises ``q(S) = 1/2 |F(S) - S|^2`` by Newton's method on
    ``F(S) - S = 0`` (line search on q; chord steps reuse the last factorised Jacobian while
    they at least halve |F(S) - S|), with Levenberg-Marquardt steps where the Jacobian
    ``diag(1 - F^2) W - I`` is near singular; see the module docstring.

    Parameters
    ----------
    model_or_W : model or array (N, N)
        An object with attributes ``W`` (and optionally ``W_in``, ``b``), e.g. a ``TanhRNN``,
        or the recurrent matrix itself.
    initial_states : array_like (K, N)
        Where the searches start (see :func:`sample_states`).
    input : array_like (n_in,), optional
        The constant input u (default: none, u = 0).
    W_in, b : arrays, optional
        Input matrix (N, n_in) and bias (N,), overriding the model's.
    tol_q : float
        A search stops as a fixed point when q < tol_q.
    tol_grad : float
        A search stops as a stationary point of q when |J^T G| < tol_grad.
    max_iter : int
        Iterations per search.
    fixed_q : float, optional
        Points with q < fixed_q are fixed points, the others slow points (default: tol_q).
    max_q : float, optional
        Drop points with q above this (default: keep all).
    unique_tol : float
        Points closer than this (Euclidean) are one point; the lowest q is kept.
    outlier_scale : float, optional
        Drop points farther from the centroid of the initial states than ``outlier_scale``
        times the data's radius: the largest distance of an initial state from the centroid,
        or the median norm of the initial states if larger (None: keep all).
    rcond_min : float
        Newton is tried only where the reciprocal condition number of J exceeds this.
    chord_steps : int
        Consecutive steps that may reuse the last factorised Jacobian (chord steps, each
        accepted only if it at least halves |F(S) - S|); 0 gives pure Newton.
    share_jacobians : bool
        Take the initial states in fixed batches (1, 2, 4, ... up to ``SHARE_BATCH`` = 64, then 64
        each); after each batch, factorise
        the Jacobian once at every new fixed point, and let later searches try a chord step with the
        factorisation of the known fixed point nearest to them (kept if it divides q by at least 10)
        before factorising their own Jacobian. Most searches then end at an already known point with O(N^2) steps only (a few
        times faster for many initial states). The batches do not depend on the thread count, so
        neither do the results; but which point a search reaches can differ from
        ``share_jacobians=False`` (the numpy reference's algorithm).
    merge : bool
        With ``share_jacobians`` (and only then): stop a search as soon as it enters the certified basin of a
        known fixed point p (a ball around p on which the chord iteration with the Jacobian at p
        is a contraction, so that p is the point it converges to and the only fixed point in the
        ball), and count it for p, instead of iterating it to ``tol_q`` and polishing it only to
        reproduce p. The points, their q and eigenvalues are those of the known points; only
        the work differs (``merged`` counts such searches). Without input and bias the map is
        odd, so with every point p found, -p (same q, same Jacobian) is known too; eigenvalues
        are computed once for points whose ``1 - S^2`` is bit-identical.
    n_threads : int, optional

    Returns
    -------
    FixedPointResult
    """
    W, W_in, b = _unpack_model(model_or_W, W_in, b)
    N = W.shape[0]
    S0 = as_float_array(initial_states, "initial_states", ndim=2, allow_empty=False)
    if S0.shape[1] != N:
        raise ValueError(f"initial_states must have shape (K, {N}), got {S0.shape}")
    tol_q = check_float(tol_q, "tol_q", minimum=0.0)
    tol_grad = check_float(tol_grad, "tol_grad", minimum=0.0)
    max_iter = check_int(max_iter, "max_iter", minimum=0, maximum=10**7)
    fixed_q = tol_q if fixed_q is None else check_float(fixed_q, "fixed_q", minimum=0.0)
    if max_q is not None:
        max_q = check_float(max_q, "max_q", minimum=0.0)
    unique_tol = check_float(unique_tol, "unique_tol", minimum=0.0)
    if outlier_scale is not None:
        outlier_scale = check_float(outlier_scale, "outlier_scale", minimum=0.0, min_inclusive=False)
    rcond_min = check_float(rcond_min, "rcond_min", minimum=0.0, maximum=1.0)
    chord_steps = check_int(chord_steps, "chord_steps", minimum=0, maximum=10**6)
    merge = check_bool(merge, "merge")
    threads = check_threads(n_threads)
    c = map_offset(N, W_in, b, input)

    t0 = time.perf_counter_ns()
    raw = _core.find_fixed_points(
        W, c, S0, tol_q=tol_q, tol_grad=tol_grad, max_iter=max_iter, rcond_min=rcond_min,
        chord_steps=chord_steps, share_batch=SHARE_BATCH if share_jacobians else 0, share_tol=1e-6, share_decrease=SHARE_DECREASE,
        merge=merge, n_threads=threads,
    )
    t1 = time.perf_counter_ns()
    pts, q = raw["points"], raw["q"]
    keep = np.isfinite(q) & np.isfinite(pts).all(axis=1)
    if max_q is not None:
        keep &= q <= max_q
    n_outliers = 0
    if outlier_scale is not None:
        centroid = S0.mean(axis=0)
        radius = max(_row_norms(S0 - centroid).max(), np.median(_row_norms(S0)), 1e-12)
        far = _row_norms(pts - centroid) > outlier_scale * radius
        n_outliers = int((far & keep).sum())
        keep &= ~far
    # A merged search returned, bit for bit, the point (and q) of the earlier search raw["merged"]
    # found it with: it would only be counted for that search's kept point, so it skips the
    # deduplication (the same result: identical distances, and the earlier index wins q ties).
    # Searches merged into the mirror -p of a known point (src = -2 - j) all returned the same
    # point and q: the first of each group stands for the group.
    src = raw["merged"]
    K = len(src)
    mirror = keep & (src <= -2)
    if mirror.any():
        rows = np.flatnonzero(mirror)
        _, first, group = np.unique(src[rows], return_index=True, return_inverse=True)
        rep = rows[first][group]  # each mirror-merged search's representative
        src = src.copy()
        src[rows] = np.where(rep == rows, -1, rep)
    merged = keep & (src >= 0)
    merged[merged] &= keep[src[merged]] & (src[merged] < np.arange(K)[merged]) & (src[src[merged]] < 0)
    idx = np.flatnonzero(keep & ~merged)
    uniq, counts, owner = _deduplicate(pts[idx], q[idx], unique_tol)
    if merged.any():
        pos = np.full(K, -1)
        pos[idx] = np.arange(len(idx))
        counts = counts + np.bincount(owner[pos[src[merged]]], minlength=len(uniq))
    sel = idx[uniq]
    points = pts[sel]
    t2 = time.perf_counter_ns()
    eig = _core.map_jacobian_eigenvalues(W, points, n_threads=threads) if len(sel) else np.empty((0, N), complex)
    n_unstable = (np.abs(eig) > 1.0).sum(axis=1).astype(int)
    t3 = time.perf_counter_ns()
    settings = dict(
        tol_q=tol_q, tol_grad=tol_grad, max_iter=max_iter, fixed_q=fixed_q, max_q=max_q,
        unique_tol=unique_tol, outlier_scale=outlier_scale, rcond_min=rcond_min, chord_steps=chord_steps,
        share_jacobians=bool(share_jacobians), merge=merge,
    )
    return FixedPointResult(
        points=points,
        q=q[sel],
        eigenvalues=eig,
        n_unstable=n_unstable,
        is_fixed=q[sel] < fixed_q,
        status=raw["status"][sel].astype(int),
        iterations=raw["iterations"][sel].astype(int),
        count=counts,
        factorisations=int(raw["factorisations"].sum()),
        n_initial=int(S0.shape[0]),
        n_outliers=n_outliers,
        merged=int((raw["merged"] != -1).sum()),
        settings=settings,
        timings_ns={"search": t1 - t0, "deduplicate": t2 - t1, "eigenvalues": t3 - t2},
    )
