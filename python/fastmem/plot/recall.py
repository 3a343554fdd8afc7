"""Figures for infinite-length recall (the paper's Fig. 3) and memory capacities."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

__all__ = ["recall_curve", "capacity_figure"]


def recall_curve(
    table: pd.DataFrame,
    prediction=None,
    stream: Optional[np.ndarray] = None,
    q: Optional[float] = None,
    flat: float = 0.25,
    fig=None,
):
    """The paper's Fig. 3: the decaying stored trace (top) and error against recall length (bottom).

    Parameters
    ----------
    table : DataFrame
        From :func:`fastmem.stm.recall_curve` (its ``attrs`` give q and the model).
    prediction : RecallPrediction, optional
        From :func:`fastmem.stm.optimal_recall_length`; its optimum is marked and its
        estimate drawn (scaled to the measured minimum: the theory's claim is the shape).
    stream : array (T, L), optional
        Recent inputs, newest last, for the top panel (default: a draw of the model).
    q : float, optional
        Network radius (default ``table.attrs["q"]``).
    flat : float
        Relative width of the measured optimum's flat region (see
        :func:`fastmem.stm.measured_optimum`).
    fig : matplotlib Figure, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from .._validation import as_float_array, check_float
    from ..stm.recall import RecallPrediction, infinite_stream, measured_optimum, summarize_curve
    from ._checks import check_figure, check_instance

    check_instance(table, "table", pd.DataFrame, "DataFrame from fastmem.stm.recall_curve")
    if prediction is not None:
        check_instance(prediction, "prediction", RecallPrediction, "RecallPrediction (optimal_recall_length)")
    if stream is not None:
        stream = as_float_array(stream, "stream", ndim=(1, 2), allow_empty=False)
    fig = check_figure(fig)
    attrs = table.attrs
    if q is None:
        if "q" not in attrs:
            raise ValueError("q is needed: table.attrs has no 'q' (pass q=, or the table from recall_curve)")
        q = attrs["q"]
    q = check_float(q, "q", minimum=0.0, maximum=1.0, min_inclusive=False)
    summ = summarize_curve(table)
    best = measured_optimum(table, flat=flat)
    lengths = summ["length"].to_numpy()
    top_len = int(max(lengths.max(), 10))
    if stream is None:
        stream = infinite_stream(top_len + 20, int(attrs.get("L", 1)), attrs.get("model", "sparse"),
                                 rate=float(attrs.get("rate", 0.05)), rank=int(attrs.get("rank", 2)), rng=0)
    stream = np.asarray(stream, dtype=float)
    if stream.ndim == 1:
        stream = stream[:, None]
    if fig is None:
        fig = plt.figure(figsize=(7.0, 6.0))
    ax_top, ax_bot = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1, 1.6]})

    # Top: what the state holds, lag by lag: q^k |s[now-1-k]| (each channel), and the envelope q^k.
    k = np.arange(min(len(stream), top_len + 10))
    recent = stream[::-1][: len(k)]
    stored = (q**k)[:, None] * recent
    amp = np.max(np.abs(recent)) if np.any(recent) else 1.0
    for col in range(stored.shape[1]):
        nz = np.abs(stored[:, col]) > 0
        ax_top.vlines(k[nz], 0, stored[nz, col], color="C0", alpha=0.5, lw=1)
    ax_top.plot(k, amp * q**k, color="k", lw=1.2, label=r"envelope $q^k$")
    ax_top.plot(k, -amp * q**k, color="k", lw=1.2)
    ax_top.axvspan(-0.5, best.length - 0.5, color="C2", alpha=0.12, label=f"recalled window N' = {best.length}")
    ax_top.set_xlim(-0.5, k[-1] + 0.5)
    ax_top.set_xlabel("lag k (steps into the past)")
    ax_top.set_ylabel(r"$q^k\, s[\mathrm{now}-1-k]$")
    ax_top.set_title(f"stored trace of a never-started stream (q = {q:g})")
    ax_top.legend(loc="upper right", fontsize=8)

    # Bottom: measured error against recall length, omission share, predicted optimum.
    ax_bot.errorbar(lengths, summ["rmse"], yerr=summ["rmse_se"], fmt="o-", color="C0", ms=4, capsize=2,
                    label="measured rMSE (pooled over trials)")
    ax_bot.plot(lengths, summ["omitted"], "--", color="C1", label="omitted share of the state (omission)")
    ax_bot.axvspan(best.low, best.high, color="C2", alpha=0.12, label=f"flat region [{best.low}, {best.high}]")
    ax_bot.axvline(best.length, color="C2", lw=1.5, label=f"measured optimum N' = {best.length}")
    if prediction is not None:
        pl, pe = np.asarray(prediction.lengths), np.asarray(prediction.error)
        keep = (pl >= lengths.min()) & (pl <= lengths.max()) & np.isfinite(pe)
        if np.any(keep):
            scale = best.rmse / np.min(pe[keep])
            ax_bot.plot(pl[keep], np.minimum(pe[keep] * scale, 1.0), ":", color="C3", lw=1.5,
                        label="theory (shape, scaled to the minimum)")
        ax_bot.axvline(prediction.length, color="C3", lw=1.5, ls="-.",
                       label=f"predicted optimum N' = {prediction.length}")
    ax_bot.set_xscale("log")
    ax_bot.set_yscale("log")
    ax_bot.set_xlabel("recall length N' (inputs recovered)")
    ax_bot.set_ylabel("rMSE of the recalled window")
    ax_bot.set_title(f"{attrs.get('model', '')} inputs, M = {attrs.get('M', '?')}, L = {attrs.get('L', '?')}: "
                     "omission errors (left) vs recall errors (right)", fontsize=9)
    ax_bot.legend(fontsize=7, loc="best")
    ax_bot.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig


def capacity_figure(table: pd.DataFrame, fig=None):
    """Memory capacities against network size M, in inputs recoverable.

    Parameters
    ----------
    table : DataFrame
        Columns ``M`` and any of ``classical_mc`` (Jaeger's MC of a linear network, <= M),
        ``sparse_measured``, ``sparse_bound``, ``lowrank_measured``, ``lowrank_bound``
        (numbers of scalar inputs N*L stored: measured with fastmem, or the paper's
        bound). Missing columns are left out.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from ._checks import check_figure, check_instance

    check_instance(table, "table", pd.DataFrame, "DataFrame with a column M")
    if "M" not in table.columns:
        raise ValueError("table must have a column 'M' (network sizes)")
    fig = check_figure(fig)
    if fig is None:
        fig = plt.figure(figsize=(6.5, 4.5))
    ax = fig.subplots()
    M = table["M"].to_numpy()
    ax.plot(M, M, color="0.6", lw=1, label="M (classical bound)")
    styles = {
        "classical_mc": ("o-", "C0", "classical MC (Jaeger, linear, exact)"),
        "sparse_measured": ("s-", "C1", "sparse inputs, measured (LASSO)"),
        "sparse_bound": ("s:", "C1", "sparse inputs, bound C K log(NL) < M"),
        "lowrank_measured": ("^-", "C2", "low-rank inputs, measured (nuclear norm)"),
        "lowrank_bound": ("^:", "C2", "low-rank inputs, bound C R(N+L) log(NL) < M"),
    }
    for col, (fmt, color, label) in styles.items():
        if col in table.columns and (table[col] > 0).any():
            vals = table[col].where(table[col] > 0)  # 0 = nothing stored / bound never met: off a log axis
            ax.plot(M, vals, fmt, color=color, label=label, ms=4)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("network size M (nodes)")
    ax.set_ylabel("inputs stored and recoverable (N L)")
    ax.set_title("short-term memory capacity against network size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
