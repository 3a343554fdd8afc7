"""Figures of the delayed flip-flop paper (Figs. 2, 3, 4 and 6).

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot
(no global state; save it with ``fig.savefig``, or display it in a notebook).

* :func:`fig2_trajectories` -- the test trajectory in PCs 1-3, coloured by output.
* :func:`fig6_slow_points` -- the same with the fixed/slow points, marked by their
  number of unstable dimensions.
* :func:`fig3_triggered_average` -- one output switch, averaged, in PCs 1-3 and the
  first nine PCs over time.
* :func:`fig4_eigenvalues` -- eigenvalues of W in the complex plane with the unit circle.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence, Tuple

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .._validation import as_float_array, check_int
from ..dynamics.analysis import PCA, TriggeredAverage, eigenspectrum, pca as fit_pca
from ._checks import check_figsize, check_instance, check_mapping, check_optional_mapping

# marker, colour, label for 0, 1, 2, 3 and more unstable dimensions
_POINT_STYLE = (
    ("o", "black", "Fixed point (stable)"),
    ("X", "tab:blue", "Saddle (1 unst. dim)"),
    ("*", "tab:green", "Saddle (2 unst. dims)"),
    ("P", "tab:purple", "Saddle (3 unst. dims)"),
    ("^", "tab:red", "Saddle (>3 unst. dims)"),
)


def output_codes(outputs: np.ndarray) -> np.ndarray:
    """Integer code 0 .. 2^bits - 1 of the sign pattern of each output row (sign >= 0 counts as +1)."""
    bits = (as_float_array(outputs, "outputs", ndim=2) >= 0).astype(int)
    return bits @ (1 << np.arange(bits.shape[1])[::-1])


def _code_colours(n_codes: int):
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n_codes <= 10 else "viridis"]
    return [cmap(i if n_codes <= 10 else i / max(n_codes - 1, 1)) for i in range(n_codes)]


def _trajectory_panel(ax, scores: np.ndarray, outputs: np.ndarray, title: Optional[str], size: float = 4.0):
    codes = output_codes(outputs)
    n_codes = 2 ** outputs.shape[1]
    colours = _code_colours(n_codes)
    ax.scatter(scores[:, 0], scores[:, 1], scores[:, 2], c=[colours[c] for c in codes], s=size, alpha=0.8,
               depthshade=False, linewidths=0)
    ax.plot(scores[:, 0], scores[:, 1], scores[:, 2], color="0.6", lw=0.4, alpha=0.5)
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    ax.set_zlabel("PC3")
    if title:
        ax.set_title(title)
    present = sorted(set(codes.tolist()))
    bits = outputs.shape[1]
    handles = [
        Line2D([], [], ls="", marker="o", color=colours[c],
               label="(" + ", ".join("+1" if (c >> (bits - 1 - k)) & 1 else "-1" for k in range(bits)) + ")")
        for c in present
    ]
    return handles


def _points_panel(ax, points_pc: np.ndarray, n_unstable: np.ndarray, is_fixed: np.ndarray):
    cat = np.minimum(n_unstable, 4)
    handles = []
    for k, (marker, colour, label) in enumerate(_POINT_STYLE):
        sel = cat == k
        if not sel.any():
            continue
        for fixed in (True, False):
            s = sel & (is_fixed == fixed)
            if s.any():
                ax.scatter(points_pc[s, 0], points_pc[s, 1], points_pc[s, 2], marker=marker, s=90,
                           c=colour if fixed else "none", edgecolors=colour, linewidths=1.5, depthshade=False,
                           zorder=10)
        if k == 4:
            for p, n in zip(points_pc[sel], n_unstable[sel]):
                ax.text(p[0], p[1], p[2], f" {n}", color=colour, fontsize=8)
        handles.append(Line2D([], [], ls="", marker=marker, color=colour, markersize=8, label=label))
    if (~is_fixed).any():
        handles.append(Line2D([], [], ls="", marker="o", markerfacecolor="none", color="0.3", label="slow point (hollow)"))
    return handles


def _check_run(states, outputs, name: str) -> Tuple[np.ndarray, np.ndarray]:
    S = np.asarray(states, dtype=float)
    Y = np.asarray(outputs, dtype=float)
    if S.ndim != 2 or Y.ndim != 2 or S.shape[0] != Y.shape[0]:
        raise ValueError(f"run {name!r}: states (T, N) and outputs (T, n_out) must share T, got {S.shape}, {Y.shape}")
    return S, Y


def fig2_trajectories(
    runs: Mapping[str, Tuple[np.ndarray, np.ndarray]],
    steps: int = 3000,
    pcas: Optional[Mapping[str, PCA]] = None,
    fixed_points: Optional[Mapping[str, object]] = None,
    figsize: Optional[Tuple[float, float]] = None,
) -> Figure:
    """Fig. 2: the first ``steps`` steps of each test trajectory in its first three PCs, coloured by output.

    Parameters
    ----------
    runs : mapping title -> (states (T, N), outputs (T, n_out))
        One panel per run (e.g. ``{"delay 0": ..., "delay 8": ...}``); the colour is the
        sign pattern of the outputs (the network's outputs or the task's targets).
    steps : int
        Steps of each trajectory drawn.
    pcas : mapping title -> PCA, optional
        Projections to use (default: PCA fitted on each run's whole trajectory).
    fixed_points : mapping title -> FixedPointResult, optional
        Points to mark (Fig. 6).
    """
    runs = check_mapping(runs, "runs", "title -> (states, outputs)")
    steps = check_int(steps, "steps", minimum=1)
    pcas = check_optional_mapping(pcas, "pcas", "title -> PCA")
    fixed_points = check_optional_mapping(fixed_points, "fixed_points", "title -> FixedPointResult")
    figsize = check_figsize(figsize)
    n = len(runs)
    fig = Figure(figsize=figsize or (6.0 * n, 5.5), constrained_layout=True)
    for i, (title, run) in enumerate(runs.items()):
        if not isinstance(run, (tuple, list)) or len(run) != 2:
            raise TypeError(f"runs[{title!r}] must be a pair (states, outputs), got {type(run).__name__}")
        S, Y = _check_run(run[0], run[1], title)
        p = pcas.get(title)
        p = fit_pca(S, 3) if p is None else check_instance(p, f"pcas[{title!r}]", PCA)
        ax = fig.add_subplot(1, n, i + 1, projection="3d")
        scores = p.transform(S[:steps])
        handles = _trajectory_panel(ax, scores, Y[:steps], title)
        fp = fixed_points.get(title)
        if fp is not None and len(fp):
            handles = _points_panel(ax, p.transform(fp.points), fp.n_unstable, fp.is_fixed) + [
                Line2D([], [], color="0.6", lw=1, label="test trajectory")
            ]
        ax.legend(handles=handles, fontsize=7, loc="upper left", title="output" if fp is None else None)
    return fig


def fig6_slow_points(
    runs: Mapping[str, Tuple[np.ndarray, np.ndarray]],
    fixed_points: Mapping[str, object],
    steps: int = 3000,
    pcas: Optional[Mapping[str, PCA]] = None,
    figsize: Optional[Tuple[float, float]] = None,
) -> Figure:
    """Fig. 6: Fig. 2 with the fixed and slow points marked by their number of unstable dimensions
    (stable: black circle; 1, 2, 3 unstable dimensions: cross, star, plus; more: red triangle with the
    number written next to it; slow points, q above the fixed threshold, hollow)."""
    fixed_points = check_mapping(fixed_points, "fixed_points", "title -> FixedPointResult")
    return fig2_trajectories(runs, steps=steps, pcas=pcas, fixed_points=fixed_points, figsize=figsize)


def fig3_triggered_average(
    average: TriggeredAverage,
    pca: PCA,
    background: Optional[np.ndarray] = None,
    n_pcs: int = 9,
    figsize: Tuple[float, float] = (12.0, 6.0),
) -> Figure:
    """Fig. 3: the switch-triggered average trajectory in PCs 1-3 (left) and in the first ``n_pcs`` PCs
    over time (right; the dashed line is the switch).

    Parameters
    ----------
    average : TriggeredAverage
    pca : PCA
        Fitted on the test trajectory, with at least 3 components (``n_pcs`` are drawn when available).
    background : array (T, N), optional
        States drawn faintly behind the average (the "cube" of the test trajectory).
    """
    check_instance(average, "average", TriggeredAverage, "TriggeredAverage (fastmem.dynamics.triggered_average)")
    check_instance(pca, "pca", PCA, "PCA (fastmem.dynamics.pca)")
    n_pcs = check_int(n_pcs, "n_pcs", minimum=1)
    figsize = check_figsize(figsize)
    if background is not None:
        background = as_float_array(background, "background", ndim=2)
        if background.shape[1] != pca.components.shape[1]:
            raise ValueError(f"background must have shape (T, {pca.components.shape[1]}) (the PCA's state size), "
                             f"got {background.shape}")
    if pca.n_components < 3:
        raise ValueError(f"pca must have at least 3 components, got {pca.n_components}")
    k = min(n_pcs, pca.n_components)
    fig = Figure(figsize=figsize, constrained_layout=True)
    grid = fig.add_gridspec(k, 2, width_ratios=[1.3, 1.0])
    ax = fig.add_subplot(grid[:, 0], projection="3d")
    title = f"{average.source} -> {average.target}, {average.n_events} switches"
    if background is not None:
        bg = pca.transform(background)
        ax.plot(bg[:, 0], bg[:, 1], bg[:, 2], color="0.8", lw=0.3, alpha=0.6, label="test trajectory")
    if average.n_events:
        sc = pca.transform(average.mean)
        ax.plot(sc[:, 0], sc[:, 1], sc[:, 2], color="0.3", lw=1)
        pts = ax.scatter(sc[:, 0], sc[:, 1], sc[:, 2], c=average.lags, cmap="coolwarm", s=18, depthshade=False)
        at = int(np.flatnonzero(average.lags == 0)[0]) if (average.lags == 0).any() else None
        if at is not None:
            ax.scatter(*sc[at, :3], marker="*", s=150, c="gold", edgecolors="k", depthshade=False, label="switch")
        fig.colorbar(pts, ax=ax, shrink=0.6, label="steps from switch")
    else:
        sc = np.full((average.lags.size, k), np.nan)
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    ax.set_zlabel("PC3")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left")
    for i in range(k):
        a = fig.add_subplot(grid[i, 1])
        a.plot(average.lags, sc[:, i], color=f"C{i % 10}", lw=1.2)
        a.axvline(0, color="k", ls="--", lw=0.7)
        a.set_ylabel(f"PC{i + 1}", fontsize=8)
        a.tick_params(labelsize=7)
        if i < k - 1:
            a.set_xticklabels([])
        else:
            a.set_xlabel("steps from switch")
    return fig


def fig4_eigenvalues(
    matrices: Mapping[str, np.ndarray],
    figsize: Optional[Tuple[float, float]] = None,
) -> Figure:
    """Fig. 4: eigenvalues of each recurrent matrix (or model with ``W``) in the complex plane,
    with the unit circle, side by side (e.g. delay 0 next to delay 8)."""
    matrices = check_mapping(matrices, "matrices", "title -> W")
    figsize = check_figsize(figsize)
    n = len(matrices)
    fig = Figure(figsize=figsize or (5.0 * n, 5.0), constrained_layout=True)
    theta = np.linspace(0, 2 * np.pi, 400)
    axes = []
    for i, (title, W) in enumerate(matrices.items()):
        ev = eigenspectrum(W)
        ax = fig.add_subplot(1, n, i + 1)
        ax.plot(np.cos(theta), np.sin(theta), color="0.5", lw=1, ls="--", label="unit circle")
        outside = np.abs(ev) > 1
        ax.scatter(ev.real[~outside], ev.imag[~outside], s=14, color="tab:blue", label="|lambda| <= 1")
        ax.scatter(ev.real[outside], ev.imag[outside], s=22, color="tab:red", label="|lambda| > 1")
        ax.axhline(0, color="0.85", lw=0.7, zorder=0)
        ax.axvline(0, color="0.85", lw=0.7, zorder=0)
        ax.set_aspect("equal")
        ax.set_xlabel("Re(lambda)")
        ax.set_ylabel("Im(lambda)")
        ax.set_title(f"{title}  ({int(outside.sum())} outside the unit circle)")
        ax.legend(fontsize=7, loc="lower left")
        axes.append(ax)
    lim = max(max(abs(x) for x in a.get_xlim() + a.get_ylim()) for a in axes)
    for a in axes:
        a.set_xlim(-lim, lim)
        a.set_ylim(-lim, lim)
    return fig


__all__: Sequence[str] = [
    "fig2_trajectories",
    "fig3_triggered_average",
    "fig4_eigenvalues",
    "fig6_slow_points",
    "output_codes",
]
