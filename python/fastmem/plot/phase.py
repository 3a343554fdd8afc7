"""Heatmaps of recovery phase diagrams (the compressive-memory paper's Fig. 2)."""

from __future__ import annotations

import math
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

__all__ = ["phase_diagram", "figure2"]

_TITLES = {
    ("sparse", "low"): "sparse, low coherence",
    ("sparse", "high"): "sparse, high coherence",
    ("lowrank", "low"): "low rank, low coherence",
    ("lowrank", "high"): "low rank, high coherence",
}


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around sorted centres (the first cell starts at 0 when the grid does)."""
    c = np.asarray(centres, dtype=float)
    if c.size == 1:
        return np.array([c[0] - 0.5 * c[0], c[0] + 0.5 * c[0]]) if c[0] > 0 else np.array([c[0] - 0.5, c[0] + 0.5])
    mid = (c[1:] + c[:-1]) / 2
    first = max(0.0, c[0] - (mid[0] - c[0]))
    last = c[-1] + (c[-1] - mid[-1])
    return np.concatenate([[first], mid, [last]])


def _summary_of(data) -> Tuple[pd.DataFrame, Dict[str, Any]]:
    """(per-cell summary, info) from a PhaseDiagram, a trial table or a summary."""
    from ..stm.phase import PhaseDiagram, summarize

    info: Dict[str, Any] = {}
    if isinstance(data, PhaseDiagram):
        cfg = data.config
        info.update(model=cfg.model, coherence=cfg.coherence, N=cfg.N, L=cfg.L)
        return data.summary, info
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"table must be a PhaseDiagram or a pandas DataFrame, got {type(data).__name__}")
    if data.empty:
        raise ValueError("table is empty: nothing to draw")
    need = {"gamma", "rho"}
    if not need <= set(data.columns):
        raise ValueError(f"table must have columns gamma and rho (a phase-diagram table), got {list(data.columns)}")
    for col in ("model", "coherence"):
        if col in data.columns:
            vals = data[col].unique()
            if len(vals) > 1:
                raise ValueError(f"table mixes several {col}s {list(vals)}: draw one diagram per {col}")
            info[col] = vals[0]
    if "M" in data.columns:
        info["NL"] = int(round(float(np.median(data["M"] / data["gamma"]))))
    if "R" in data.columns and "rho_actual" in data.columns:
        ok = data["R"] > 0
        s = (data["rho_actual"][ok] * data["M"][ok] / data["R"][ok] + data["R"][ok]).median()
        info["NplusL"] = int(round(float(s)))
    summary = data if "mean_rmse" in data.columns else summarize(data)
    if "model" not in info:
        info["model"] = "sparse" if "K" in data.columns else "lowrank"
    return summary, info


def phase_diagram(
    table,
    ax=None,
    value: str = "mean_rmse",
    log: bool = True,
    vmin: float = 1e-3,
    vmax: float = 1.0,
    theory: bool = True,
    C: Optional[float] = None,
    colorbar: bool = True,
    title: Optional[str] = None,
    cmap: str = "viridis",
):
    """Draw one phase diagram: rMSE over compression gamma (x) and complexity rho (y).

    Parameters
    ----------
    table : PhaseDiagram or pandas.DataFrame
        The result of :func:`fastmem.stm.phase_diagram`, its ``.table`` (one row per
        trial) or its ``.summary`` (one row per cell).
    ax : matplotlib Axes, optional
        Drawn into a new figure by default.
    value : {"mean_rmse", "median_rmse"}
        The per-cell statistic.
    log : bool
        Logarithmic colour scale from ``vmin`` to ``vmax`` (the noise floor and total
        failure are both visible); linear otherwise.
    theory : bool
        Draw the theory's boundary M = C K log(NL) (sparse) or
        M = C R (N + L) log(NL) (low rank), with C fitted to this diagram (the median
        over gamma of the rMSE = 0.1 crossing) unless ``C`` is given.
    colorbar : bool
    title : str, optional

    Returns
    -------
    (ax, mesh) : the Axes and the QuadMesh (for a colour bar).
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm, Normalize

    from ..stm.phase import fit_theory_constant, theory_rho

    from ._checks import check_axes, check_flag, check_real

    if value not in ("mean_rmse", "median_rmse"):
        raise ValueError(f"value must be 'mean_rmse' or 'median_rmse', got {value!r}")
    ax = check_axes(ax)
    log, theory, colorbar = check_flag(log, "log"), check_flag(theory, "theory"), check_flag(colorbar, "colorbar")
    vmin = check_real(vmin, "vmin", minimum=0.0, min_inclusive=False)
    vmax = check_real(vmax, "vmax", minimum=0.0, min_inclusive=False)
    if not vmin < vmax:
        raise ValueError(f"vmin must be < vmax, got vmin = {vmin:g}, vmax = {vmax:g}")
    if C is not None:
        C = check_real(C, "C", minimum=0.0, min_inclusive=False)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be None or a string, got {type(title).__name__}")
    summary, info = _summary_of(table)
    if summary.empty:
        raise ValueError("table is empty: nothing to draw")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3.6))
    gam = np.unique(summary["gamma"].to_numpy(float))
    rho = np.unique(summary["rho"].to_numpy(float))
    grid = np.full((rho.size, gam.size), np.nan)
    gi = np.searchsorted(gam, summary["gamma"].to_numpy(float))
    ri = np.searchsorted(rho, summary["rho"].to_numpy(float))
    grid[ri, gi] = summary[value].to_numpy(float)
    norm = LogNorm(vmin=vmin, vmax=vmax, clip=True) if log else Normalize(vmin=0.0, vmax=vmax, clip=True)
    shown = np.clip(grid, vmin, None) if log else grid
    mesh = ax.pcolormesh(_edges(gam), _edges(rho), np.ma.masked_invalid(shown), norm=norm, cmap=cmap,
                         shading="flat")
    ax.set_facecolor("0.85")  # cells that were not run (low rank with R < 1)
    ax.set_xlabel(r"compression $\gamma = M / (N L)$")
    model = info.get("model", "sparse")
    ax.set_ylabel(r"complexity $\rho = K / M$" if model == "sparse" else r"complexity $\rho = R(L+N-R) / M$")
    ax.set_xlim(0, max(1.0, _edges(gam)[-1]))
    ax.set_ylim(0, max(1.0, _edges(rho)[-1]))
    if title is None:
        title = _TITLES.get((model, info.get("coherence")), model)
    ax.set_title(title, fontsize=10)
    if theory:
        N, L = info.get("N"), info.get("L")
        NL = N * L if N and L else info.get("NL")
        NplusL = N + L if N and L else info.get("NplusL", 0)
        if NL:
            if C is None:
                n_, l_ = (N, L) if N and L else _split(NL, NplusL)
                C = fit_theory_constant(summary, model, n_, l_) if n_ else None
            if C is not None:
                n_, l_ = (N, L) if N and L else _split(NL, NplusL)
                if n_:
                    gx = np.linspace(_edges(gam)[0] or 1e-3, _edges(gam)[-1], 200)
                    ry = theory_rho(model, gx, n_, l_, C)
                    label = (rf"$M = {C:.2g}\,K \log(NL)$" if model == "sparse"
                             else rf"$M = {C:.2g}\,R(N+L) \log(NL)$")
                    ax.plot(gx, ry, color="w", lw=1.5, ls="--", label=label)
                    ax.legend(loc="upper left", fontsize=7, framealpha=0.6)
    if colorbar:
        cb = ax.figure.colorbar(mesh, ax=ax)
        cb.set_label(f"rMSE ({value.split('_')[0]})")
    return ax, mesh


def _split(NL: int, NplusL: int) -> Tuple[Optional[int], Optional[int]]:
    """N and L from their product and sum (either order works for the theory line)."""
    if not NplusL:
        # only the product is known: the sparse line needs log(NL) alone
        return NL, 1
    disc = NplusL * NplusL - 4 * NL
    if disc < 0:
        return None, None
    root = math.sqrt(disc)
    return int(round((NplusL + root) / 2)), int(round((NplusL - root) / 2))


def figure2(tables, value: str = "mean_rmse", log: bool = True, figsize=(9.5, 7.5)):
    """The paper's Fig. 2: 2 x 2 phase diagrams (sparse / low rank x low / high coherence).

    Parameters
    ----------
    tables : mapping or sequence
        ``{("sparse", "low"): result, ("sparse", "high"): ..., ("lowrank", "low"): ...,
        ("lowrank", "high"): ...}`` or a sequence of results (PhaseDiagram or
        tables) in that order, or a single trial table with model and coherence
        columns holding all four. Missing panels are left empty.
    value, log : see :func:`phase_diagram`.

    Returns
    -------
    (fig, axes) : the Figure and the 2 x 2 array of Axes.
    """
    import matplotlib.pyplot as plt

    from ._checks import check_figsize, check_flag

    log = check_flag(log, "log")
    figsize = check_figsize(figsize)
    order = [("sparse", "low"), ("sparse", "high"), ("lowrank", "low"), ("lowrank", "high")]
    if isinstance(tables, pd.DataFrame):
        if not {"model", "coherence"} <= set(tables.columns):
            raise ValueError("a single table for figure2 must have model and coherence columns")
        panels = {k: tables[(tables["model"] == k[0]) & (tables["coherence"] == k[1])] for k in order}
        panels = {k: v for k, v in panels.items() if not v.empty}
    elif isinstance(tables, Mapping):
        unknown = [k for k in tables if k not in order]
        if unknown:
            raise ValueError(f"figure2 keys must be (model, coherence) pairs among {order}, got {unknown}")
        panels = dict(tables)
    elif isinstance(tables, Sequence) and not isinstance(tables, str):
        if len(tables) > 4:
            raise ValueError(f"figure2 takes at most 4 tables, got {len(tables)}")
        panels = {k: t for k, t in zip(order, tables) if t is not None}
    else:
        raise TypeError(f"tables must be a mapping, a sequence or a DataFrame, got {type(tables).__name__}")
    fig, axes = plt.subplots(2, 2, figsize=figsize, constrained_layout=True)
    for ax, key in zip(axes.ravel(), order):
        if key in panels:
            phase_diagram(panels[key], ax=ax, value=value, log=log, title=_TITLES[key])
        else:
            ax.set_axis_off()
            ax.set_title(_TITLES[key] + " (not run)", fontsize=10)
    return fig, axes
