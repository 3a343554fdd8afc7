"""Nuclear-norm recovery: fastmem (C++ greedy FISTA + SVT, continuation on lam) against the numpy reference and cvxpy.

The paper's sizes: L = 40 inputs, N = 100 steps, M from 400 to 4000 nodes, rank R from 1
to 20; a circle network (radius 1), its dense A (M, 4000) and the same network as a
matrix-free operator; noise 0.01 on y; lam = auto_lam(A, 0.01). For every cell, in one run,
on the same problems:

* F* = the optimum, from fastmem at tol 1e-10 (errors below are (F - F*)/F*).
* fastmem at tol 1e-6 on problem 0 alone, with the dense A ("dense") and with the
  network operator ("net"; same iterates: the circle network of radius 1 is orthogonal, so
  nuclear_norm() solves it in Gram form on the block-Toeplitz A^T A, products O(N L (N + L))
  independent of M, set-up included in the time); and on a batch of B problems sharing the
  network (time per problem). Every fastmem timing includes its own estimate of ||A||^2.
* the numpy reference (``fastmem.reference.nuclear_norm``: one product with A and one with
  A^T per step, numpy.linalg.svd, the same Lipschitz constant) on problem 0, stopped at the
  first iterate whose objective is <= the objective fastmem reached: equal final objective.
  Two variants: textbook FISTA ("np FISTA") and the reference's implementation of fastmem's own
  algorithm, greedy FISTA with continuation on lam ("np same": step for step the same iterates
  as fastmem's A-form solver, so that ratio is the implementation alone). Plain ISTA is not run
  (a strawman: 5-10x more steps than FISTA).
* cvxpy with SCS (eps 1e-7, splitting conic solver) on problem 0, only where
  M <= --cvxpy-max-M (default 1000; SCS takes ~13 s at M = 1000 and grows fast beyond;
  Clarabel, interior point, did not finish in 10 minutes at M = 400 and is not run),
  against fastmem (a) at tol 1e-7 and (b) at equal accuracy: the loosest tol on a grid of ratio
  ~1.8 from 1e-4 down (EQ_TOLS) whose objective is <= SCS's (fastmem at least as accurate as
  SCS; both errors printed). "cvxpy SCS s" is the whole cvxpy call (what a user waits for),
  "compile s" cvxpy's canonicalisation (problem.compilation_time, part of the whole call),
  "SCS solve s" SCS's own solve time from cvxpy's solver_stats.

* The rows above run method="greedy" (greedy FISTA + continuation) explicitly. method="dr"
  (Douglas-Rachford splitting + Anderson acceleration) with the network operator, where
  M <= --dr-max-M (default 1000): at equal accuracy with SCS, and against greedy FISTA at greedy's
  objective (tol 1e-6); same tol grid. Its set-up (K = A A^T and a Cholesky factor of I + t K) is
  included in its time. nuclear_norm's default, method="auto", is dr where 10 M <= N L (M <= 400
  here) and greedy above: the column "cvxpy / default eq" is the ratio a user gets by default.

Ratios are peer time / fastmem time (fastmem: min of 5 runs; numpy: min of 2, of 1 with --quick,
which keeps it under 2 minutes). fastmem and numpy's BLAS run with --threads threads
(default 1: on the shared 2-core machine two OpenMP threads per solve lose to one).

    python bench/bench_nuclear_norm.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from _common import GEMM_GFLOPS_LIMIT, MEMORY_GBS_LIMIT, best_time, print_table

import fastmem
from fastmem import _core
from fastmem.reference import nuclear_norm as ref
from fastmem.stm import NetworkOperator, lowrank_signal, measurement_operator, nuclear_norm, random_network
from fastmem.stm.nuclear_norm import CONTINUATION_FACTOR, GREEDY_STEP, STAGE_TOL, _resolve_method, auto_lam

L, N, NOISE = 40, 100, 0.01
TOL = 1e-6
# fastmem tolerances tried for "equal accuracy" with SCS, loosest first: a geometric grid of ratio
# 10^(1/4) (~1.8), so the tol picked over-solves by less than one grid step
EQ_TOLS = tuple(float(f"{10.0 ** (-e / 4):.2g}") for e in range(16, 41))  # 1e-4 .. 1e-10


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


def scs_solve(A, y, lam):
    import cvxpy as cp

    X = cp.Variable((N, L))
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(y - A @ cp.vec(X, order="C")) + lam * cp.normNuc(X)))
    prob.solve(solver=cp.SCS, eps_abs=1e-7, eps_rel=1e-7, max_iters=200000)
    return X.value, float(prob.solver_stats.solve_time or np.nan), float(getattr(prob, "compilation_time", None) or np.nan)


def timed(fn, repeat):
    out = {}

    def run():
        out["r"] = fn()

    return best_time(run, repeat), out["r"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="M in (400, 1200), R in (2, 10), B = 4: under 2 minutes")
    p.add_argument("--trials", type=int, default=None, help="right-hand sides per cell (default 8, quick 4)")
    p.add_argument("--cvxpy-max-M", type=int, default=None,
                   help="run cvxpy (SCS) only where M <= this (default 1000, quick 400)")
    p.add_argument("--M", type=int, nargs="+", default=None, help="network sizes (overrides the grid)")
    p.add_argument("--R", type=int, nargs="+", default=None, help="ranks (overrides the grid)")
    p.add_argument("--dr-max-M", type=int, default=1000,
                   help="run method=\"dr\" only where M <= this (its set-up is O(M^3); default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="threads for fastmem and for numpy's BLAS (default 1; see the notes)")
    args = p.parse_args(argv)
    Ms = (400, 1200) if args.quick else (400, 1000, 2000, 4000)
    Rs = (2, 10) if args.quick else (1, 5, 10, 20)
    Ms, Rs = tuple(args.M or Ms), tuple(args.R or Rs)
    B = args.trials or (4 if args.quick else 8)
    cvx_max = args.cvxpy_max_M if args.cvxpy_max_M is not None else (400 if args.quick else 1000)
    th = args.threads
    from fastmem._config import build_info

    print(f"fastmem {fastmem.__version__} ({build_info()['simd_variant']} core), "
          f"{th} thread(s) for fastmem and numpy BLAS; L={L}, N={N}, noise={NOISE}, tol={TOL}, "
          f"B={B} right-hand sides per cell; machine limits ~{GEMM_GFLOPS_LIMIT:.0f} GFLOP/s GEMM, "
          f"~{MEMORY_GBS_LIMIT:.0f} GB/s memory")
    with threadpool_limits(limits=th):
        svt_microbench()
        return _cells(Ms, Rs, B, cvx_max, args.seed, th, np_repeat=1 if args.quick else 2, dr_max=args.dr_max_M)


def equal_accuracy_dr(op, y, lam, target, th, rep):
    """method="dr" at the loosest tol of EQ_TOLS whose objective is <= target: (tol, time, result)."""
    for tol in EQ_TOLS:
        r = nuclear_norm(op, y, (N, L), lam, tol=tol, max_iter=100000, n_threads=th, method="dr")
        if r.objective <= target:
            break
    t, r = timed(lambda: nuclear_norm(op, y, (N, L), lam, tol=tol, max_iter=100000, n_threads=th, method="dr"), rep)
    return tol, t, r


def _cells(Ms, Rs, B, cvx_max, seed, th, np_repeat, dr_max=1000) -> int:
    time_rows, ratio_rows, cvx_rows, rate_rows, dr_rows, cvx_dr_rows = [], [], [], [], [], []
    t_start = time.perf_counter()
    for iM, M in enumerate(Ms):
        for iR, R in enumerate(Rs):
            rng = np.random.default_rng(np.random.SeedSequence([seed, iM, iR]))
            W, Z = random_network(M, L, rng=rng)
            A = measurement_operator(W, Z, N)
            op = NetworkOperator(W, Z, N)
            S = np.stack([lowrank_signal(N, L, R, rng=rng).S for _ in range(B)])
            Y = A @ S.reshape(B, -1).T + NOISE * rng.standard_normal((M, B))
            y0 = Y[:, 0]
            lam = auto_lam(A, NOISE, (N, L))

            # Gram form: fast
            star = nuclear_norm(op, Y, (N, L), lam, tol=1e-10, max_iter=100000, n_threads=th, method="greedy")
            F_star = star.objective
            lip = star.lipschitz  # ||A||^2 estimate handed to the numpy reference

            def err(F, b=0):
                return (F - F_star[b]) / F_star[b]

            rep = 5  # fastmem solves are short: min of 5 (numpy: min of 2, 1 with --quick)
            t_dense, one = timed(lambda: nuclear_norm(A, y0, (N, L), lam, tol=TOL, n_threads=th, method="greedy"), rep)
            t_net, one_net = timed(lambda: nuclear_norm(op, y0, (N, L), lam, tol=TOL, n_threads=th,
                                                        method="greedy"), rep)
            t_bd, bd = timed(lambda: nuclear_norm(A, Y, (N, L), lam, tol=TOL, n_threads=th, method="greedy"), rep)
            t_bn, bn = timed(lambda: nuclear_norm(op, Y, (N, L), lam, tol=TOL, n_threads=th, method="greedy"), rep)
            t_bd, t_bn = t_bd / B, t_bn / B
            target = one.objective
            t_fm1 = min(t_dense, t_net)
            t_fmb = min(t_bd, t_bn)

            t_fista, fista = timed(lambda: ref.nuclear_norm(A, y0, (N, L), lam, tol=0.0, max_iter=100000,
                                                            accelerated=True, target_objective=target,
                                                            lipschitz=lip), np_repeat)
            t_rst, rst = timed(lambda: ref.nuclear_norm(A, y0, (N, L), lam, tol=0.0, max_iter=100000,
                                                        accelerated=True, greedy=GREEDY_STEP,
                                                        continuation=CONTINUATION_FACTOR, stage_tol=STAGE_TOL,
                                                        target_objective=target, lipschitz=lip), np_repeat)
            batch_err = max(float(np.max((bd.objective - F_star) / F_star)),
                            float(np.max((bn.objective - F_star) / F_star)))
            time_rows.append([M, R, one.iterations, err(one.objective), t_dense, t_net, t_bd, t_bn, batch_err,
                              fista.iterations, t_fista, err(fista.objective),
                              rst.iterations, t_rst, err(rst.objective)])
            ratio_rows.append([M, R, t_fista / t_dense, t_fista / t_fm1, t_fista / t_fmb,
                               t_rst / t_dense, t_rst / t_fm1, t_rst / t_fmb])
            flops = 4.0 * M * N * L * float(np.sum(bd.iterations))
            rate_rows.append([M, R, float(np.mean(bd.iterations)), flops / (t_bd * B) / 1e9,
                              8.0 * M * N * L * 2 * one.iterations / t_dense / 1e9,
                              t_dense / one.iterations * 1e3, t_net / one_net.iterations * 1e3,
                              t_fista / fista.iterations * 1e3])
            if M <= cvx_max:
                t_hi, hi = timed(lambda: nuclear_norm(op if t_net < t_dense else A, y0, (N, L), lam, tol=1e-7,
                                                      n_threads=th, method="greedy"), rep)
                t0 = time.perf_counter()
                Xc, t_scs_only, t_compile = scs_solve(A, y0, lam)
                t_cvx = time.perf_counter() - t0
                F_scs = ref.objective(A, y0, Xc, lam)
                fm_op = op if t_net < t_dense else A
                for tol_eq in EQ_TOLS:
                    eq = nuclear_norm(fm_op, y0, (N, L), lam, tol=tol_eq, max_iter=100000, n_threads=th,
                                      method="greedy")
                    if eq.objective <= F_scs:
                        break
                t_eq, eq = timed(lambda: nuclear_norm(fm_op, y0, (N, L), lam, tol=tol_eq, max_iter=100000,
                                                      n_threads=th, method="greedy"), rep)
                cvx_rows.append([M, R, t_hi, err(hi.objective), tol_eq, t_eq, err(eq.objective), t_cvx, t_compile,
                                 t_scs_only, err(F_scs), t_cvx / t_hi, t_cvx / t_eq, t_scs_only / t_eq])
                if M <= dr_max:
                    tol_dr, t_dr, dr = equal_accuracy_dr(op, y0, lam, F_scs, th, rep)
                    auto = _resolve_method("auto", M, N * L)  # what nuclear_norm() uses by default
                    t_auto = t_dr if auto == "dr" else t_eq
                    cvx_dr_rows.append([M, R, tol_dr, dr.iterations, t_dr, err(dr.objective), t_cvx / t_dr,
                                        t_scs_only / t_dr, t_eq / t_dr, auto, t_cvx / t_auto])
            if M <= dr_max:  # method="dr" against greedy FISTA at greedy's accuracy (tol 1e-6)
                tol_dr, t_dr, dr = equal_accuracy_dr(op, y0, lam, one.objective, th, rep)
                dr_rows.append([M, R, one.iterations, t_fm1, tol_dr, dr.iterations, t_dr, err(dr.objective),
                                t_fm1 / t_dr])
            print(f"  cell M={M} R={R} done ({time.perf_counter() - t_start:.0f} s)", flush=True)

    print_table(
        ["M", "R", "fm its", "fm err", "dense s", "net s", "batch dense s/p", "batch net s/p", "batch err",
         "np FISTA its", "s", "err", "np same its", "s", "err"],
        time_rows,
        f"Times to the same objective (problem 0; fastmem tol {TOL}, numpy stopped at fastmem's objective); "
        "err = (F - F*)/F*",
    )
    print_table(
        ["M", "R", "FISTA/dense", "FISTA/best 1", "FISTA/best batch", "same/dense", "same/best 1",
         "same/best batch"],
        ratio_rows,
        "Ratios: numpy time / fastmem time (best 1 = faster of dense and network operator on one problem; "
        "best batch = per problem in a batch of B)",
    )
    if cvx_rows:
        print_table(["M", "R", "fm s (tol 1e-7)", "fm err", "fm tol (eq)", "fm s (eq)", "fm err (eq)", "cvxpy SCS s",
                     "compile s", "SCS solve s", "SCS err", "cvxpy / fm 1e-7", "cvxpy / fm eq", "SCS solve / fm eq"],
                    cvx_rows,
                    "cvxpy (SCS, eps 1e-7) against fastmem at tol 1e-7 and at equal accuracy (eq: the loosest tol "
                    "reaching SCS's objective; faster operator), problem 0")
        if cvx_dr_rows:
            print_table(["M", "R", "dr tol (eq)", "dr its", "dr s (eq)", "dr err", "cvxpy / dr eq", "SCS solve / dr eq",
                         "greedy eq / dr eq", "default", "cvxpy / default eq"], cvx_dr_rows,
                        "cvxpy (SCS) against fastmem method=\"dr\" (network operator) at equal accuracy, problem 0; "
                        "default = the method nuclear_norm's method=\"auto\" takes (dr where 10 M <= N L)")
    else:
        print("\ncvxpy skipped (every M above --cvxpy-max-M)")
    if dr_rows:
        print_table(["M", "R", "greedy its", "greedy s", "dr tol", "dr its", "dr s", "dr err", "greedy / dr"], dr_rows,
                    f"method=\"dr\" (Douglas-Rachford + Anderson) against the default greedy FISTA (faster operator, "
                    f"tol {TOL}) at greedy's objective, problem 0; M <= --dr-max-M only")
    print_table(["M", "R", "batch mean its", "batch GFLOP/s", "1-rhs dense GB/s", "dense ms/it", "net ms/it",
                 "np ms/it"], rate_rows,
                "Throughput (4 M N L flops per step per right-hand side; the dense 1-rhs solve reads A twice a step)")
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
