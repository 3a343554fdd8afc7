"""Phase diagrams of recovery: Fig. 2 of Charles, Yap, Yin & Rozell.

Each cell of the diagram is a compression ``gamma = M / (N L)`` and a complexity
``rho`` (``K / M`` for sparse inputs, ``R (L + N - R) / M`` for low-rank inputs);
each trial draws a random network with M nodes, a random input stream of that
complexity, reads the final state with additive noise, recovers the stream by
LASSO or nuclear-norm minimisation and records the relative MSE
``||S - S_hat||_F^2 / ||S||_F^2``.

How a trial is drawn (all from the sweep's entropy and the indices alone)
---------------------------------------------------------------------------
* The network of (gamma index g, trial t) comes from
  ``trial_generator(entropy, (0, g, t))``; it is shared by the signals of every rho
  at that gamma, so they are solved together as one batch of right-hand sides
  (one operator, one step-size estimate, matrix products instead of vector ones).
* The signal and noise of cell (g, r), trial t come from
  ``trial_generator(entropy, (1, g, r, t))``. The ``seed`` column holds a 63-bit
  digest of that key, for reference; :func:`phase_trial` recomputes any trial alone.

Noise and lam
-------------
The state is read with white noise scaled to the signal: ``y = A vec(S) + e``,
``e ~ N(0, sigma^2 I)``, ``sigma = noise * ||A vec(S)|| / sqrt(M)`` (``noise`` is the
inverse square root of the per-node SNR; 0.01 = 40 dB). The regularisation follows
the noise level: ``lam = sigma sqrt(2 log(N L))`` for LASSO (the universal
threshold: the columns of A have unit norm in expectation) and
``lam = sigma (sqrt(N) + sqrt(L))`` for the nuclear norm (the spectral norm of the
noise's back-projection), each times ``lam_scale``. rMSE is then invariant to the
signal's scale, and "the noise floor" is about ``lam_scale^2 * noise^2 * log(NL)``.

Speed
-----
* The circle network (the theory's model, exact for recovery, see
  :mod:`fastmem.stm.network`) has an orthogonal W, so ``A^T A`` is block-Toeplitz in
  time (:class:`~fastmem.stm.ToeplitzGram`): the solvers run in Gram form, a product
  costs O(N L (N + L)) per signal whatever M (about 2 x 10^6 multiply-adds at the
  paper's size, against 2 M N L for A and A^T), and the only O(M) work per (gamma,
  trial) is building the Toeplitz blocks ``Z^T W^j Z`` and ``A^T y`` once. At the
  paper's size this took one (gamma, trial) task from 25 s (dense A, working sets)
  to about 1 s.
* Batched right-hand sides with one lam per column: the rho cells of one (gamma,
  trial) share the network and advance together as matrix products.
* Locally, the tasks run one per core, each single-threaded (a thread pool; the
  kernels release the GIL).
* Early stopping where the answer is decided. The solvers stop at a loose tolerance
  (LASSO: duality gap <= 1e-3 x objective; nuclear norm: relative step <= 1e-6, its
  step rule needs the tighter value: at 1e-5 a trial's rMSE was off by up to 7%),
  and, since the true signal is known, a trial also stops once its error
  ``||S_hat - S||^2`` changes by at most ``settle`` = 1e-4 (relative) over 10
  steps, at two checks in a row (the ``settled`` column). Measured at the paper's
  size (L = 40, N = 100; gammas 1/15, 0.2 and 0.6, rhos 0.1 to 0.9) against solving
  every trial to optimality (gap 1e-8 / step 1e-9, no settling, 20000 steps) with
  ``python bench/bench_phase.py --check-early-stop``: the largest change of a trial's
  rMSE was 0.007 in log10 (1.6%) for the sparse panels and 0.002 (0.6%) for the
  low-rank ones, for 11-17x (sparse) and 2.2x (low rank) fewer iterations. The
  figure's colour scale spans three decades.
* The low-rank panels use :func:`~fastmem.stm.nuclear_norm_gram`'s defaults, greedy
  FISTA with continuation on lam (settling is tested in the last stage only). Against
  the restarted FISTA used before, on 8 gammas x 15 rhos x both coherences (1 trial):
  1.4x less time per panel, and the largest change of a trial's rMSE against the
  optimum fell from 3.0% (FISTA, at gamma = 1/15) to 1.0%.
* Other networks (``network="gaussian"``, or ``operator="dense"/"network"``) use the
  A-form solvers: the dense A (built in O(M N L) for block-diagonal W) while it has
  at most ``dense_limit`` entries, else the matrix-free network operator.
* Cells of the low-rank diagram where ``rho M < L + N - 1`` cannot hold even a
  rank-1 stream: they are not run (blank in the figure).
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, asdict
from functools import partial
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from .. import _core
from .._config import get_num_threads
from .._rng import RNGLike, seed_entropy, trial_generator
from .._validation import as_float_array, check_choice, check_float, check_int, check_threads
from ..sweep import run_sweep
from .network import NETWORK_KINDS, NetworkOperator, measurement_operator, random_network

MODELS = ("sparse", "lowrank")
COHERENCES = ("low", "high")
OPERATORS = ("auto", "gram", "dense", "network")
#: Default stopping tolerances: LASSO stops on the relative duality gap, the nuclear-norm
#: solver on the relative step, which needs a tighter value for the same rMSE accuracy.
DEFAULT_TOL = {"sparse": 1e-3, "lowrank": 1e-6}

#: Default settling test (see the module notes): a trial stops once its error against the
#: true signal changes by at most this fraction over 10 steps, twice in a row.
DEFAULT_SETTLE = 1e-4

#: The default grid: 15 x 15 cells, gamma and rho in (0, 1], steps of 1/15.
DEFAULT_GAMMAS = tuple(np.round(np.arange(1, 16) / 15, 6))
DEFAULT_RHOS = tuple(np.round(np.arange(1, 16) / 15, 6))

__all__ = ["phase_diagram", "phase_trial", "PhaseDiagram", "theory_rho", "fit_theory_constant",
           "DEFAULT_GAMMAS", "DEFAULT_RHOS"]


@dataclass(frozen=True)
class PhaseConfig:
    """Every setting of a phase-diagram sweep (picklable, JSON-able)."""

    model: str
    coherence: str
    L: int
    N: int
    gammas: Tuple[float, ...]
    rhos: Tuple[float, ...]
    trials: int
    noise: float
    network: str
    radius: float
    entropy: int
    lam_scale: float
    tol: float
    max_iter: int
    operator: str
    dense_limit: int
    settle: float = DEFAULT_SETTLE

    def meta(self) -> Dict[str, Any]:
        d = asdict(self)
        d["entropy"] = str(self.entropy)  # may exceed 64 bits
        d["gammas"] = list(self.gammas)
        d["rhos"] = list(self.rhos)
        return d


@dataclass(frozen=True)
class PhaseDiagram:
    """The result of :func:`phase_diagram`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per trial: model, coherence, gamma_index, rho_index, trial, gamma,
        rho (nominal), rho_actual (from the integer K or R), M, K or R, seed, lam,
        rmse, iterations, converged, time (seconds of solver time, the batch's
        time shared equally by its columns).
    summary : pandas.DataFrame
        One row per cell: gamma, rho, M, K or R, trials, mean_rmse, median_rmse,
        converged (fraction), iterations (mean).
    config : PhaseConfig
        The settings (with the sweep's entropy), enough to recompute any trial.
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    config: PhaseConfig

    @property
    def size_column(self) -> str:
        return "K" if self.config.model == "sparse" else "R"

    def theory_constant(self, threshold: float = 0.1) -> Optional[float]:
        """C fitted to this diagram's transition (see :func:`fit_theory_constant`)."""
        return fit_theory_constant(self.summary, self.config.model, self.config.N, self.config.L, threshold)


# --------------------------------------------------------------------------- sizes and theory


def cell_size(model: str, gamma: float, rho: float, N: int, L: int) -> Tuple[int, int, float]:
    """(M, K or R, rho_actual) of a cell; K or R is 0 when the cell cannot be realised."""
    M = max(1, int(round(gamma * N * L)))
    if model == "sparse":
        K = min(N * L, max(1, int(round(rho * M))))
        return M, K, K / M
    target = rho * M
    s = L + N
    disc = s * s - 4.0 * target
    R_real = (s - math.sqrt(disc)) / 2.0 if disc >= 0 else min(N, L)
    R = min(N, L, int(round(R_real)))
    if R < 1:
        return M, 0, float("nan")
    return M, R, R * (L + N - R) / M


def theory_rho(model: str, gammas, N: int, L: int, C: float) -> np.ndarray:
    """The theory's boundary in (gamma, rho) coordinates for a constant C.

    Sparse: ``M = C K log(N L)``, i.e. ``rho = 1 / (C log(N L))`` (flat in gamma).
    Low rank: ``M = C R (N + L) log(N L)``, i.e. ``R = M / (C (N + L) log(N L))`` and
    ``rho = R (L + N - R) / M``.
    """
    check_choice(model, "model", MODELS)
    N = check_int(N, "N", minimum=1)
    L = check_int(L, "L", minimum=1)
    C = check_float(C, "C", minimum=0.0, min_inclusive=False)
    gammas = as_float_array(gammas, "gammas", ndim=(0, 1))
    if np.any(gammas <= 0):
        raise ValueError("gammas must be > 0")
    logp = math.log(N * L) if N * L > 1 else math.log(2)
    if model == "sparse":
        return np.full(gammas.shape, 1.0 / (C * logp))
    M = gammas * N * L
    R = M / (C * (N + L) * logp)
    return R * (L + N - R) / M


def fit_theory_constant(summary: pd.DataFrame, model: str, N: int, L: int, threshold: float = 0.1) -> Optional[float]:
    """Fit C of the theory's line to a measured diagram.

    For every gamma whose median rMSE crosses ``threshold`` as rho grows, the
    crossing rho_c is found by linear interpolation between the two cells around
    it; C is the median over those gammas of ``M / (K_c log(NL))`` (sparse, with
    ``K_c = rho_c M``) or ``M / (R_c (N + L) log(NL))`` (low rank, with R_c from
    ``R_c (L + N - R_c) = rho_c M``). None when no column crosses.
    """
    check_choice(model, "model", MODELS)
    N = check_int(N, "N", minimum=1)
    L = check_int(L, "L", minimum=1)
    threshold = check_float(threshold, "threshold", minimum=0.0, min_inclusive=False)
    if not isinstance(summary, pd.DataFrame):
        raise TypeError(f"summary must be a pandas DataFrame (PhaseDiagram.summary), got {type(summary).__name__}")
    missing = {"gamma", "rho", "median_rmse"} - set(summary.columns)
    if missing:
        raise ValueError(f"summary lacks the columns {sorted(missing)}")
    logp = math.log(N * L) if N * L > 1 else math.log(2)
    values = []
    for gamma, cells in summary.groupby("gamma"):
        cells = cells.sort_values("rho")
        rho = cells["rho"].to_numpy(float)
        med = cells["median_rmse"].to_numpy(float)
        above = np.nonzero(med > threshold)[0]
        if above.size == 0 or above[0] == 0:
            continue
        i = above[0]
        r0, r1, e0, e1 = rho[i - 1], rho[i], med[i - 1], med[i]
        rho_c = r0 + (threshold - e0) * (r1 - r0) / (e1 - e0) if e1 != e0 else r0
        M = gamma * N * L
        if model == "sparse":
            values.append(1.0 / (rho_c * logp))
        else:
            s = L + N
            disc = max(s * s - 4.0 * rho_c * M, 0.0)
            R_c = (s - math.sqrt(disc)) / 2.0
            if R_c > 0:
                values.append(M / (R_c * (N + L) * logp))
    return float(np.median(values)) if values else None


# --------------------------------------------------------------------------- one task


def _uses_gram(cfg: PhaseConfig) -> bool:
    """The block-Toeplitz Gram path: W scaled orthogonal and block-diagonal (the circle network)."""
    if cfg.operator == "gram":
        return True
    return cfg.operator == "auto" and cfg.network == "circle"


def _operator(cfg: PhaseConfig, W: np.ndarray, Z: np.ndarray, n_threads: Optional[int]):
    M = W.shape[0]
    size = M * cfg.N * cfg.L
    if _uses_gram(cfg):  # the circle network is block-diagonal by construction: skip the O(M^2) detection
        return NetworkOperator(W, Z, cfg.N, structure="block_diagonal" if cfg.network == "circle" else "auto")
    dense = cfg.operator == "dense" or (cfg.operator == "auto" and size <= cfg.dense_limit)
    if dense:
        return measurement_operator(W, Z, cfg.N, n_threads=n_threads)
    return NetworkOperator(W, Z, cfg.N)


def _draw_signal(cfg: PhaseConfig, size: int, gen: np.random.Generator) -> np.ndarray:
    from . import signals

    if cfg.model == "sparse":
        basis = "identity" if cfg.coherence == "low" else "dct"
        S, _ = signals.sparse_signal(cfg.N, cfg.L, size, basis=basis, rng=gen)
        return S
    from .. import stm

    out = stm.lowrank_signal(cfg.N, cfg.L, size, coherence=cfg.coherence, rng=gen)
    if hasattr(out, "S"):
        return np.asarray(out.S)
    return np.asarray(out[0] if isinstance(out, tuple) else out)


def task_network(cfg: PhaseConfig, g: int, t: int) -> Tuple[np.ndarray, np.ndarray]:
    """The network (W, Z) shared by every rho of gamma index g in trial t."""
    M = max(1, int(round(cfg.gammas[g] * cfg.N * cfg.L)))
    return random_network(M, cfg.L, kind=cfg.network, radius=cfg.radius, rng=trial_generator(cfg.entropy, (0, g, t)))


def draw_measurement(cfg: PhaseConfig, A, g: int, r: int, t: int, size: int) -> Tuple[np.ndarray, np.ndarray, float]:
    """The stream S (N, L), the noisy read-out y (M,) and lam of cell (g, r), trial t (see the module notes)."""
    S, Y, lam = draw_measurements(cfg, A, g, [(r, size)], t)
    return S[0], Y[:, 0], float(lam[0])


def draw_measurements(cfg: PhaseConfig, A, g: int, cells: Sequence[Tuple[int, int]], t: int):
    """Streams (B, N, L), read-outs (M, B) and lams (B,) of the cells [(r, size), ...] of gamma g, trial t.

    Each cell draws its stream and then its noise from its own generator, so a cell's
    draws do not depend on the others; the clean read-outs are one batched product.
    """
    gens = [trial_generator(cfg.entropy, (1, g, r, t)) for r, _ in cells]
    S = np.stack([_draw_signal(cfg, size, gen) for (_, size), gen in zip(cells, gens)])
    B = len(cells)
    clean = np.asarray(A @ np.ascontiguousarray(S.reshape(B, -1).T)).reshape(-1, B)
    M = clean.shape[0]
    Y = np.empty((M, B))
    lam = np.empty(B)
    scale = math.sqrt(2.0 * math.log(cfg.N * cfg.L)) if cfg.model == "sparse" else math.sqrt(cfg.N) + math.sqrt(cfg.L)
    for j, gen in enumerate(gens):
        sigma = cfg.noise * float(np.linalg.norm(clean[:, j])) / math.sqrt(M)
        Y[:, j] = clean[:, j] + sigma * gen.standard_normal(M)
        lam[j] = cfg.lam_scale * sigma * scale
    return S, Y, lam


def _solve(cfg: PhaseConfig, A, Y: np.ndarray, lam: np.ndarray, n_threads: Optional[int]):
    """Recover the batch; returns S_hat (B, N, L), iterations (B,), converged (B,)."""
    from .. import stm

    B = Y.shape[1]
    solver = "lasso" if cfg.model == "sparse" else "nuclear_norm"
    if not hasattr(stm, solver):
        raise RuntimeError(f"phase_diagram(model={cfg.model!r}) needs fastmem.stm.{solver}, which this build lacks")
    if cfg.model == "sparse":
        basis = "identity" if cfg.coherence == "low" else "dct"
        res = stm.lasso(A, Y, lam, basis=basis, tol=cfg.tol, max_iter=cfg.max_iter, signal_shape=(cfg.N, cfg.L),
                        n_threads=n_threads)
    else:
        res = stm.nuclear_norm(A, Y, shape=(cfg.N, cfg.L), lam=lam, tol=cfg.tol, max_iter=cfg.max_iter,
                               n_threads=n_threads)
    S_hat = _as_streams(np.asarray(res.S if hasattr(res, "S") else res.S_hat), B, cfg.N, cfg.L)
    iters = np.broadcast_to(np.asarray(res.iterations), (B,)).astype(int)
    conv = np.broadcast_to(np.asarray(res.converged), (B,)).astype(bool)
    return S_hat, iters, conv


def _solve_gram(cfg: PhaseConfig, op: NetworkOperator, Y: np.ndarray, lam: np.ndarray, S_true: np.ndarray,
                n_threads: Optional[int]):
    """Recover the batch in Gram form on the block-Toeplitz A^T A, settling against S_true.

    Returns S_hat (B, N, L), iterations (B,), converged (B,), settled (B,).
    """
    from .gram import ToeplitzGram, lasso_gram, nuclear_norm_gram

    B, N, L = S_true.shape
    basis = "dct" if (cfg.model == "sparse" and cfg.coherence == "high") else "identity"
    try:
        G = ToeplitzGram.from_operator(op, basis=basis, n_threads=n_threads)
    except ValueError as err:
        raise ValueError(f"operator='gram' needs W^T W = q^2 I (a circle or orthogonal network): {err}") from None
    reference = S_true  # (B, N, L); in the DCT basis the coefficients a = Psi^T s along time
    if G.basis is not None:
        reference = np.einsum("nk,bnl->bkl", G.basis, S_true)
    solver = lasso_gram if cfg.model == "sparse" else nuclear_norm_gram
    res = solver(G, Y, lam, reference=reference.reshape(B, N * L).T, tol=cfg.tol, max_iter=cfg.max_iter,
                 settle_tol=cfg.settle, n_threads=n_threads)
    coef = res.coef.T.reshape(B, N, L)
    S_hat = np.einsum("nk,bkl->bnl", G.basis, coef) if G.basis is not None else coef
    return S_hat, res.iterations, res.converged, res.settled


def _as_streams(S: np.ndarray, B: int, N: int, L: int) -> np.ndarray:
    """A solver's estimate, in any of the layouts it may use, as (B, N, L)."""
    if S.shape == (B, N, L):
        return S
    if S.shape == (N * L, B):
        return S.T.reshape(B, N, L)
    if S.shape == (N, L) and B == 1:
        return S[None]
    if S.shape == (B, N * L):
        return S.reshape(B, N, L)
    raise RuntimeError(f"unexpected shape {S.shape} of the solver's S for B={B}, N={N}, L={L}")


def _trial_seed(entropy: int, key: Sequence[int]) -> int:
    state = np.random.SeedSequence([int(entropy), *[int(k) for k in key]]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


def _phase_task(cfg: PhaseConfig, n_threads: Optional[int], task: Tuple[int, int],
                rho_indices: Optional[Sequence[int]] = None) -> List[Dict[str, Any]]:
    """All rho cells of one (gamma index, trial): one network, one batched solve."""
    g, t = int(task[0]), int(task[1])
    gamma = cfg.gammas[g]
    cells = []
    for r in (range(len(cfg.rhos)) if rho_indices is None else rho_indices):
        M, size, rho_actual = cell_size(cfg.model, gamma, cfg.rhos[r], cfg.N, cfg.L)
        if size >= 1:
            cells.append((r, size, rho_actual))
    if not cells:
        return []
    W, Z = task_network(cfg, g, t)
    M = W.shape[0]
    A = _operator(cfg, W, Z, n_threads)
    B = len(cells)
    S_true, Y, lam = draw_measurements(cfg, A, g, [(r, size) for r, size, _ in cells], t)
    start = time.perf_counter()
    if _uses_gram(cfg) and (cfg.operator == "gram" or _core.orthogonal_scale(A._op) > 0):
        S_hat, iters, conv, settled = _solve_gram(cfg, A, Y, lam, S_true, n_threads)
    else:
        S_hat, iters, conv = _solve(cfg, A, Y, lam, n_threads)
        settled = np.zeros(B, dtype=bool)
    elapsed = (time.perf_counter() - start) / B
    err = np.sum((S_true - S_hat) ** 2, axis=(1, 2)) / np.sum(S_true**2, axis=(1, 2))
    size_col = "K" if cfg.model == "sparse" else "R"
    rows = []
    for j, (r, size, rho_actual) in enumerate(cells):
        rows.append({
            "gamma_index": g, "rho_index": r, "trial": t,
            "model": cfg.model, "coherence": cfg.coherence,
            "gamma": float(gamma), "rho": float(cfg.rhos[r]), "rho_actual": float(rho_actual),
            "M": M, size_col: int(size), "seed": _trial_seed(cfg.entropy, (1, g, r, t)),
            "lam": float(lam[j]), "rmse": float(err[j]), "iterations": int(iters[j]),
            "converged": bool(conv[j]), "settled": bool(settled[j]), "time": float(elapsed),
        })
    return rows


# --------------------------------------------------------------------------- public API


def _grid(values, name: str, default) -> Tuple[float, ...]:
    if values is None:
        return tuple(float(v) for v in default)
    arr = as_float_array(values, name, ndim=1, allow_empty=False)
    if np.any(arr <= 0) or np.any(arr > 1):
        raise ValueError(f"{name} must lie in (0, 1], got values from {arr.min()} to {arr.max()}")
    if len(np.unique(arr)) != len(arr):
        raise ValueError(f"{name} must not repeat values")
    return tuple(float(v) for v in arr)


def _make_config(model, coherence, L, N, gammas, rhos, trials, noise, network, radius, rng, lam_scale, tol,
                 max_iter, operator, dense_limit, settle=DEFAULT_SETTLE) -> PhaseConfig:
    check_choice(model, "model", MODELS)
    check_choice(coherence, "coherence", COHERENCES)
    L = check_int(L, "L", minimum=1, maximum=100_000)
    N = check_int(N, "N", minimum=1, maximum=100_000)
    check_choice(network, "network", NETWORK_KINDS)
    r = check_float(radius, "radius", minimum=0.0, min_inclusive=False)
    if (N - 1) * math.log(r) > 200 * math.log(10):
        raise ValueError(f"radius = {r} makes W^(N-1) overflow over N = {N} steps (radius^(N-1) > 1e200); "
                         "use a radius near 1")
    return PhaseConfig(
        model=model, coherence=coherence, L=L, N=N,
        gammas=_grid(gammas, "gammas", DEFAULT_GAMMAS), rhos=_grid(rhos, "rhos", DEFAULT_RHOS),
        trials=check_int(trials, "trials", minimum=1, maximum=1_000_000),
        noise=check_float(noise, "noise", minimum=0.0, maximum=1e100),  # relative level
        network=network,
        radius=check_float(radius, "radius", minimum=0.0, min_inclusive=False),
        entropy=seed_entropy(rng),
        lam_scale=check_float(lam_scale, "lam_scale", minimum=0.0, min_inclusive=False),
        tol=check_float(tol, "tol", minimum=0.0, min_inclusive=False),
        max_iter=check_int(max_iter, "max_iter", minimum=1),
        operator=check_choice(operator, "operator", OPERATORS),
        dense_limit=check_int(dense_limit, "dense_limit", minimum=0),
        settle=check_float(settle, "settle", minimum=0.0, maximum=1.0),
    )


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Per-cell summary of a phase-diagram table: mean and median rMSE and more."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a phase-diagram DataFrame (PhaseDiagram.table), got {type(table).__name__}")
    size = "K" if "K" in table.columns else "R"
    if table.empty:
        return pd.DataFrame(columns=["gamma_index", "rho_index", "gamma", "rho", "M", size, "trials",
                                     "mean_rmse", "median_rmse", "converged", "iterations"])
    g = table.groupby(["gamma_index", "rho_index"], sort=True)
    out = g.agg(gamma=("gamma", "first"), rho=("rho", "first"), M=("M", "first"), **{size: (size, "first")},
                trials=("trial", "size"), mean_rmse=("rmse", "mean"), median_rmse=("rmse", "median"),
                converged=("converged", "mean"), iterations=("iterations", "mean"))
    return out.reset_index()


def phase_diagram(
    model: str = "sparse",
    coherence: str = "low",
    L: int = 40,
    N: int = 100,
    gammas: Optional[Sequence[float]] = None,
    rhos: Optional[Sequence[float]] = None,
    trials: int = 20,
    noise: float = 0.01,
    network: str = "circle",
    radius: float = 1.0,
    rng: RNGLike = 0,
    store=None,
    executor: Any = None,
    progress: bool = True,
    n_threads: Optional[int] = None,
    lam_scale: float = 1.0,
    tol: Optional[float] = None,
    max_iter: int = 1000,
    operator: str = "auto",
    dense_limit: int = 20_000_000,
    settle: float = DEFAULT_SETTLE,
) -> PhaseDiagram:
    """Recovery error over compression gamma and complexity rho (the paper's Fig. 2).

    Parameters
    ----------
    model : {"sparse", "lowrank"}
        Sparse inputs recovered by LASSO, ``min 0.5||y - A Psi a||^2 + lam ||a||_1``
        (rho = K / M), or low-rank inputs recovered by nuclear-norm minimisation,
        ``min 0.5||y - A vec(S)||^2 + lam ||S||_*`` (rho = R (L + N - R) / M).
    coherence : {"low", "high"}
        Coherence of the input with sinusoids: sparse in spikes ("low") or in the
        DCT ("high"); low-rank with a Gaussian ("low") or sinusoidal ("high")
        temporal factor.
    L, N : int
        Input channels and time steps (the paper: 40 and 100).
    gammas, rhos : sequence of float in (0, 1], optional
        The grid; by default 15 x 15 cells in steps of 1/15 (``DEFAULT_GAMMAS``,
        ``DEFAULT_RHOS``). M = round(gamma N L); K = max(1, round(rho M)); R is the
        nearest integer with R (L + N - R) = rho M (cells with R < 1 are skipped).
    trials : int
        Monte Carlo trials per cell (the paper: 20).
    noise : float
        Relative noise level of the state read-out (see the module notes).
    network : {"circle", "orthogonal", "gaussian"}
        Network model of :func:`~fastmem.stm.random_network`; "circle" (the
        theory's model) is block-diagonal and by far the fastest.
    radius : float
        Spectral radius of W.
    rng : int, Generator or None
        The sweep's seed; every trial's draws derive from it and the trial's indices.
        Pass an int to make a ``store`` resumable across sessions (a Generator
        yields fresh entropy each call, which a store will refuse).
    store : str or os.PathLike, optional
        A ``.csv`` file that collects trials as they finish; calling again with the
        same store and settings resumes (see :func:`fastmem.sweep.run_sweep`).
    executor : None, concurrent.futures.Executor-like or dask.distributed.Client
        Where (gamma, trial) tasks run; None: in this process on all cores, one
        single-threaded task per core (a thread pool; the kernels release the GIL).
    progress : bool
        tqdm progress bar.
    n_threads : int, optional
        Threads for each task's kernels; given, tasks run one at a time with that many
        threads when ``executor`` is None. Default: 1 per task (the tasks are the
        parallelism, locally and on an executor).
    lam_scale : float
        Multiplies the noise-based lam (see the module notes).
    tol : float, optional
        The solver's relative stopping tolerance: by default 1e-3 for LASSO (on the
        duality gap) and 1e-6 for the nuclear norm (on the step); see the module notes.
    max_iter : int
        The solver's iteration cap.
    operator : {"auto", "gram", "dense", "network"}
        "gram": solve in Gram form on the block-Toeplitz ``A^T A`` of a scaled
        orthogonal W (:class:`~fastmem.stm.ToeplitzGram`; cost per step independent of
        M), with the settling test below. "dense": the dense A (built in O(M N L) for
        block-diagonal W); "network": the matrix-free
        :class:`~fastmem.stm.NetworkOperator`. "auto" uses "gram" for the circle
        network, otherwise the dense A while it has at most ``dense_limit`` entries.
    settle : float
        Gram path only: a trial also stops once its error against the true signal
        changes by at most this fraction over 10 solver steps, at two checks in a
        row (the answer the figure shows is then decided; see the module notes).
        0 turns the test off.

    Returns
    -------
    PhaseDiagram
        ``.table`` (one row per trial), ``.summary`` (one row per cell), ``.config``.
    """
    if tol is None:
        tol = DEFAULT_TOL.get(model, 1e-3)
    cfg = _make_config(model, coherence, L, N, gammas, rhos, trials, noise, network, radius, rng, lam_scale,
                       tol, max_iter, operator, dense_limit, settle)
    tasks = [(g, t) for g in range(len(cfg.gammas)) for t in range(cfg.trials)]
    local_pool = None
    if n_threads is not None:
        check_threads(n_threads)
    elif executor is not None:
        n_threads = 1
    elif min(get_num_threads(), len(tasks)) > 1:
        # Locally, one task per core (each single-threaded, the GIL released in the kernels)
        # beats one task at a time on all cores: a task's products are too small to keep two
        # threads busy between barriers.
        local_pool = ThreadPoolExecutor(min(get_num_threads(), len(tasks)), thread_name_prefix="fastmem-phase")
        n_threads = 1
    worker = partial(_phase_task, cfg, n_threads)
    try:
        table = run_sweep(worker, tasks, key=("gamma_index", "trial"), store=store, meta=cfg.meta(),
                          executor=local_pool if local_pool is not None else executor, progress=progress,
                          desc=f"phase {cfg.model}/{cfg.coherence}")
    finally:
        if local_pool is not None:
            local_pool.shutdown(wait=True, cancel_futures=True)
    if not table.empty:
        table = table.sort_values(["gamma_index", "rho_index", "trial"], kind="stable").reset_index(drop=True)
    return PhaseDiagram(table=table, summary=summarize(table), config=cfg)


def phase_trial(config: PhaseConfig, gamma_index: int, rho_index: int, trial: int,
                n_threads: Optional[int] = None) -> Dict[str, Any]:
    """Recompute one trial of a phase diagram by itself (same network, signal and noise).

    The solver runs on this trial's column alone, so the result equals the
    sweep's row up to the rounding of batched versus single matrix products.
    """
    if not isinstance(config, PhaseConfig):
        raise TypeError(f"config must be a PhaseConfig (PhaseDiagram.config), got {type(config).__name__}")
    g = check_int(gamma_index, "gamma_index", minimum=0, maximum=len(config.gammas) - 1)
    r = check_int(rho_index, "rho_index", minimum=0, maximum=len(config.rhos) - 1)
    t = check_int(trial, "trial", minimum=0, maximum=config.trials - 1)
    rows = _phase_task(config, n_threads, (g, t), rho_indices=[r])
    if not rows:
        raise ValueError(f"cell (gamma_index={g}, rho_index={r}) cannot be realised (rank R < 1) and has no trials")
    return rows[0]
