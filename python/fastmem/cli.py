"""The ``fastmem`` command line.

    fastmem config                      show versions, OpenMP, threads, flags
    fastmem reproduce [TARGET] [--quick] [--out DIR] ...
                                        reproduce a paper figure (all targets if none)

Targets are the modules of :mod:`fastmem.reproduce`; each defines ``NAME``,
``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import List, Optional

__all__ = ["main", "build_parser"]


def _targets():
    from . import reproduce

    found = {}
    for info in sorted(pkgutil.iter_modules(reproduce.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{reproduce.__name__}.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            found[module.NAME] = module
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fastmem", description="Short-term memory in recurrent networks.")
    from .reproduce._args import positive_int

    parser.add_argument("--threads", type=positive_int, default=None, help="threads for fastmem kernels")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("config", help="show versions, OpenMP, threads and compiler flags")
    rep = sub.add_parser("reproduce", help="reproduce the papers' figures")
    rep_sub = rep.add_subparsers(dest="target")
    rep.add_argument("--quick", action="store_true", help="small, fast versions of every figure")
    rep.add_argument("--out", default="fastmem-figures", help="output folder (default: %(default)s)")
    for name, module in _targets().items():
        p = rep_sub.add_parser(name, help=module.HELP)
        p.add_argument("--quick", action="store_true", help="a small, fast version")
        p.add_argument("--out", default="fastmem-figures", help="output folder (default: %(default)s)")
        module.add_arguments(p)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    if argv is not None and (isinstance(argv, (str, bytes)) or not isinstance(argv, (list, tuple))
                             or not all(isinstance(a, str) for a in argv)):
        raise TypeError(f"argv must be None or a list of strings, got {argv!r:.80}")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.threads is not None:
        from . import set_num_threads

        set_num_threads(args.threads)
    if args.command == "config":
        from . import show_config

        show_config()
        return 0
    targets = _targets()
    if args.target is None:
        if not targets:
            print("no reproduction targets are installed", file=sys.stderr)
            return 1
        status = 0
        for name, module in targets.items():
            sub = build_parser().parse_args(
                (["--threads", str(args.threads)] if args.threads else [])
                + ["reproduce", name, "--out", args.out] + (["--quick"] if args.quick else [])
            )
            print(f"== fastmem reproduce {name}{' --quick' if args.quick else ''}", flush=True)
            try:
                status |= int(module.run(sub) or 0)
            except OSError as exc:
                print(f"fastmem reproduce {name}: error: {exc}", file=sys.stderr)
                status |= 1
        return status
    try:
        return int(targets[args.target].run(args) or 0)
    except OSError as exc:  # --out or --models unusable: say so, without a traceback
        print(f"fastmem reproduce {args.target}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
