"""Run fastmem's benchmarks: ``python bench/run.py [--quick] [NAME ...]``.

Each ``bench/bench_<name>.py`` runs fastmem and the peer a user would otherwise
use on the same problems, in one run, and prints time ratios and the accuracy
each reached. With no NAME every benchmark runs.
"""

from __future__ import annotations

import argparse
import importlib
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent


def available() -> dict:
    return {p.stem[len("bench_"):]: p for p in sorted(HERE.glob("bench_*.py"))}


def main(argv=None) -> int:
    benches = available()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(benches)})")
    parser.add_argument("--quick", action="store_true", help="smaller problems (a few minutes in all)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in benches]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(benches)}")
    sys.path.insert(0, str(HERE))
    status = 0
    for name in args.names or list(benches):
        # a plain import (registered in sys.modules), so that benchmarks running a process pool can
        # pickle their module-level functions (spawn children import them by name from HERE)
        module = importlib.import_module(f"bench_{name}")
        print(f"\n===== bench {name}{' (quick)' if args.quick else ''} =====", flush=True)
        status |= int(module.main(["--quick"] if args.quick else []) or 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
