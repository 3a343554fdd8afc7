"""``fastmem reproduce stm-fig3``: the optimal recall length (Fig. 3) and memory capacities against M.

Writes to ``--out``:

* ``stm_fig3_recall.png/.pdf``: top, the decaying trace a never-started sparse stream
  leaves in the state; bottom, the rMSE of the recalled window against the recall
  length N', with the measured optimum, its flat region and the theory's prediction.
* ``stm_fig3_capacity.png/.pdf``: classical memory capacity (Jaeger, exact, linear
  network; bounded by M), the sparse-input and low-rank-input storage capacities
  measured with fastmem (and the paper's bounds), against M.
* ``stm_fig3_recall_trials[_quick].csv`` (one row per trial and length; the sweep's
  resumable store), ``stm_fig3_recall.csv``
  (pooled curve + prediction), ``stm_fig3_capacity.csv``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

NAME = "stm-fig3"
HELP = "optimal recall length of infinite-length inputs (Fig. 3) and memory capacity vs M"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ._args import nonnegative_int, positive_int

    parser.add_argument("--seed", type=nonnegative_int, default=0, help="sweep seed (default: %(default)s)")
    parser.add_argument("--trials", type=positive_int, default=None, help="trials of the recall curve")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _settings(quick: bool) -> dict:
    if quick:
        return dict(M=100, L=20, q=0.9, rate=0.05, noise=0.02, trials=60,
                    lengths=[1, 2, 3, 5, 7, 10, 14, 20, 28, 40], Ms=[25, 50, 100], cap_trials=3)
    return dict(M=100, L=20, q=0.9, rate=0.05, noise=0.02, trials=400,
                lengths=[1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 17, 20, 24, 28, 34, 40, 50, 60],
                Ms=[25, 50, 100, 200, 400], cap_trials=5)


def _save(fig, out: Path, stem: str) -> None:
    fig.savefig(out / f"{stem}.png", dpi=150)
    fig.savefig(out / f"{stem}.pdf")


def _capacity_table(Ms, cap_trials: int, seed: int, progress: bool) -> pd.DataFrame:
    from tqdm.auto import tqdm

    from ..stm import random_network
    from ..stm.recall import storage_capacity
    from ..stm.theory import lowrank_capacity_bound, memory_capacity, sparse_capacity_bound

    try:  # the low-rank solver lives in its own module
        from ..stm import nuclear_norm as _nn  # noqa: F401

        have_nuclear = True
    except ImportError:
        have_nuclear = False
    L_sparse, rate, L_low, R = 4, 0.05, 10, 1
    rows = []
    # One thread per solve: these problems are small (M <= 400), and on a loaded 2-core machine
    # two OpenMP threads per small solve were measured 50x slower than one.
    for M in tqdm(Ms, desc="capacity vs M", disable=not progress):
        W, Z = random_network(M, 1, kind="circle", radius=0.95, rng=seed + M)
        mc = memory_capacity(W, Z, max_delay=4 * M)
        row = {
            "M": M,
            "classical_mc": mc.total,
            "sparse_measured": storage_capacity(M, L_sparse, "sparse", rate=rate, trials=cap_trials, growth=1.3,
                                                rng=seed + M, n_threads=1),
            "sparse_bound": sparse_capacity_bound(M, rate=rate, L=L_sparse) * L_sparse,
            "lowrank_measured": (storage_capacity(M, L_low, "lowrank", rank=R, trials=cap_trials, growth=1.3,
                                                  rng=seed + M, n_threads=1) if have_nuclear else np.nan),
            "lowrank_bound": lowrank_capacity_bound(M, R=R, L=L_low) * L_low,
        }
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs.update(sparse_L=L_sparse, sparse_rate=rate, lowrank_L=L_low, lowrank_R=R, mc_radius=0.95)
    return table


def run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plot.recall import capacity_figure, recall_curve as plot_recall_curve
    from ..stm.recall import measured_optimum, optimal_recall_length, recall_curve, summarize_curve

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    s = _settings(bool(args.quick))
    trials = s["trials"] if getattr(args, "trials", None) is None else int(args.trials)
    progress = not getattr(args, "no_progress", False)
    seed = int(getattr(args, "seed", 0))
    t0 = time.perf_counter()

    table = recall_curve(s["M"], s["L"], s["q"], model="sparse", lengths=s["lengths"], trials=trials, rate=s["rate"],
                         noise=s["noise"], rng=seed, progress=progress, n_threads=1,
                         store=out / f"stm_fig3_recall_trials{'_quick' if args.quick else ''}.csv")
    pred = optimal_recall_length(s["M"], s["L"], s["q"], rate=s["rate"], noise=s["noise"])
    best = measured_optimum(table)
    summ = summarize_curve(table)
    lookup = dict(zip(pred.lengths.tolist(), pred.error.tolist()))
    summ["predicted_error"] = [lookup.get(int(n), np.nan) for n in summ["length"]]
    summ.to_csv(out / "stm_fig3_recall.csv", index=False)
    fig = plot_recall_curve(table, prediction=pred)
    _save(fig, out, "stm_fig3_recall")
    plt.close(fig)

    cap = _capacity_table(s["Ms"], s["cap_trials"], seed, progress)
    cap.to_csv(out / "stm_fig3_capacity.csv", index=False)
    fig = capacity_figure(cap)
    _save(fig, out, "stm_fig3_capacity")
    plt.close(fig)

    summary = {
        "settings": {k: v for k, v in s.items()},
        "trials": trials,
        "measured_optimum": best.length,
        "flat_region": [best.low, best.high],
        "predicted_optimum": pred.length,
        "predicted_capacity": pred.capacity,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (out / "stm_fig3_summary.json").write_text(json.dumps(summary, indent=2))
    print(f"stm-fig3: measured optimum N' = {best.length} (flat {best.low}..{best.high}), predicted {pred.length}; "
          f"capacity table for M = {s['Ms']}; wrote {out}/stm_fig3_*.png/.pdf/.csv in {summary['seconds']} s")
    return 0
