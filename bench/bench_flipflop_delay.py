"""Accuracy of the trained flip-flop RNN against the output delay (the paper: fails beyond 8).

For each delay, a 100-unit TanhRNN (seed s) is trained with ``fastmem.dynamics.train``'s
defaults (truncated BPTT, unroll 10, Adam; early stop at 99.9% on a 50,000-step check
stream) and scored on a held-out 100,000-step stream of the paper's task. Prints a
markdown table (the one in docs/flipflop_delay.md) and writes bench/results/flipflop_delay.csv.

    python bench/bench_flipflop_delay.py [--quick] [--delays 0 2 4 8 12 16] [--seeds 0] [--jobs 2]
"""

from __future__ import annotations

import argparse
import csv
import pathlib
import sys
from concurrent.futures import ProcessPoolExecutor

HERE = pathlib.Path(__file__).resolve().parent


def one(delay: int, seed: int, steps: int) -> dict:
    from fastmem.dynamics import FlipFlopTask, TanhRNN, accuracy, train

    model = TanhRNN(rng=seed)
    task = FlipFlopTask(delay=delay, rng=seed)
    h = train(model, task, steps=steps, progress=False, rng=seed, n_threads=1)
    a = accuracy(model, task, steps=100_000, rng=10_000 + seed)
    return {
        "delay": delay,
        "seed": seed,
        "train_steps": h.steps,
        "train_seconds": round(h.seconds, 1),
        "reached_check_target": h.reached_target,
        "heldout_accuracy": round(a.accuracy, 5),
        "worst_channel": round(float(a.channel_accuracy.min()), 5),
        "on_time": round(a.on_time, 4),
        "early": round(a.early, 4),
        "median_latency": a.median_latency,
        "transitions": a.transitions,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="delays 0 and 8 only, 4000 steps at most")
    parser.add_argument("--delays", type=int, nargs="*", default=[0, 2, 4, 8, 12, 16])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--steps", type=int, default=None, help="max Adam steps (default: train()'s)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    from fastmem.dynamics.training import DEFAULT_STEPS

    delays = [0, 8] if args.quick else args.delays
    steps = args.steps or (4000 if args.quick else DEFAULT_STEPS)
    jobs = [(d, s, steps) for d in delays for s in args.seeds]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(pool.map(one, *zip(*jobs)))
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(str(r[k]) for k in keys) + " |", flush=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    with open(out / "flipflop_delay.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
