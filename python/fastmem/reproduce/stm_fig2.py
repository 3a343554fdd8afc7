"""``fastmem reproduce stm-fig2``: Fig. 2 of the compressive-memory paper.

Four phase diagrams (sparse / low-rank inputs x low / high coherence with
sinusoids), L = 40 inputs, N = 100 steps. The default is the paper's resolution
(15 x 15 cells, 20 trials per cell); ``--quick`` runs a coarse grid with few
trials that still shows both regimes. Writes ``stm-fig2.png``, ``stm-fig2.pdf``
and ``stm-fig2.csv`` (every trial of the four panels) to ``--out``. With
``--store FILE.csv`` each panel's trials are also kept in ``FILE-<model>-<coherence>.csv``
as they finish, and a rerun resumes where it stopped.
"""

from __future__ import annotations

import argparse
import os
import time

NAME = "stm-fig2"
HELP = "Fig. 2 of the compressive-memory paper: recovery phase diagrams (sparse/low rank x low/high coherence)"

PANELS = (("sparse", "low"), ("sparse", "high"), ("lowrank", "low"), ("lowrank", "high"))

#: The quick version: a smaller network problem (L = 10 inputs, N = 50 steps), a 6 x 6 grid, 2 trials per cell.
QUICK = dict(L=10, N=50, gammas=(0.1, 0.25, 0.4, 0.55, 0.7, 0.85), rhos=(0.05, 0.15, 0.3, 0.5, 0.7, 0.9), trials=2)
#: The paper's resolution (the defaults of fastmem.stm.phase_diagram).
FULL = dict(L=40, N=100, gammas=None, rhos=None, trials=20)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=None,
                        help="CSV store prefix: panel trials go to FILE-<model>-<coherence>.csv and a rerun resumes")
    from ._args import nonnegative_int, positive_int

    parser.add_argument("--trials", type=positive_int, default=None,
                        help="Monte Carlo trials per cell (default 20; 2 quick)")
    parser.add_argument("--L", type=positive_int, default=None, help="input channels (default 40; 10 quick)")
    parser.add_argument("--N", type=positive_int, default=None, help="time steps (default 100; 50 quick)")
    parser.add_argument("--grid", type=positive_int, default=None,
                        help="cells per axis, gamma and rho = k/grid for k = 1..grid (default 15; 6 quick)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="the sweep's seed (default %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def panel_store(store: str, model: str, coherence: str) -> str:
    """The store file of one panel: ``results.csv`` -> ``results-sparse-low.csv``."""
    root, ext = os.path.splitext(store)
    return f"{root}-{model}-{coherence}{ext or '.csv'}"


def run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from ..plot.phase import figure2
    from ..stm.phase import phase_diagram

    settings = dict(QUICK if args.quick else FULL)
    if getattr(args, "trials", None) is not None:
        settings["trials"] = args.trials
    for name in ("L", "N"):
        if getattr(args, name, None) is not None:
            settings[name] = getattr(args, name)
    if getattr(args, "grid", None) is not None:
        if args.grid < 1:
            raise SystemExit("--grid must be >= 1")
        settings["gammas"] = settings["rhos"] = tuple(k / args.grid for k in range(1, args.grid + 1))
    os.makedirs(args.out, exist_ok=True)
    store = getattr(args, "store", None)
    from .. import stm

    results = {}
    start, cpu_start = time.perf_counter(), time.process_time()
    for model, coherence in PANELS:
        solver = "lasso" if model == "sparse" else "nuclear_norm"
        if not hasattr(stm, solver):
            print(f"stm-fig2: {model}/{coherence} not run: fastmem.stm.{solver} is not available in this build")
            continue
        results[(model, coherence)] = phase_diagram(
            model, coherence, rng=getattr(args, "seed", 0),
            store=panel_store(store, model, coherence) if store else None,
            progress=not getattr(args, "no_progress", False), **settings,
        )
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start  # all threads: what the run costs on a machine it has to itself
    if not results:
        print("stm-fig2: no panel could be run")
        return 1
    fig, _ = figure2(results)
    first = next(iter(results.values())).config
    grid = f"{len(first.gammas)}x{len(first.rhos)}"
    fig.suptitle(f"fastmem: recovery from a {settings['L']}-input, {settings['N']}-step network state "
                 f"({grid} cells, {settings['trials']} trials, {elapsed:.0f} s)", fontsize=10)
    png = os.path.join(args.out, "stm-fig2.png")
    pdf = os.path.join(args.out, "stm-fig2.pdf")
    fig.savefig(png, dpi=130)
    fig.savefig(pdf)
    table = pd.concat([r.table for r in results.values()], ignore_index=True)
    table.to_csv(os.path.join(args.out, "stm-fig2.csv"), index=False)
    lines = [f"stm-fig2: {len(table)} trials in {elapsed:.1f} s wall, {cpu:.1f} s CPU on {os.cpu_count()} cores "
             f"(load average at the end: {os.getloadavg()[0]:.1f}) -> {png}, {pdf}, "
             f"{os.path.join(args.out, 'stm-fig2.csv')}"]
    for key, res in results.items():
        C = res.theory_constant()
        lines.append(f"  {key[0]:>7}/{key[1]:<4}  median rMSE {res.table['rmse'].median():.3g}, "
                     f"theory C = {'n/a' if C is None else f'{C:.2f}'}")
    print("\n".join(lines))
    return 0
