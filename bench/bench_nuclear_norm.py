"""Nuclear-norm recovery: fastmem (C++ FISTA + SVT) against the numpy reference and cvxpy.

The paper's sizes: L = 40 inputs, N = 100 steps, M from 400 to 4000 nodes, rank R from 1
to 20, a circle network's dense A (M, 4000), noise 0.01 on y, lam = auto_lam(A, 0.01).
For every cell, in one run, on the same problems:

* F* = the optimum, from fastmem at tol 1e-9 (its time is shown as "fm tight").
* fastmem at tol 1e-6 on a batch of B right-hand sides sharing A (time per problem), and
  on one right-hand side alone ("fm 1").
* numpy reference (``fastmem.reference.nuclear_norm``, numpy.linalg.svd) on the first
  problem, run until its objective reaches what fastmem's reached ("equal accuracy";
  the objective is checked every 10 steps): plain proximal gradient (ISTA, the reference)
  and FISTA (the reference's accelerated option, no restart). A run that hits its step cap
  is shown with '>' (the ratio is then a lower bound). The reference is handed fastmem's
  Lipschitz constant (fastmem's own timings include its Lanczos estimate).
* cvxpy (Clarabel, interior point, ~1e-8 accuracy) on the first problem, only where
  M <= --cvxpy-max-M (the SDP takes minutes beyond; said in the table).

Relative objective errors (F - F*)/F* are printed for each. Ratios are peer time / fastmem
time per problem (batch), and / fastmem time on one problem alone.

    python bench/bench_nuclear_norm.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from _common import GEMM_GFLOPS_LIMIT, MEMORY_GBS_LIMIT, best_time, print_table

import fastmem
from fastmem import _core
from fastmem.reference import nuclear_norm as ref
from fastmem.stm import lowrank_signal, measurement_operator, nuclear_norm, random_network
from fastmem.stm.nuclear_norm import auto_lam

L, N, NOISE = 40, 100, 0.01


def svt_microbench(repeat: int = 3) -> None:
    rng = np.random.default_rng(0)
    B = 32
    Z = np.stack([rng.standard_normal((N, 5)) @ rng.standard_normal((5, L)) + 0.1 * rng.standard_normal((N, L))
                  for _ in range(B)])
    tau = np.full(B, 2.0)
    rows = []
    t_np = best_time(lambda: [ref.singular_value_threshold(Z[b], 2.0) for b in range(B)], repeat) / B
    rows.append(["numpy.linalg.svd (reference)", t_np * 1e6, 1.0])
    for method in ("gram", "bdc", "jacobi"):
        t = best_time(lambda: _core.singular_value_threshold(Z, tau, method, 1), repeat) / B
        rows.append([f"fastmem svd={method!r}", t * 1e6, t_np / t])
    print_table(["SVT of a 100 x 40 matrix (1 thread)", "us", "speed-up vs numpy"], rows,
                "Singular value thresholding D_tau (rank 5 + noise)")


def cvxpy_solve(A, y, lam):
    import cvxpy as cp

    X = cp.Variable((N, L))
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(y - A @ cp.vec(X, order="C")) + lam * cp.normNuc(X)))
    prob.solve(solver=cp.CLARABEL)
    return X.value


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="M = 400, R in (2, 10), B = 4: a couple of minutes")
    p.add_argument("--trials", type=int, default=None, help="right-hand sides per cell (default 8, quick 4)")
    p.add_argument("--cvxpy-max-M", type=int, default=400, help="run cvxpy only where M <= this (default 400)")
    p.add_argument("--ista-max-iter", type=int, default=None, help="step cap of the ISTA reference")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None,
                   help="fastmem threads (default: the process setting; use 1 on a machine shared with other jobs, "
                        "where OpenMP barriers of an oversubscribed CPU cost far more than they gain)")
    args = p.parse_args(argv)
    Ms = (400,) if args.quick else (400, 1000, 2000, 4000)
    Rs = (2, 10) if args.quick else (1, 5, 10, 20)
    B = args.trials or (4 if args.quick else 8)
    ista_cap = args.ista_max_iter or (1000 if args.quick else 5000)
    th = args.threads
    print(f"fastmem {fastmem.__version__}, {fastmem.get_num_threads()} threads; L={L}, N={N}, noise={NOISE}, "
          f"B={B} right-hand sides per cell; machine limits ~{GEMM_GFLOPS_LIMIT:.0f} GFLOP/s GEMM, "
          f"~{MEMORY_GBS_LIMIT:.0f} GB/s memory")
    svt_microbench()

    rows, rate_rows = [], []
    t_start = time.perf_counter()
    for iM, M in enumerate(Ms):
        for iR, R in enumerate(Rs):
            rng = np.random.default_rng(np.random.SeedSequence([args.seed, iM, iR]))
            W, Z = random_network(M, L, rng=rng)
            A = measurement_operator(W, Z, N)
            S = np.stack([lowrank_signal(N, L, R, rng=rng).S for _ in range(B)])
            Y = A @ S.reshape(B, -1).T + NOISE * rng.standard_normal((M, B))
            lam = auto_lam(A, NOISE, (N, L))

            t0 = time.perf_counter()
            star = nuclear_norm(A, Y, (N, L), lam, tol=1e-9, max_iter=50000, n_threads=th)
            t_tight = (time.perf_counter() - t0) / B
            F_star = star.objective
            lip = star.lipschitz  # handed to the reference; every timed fastmem run estimates its own
            res = {}

            def run_batch():
                res["batch"] = nuclear_norm(A, Y, (N, L), lam, tol=1e-6, n_threads=th)

            t_batch = best_time(run_batch, 2) / B
            batch = res["batch"]
            err_batch = float(np.max((batch.objective - F_star) / F_star))

            def run_one():
                res["one"] = nuclear_norm(A, Y[:, 0], (N, L), lam, tol=1e-6, n_threads=th)

            t_one = best_time(run_one, 2)
            target = res["one"].objective
            iters = int(batch.iterations[0])
            flops = 4.0 * M * N * L * float(np.sum(batch.iterations))
            rate_rows.append([M, R, float(np.mean(batch.iterations)), flops / (t_batch * B) / 1e9,
                              8.0 * M * N * L * 2 * iters / t_one / 1e9])

            t0 = time.perf_counter()
            fista = ref.nuclear_norm(A, Y[:, 0], (N, L), lam, tol=0.0, max_iter=50000, accelerated=True,
                                     target_objective=target, lipschitz=lip)
            t_fista = time.perf_counter() - t0
            t0 = time.perf_counter()
            ista = ref.nuclear_norm(A, Y[:, 0], (N, L), lam, tol=0.0, max_iter=ista_cap,
                                    target_objective=target, lipschitz=lip)
            t_ista = time.perf_counter() - t0
            err0 = (target - F_star[0]) / F_star[0]
            err_fista = (fista.objective - F_star[0]) / F_star[0]
            err_ista = (ista.objective - F_star[0]) / F_star[0]
            if M <= args.cvxpy_max_M:
                t0 = time.perf_counter()
                Xc = cvxpy_solve(A, Y[:, 0], lam)
                t_cvx = time.perf_counter() - t0
                err_cvx = (ref.objective(A, Y[:, 0], Xc, lam) - F_star[0]) / F_star[0]
                cvx_cells = [t_cvx, t_cvx / t_batch, t_cvx / t_one, err_cvx]
            else:
                cvx_cells = ["skipped", "-", "-", "-"]
            ista_mark = "" if ista.converged else ">"
            rows.append([M, R, t_batch, t_one, t_tight, err_batch, err0,
                         t_fista, t_fista / t_batch, t_fista / t_one, err_fista,
                         f"{ista_mark}{t_ista:.3g}", f"{ista_mark}{t_ista / t_batch:.3g}",
                         f"{ista_mark}{t_ista / t_one:.3g}", err_ista, *cvx_cells])
            print(f"  cell M={M} R={R} done ({time.perf_counter() - t_start:.0f} s)", flush=True)

    print_table(
        ["M", "R", "fm s/prob", "fm 1 s", "fm tight s", "fm err", "fm1 err",
         "FISTA s", "x batch", "x 1", "err",
         "ISTA s", "x batch", "x 1", "err",
         "cvxpy s", "x batch", "x 1", "err"],
        rows,
        "Time per problem and ratios (peer time / fastmem time); err = (F - F*)/F*",
    )
    print_table(["M", "R", "mean iters", "batch GFLOP/s", "1-rhs GB/s (A read twice/step)"], rate_rows,
                "fastmem operator throughput (4 M N L flops per step per right-hand side)")
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
