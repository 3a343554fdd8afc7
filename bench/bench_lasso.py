"""LASSO recovery of sparse input streams: fastmem against celer, scikit-learn and numpy FISTA.

The paper's sizes: L = 40 inputs, N = 100 steps (P = 4000 unknowns), a random
"circle" network of M nodes (A = measurement_operator, M x 4000), an input with K
non-zero spikes (identity basis), y = A a + 0.01 * noise and lam = "auto"
(``noise * sqrt(2 log P) * rms column norm``). Every solver gets the same problem
and is stopped at the same certified accuracy: a duality gap <= 1e-6 times the
objective (the numpy reference is capped at 2000 steps; celer and scikit-learn stop on ``gap <= tol * ||y||^2``, so they get
``tol = 1e-6 * F / ||y||^2``). Printed per cell: times (best of repeats), the ratio
celer / fastmem (> 1: fastmem faster), scikit-learn / fastmem, and each solver's
objective relative to the best found, (F - F_best) / F_best. The numpy FISTA
reference runs on the smaller cells only (it is 10-100x slower).

fastmem runs twice per cell: given the dense A (as the peers are), and given the network itself
(``NetworkOperator``; its W is orthogonal, so A^T A is block-Toeplitz and the working sets read
their Gram entries from it; the time includes building it). The peers can only take the dense
A, and building A is not counted for them.

fastmem is timed with one thread (the fair comparison: celer and scikit-learn's
coordinate descent are single-threaded) and with the process-wide thread count.

    python bench/bench_lasso.py [--quick] [--threads N]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from _common import best_time, print_table

import celer
import sklearn.linear_model

import fastmem
from fastmem import stm
from fastmem.reference import lasso as ref

L, N, NOISE, TOL = 40, 100, 0.01, 1e-6
NUMPY_MAX_ITER = 2000  # the numpy reference is capped (its dF column shows how far it got)


def make_problem(M: int, K: int, seed: int = 0):
    W, Z = stm.random_network(M, L, rng=seed)
    A = stm.measurement_operator(W, Z, N)
    S, a = stm.sparse_signal(N, L, K, rng=seed + 1)
    y = A @ a + NOISE * np.random.default_rng(seed + 2).standard_normal(M)
    lam = stm.lasso(A, y, "auto", noise=NOISE, max_iter=0).lam
    return A, y, lam, S, stm.NetworkOperator(W, Z, N)


def objective(A, y, x, lam):
    r = y - A @ x
    return 0.5 * float(r @ r) + lam * float(np.abs(x).sum())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="6 cells (numpy reference on the first only)")
    parser.add_argument("--threads", type=int, default=None, help="threads for the multi-threaded fastmem column")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    if args.quick:
        Ms, rhos = [400, 1200], [0.1, 0.3, 0.5]
    else:
        Ms, rhos = [400, 1200, 2000, 3000, 4000], [0.05, 0.15, 0.3, 0.4, 0.5]
    threads = args.threads or fastmem.get_num_threads()
    rows, ratios, ratios_net = [], [], []
    t_start = time.perf_counter()
    for M in Ms:
        for rho in rhos:
            K = max(1, int(round(rho * M)))
            A, y, lam, S, op = make_problem(M, K)
            res = {}
            # the network itself (its W is orthogonal): the Gram-form solver on the block-Toeplitz A^T A
            res["fmG"] = (best_time(lambda: stm.lasso(op, y, lam, tol=TOL, n_threads=1), args.repeat),
                          stm.lasso(op, y, lam, tol=TOL, n_threads=1).coef)
            fm = stm.lasso(A, y, lam, tol=TOL, n_threads=1)
            res["fm"] = (best_time(lambda: stm.lasso(A, y, lam, tol=TOL, n_threads=1), args.repeat), fm.coef)
            res["fmT"] = (best_time(lambda: stm.lasso(A, y, lam, tol=TOL, n_threads=threads), args.repeat), fm.coef)
            ptol = TOL * fm.objective / float(y @ y)  # the peers' tol for the same certified gap
            cel = celer.Lasso(alpha=lam / M, fit_intercept=False, tol=ptol, max_iter=1000)
            res["celer"] = (best_time(lambda: cel.fit(A, y), args.repeat), cel.coef_.copy())
            skl = sklearn.linear_model.Lasso(alpha=lam / M, fit_intercept=False, tol=ptol, max_iter=100_000)
            res["sklearn"] = (best_time(lambda: skl.fit(A, y), 1 if M > 1200 else args.repeat), skl.coef_.copy())
            if (M <= 400 and rho == rhos[0]) if args.quick else M <= 1200:  # quick: one numpy cell
                t0 = time.perf_counter()
                x_np = ref.lasso(A, y, lam, tol=TOL, max_iter=NUMPY_MAX_ITER)[0]
                res["numpy"] = (time.perf_counter() - t0, x_np)
            F = {k: objective(A, y, x, lam) for k, (_, x) in res.items()}
            F_best = min(F.values())
            t = {k: v[0] for k, v in res.items()}
            ratio = t["celer"] / t["fm"]
            ratios.append(ratio)
            ratios_net.append(t["celer"] / t["fmG"])
            S_hat = fm.coef.reshape(N, L)
            rows.append([M, K, round(rho, 2), stm.rmse(S, S_hat), fm.iterations, t["fm"], t["fmT"], t["fmG"],
                         t["celer"] / t["fmG"], (F["fmG"] - F_best) / F_best, t["celer"],
                         t["sklearn"], t.get("numpy", float("nan")), ratio, t["sklearn"] / t["fm"],
                         t.get("numpy", float("nan")) / t["fm"],
                         (F["fm"] - F_best) / F_best, (F["celer"] - F_best) / F_best,
                         (F["sklearn"] - F_best) / F_best, (F["numpy"] - F_best) / F_best if "numpy" in F else float("nan")])
            print(f"  M={M} K={K}: fastmem {t['fm']:.3f}s (network/Gram {t['fmG']:.3f}s) celer {t['celer']:.3f}s "
                  f"ratio {ratio:.2f} (network {t['celer'] / t['fmG']:.2f})", file=sys.stderr, flush=True)
    print_table(
        ["M", "K", "K/M", "rMSE", "fm iters", "fm 1t s", f"fm {threads}t s", "fm net s", "celer/net", "dF net",
         "celer s", "sklearn s", "numpy s",
         "celer/fm", "sklearn/fm", "numpy/fm", "dF fm", "dF celer", "dF sklearn", "dF numpy"],
        rows,
        f"LASSO, L={L}, N={N} (P={N * L}), noise={NOISE}, lam=auto, certified gap <= {TOL} * F "
        f"(fm = fastmem.stm.lasso working-set driver on the dense A; fm net = fastmem.stm.lasso on the "
        f"NetworkOperator: working sets on its block-Toeplitz Gram; 1 thread unless noted)",
    )
    for name, rs in (("dense A, working set", ratios), ("network operator, working sets on the Toeplitz Gram", ratios_net)):
        r = np.array(rs)
        print(f"\nceler / fastmem ({name}, 1 thread): median {np.median(r):.2f}x, min {r.min():.2f}x, "
              f"max {r.max():.2f}x over {len(r)} cells; fastmem faster on {int(np.sum(r > 1))}/{len(r)}")
    print(f"total {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
