"""Fixed-point finding on a trained 100-unit flip-flop network: fastmem against the standard finders.

The same initial states (drawn from a test trajectory with noise) go to

* fastmem.dynamics.find_fixed_points: Newton/chord/Levenberg-Marquardt per state, C++, OpenMP over states;
* Adam on q in PyTorch, as FixedPointFinder (Golub & Sussillo 2018) does it: all states as one batch,
  loss = mean q, Adam with eps = 0.01 and an adaptive learning rate starting at 1.0 (x0.95 after a
  loss increase, x1/0.95 after 5 decreases in a row, floor 1e-3), stop when every q < tol_q or every
  |dq| < tol_dq, at most 5000 steps (FixedPointFinder's defaults);
* scipy.optimize.root (MINPACK hybrj, analytic Jacobian) from each state, one after another.

Every method's end points are deduplicated the same way (fastmem.dynamics.deduplicate, 1e-3) and counted:
distinct points, distinct fixed points (q < tol_q = 1e-12), and their largest q.

The headline ratio is the one with eigenvalues on both sides: FixedPointFinder computes the Jacobian's
eigen-decomposition at every unique point after its optimisation, so its row adds that post-processing
(numpy's LAPACK, eigenvalues only, to match what fastmem returns; FixedPointFinder also computes
eigenvectors, which would make it slower) and fastmem's row includes its eigenvalues. fastmem uses
structure the Adam side does not: searches that enter the certified basin of an already known point stop
there (merged), and with no input and no bias the map is odd, so every point p found brings -p (same
Jacobian) with it and eigenvalues are computed once per bit-identical Jacobian; the counts are printed.

    python bench/bench_fixed_points.py [--quick] [--model PATH] [--threads N]

Without --model a delay-0 network is trained with fastmem.dynamics.train (seed 0) and cached in
bench/results/.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

from _common import print_table

import fastmem
from fastmem._config import build_info
from fastmem.dynamics import deduplicate, find_fixed_points, sample_states

HERE = pathlib.Path(__file__).resolve().parent
TOL_Q = 1e-12
TOL_DQ = 1e-20
MAX_ITERS = 5000


def load_network(path):
    data = np.load(path, allow_pickle=False)
    return data["W"], data["W_in"]


def trained_network(seed: int = 0):
    from fastmem.dynamics import FlipFlopTask, TanhRNN, train

    cache = HERE / "results" / f"flipflop_delay0_seed{seed}.npz"
    if cache.exists():
        m = TanhRNN.load(cache)
        return m.W, m.W_in
    model = TanhRNN(rng=seed)
    task = FlipFlopTask(delay=0, rng=seed)
    train(model, task, rng=seed, progress=False)
    cache.parent.mkdir(exist_ok=True)
    model.save(cache, task=task)
    return model.W, model.W_in


def trajectory(W, W_in, steps: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    fire = rng.random((steps, W_in.shape[1])) < 1 / 150
    X = np.where(fire, np.where(rng.random(fire.shape) < 0.5, -1.0, 1.0), 0.0)
    S = np.empty((steps, W.shape[0]))
    s = np.zeros(W.shape[0])
    for t in range(steps):
        s = np.tanh(W @ s + W_in @ X[t])
        S[t] = s
    return S


def q_of(W, S):
    G = np.tanh(S @ W.T) - S
    return 0.5 * (G * G).sum(axis=1)


def adam_on_q(W, S0, threads: int):
    """FixedPointFinder-style Adam on q (float64, CPU)."""
    import torch

    torch.set_num_threads(threads)
    Wt = torch.tensor(W, dtype=torch.float64)
    x = torch.tensor(S0, dtype=torch.float64, requires_grad=True)
    lr = 1.0
    opt = torch.optim.Adam([x], lr=lr, eps=0.01)
    prev_loss, n_better = np.inf, 0
    prev_q = None
    it = 0
    for it in range(1, MAX_ITERS + 1):
        opt.zero_grad()
        G = torch.tanh(x @ Wt.T) - x
        q = 0.5 * (G * G).sum(dim=1)
        loss = q.mean()
        loss.backward()
        qn = q.detach().numpy()
        if prev_q is not None and np.all((np.abs(qn - prev_q) < TOL_DQ * lr) | (qn < TOL_Q)):
            break
        if qn.max() < TOL_Q:
            break
        prev_q = qn.copy()
        lv = float(loss.detach())
        if lv > prev_loss:
            lr, n_better = max(lr * 0.95, 1e-3), 0
        else:
            n_better += 1
            if n_better >= 5:
                lr, n_better = lr / 0.95, 0
        prev_loss = lv
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
    return x.detach().numpy().copy(), it


def scipy_root(W, S0):
    import scipy.optimize

    N = W.shape[0]
    out = np.empty_like(S0)
    for k, s0 in enumerate(S0):
        def fun(s):
            f = np.tanh(W @ s)
            return f - s, (1 - f * f)[:, None] * W - np.eye(N)

        out[k] = scipy.optimize.root(fun, s0, jac=True, method="hybr").x
    return out


def count(W, pts, S0):
    """Distinct points (outliers beyond 10x the data radius dropped, as fastmem does) and distinct fixed points."""
    q = q_of(W, pts)
    centroid = S0.mean(axis=0)
    radius = max(np.linalg.norm(S0 - centroid, axis=1).max(), np.median(np.linalg.norm(S0, axis=1)))
    ok = np.isfinite(q) & (np.linalg.norm(pts - centroid, axis=1) <= 10 * radius)
    idx = np.flatnonzero(ok)
    kept, _ = deduplicate(pts[idx], q[idx], 1e-3)
    qk = q[idx][kept]
    fixed = qk < TOL_Q
    return len(kept), int(fixed.sum()), float(qk[fixed].max()) if fixed.any() else float("nan"), float(np.median(qk))


def fpf_postprocess(W, pts, S0):
    """What FixedPointFinder does after the optimisation (its defaults): unique points (1e-3),
    distance outliers dropped, the Jacobian at each and its eigenvalues (here without the
    eigenvectors FixedPointFinder also computes, to match what fastmem returns)."""
    q = q_of(W, pts)
    centroid = S0.mean(axis=0)
    radius = max(np.linalg.norm(S0 - centroid, axis=1).max(), np.median(np.linalg.norm(S0, axis=1)))
    ok = np.isfinite(q) & (np.linalg.norm(pts - centroid, axis=1) <= 10 * radius)
    idx = np.flatnonzero(ok)
    kept, _ = deduplicate(pts[idx], q[idx], 1e-3)
    P = pts[idx][kept]
    J = (1.0 - P * P)[:, :, None] * W[None, :, :]
    return np.linalg.eigvals(J)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="256 initial states instead of 1024, one Adam run")
    parser.add_argument("--model", default=None, help="npz with W and W_in (e.g. a saved TanhRNN)")
    parser.add_argument("--threads", type=int, default=None, help="threads for every method (default: fastmem's)")
    parser.add_argument("--noise", type=float, default=0.5, help="noise added to the sampled states")
    parser.add_argument("--repeats", type=int, default=None, help="runs of each timed method (min taken; default 5/2)")
    args = parser.parse_args(argv)
    threads = args.threads or fastmem.get_num_threads()
    W, W_in = load_network(args.model) if args.model else trained_network()
    K = 256 if args.quick else 1024
    S = trajectory(W, W_in, 20_000, seed=1)
    S0 = sample_states(S, K, noise=args.noise, rng=2)

    def best_of(n, fn):
        times, out = [], None
        for _ in range(n):
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        return min(times), out

    n_fast = args.repeats or 5
    n_slow = args.repeats or (1 if args.quick else 2)
    runs = [find_fixed_points(W, S0, n_threads=threads) for _ in range(n_fast)]
    res = runs[0]
    t_fm = 1e-9 * min(sum(r.timings_ns.values()) for r in runs)
    t_search = 1e-9 * min(r.timings_ns["search"] + r.timings_ns["deduplicate"] for r in runs)
    t_eig = 1e-9 * min(r.timings_ns["eigenvalues"] for r in runs)
    fm_count = (len(res), res.n_fixed, float(res.q[res.is_fixed].max()) if res.n_fixed else float("nan"),
                float(np.median(res.q)))
    t_adam, (adam_pts, adam_iters) = best_of(n_slow, lambda: adam_on_q(W, S0, threads))
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):  # numpy's LAPACK gets the same threads as everyone else
        t_post, _ = best_of(n_fast, lambda: fpf_postprocess(W, adam_pts, S0))
    t_root, root_pts = best_of(1, lambda: scipy_root(W, S0))

    adam_count = count(W, adam_pts, S0)
    rows = [
        ["fastmem find_fixed_points (search + dedup + eigenvalues)", t_fm, 1.0, *fm_count],
        ["  of which search + dedup (Newton/chord/LM, C++)", t_search, "", *fm_count],
        ["  of which eigenvalues at the distinct points", t_eig, "", "", "", "", ""],
        [f"Adam on q, torch ({adam_iters} steps), optimisation only", t_adam, t_adam / t_search, *adam_count],
        ["Adam on q + FixedPointFinder's dedup + eigenvalues", t_adam + t_post, (t_adam + t_post) / t_fm,
         *adam_count],
        ["scipy.optimize.root per state (+ no eigenvalues)", t_root, t_root / t_search, *count(W, root_pts, S0)],
    ]
    print_table(
        ["method", "seconds", "x fastmem (like for like)", "distinct points", f"distinct fixed (q<{TOL_Q:g})",
         "max q of fixed", "median q"],
        rows,
        f"{K} initial states, N = {W.shape[0]}, noise {args.noise}, threads = {threads}, "
        f"simd {build_info()['simd_variant']} "
        f"(min of {n_fast} runs for fastmem and the post-processing, {n_slow} for Adam, 1 for scipy)",
    )
    n_jac = len({(1.0 - p * p).tobytes() for p in res.points})
    print(f"\nfastmem census (0, 1, 2, 3, >3 unstable dims): {res.census()['total'].tolist()}; "
          f"{res.factorisations} LU factorisations for {K} states, {res.merged} searches merged into known points, "
          f"eigenvalues computed for {n_jac} distinct Jacobians of the {len(res)} points")
    print(f"Adam-on-q optimisation / fastmem search + dedup: {t_adam / t_search:.1f}x;  "
          f"Adam + FixedPointFinder post-processing / full find_fixed_points: {(t_adam + t_post) / t_fm:.1f}x;  "
          f"scipy root / fastmem search + dedup: {t_root / t_search:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
