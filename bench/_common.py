"""Helpers shared by the benchmarks: timing and table printing."""

from __future__ import annotations

import time
from typing import Callable, List, Sequence

# Rough limits of the 2-core machine the project is measured on (float64).
GEMM_GFLOPS_LIMIT = 100.0
MEMORY_GBS_LIMIT = 40.0


def best_time(fn: Callable[[], object], repeat: int = 3, min_total: float = 0.25, max_repeat: int = 30) -> float:
    """Minimum wall time of ``fn`` over at least ``repeat`` runs (the least disturbed by other load).

    Calls that take milliseconds are repeated until ``min_total`` seconds have passed (at most
    ``max_repeat`` runs): on a shared machine the minimum of two or three such runs is mostly
    noise. The same rule times fastmem and its peers.
    """
    best, total, runs = float("inf"), 0.0, 0
    while runs < max(1, repeat) or (total < min_total and runs < max_repeat):
        t0 = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - t0
        best, total, runs = min(best, elapsed), total + elapsed, runs + 1
        if best > 5.0:
            break
    return best


def print_table(headers: Sequence[str], rows: List[Sequence[object]], title: str = "") -> None:
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    if title:
        print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))


def _fmt(x: object) -> str:
    if isinstance(x, float):
        if x == 0 or 1e-3 <= abs(x) < 1e5:
            return f"{x:.3g}" if abs(x) < 100 else f"{x:.1f}"
        return f"{x:.2e}"
    return str(x)
