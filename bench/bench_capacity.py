"""Memory capacity: fastmem's exact linear MC against reservoirpy's ``memory_capacity``.

Same network for both (W, Z from ``fastmem.stm.random_network``; reservoirpy gets
``Reservoir(W=W, Win=Z, bias=0, activation="identity") >> Ridge``, with W as a scipy
CSR matrix for the block-diagonal "circle" networks: its fastest form). reservoirpy
simulates ``10 * k_max`` steps with ``k_max = 2 M`` and fits ridge readouts;
fastmem computes m_k in closed form from the stationary state covariance
(block-eigen O(M^2) for block-diagonal W, Lyapunov doubling with BLAS for dense W)
and a whitened Krylov matrix. Delay convention: reservoirpy's k = 1..k_max are
fastmem's ``per_delay[1:]``.

A second table times the state covariance (discrete Lyapunov equation) against
``scipy.linalg.solve_discrete_lyapunov``.

    python bench/bench_capacity.py [--quick]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from _common import GEMM_GFLOPS_LIMIT, best_time, print_table

from fastmem.stm import memory_capacity, random_network, state_covariance


def reservoirpy_mc(W, Z, k_max, seed, sparse):
    from reservoirpy.nodes import Reservoir, Ridge
    from reservoirpy.observables import memory_capacity as rpy_mc

    Wr = sp.csr_matrix(W) if sparse else W
    model = Reservoir(W=Wr, Win=Z, bias=0.0, activation="identity", lr=1.0) >> Ridge(ridge=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rpy_mc(model, k_max=k_max, as_list=True, seed=seed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--radius", type=float, default=0.95)
    args = parser.parse_args(argv)
    try:
        import reservoirpy

        reservoirpy.verbosity(0)
    except Exception:  # pragma: no cover - older reservoirpy
        pass
    Ms = [100, 200, 500] if args.quick else [100, 200, 500, 1000, 2000]
    dense_max = 200 if args.quick else 1000
    rows = []
    for kind in ("circle", "gaussian"):
        for M in Ms:
            if kind == "gaussian" and M > dense_max:
                continue
            W, Z = random_network(M, 1, kind=kind, radius=args.radius, rng=M)
            k_max = 2 * M
            t_fm = best_time(lambda: memory_capacity(W, Z, max_delay=k_max + 1), repeat=3)
            ours = memory_capacity(W, Z, max_delay=k_max + 1)
            t0 = time.perf_counter()
            theirs = reservoirpy_mc(W, Z, k_max, seed=M, sparse=(kind == "circle"))
            t_rp = time.perf_counter() - t0
            diff = np.abs(ours.per_delay[1:] - theirs)
            rows.append([kind, M, t_fm, t_rp, t_rp / t_fm, float(ours.per_delay[1:].sum()), float(theirs.sum()),
                         float(diff.max()), float(diff.mean()), ours.rank])
            print(f"  {kind} M={M}: fastmem {t_fm:.3g} s, reservoirpy {t_rp:.3g} s", flush=True)
    print_table(["W", "M", "fastmem s", "reservoirpy s", "ratio", "MC fastmem", "MC rpy", "max|dm_k|", "mean|dm_k|",
                 "rank C"], rows,
                title=f"Memory capacity (linear, noiseless, radius {args.radius}, k = 1..2M): exact vs reservoirpy")

    cov_rows = []
    for M in ([200, 500] if args.quick else [200, 500, 1000, 2000]):
        W, Z = random_network(M, 1, kind="gaussian", radius=args.radius, rng=M)
        Q = Z @ Z.T + 1e-4 * np.eye(M)
        t_fm = best_time(lambda: state_covariance(W, Z, noise=1e-2), repeat=2)
        t0 = time.perf_counter()
        ref = sla.solve_discrete_lyapunov(W, Q)
        t_sp = time.perf_counter() - t0
        C = state_covariance(W, Z, noise=1e-2)
        rounds = int(np.ceil(np.log2(np.log(1e-17) / np.log(args.radius)))) + 1
        gflops = rounds * 3 * 2 * M**3 / t_fm / 1e9
        cov_rows.append([M, t_fm, t_sp, t_sp / t_fm, float(np.abs(C - ref).max() / np.abs(ref).max()), gflops,
                         gflops / GEMM_GFLOPS_LIMIT])
        Wb, Zb = random_network(M, 1, kind="circle", radius=args.radius, rng=M)
        t_blk = best_time(lambda: state_covariance(Wb, Zb, noise=1e-2), repeat=2)
        cov_rows[-1].insert(2, t_blk)
    print_table(["M", "doubling s", "block-eig s", "scipy s", "scipy/doubling", "rel. diff", "GFLOP/s",
                 "of GEMM limit"], cov_rows,
                title="State covariance C = W C W^T + Q (dense gaussian W; block-eig: circle W)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
