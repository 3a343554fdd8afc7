"""Truncated BPTT + Adam for the flip-flop tanh RNN: fastmem (C++) against PyTorch (CPU).

Same architecture (N = 100 tanh units, 3 inputs, tanh readout, no biases), the same
batch, unroll (10), optimiser (Adam, only W and W_out trained), loss (MSE), dtype
(float64) and data in both, and the same number of threads (2; torch.set_num_threads).

Prints
  * the time per training step (one window: forward, backward, Adam) at batch 16, 64
    and 128, the ratio torch / fastmem and fastmem's GFLOP/s (6 N^2 B U flops a step
    for the three matrix-product passes) against the machine's GEMM rate;
  * the wall time of each to reach the target held-out accuracy (99%) on the
    delay-0 task, with train()'s default hyperparameters and identical accuracy
    checks (every 250 steps, on the same 20,000-step stream, with fastmem's run).

    python bench/bench_bptt.py [--quick] [--threads 2] [--float32]
"""

from __future__ import annotations

import argparse
import importlib
import time

import numpy as np
import torch

from _common import GEMM_GFLOPS_LIMIT, print_table

import fastmem
from fastmem import _core
from fastmem.dynamics import FlipFlopTask, TanhRNN

train_mod = importlib.import_module("fastmem.dynamics.training")

N, UNROLL = 100, 10


def torch_setup(model: TanhRNN, lr: float, dtype):
    rnn, lin = model.to_torch(batch_first=True, dtype=dtype)
    rnn.weight_ih_l0.requires_grad_(False)
    opt = torch.optim.Adam([rnn.weight_hh_l0, lin.weight], lr=lr)
    return rnn, lin, opt


def torch_train_steps(rnn, lin, opt, X, Y, h0, unroll=UNROLL, clip=None):
    """One Adam step per window of X (B, T, 3) / Y as torch tensors; returns the last state."""
    h = h0
    loss = None
    for s in range(X.shape[1] // unroll):
        xs = X[:, s * unroll:(s + 1) * unroll]
        ys = Y[:, s * unroll:(s + 1) * unroll]
        opt.zero_grad(set_to_none=True)
        out, hn = rnn(xs, h)
        loss = torch.nn.functional.mse_loss(torch.tanh(lin(out)), ys)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_([rnn.weight_hh_l0, lin.weight], clip)
        opt.step()
        h = hn.detach()
    return h, loss


def time_per_step(batch: int, steps: int, repeat: int, dtype, threads: int):
    task = FlipFlopTask(rng=0)
    model = TanhRNN(rng=0)
    x, y = task.sample(batch, steps * UNROLL, rng=1)
    w = model.weights()
    fm_times, th_times = [], []
    for _ in range(repeat):
        tr = _core.BpttTrainer(w["W"], w["W_in"], w["W_out"], None, None, batch, UNROLL, lr=1e-3)
        tr.train(x[:, : 5 * UNROLL], y[:, : 5 * UNROLL], n_threads=threads)  # warm up
        t0 = time.perf_counter()
        tr.train(x, y, n_threads=threads)
        fm_times.append((time.perf_counter() - t0) / steps)
        rnn, lin, opt = torch_setup(model, 1e-3, dtype)
        X = torch.from_numpy(x).to(dtype)
        Y = torch.from_numpy(y).to(dtype)
        h0 = torch.zeros(1, batch, N, dtype=dtype)
        torch_train_steps(rnn, lin, opt, X[:, : 5 * UNROLL], Y[:, : 5 * UNROLL], h0)  # warm up
        t0 = time.perf_counter()
        torch_train_steps(rnn, lin, opt, X, Y, h0)
        th_times.append((time.perf_counter() - t0) / steps)
    return min(fm_times), min(th_times), float(np.median(fm_times)), float(np.median(th_times))


def torch_time_to_accuracy(task: FlipFlopTask, seed: int, target: float, max_steps: int, dtype):
    """torch's equivalent of fastmem.dynamics.train with its defaults (same streams, same checks)."""
    model = TanhRNN(rng=seed)
    batch, lr = train_mod.DEFAULT_BATCH, train_mod.DEFAULT_LR
    gen = np.random.default_rng(seed)
    stream_gen, check_gen = (np.random.default_rng(s) for s in gen.integers(0, 2**63, size=2))
    cx, cy = task.sample(1, train_mod.DEFAULT_CHECK_STEPS, rng=check_gen)
    rnn, lin, opt = torch_setup(model, lr, dtype)
    stream_task = FlipFlopTask(rate=max(task.rate, train_mod.DEFAULT_TRAIN_RATE), delay=task.delay)
    state = stream_task.new_state(batch)
    h = torch.zeros(1, batch, N, dtype=dtype)
    every = train_mod.DEFAULT_CHECK_EVERY
    t0 = time.perf_counter()
    done, acc = 0, 0.0
    while done < max_steps:
        x = stream_task.pulses(batch, every * UNROLL, rng=stream_gen)
        y = stream_task.next_targets(x, state)
        h, _ = torch_train_steps(rnn, lin, opt, torch.from_numpy(x).to(dtype), torch.from_numpy(y).to(dtype), h,
                                 clip=train_mod.DEFAULT_CLIP)
        done += every
        check = TanhRNN.from_torch(rnn, lin)
        _, out = check.run(cx[0])
        acc = train_mod.score(out, cy[0]).accuracy
        if acc >= target:
            break
    return time.perf_counter() - t0, done, acc


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats, no time-to-accuracy for torch")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--float32", action="store_true", help="run torch in float32 (fastmem stays float64)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    fastmem.set_num_threads(args.threads)
    dtype = torch.float32 if args.float32 else torch.float64
    steps, repeat = (100, 3) if args.quick else (300, 5)

    rows = []
    for batch in (16, 64, 128):
        fm, th, fm_med, th_med = time_per_step(batch, steps, repeat, dtype, args.threads)
        gflops = 6.0 * N * N * batch * UNROLL / fm / 1e9
        rows.append([batch, fm * 1e3, th * 1e3, th / fm, th_med / fm_med, gflops,
                     f"{100 * gflops / GEMM_GFLOPS_LIMIT:.0f}%"])
    print_table(
        ["batch", "fastmem ms/step", "torch ms/step", "torch/fastmem (min)", "(median)", "GFLOP/s", "of GEMM peak"],
        rows,
        f"time per training step, N={N}, unroll={UNROLL}, threads={args.threads}, torch {dtype} "
        f"(min of {repeat} runs of {steps} steps)",
    )

    target = 0.99
    task = FlipFlopTask(delay=0, rng=args.seed)
    model = TanhRNN(rng=args.seed)
    h = train_mod.train(model, task, target_accuracy=target, progress=False, rng=args.seed)
    held = train_mod.accuracy(model, task, rng=10_000 + args.seed).accuracy
    rows = [["fastmem", h.seconds, h.steps, h.check_accuracy[-1] if len(h.check_accuracy) else float("nan"), held]]
    if not args.quick:
        t, done, acc = torch_time_to_accuracy(FlipFlopTask(delay=0, rng=args.seed), args.seed, target,
                                              train_mod.DEFAULT_STEPS, dtype)
        rows.append(["torch", t, done, acc, float("nan")])
        rows.append(["torch/fastmem", t / h.seconds, "", "", ""])
    print_table(
        ["trainer", "seconds", "steps", "check accuracy", "held-out 100k accuracy"],
        rows,
        f"time to {target:.0%} accuracy, delay 0, batch {train_mod.DEFAULT_BATCH}, lr {train_mod.DEFAULT_LR}, "
        f"seed {args.seed}",
    )
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
