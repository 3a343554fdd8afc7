"""Benchmark: Fig. 2 of the compressive-memory paper, end to end, and against the pipeline users write today.

    python bench/bench_phase.py                 # reduced grid: fastmem vs numpy + scikit-learn, ratio
    python bench/bench_phase.py --full          # also the whole paper-resolution figure (4 x 15 x 15 x 20)
    python bench/bench_phase.py --check-early-stop   # the defaults' early stopping against solving to optimality
    python bench/bench_phase.py --quick         # a smaller reduced grid

The "today" pipeline solves the same problems (same networks, signals, noise and
lam) the way a user would without fastmem: the network as a dense numpy W (the
block-diagonal W rotated by a Haar orthogonal matrix, as one would draw it), A
built by repeated numpy products W^k Z, scikit-learn's Lasso (coordinate descent,
``alpha = lam / M`` for the same objective, ``tol=1e-4``) per signal, and a
numpy FISTA with singular value thresholding (``np.linalg.svd``) per low-rank
signal, stopping when the relative change of the iterate falls below 1e-4.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))

import fastmem  # noqa: E402
from fastmem.stm import phase as ph  # noqa: E402


# --------------------------------------------------------------------------- the pipeline users write today


def numpy_operator(W: np.ndarray, Z: np.ndarray, N: int) -> np.ndarray:
    """A (M, N*L) with column block k = W^(N-1-k) Z, by repeated dense products."""
    M, L = Z.shape
    A = np.empty((M, N * L))
    block = Z.copy()
    for k in range(N - 1, -1, -1):
        A[:, k * L:(k + 1) * L] = block
        block = W @ block
    return A


def sklearn_lasso(A: np.ndarray, y: np.ndarray, lam: float, Psi=None) -> np.ndarray:
    from sklearn.linear_model import Lasso

    X = A if Psi is None else A @ Psi
    M = A.shape[0]
    model = Lasso(alpha=lam / M, fit_intercept=False, tol=1e-4, max_iter=20000)
    model.fit(X, y)
    a = model.coef_
    return a if Psi is None else Psi @ a


def numpy_svt(A: np.ndarray, y: np.ndarray, lam: float, shape, tol: float = 1e-4, max_iter: int = 2000) -> np.ndarray:
    """FISTA with singular value thresholding for 0.5||y - A vec(S)||^2 + lam ||S||_*."""
    N, L = shape
    step = 1.0 / np.linalg.norm(A, 2) ** 2
    X = np.zeros(N * L)
    Zm, t = X.copy(), 1.0
    for _ in range(max_iter):
        G = (Zm - step * (A.T @ (A @ Zm - y))).reshape(N, L)
        U, s, Vt = np.linalg.svd(G, full_matrices=False)
        Xn = ((U * np.maximum(s - step * lam, 0.0)) @ Vt).reshape(-1)
        tn = 0.5 * (1 + math.sqrt(1 + 4 * t * t))
        Zm = Xn + (t - 1) / tn * (Xn - X)
        change = np.linalg.norm(Xn - X) / max(np.linalg.norm(Xn), 1e-300)
        X, t = Xn, tn
        if change < tol:
            break
    return X.reshape(N, L)


def haar(M: int, gen: np.random.Generator) -> np.ndarray:
    Q, R = np.linalg.qr(gen.standard_normal((M, M)))
    return Q * np.sign(np.diag(R))


def today_pipeline(cfg: "ph.PhaseConfig") -> pd.DataFrame:
    """Every trial of ``cfg`` solved the numpy + scikit-learn way; rows like the phase table."""
    from fastmem.stm.signals import basis_matrix

    Psi = basis_matrix(cfg.N, cfg.L, "dct") if (cfg.model == "sparse" and cfg.coherence == "high") else None
    rows = []
    for g, gamma in enumerate(cfg.gammas):
        for t in range(cfg.trials):
            Wb, Z = ph.task_network(cfg, g, t)
            M = Wb.shape[0]
            U = haar(M, np.random.default_rng([g, t]))
            W, Zr = U @ Wb @ U.T, U @ Z  # the dense network a user would draw
            A = numpy_operator(W, Zr, cfg.N)
            A_blk = ph.measurement_operator(Wb, Z, cfg.N)  # identical problems: y from the fastmem draw, rotated
            for r, rho in enumerate(cfg.rhos):
                M_, size, _ = ph.cell_size(cfg.model, gamma, rho, cfg.N, cfg.L)
                if size < 1:
                    continue
                S, y, lam = ph.draw_measurement(cfg, A_blk, g, r, t, size)
                y = U @ y
                t0 = time.perf_counter()
                if cfg.model == "sparse":
                    S_hat = sklearn_lasso(A, y, lam, Psi).reshape(cfg.N, cfg.L)
                else:
                    S_hat = numpy_svt(A, y, lam, (cfg.N, cfg.L), tol=cfg.tol, max_iter=cfg.max_iter)
                rows.append(dict(gamma_index=g, rho_index=r, trial=t, rmse=float(np.sum((S - S_hat) ** 2) / np.sum(S**2)),
                                 time=time.perf_counter() - t0))
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- runs


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


def reduced(quick: bool) -> None:
    if quick:
        grid = dict(L=20, N=50, gammas=(0.2, 0.5), rhos=(0.1, 0.3, 0.6), trials=1)
    else:
        grid = dict(L=40, N=100, gammas=(0.15, 0.3), rhos=(0.1, 0.3, 0.5), trials=1)
    print(f"reduced grid: gammas {grid['gammas']}, rhos {grid['rhos']}, {grid['trials']} trial(s), "
          f"L={grid['L']}, N={grid['N']}")
    print(f"{'panel':<16} {'fastmem s':>10} {'today s':>10} {'ratio':>7} {'rMSE fastmem':>13} {'rMSE today':>11}")
    tot_f = tot_t = 0.0
    for model, coherence in (("sparse", "low"), ("sparse", "high"), ("lowrank", "low"), ("lowrank", "high")):
        res, tf = timed(ph.phase_diagram, model, coherence, progress=False, rng=0, **grid)
        today, tt = timed(today_pipeline, res.config)
        tot_f += tf
        tot_t += tt
        mf = res.table["rmse"].median()
        mt = today["rmse"].median()
        print(f"{model + '/' + coherence:<16} {tf:>10.2f} {tt:>10.2f} {tt / tf:>7.1f} {mf:>13.3g} {mt:>11.3g}", flush=True)
        merged = res.table.merge(today, on=["gamma_index", "rho_index", "trial"], suffixes=("", "_today"))
        worst = np.max(np.abs(merged["rmse"] - merged["rmse_today"]))
        print(f"{'':<16} largest |rMSE difference| per trial: {worst:.3g}")
    print(f"{'all four':<16} {tot_f:>10.2f} {tot_t:>10.2f} {tot_t / tot_f:>7.1f}")


def check_early_stop() -> None:
    """The default stopping (tolerance + settling against the true signal) against solving to optimality."""
    grid = dict(L=40, N=100, gammas=(1 / 15, 0.2, 0.6), rhos=(0.1, 0.3, 0.5, 0.7, 0.9), trials=1, progress=False, rng=0)
    print(f"early stopping: cell rMSE with the defaults (LASSO gap {ph.DEFAULT_TOL['sparse']:g} / nuclear step {ph.DEFAULT_TOL['lowrank']:g}, settle "
          f"{ph.DEFAULT_SETTLE:g}, max_iter 1000) vs solved to optimality (gap 1e-8 / step 1e-9, no settling, "
          f"max_iter 20000), paper size L=40, N=100, gammas {grid['gammas']}, rhos {grid['rhos']}")
    for model, coherence in (("sparse", "low"), ("sparse", "high"), ("lowrank", "low"), ("lowrank", "high")):
        loose, tl = timed(ph.phase_diagram, model, coherence, **grid)
        tight, tt = timed(ph.phase_diagram, model, coherence, tol=1e-8 if model == "sparse" else 1e-9,
                          max_iter=20000, settle=0.0, **grid)
        a, b = loose.table["rmse"].to_numpy(), tight.table["rmse"].to_numpy()
        dlog = np.abs(np.log10(np.maximum(a, 1e-12)) - np.log10(np.maximum(b, 1e-12)))
        print(f"  {model}/{coherence:<5} max |log10 rMSE change| {dlog.max():.3f} (x{10 ** dlog.max():.3f}), "
              f"median {np.median(dlog):.4f}; iterations {loose.table['iterations'].sum()} vs "
              f"{tight.table['iterations'].sum()}; time {tl:.1f} s vs {tt:.1f} s ({tt / tl:.1f}x)", flush=True)


def full() -> None:
    from fastmem.reproduce import stm_fig2

    out = os.path.join(os.path.dirname(__file__), "results")
    args = argparse.Namespace(quick=False, out=out, store=None, trials=None, seed=0, no_progress=True)
    _, elapsed = timed(stm_fig2.run, args)
    print(f"full Fig. 2 (4 panels x 15 x 15 cells x 20 trials, L=40, N=100): {elapsed:.1f} s wall "
          f"({elapsed / 60:.1f} min) on {os.cpu_count()} cores, threads={fastmem.get_num_threads()}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--full", action="store_true", help="also time the whole paper-resolution figure")
    p.add_argument("--check-early-stop", action="store_true")
    a = p.parse_args(argv)
    fastmem.show_config()
    if a.check_early_stop:
        check_early_stop()
    reduced(a.quick)
    if a.full:
        full()
    return 0


if __name__ == "__main__":
    sys.exit(main())
