"""Infinite-length inputs: the optimal recall length (Fig. 3 of the compressive-memory paper).

A network of radius q < 1 driven by a stream that never started holds a decaying
trace of its whole past, ``x[now] = sum_k W^k Z s[now-1-k]``. A reader that recovers
the last N' inputs from x[now] solves

    y = x[now] = A_N' vec(S_N') + t_N' + e,        t_N' = W^N' x[now - N'],

where ``A_N'`` is the measurement operator of N' steps, ``S_N'`` the window of the
last N' inputs, ``t_N'`` the trace of everything older (omitted: it acts as noise)
and e the accumulated state noise. Short windows suffer from *omission errors* (a
large t_N'), long windows from *recall errors* (inputs that have faded by q^k cannot
be recovered, and the window holds more unknowns than the network can store).

The state after the burn-in
---------------------------
We never simulate "forever": ``x[now] = sum_{k<T} W^k Z s[now-1-k] + W^T x[now-T]``
and the last term has norm <= ||W^T|| ||x[now-T]||, about q^T times the state's own
size for the circle networks (W^k = q^k x an orthogonal matrix). With
``T = ceil(log(tol) / log(q))`` (tol = 1e-12: T = 263 for q = 0.9, 2750 for
q = 0.99, i.e. ~26 time constants 1/(1-q)) the truncated sum IS the never-started
state to 12 digits: it is computed exactly in one pass of
:func:`~fastmem.stm.propagate` over T + max(lengths) steps, O(T M L) for the
block-diagonal networks (the same cost as drawing the inputs). Nothing is
approximated beyond the q^T truncation, which is below double-precision noise of
the solvers.

See :func:`optimal_recall_length` for the theory's prediction of the best N' and
:func:`measured_optimum` for the optimum of a measured curve.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
import pandas as pd

from .._rng import RNGLike, seed_entropy, trial_generator
from .._validation import check_allocation, check_choice, check_float, check_int, check_threads
from .network import NETWORK_KINDS, measurement_operator, propagate, random_network
from .theory import (
    _named_coherence,
    lowrank_capacity_bound,
    lowrank_nodes_needed,
    sparse_capacity_bound,
    sparse_nodes_needed,
)

MODELS = ("sparse", "lowrank")
FORMAT_VERSION = 1

__all__ = [
    "recall_curve",
    "summarize_curve",
    "optimal_recall_length",
    "measured_optimum",
    "RecallPrediction",
    "MeasuredOptimum",
    "burn_in_length",
    "infinite_stream",
    "storage_capacity",
]


# --------------------------------------------------------------------------- parameters


def _check_q(q) -> float:
    q = check_float(q, "q", minimum=0.0, min_inclusive=False)
    if q >= 1.0:
        raise ValueError(
            f"q must be < 1, got {q}: a stream that never started needs a decaying network "
            "(spectral radius q < 1), otherwise the state of the infinite past diverges and no burn-in reaches it"
        )
    return q


def _check_lengths(lengths) -> np.ndarray:
    arr = np.asarray(lengths)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"lengths must be a non-empty 1-d sequence of recall lengths N' >= 1, got {lengths!r}")
    if arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f" and np.all(arr == np.round(arr))):
        raise TypeError(f"lengths must be integers, got {arr.dtype} values {lengths!r}")
    arr = arr.astype(np.int64)
    if np.any(arr <= 0):
        raise ValueError(f"lengths must all be >= 1 (recall at least the last input), got {arr.tolist()}")
    if len(np.unique(arr)) != len(arr):
        raise ValueError(f"lengths must be distinct, got {arr.tolist()}")
    return np.sort(arr)


def burn_in_length(q: float, tol: float = 1e-12) -> int:
    """Steps after which the infinite past contributes less than ``tol`` (relative): ``ceil(log tol / log q)``."""
    q = _check_q(q)
    tol = check_float(tol, "tol", minimum=0.0, maximum=1.0, min_inclusive=False, max_inclusive=False)
    return max(1, int(math.ceil(math.log(tol) / math.log(q))))


def _signal_energy(model: str, L: int, rate: float, rank: int) -> float:
    """Expected energy of one input step, E||s[n]||^2."""
    return rate * L if model == "sparse" else float(rank)


def _dof(model: str, N: np.ndarray, L: int, rate: float, rank: int) -> np.ndarray:
    """Degrees of freedom of a window of N steps: rate N L (sparse) or R (N + L - R) (low-rank)."""
    N = np.asarray(N, dtype=float)
    if model == "sparse":
        return rate * N * L
    return rank * (N + L - rank)


def infinite_stream(T: int, L: int, model: str = "sparse", rate: float = 0.05, rank: int = 2, rng: RNGLike = None):
    """T steps of the stationary input models used for infinite-length recall.

    * ``"sparse"``: every entry is non-zero with probability ``rate``, amplitude N(0, 1)
      (spikes: coherence ~ 1 with sinusoids); E||s[n]||^2 = rate L.
    * ``"lowrank"``: ``s[n] = U c[n]`` with a fixed U (L, R) with orthonormal columns
      and c[n] ~ N(0, I_R): every window of the stream is an (N', L) matrix of rank
      R; E||s[n]||^2 = R.

    Returns
    -------
    S : ndarray (T, L)
    """
    from .._rng import as_generator

    T = check_int(T, "T", minimum=1)
    L = check_int(L, "L", minimum=1)
    check_allocation(2 * T * L, "infinite_stream (T, L)")
    check_choice(model, "model", MODELS)
    gen = as_generator(rng)
    if model == "sparse":
        rate = check_float(rate, "rate", minimum=0.0, maximum=1.0, min_inclusive=False)
        mask = gen.uniform(size=(T, L)) < rate
        return np.where(mask, gen.standard_normal((T, L)), 0.0)
    rank = check_int(rank, "rank", minimum=1, maximum=L)
    U = np.linalg.qr(gen.standard_normal((L, rank)))[0]
    return gen.standard_normal((T, rank)) @ U.T


# --------------------------------------------------------------------------- one trial


def _recall_trial(task, settings: Dict) -> List[Dict]:
    (trial,) = task
    s = settings
    gen = trial_generator(s["entropy"], (trial,))
    M, L, q, model = s["M"], s["L"], s["q"], s["model"]
    lengths = s["lengths"]
    W, Z = random_network(M, L, kind=s["kind"], radius=q, rng=gen)
    T = s["burn_in"] + max(lengths)
    S = infinite_stream(T, L, model, rate=s["rate"], rank=s["rank"], rng=gen)
    x = propagate(W, Z, S, noise=s["noise"], rng=gen, n_threads=s["n_threads"])
    eps_s = _signal_energy(model, L, s["rate"], s["rank"])
    x_energy = float(x @ x)
    rows = []
    for N in lengths:
        A = measurement_operator(W, Z, N, n_threads=s["n_threads"])
        window = S[T - N:]
        omitted = x - A @ window.reshape(-1)
        # Expected std per measurement of what the window model leaves out (omitted trace + state noise),
        # exact in expectation for the circle networks: E||t_N||^2 = eps_s q^2N / (1 - q^2), E||e||^2 = M sigma^2 / (1 - q^2).
        n_eff = math.sqrt((eps_s * q ** (2 * N) + M * s["noise"] ** 2) / ((1 - q * q) * M))
        n_eff = max(n_eff, s["noise_floor"] * math.sqrt(eps_s / M))
        S_hat, lam, converged = _solve(model, A, x, N, L, n_eff, s)
        err = float(np.sum((S_hat - window) ** 2))
        energy = float(np.sum(window**2))
        rows.append(
            {
                "length": int(N),
                "rmse": err / energy if energy > 0 else float("nan"),
                "error": err,
                "energy": energy,
                "omitted": float(omitted @ omitted) / x_energy if x_energy > 0 else 0.0,
                "lam": float(lam),
                "converged": bool(converged),
            }
        )
    return rows


def _solve(model, A, y, N, L, n_eff, s):
    if model == "sparse":
        from .lasso import lasso

        res = lasso(A, y, "auto", noise=s["lam_scale"] * n_eff, signal_shape=(N, L), tol=s["tol"],
                    max_iter=s["max_iter"], n_threads=s["n_threads"])
        coef = np.asarray(res.coef, dtype=float).copy()
        if s["debias"]:
            support = np.flatnonzero(coef)
            if 0 < support.size <= A.shape[0] // 2:
                coef[:] = 0.0
                coef[support] = np.linalg.lstsq(A[:, support], y, rcond=None)[0]
        return coef.reshape(N, L), res.lam, res.converged
    from .nuclear_norm import nuclear_norm

    res = nuclear_norm(A, y, (N, L), "auto", noise=s["lam_scale"] * n_eff, tol=s["tol"], max_iter=s["max_iter"],
                       n_threads=s["n_threads"])
    return np.asarray(res.S_hat).reshape(N, L), res.lam, res.converged


# --------------------------------------------------------------------------- the curve


def default_lengths(q: float, count: int = 16) -> np.ndarray:
    """Recall lengths 1 .. ~4/(1-q), geometrically spaced (distinct integers)."""
    q = _check_q(q)
    count = check_int(count, "count", minimum=1, maximum=1_000_000)
    top = max(4, int(math.ceil(4.0 / (1.0 - q))))
    return np.unique(np.round(np.geomspace(1, top, count)).astype(np.int64))


def recall_curve(
    M: int,
    L: int,
    q: float,
    model: str = "sparse",
    lengths: Optional[Sequence[int]] = None,
    trials: int = 10,
    rate: float = 0.05,
    rank: int = 2,
    noise: float = 0.0,
    kind: str = "circle",
    burn_in: Optional[int] = None,
    lam_scale: float = 1.0,
    noise_floor: float = 1e-3,
    debias: bool = True,
    tol: float = 1e-4,
    max_iter: int = 2000,
    rng: RNGLike = None,
    store=None,
    executor=None,
    progress: bool = True,
    n_threads: Optional[int] = None,
) -> pd.DataFrame:
    """Recovery error of the last N' inputs of a never-started stream, for each N' in ``lengths``.

    Each trial draws a network (M nodes, L inputs, radius q), one stream from the
    input model and its state after a burn-in (see the module notes: exact to
    ~1e-12), then recovers the window of the last N' inputs from that single state
    for every N' (the same network and stream for every N': the curve of one trial is
    a paired comparison). Sparse windows are recovered by LASSO
    (:func:`fastmem.stm.lasso`, ``lam="auto"`` at the expected level of the omitted
    trace plus noise, then a least-squares refit on the support when ``debias``), low-rank
    windows by nuclear-norm minimisation (``fastmem.stm.nuclear_norm``, same rule).

    Trials run through :func:`fastmem.sweep.run_sweep`: one task per trial, seeds
    derived from ``rng`` and the trial index alone, resumable through ``store`` (CSV),
    parallel through ``executor``, with a progress bar.

    Parameters
    ----------
    M, L : int
        Nodes and input dimension.
    q : float
        Spectral radius, 0 < q < 1 (a stream that never started needs q < 1).
    model : {"sparse", "lowrank"}
        See :func:`infinite_stream`.
    lengths : sequence of int, optional
        Recall lengths N' >= 1 (default :func:`default_lengths`).
    trials : int
    rate : float
        Sparse model: probability that an input entry is non-zero.
    rank : int
        Low-rank model: rank R of every window.
    noise : float
        State noise standard deviation per step.
    kind : {"circle", "orthogonal", "gaussian"}
        Network model (:func:`fastmem.stm.random_network`).
    burn_in : int, optional
        Steps before the longest window; default :func:`burn_in_length` (q^T < 1e-12).
    lam_scale : float
        Multiplies the regularisation's noise level.
    noise_floor : float
        Lower bound on that noise level, relative to the signal's size per
        measurement (keeps lam > 0 when nothing is omitted).
    debias : bool
        Sparse model: refit the LASSO support by least squares.
    tol, max_iter :
        Solver stopping rules.
    rng : None, int or numpy.random.Generator
    store : path, optional
        CSV store of finished trials (resume).
    executor : None, Executor or dask Client
    progress : bool
    n_threads : int, optional

    Returns
    -------
    pandas.DataFrame
        One row per (trial, length): ``rmse`` (``||S_hat - S||^2 / ||S||^2`` over the
        window; NaN if a sparse window happens to be all zero), ``error``, ``energy``
        (numerator and denominator, for pooled averages), ``omitted`` (the fraction of
        ``||x||^2`` left out by the window model: the omission term), ``lam``,
        ``converged``; settings in ``DataFrame.attrs``.
    """
    from ..sweep import run_sweep

    M = check_int(M, "M", minimum=1)
    L = check_int(L, "L", minimum=1)
    q = _check_q(q)
    check_choice(model, "model", MODELS)
    check_choice(kind, "kind", NETWORK_KINDS)
    lengths_arr = default_lengths(q) if lengths is None else _check_lengths(lengths)
    trials = check_int(trials, "trials", minimum=1, maximum=10**7)
    rate = check_float(rate, "rate", minimum=0.0, maximum=1.0, min_inclusive=False)
    rank = check_int(rank, "rank", minimum=1)
    if model == "lowrank" and rank > min(L, int(lengths_arr.min())):
        raise ValueError(f"rank must be <= min(L, min(lengths)) = {min(L, int(lengths_arr.min()))}, got {rank}")
    noise = check_float(noise, "noise", minimum=0.0, maximum=1e150)
    burn = burn_in_length(q) if burn_in is None else check_int(burn_in, "burn_in", minimum=1)
    check_allocation((burn + int(lengths_arr.max())) * L, "the stream of one trial (burn_in + max(lengths), L)")
    lam_scale = check_float(lam_scale, "lam_scale", minimum=0.0, min_inclusive=False)
    noise_floor = check_float(noise_floor, "noise_floor", minimum=0.0)
    tol = check_float(tol, "tol", minimum=0.0)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    check_threads(n_threads)
    if not isinstance(debias, (bool, np.bool_)):
        raise TypeError(f"debias must be a bool, got {type(debias).__name__}")
    settings = {
        "format": FORMAT_VERSION, "what": "recall_curve", "M": M, "L": L, "q": q, "model": model,
        "lengths": [int(n) for n in lengths_arr], "rate": rate, "rank": rank, "noise": noise, "kind": kind,
        "burn_in": burn, "lam_scale": lam_scale, "noise_floor": noise_floor, "debias": bool(debias), "tol": tol,
        "max_iter": max_iter, "entropy": seed_entropy(rng),
    }
    worker = functools.partial(_recall_trial, settings={**settings, "n_threads": n_threads})
    table = run_sweep(worker, [(t,) for t in range(trials)], key=("trial",), store=store, meta=settings,
                      executor=executor, progress=progress, desc=f"recall {model} M={M} q={q}")
    table = table.sort_values(["trial", "length"], kind="stable").reset_index(drop=True)
    table.attrs.update(settings)
    return table


def summarize_curve(table: pd.DataFrame) -> pd.DataFrame:
    """Per recall length: the pooled rMSE (sum of errors / sum of window energies over
    trials) with its jackknife standard error over trials (``rmse_se``), the mean and
    standard error of the per-trial ratios (``rmse_mean``, ``rmse_sem``; heavy-tailed
    for short sparse windows), and the mean omitted fraction of the state."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be the DataFrame from recall_curve, got {type(table).__name__}")
    for col in ("length", "trial", "error", "energy", "omitted"):
        if col not in table.columns:
            raise ValueError(f"table must come from recall_curve (missing column {col!r})")
    if len(table) == 0:
        raise ValueError("table is empty: recall_curve gives one row per (length, trial)")
    for col in ("length", "error", "energy", "omitted"):
        try:
            v = table[col].to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"table column {col!r} must be numeric, got dtype {table[col].dtype}") from None
        if not np.isfinite(v).all() or np.any(v < 0):
            raise ValueError(f"table column {col!r} must hold finite values >= 0 (as recall_curve writes them)")
    rows = []
    for length, grp in table.groupby("length", sort=True):
        e = grp["error"].to_numpy(dtype=float)
        n = grp["energy"].to_numpy(dtype=float)
        pooled = e.sum() / n.sum() if n.sum() > 0 else np.nan
        T = len(e)
        if T > 1:
            loo_den = n.sum() - n
            loo = np.where(loo_den > 0, (e.sum() - e) / np.where(loo_den > 0, loo_den, 1.0), np.nan)
            se = float(np.sqrt((T - 1) / T * np.nansum((loo - np.nanmean(loo)) ** 2))) if np.isfinite(loo).any() \
                else np.nan
        else:
            se = np.nan
        ratio = np.where(n > 0, e / np.where(n > 0, n, 1.0), np.nan)
        rows.append({
            "length": int(length), "rmse": pooled, "rmse_se": se,
            "rmse_mean": float(np.nanmean(ratio)) if np.any(n > 0) else np.nan,
            "rmse_sem": float(np.nanstd(ratio, ddof=1) / np.sqrt(np.sum(n > 0))) if np.sum(n > 0) > 1 else np.nan,
            "omitted": float(grp["omitted"].mean()), "trials": T,
        })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- optimum


@dataclass(frozen=True)
class RecallPrediction:
    """The theory's error estimate against recall length (see :func:`optimal_recall_length`)."""

    length: int
    lengths: np.ndarray
    error: np.ndarray
    omission: np.ndarray
    recall: np.ndarray
    capacity: int


@dataclass(frozen=True)
class MeasuredOptimum:
    """The best recall length of a measured curve and its flat region [low, high]."""

    length: int
    rmse: float
    low: int
    high: int


def optimal_recall_length(
    M: int,
    L: int,
    q: float,
    model: str = "sparse",
    rate: float = 0.05,
    rank: int = 2,
    noise: float = 0.0,
    C: float = 1.0,
    exponent: float = 1.0,
    lengths: Optional[Sequence[int]] = None,
) -> RecallPrediction:
    """The theory's best recall length N' for a network of M nodes and radius q.

    Derivation (for the circle networks, W^k = q^k x orthogonal, Z iid N(0, 1/M)):

    1. *Omission term* (decays like q^2N'). Everything older than the window reaches
       the state as ``t_N' = W^N' x[now - N']``, with
       ``E||t_N'||^2 = eps q^2N' / (1 - q^2)`` (eps = E||s[n]||^2 the energy of one
       input step); the state noise adds ``M sigma^2 / (1 - q^2)``. Together they are
       the "noise" ``||n_N'||^2`` of the window's recovery problem.
    2. *Recall term* (grows with N'). Write ``A_N' = A~ D`` with D = diag(q^k) (lag
       k = 0 .. N'-1) and A~ with unit-norm columns. While the window's degrees of
       freedom d(N') (rate N' L sparse, R (N' + L - R) low-rank) fit the network, i.e.
       ``rho(N') = nodes_needed(N') / M < 1`` with the paper's bound
       (:func:`~fastmem.stm.sparse_nodes_needed` / :func:`~fastmem.stm.lowrank_nodes_needed`
       with constant C and log exponent), a stable recovery puts an error of about
       ``||n||^2 / (M (1 - rho))`` on each of the d(N') coefficients of ``D s`` (the
       least-squares error on the support, with the M - d of an oracle replaced by the
       bound's margin M (1 - rho)). Undoing D multiplies lag k by q^-2k, so on average
       by ``a(N') = (1/N') sum_k q^-2k = (q^-2N' - 1) / (N' (q^-2 - 1))``.
    3. Relative to the window's energy N' eps:

           rMSE(N') ~ [ (eps q^2N' + M sigma^2) / (1 - q^2) ]       (omitted + noise)
                      x [ d(N') a(N') / (N' eps M (1 - rho(N'))) ]  (recall amplification)

       capped at 1 (the zero estimate), and 1 where rho >= 1 (beyond capacity nothing
       in the window is guaranteed). The first factor decays like q^2N', the second
       grows with N' (like q^-2N' / N' from fading, and without bound as the window
       reaches the network's capacity). Without noise the product is
       ``~ (1 - q^2N') / (N' (1 - rho(N')))``: the optimum sits at about half the
       capacity; noise moves it to shorter windows, where the q^-2N' amplification of
       the noise is still small.

    The minimiser over integer N' is the prediction. C and the exponent are the
    bound's unspecified constants; the shape, not the level, of the estimate is the
    claim (compare :func:`measured_optimum`).

    Parameters
    ----------
    M, L : int
    q : float
        0 < q < 1.
    model : {"sparse", "lowrank"}
    rate : float
        Sparse: probability that an input entry is non-zero.
    rank : int
        Low-rank: rank of the stream.
    noise : float
        State noise standard deviation per step.
    C, exponent : float
        Constant and log exponent of the node bound (gamma or lambda).
    lengths : sequence of int, optional
        Candidate N' (default 1 .. 20/(1-q), cut at the bound's capacity + 1 when that is over 100000).

    Returns
    -------
    RecallPrediction
        ``length`` (the predicted optimum), the candidate ``lengths``, the estimate
        ``error`` and its two factors ``omission`` (first) and ``recall`` (second),
        ``capacity`` (largest N' with rho < 1). When no candidate meets the bound
        (``capacity == 0``, e.g. low-rank inputs with C = 1 and M < R (N' + L) log(N' L)
        for every N'), the estimate is 1 everywhere and ``length`` is just the shortest
        candidate: there is no prediction; lower C (the bound's constant is not known).
    """
    M = check_int(M, "M", minimum=1)
    L = check_int(L, "L", minimum=1)
    q = _check_q(q)
    check_choice(model, "model", MODELS)
    rate = check_float(rate, "rate", minimum=0.0, maximum=1.0, min_inclusive=False)
    rank = check_int(rank, "rank", minimum=1, maximum=L)
    sigma = check_float(noise, "noise", minimum=0.0, maximum=1e100)
    C = check_float(C, "C", minimum=0.0, min_inclusive=False)
    exponent = check_float(exponent, "exponent", minimum=0.0)
    if lengths is None:
        top = max(8, int(math.ceil(20.0 / (1.0 - q))))
        if top > 100_000:  # q within 2e-4 of 1: beyond the bound's capacity every error is 1, stop there
            cap = (sparse_capacity_bound(M, rate, L, C=C, gamma=exponent, n_max=top) if model == "sparse"
                   else lowrank_capacity_bound(M, rank, L, C=C, lam=exponent, n_max=top))
            top = max(8, cap + 1)
        Ns = np.arange(max(1, rank if model == "lowrank" else 1), top + 1)
    else:
        Ns = _check_lengths(lengths)
    eps = _signal_energy(model, L, rate, rank)
    if model == "sparse":
        # The stream's atoms are spikes; their coherence with sinusoids is computed (it is 1 for every
        # length, so once, on a window of up to 512 steps).
        mu = _named_coherence("identity", int(min(Ns.max(), 512)))
        needed = np.array([sparse_nodes_needed(max(1, math.ceil(rate * n * L)), int(n), L, C=C, gamma=exponent, mu=mu)
                           for n in Ns])
    else:
        needed = np.array([lowrank_nodes_needed(rank, int(n), L, C=C, lam=exponent) if n >= rank else np.inf
                           for n in Ns])
    rho = needed / M
    Nf = Ns.astype(float)
    # float64 throughout (q = 1e-300 or noise = 1e100 must not raise OverflowError); q^-2N' beyond
    # float64 is inf, and the product is formed without 0 * inf:
    #   omission * fade = [eps (1 - q^2N') + M sigma^2 (q^(2-2N') - q^2)] / (N' (1 - q^2)^2)
    qq, var = np.float64(q), M * np.float64(sigma) ** 2
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        q2N = qq ** (2 * Nf)
        growth = qq ** (2.0 - 2.0 * Nf) - qq * qq  # (q^-2N' - 1) q^2 >= 0, inf when it overflows
        omission = (eps * q2N + var) / (1.0 - qq * qq)
        fade = growth / (Nf * (1.0 - qq * qq))
        scale = np.where(rho < 1, _dof(model, Nf, L, rate, rank) / (Nf * eps * M * (1.0 - rho)), np.inf)
        recall = fade * scale
        noise_part = np.where(var > 0, var * growth, 0.0)
        product = (eps * (1.0 - q2N) * qq * qq + noise_part) / (Nf * (1.0 - qq * qq) ** 2) * scale
        error = np.minimum(np.where(np.isnan(product), np.inf, product), 1.0)
    error = np.where(rho < 1, error, 1.0)
    capacity = int(Ns[rho < 1].max()) if np.any(rho < 1) else 0
    best = int(Ns[int(np.argmin(error))])
    return RecallPrediction(length=best, lengths=Ns, error=error, omission=omission, recall=recall, capacity=capacity)


def measured_optimum(table: pd.DataFrame, flat: float = 0.25) -> MeasuredOptimum:
    """The best recall length of a measured curve (pooled rMSE) and its flat region.

    The flat region is the contiguous range of lengths around the minimum whose pooled
    rMSE is within ``max(flat * min, 2 * se)`` of the minimum (se: the jackknife
    standard error of the pooled rMSE at the minimum).
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be the DataFrame from recall_curve, got {type(table).__name__}")
    flat = check_float(flat, "flat", minimum=0.0)
    summ = summarize_curve(table)
    r = summ["rmse"].to_numpy()
    if not np.any(np.isfinite(r)):
        raise ValueError("table gives no finite rMSE at any length: every window had zero energy in every trial "
                         "(all-zero inputs), so the relative error is undefined (NaN) everywhere; run more trials "
                         "or a denser input model")
    i = int(np.nanargmin(r))
    sem = summ["rmse_se"].to_numpy()[i]
    band = r[i] + max(flat * r[i], 2 * (0.0 if not np.isfinite(sem) else sem))
    lo = hi = i
    while lo > 0 and r[lo - 1] <= band:
        lo -= 1
    while hi < len(r) - 1 and r[hi + 1] <= band:
        hi += 1
    lengths = summ["length"].to_numpy()
    return MeasuredOptimum(length=int(lengths[i]), rmse=float(r[i]), low=int(lengths[lo]), high=int(lengths[hi]))


# --------------------------------------------------------------------------- storage capacity (finite streams)


def _recovers(M: int, L: int, N: int, model: str, rate: float, rank: int, threshold: float, trials: int,
              radius: float, gen: np.random.Generator, tol: float, max_iter: int, n_threads) -> bool:
    check_allocation(M * N * L + 3 * trials * N * L, "storage_capacity problem (M x N*L operator, trials streams)")
    W, Z = random_network(M, L, kind="circle", radius=radius, rng=gen)
    A = measurement_operator(W, Z, N, n_threads=n_threads)
    S = np.stack([infinite_stream(N, L, model, rate=rate, rank=rank, rng=gen) for _ in range(trials)])
    Y = A @ S.reshape(trials, -1).T
    eps = _signal_energy(model, L, rate, rank)
    level = 1e-3 * math.sqrt(eps / M)
    if model == "sparse":
        from .lasso import lasso

        res = lasso(A, Y, "auto", noise=level, signal_shape=(N, L), tol=tol, max_iter=max_iter, n_threads=n_threads)
        coef = np.asarray(res.coef).reshape(N * L, trials).copy()
        for b in range(trials):
            support = np.flatnonzero(coef[:, b])
            if 0 < support.size <= M // 2:
                coef[:, b] = 0.0
                coef[support, b] = np.linalg.lstsq(A[:, support], Y[:, b], rcond=None)[0]
        S_hat = coef.T.reshape(trials, N, L)
    else:
        from .nuclear_norm import nuclear_norm

        res = nuclear_norm(A, Y, (N, L), "auto", noise=level, tol=tol, max_iter=max_iter, n_threads=n_threads)
        S_hat = np.asarray(res.S_hat).reshape(trials, N, L)
    energy = np.sum(S**2, axis=(1, 2))
    err = np.sum((S_hat - S) ** 2, axis=(1, 2)) / np.where(energy > 0, energy, 1.0)
    return bool(np.median(err) < threshold)


def storage_capacity(
    M: int,
    L: int,
    model: str = "sparse",
    rate: float = 0.05,
    rank: int = 2,
    threshold: float = 0.01,
    trials: int = 5,
    radius: float = 1.0,
    growth: float = 1.25,
    n_max: int = 100000,
    tol: float = 1e-6,
    max_iter: int = 5000,
    rng: RNGLike = None,
    n_threads: Optional[int] = None,
) -> int:
    """The number of scalar inputs N*L a network of M nodes stores and gives back (finite streams).

    For growing N (steps of ``growth``), draw a circle network of radius ``radius``
    (1: the paper's finite-length setting), ``trials`` streams of the model (see
    :func:`infinite_stream`) started from x[0] = 0 (0 < radius <= 1), and recover each from x[N] (LASSO
    with a least-squares refit on the support, or nuclear norm; noiseless, lam at a
    1e-3 floor). The capacity is N*L for the largest N whose median rMSE is below
    ``threshold``, scanning until two consecutive lengths fail. ``tol`` and
    ``max_iter`` are the solver's stopping rules.

    Returns
    -------
    int
        N*L (0 if even N = 1 fails).
    """
    from .._rng import as_generator

    M = check_int(M, "M", minimum=1)
    L = check_int(L, "L", minimum=1)
    check_choice(model, "model", MODELS)
    rate = check_float(rate, "rate", minimum=0.0, maximum=1.0, min_inclusive=False)
    rank = check_int(rank, "rank", minimum=1, maximum=L)
    threshold = check_float(threshold, "threshold", minimum=0.0, min_inclusive=False)
    trials = check_int(trials, "trials", minimum=1)
    radius = check_float(radius, "radius", minimum=0.0, maximum=1.0, min_inclusive=False)
    growth = check_float(growth, "growth", minimum=1.0, min_inclusive=False)
    n_max = check_int(n_max, "n_max", minimum=1)
    tol = check_float(tol, "tol", minimum=0.0)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    check_threads(n_threads)
    gen = as_generator(rng)
    best, fails, N = 0, 0, rank if model == "lowrank" else 1
    while N <= n_max and fails < 2:
        if _recovers(M, L, N, model, rate, rank, threshold, trials, radius, gen, tol, max_iter, n_threads):
            best, fails = N, 0
        else:
            fails += 1
        N = max(N + 1, int(math.ceil(N * growth)))
    return best * L
