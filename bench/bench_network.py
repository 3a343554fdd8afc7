"""propagate and measurement_operator against numpy.

Peers: the plain-loop reference in ``fastmem.reference`` and the vectorised numpy
a user would write (matrix products on numpy's multithreaded BLAS). Prints time
ratios, the max deviation from numpy, and GFLOP/s against the machine's GEMM rate.

    python bench/bench_network.py [--quick]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from _common import GEMM_GFLOPS_LIMIT, best_time, print_table

import fastmem
from fastmem import reference as ref
from fastmem import stm


def numpy_measurement_operator(W, Z, N):
    M, L = Z.shape
    A = np.empty((M, N * L))
    A[:, (N - 1) * L:] = Z
    for k in range(N - 1, 0, -1):
        A[:, (k - 1) * L:k * L] = W @ A[:, k * L:(k + 1) * L]
    return A


def numpy_propagate_batch(W, Z, S, f):
    X = np.zeros((W.shape[0], S.shape[0]))
    for n in range(S.shape[1]):
        X = W @ X + Z @ S[:, n, :].T
        if f == "tanh":
            X = np.tanh(X)
    return X.T


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    L, N = 40, 100
    rows = []
    Ms = [500, 1000] if args.quick else [500, 1000, 2000, 4000]
    for M in Ms:
        for kind in ("gaussian", "circle"):
            W, Z = stm.random_network(M, L, kind=kind, radius=1.0, rng=0)
            t_fm = best_time(lambda: stm.measurement_operator(W, Z, N))
            t_np = best_time(lambda: numpy_measurement_operator(W, Z, N), repeat=2)
            err = np.abs(stm.measurement_operator(W, Z, N) - numpy_measurement_operator(W, Z, N)).max()
            flops = 2.0 * M * M * L * (N - 1) if kind == "gaussian" else 6.0 * M * L * (N - 1)
            peak = f"{100 * flops / t_fm / 1e9 / GEMM_GFLOPS_LIMIT:.0f}%" if kind == "gaussian" else "O(MNL) path"
            rows.append([f"measurement_operator {kind}", M, t_np / t_fm, err, flops / t_fm / 1e9, peak])
    print_table(["kernel", "M", "x numpy BLAS", "max |diff|", "GFLOP/s", "of GEMM peak"], rows,
                f"measurement_operator, L={L}, N={N} (threads={fastmem.get_num_threads()})")

    rows = []
    B = 64
    for M in ([500] if args.quick else [500, 2000]):
        W, Z = stm.random_network(M, L, kind="gaussian", radius=0.95, rng=0)
        S = np.random.default_rng(1).standard_normal((B, N, L))
        for f in ("linear", "tanh"):
            t_fm = best_time(lambda: stm.propagate(W, Z, S, nonlinearity=f))
            t_np = best_time(lambda: numpy_propagate_batch(W, Z, S, f), repeat=2)
            sub = S[:4]
            t_ref = best_time(lambda: ref.propagate(W, Z, sub, nonlinearity=f), repeat=1) * (B / 4)
            err = np.abs(stm.propagate(W, Z, S, nonlinearity=f) - numpy_propagate_batch(W, Z, S, f)).max()
            flops = 2.0 * N * B * (M * M + M * L)
            rows.append([f"propagate {f}", M, B, t_np / t_fm, t_ref / t_fm, err, flops / t_fm / 1e9,
                         f"{100 * flops / t_fm / 1e9 / GEMM_GFLOPS_LIMIT:.0f}%"])
    print_table(["kernel", "M", "B", "x numpy batched", "x reference loop", "max |diff|", "GFLOP/s", "of GEMM peak"],
                rows, f"propagate, L={L}, N={N}, batch of {B} streams")
    return 0


if __name__ == "__main__":
    sys.exit(main())
