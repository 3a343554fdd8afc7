"""Hostile-input specs of the plot functions and the command line, and amendments of
the finiteness rule for specs registered in fuzz_specs.py (loaded after it by
``hostile.load_specs``; kept apart so that areas adding specs to fuzz_specs.py and
the hardening work do not edit the same lines).
"""

from __future__ import annotations

import numpy as np

import fastmem
from fastmem import dynamics as dyn
from fastmem import stm
from fuzz_specs import R, _curve, _fp_result, _phase_result, flipflop_outputs, rnn, states
from hostile import amend, register

# --------------------------------------------------------------------------- finiteness: name what may be NaN/Inf

amend("fastmem.stm.recall.recall_curve", finite=True,
      nonfinite=("rmse",))  # documented: rmse is NaN for a window that happens to be all zero
amend("fastmem.stm.recall.summarize_curve", finite=True,
      nonfinite=("rmse", "rmse_se", "rmse_mean", "rmse_sem"))  # NaN as above; se NaN for one trial
amend("fastmem.stm.recall.optimal_recall_length", finite=True,
      nonfinite=("recall",))  # recall: inf beyond capacity or past float64 (error is then 1)
amend("fastmem.stm.recall.measured_optimum", finite=True)
amend("fastmem.dynamics.analysis.triggered_average", finite=True, nonfinite=("mean",))  # no event -> mean NaN
amend("fastmem.stm.phase.fit_theory_constant", finite=True)
amend("fastmem.stm.phase.PhaseDiagram.theory_constant", finite=True)
# (fastmem.stm.estimator.Lasso.set_params keeps finite=False: scikit-learn's set_params stores, fit validates)

# --------------------------------------------------------------------------- plots (fastmem.plot) and the CLI

import matplotlib  # noqa: E402

matplotlib.use("Agg")

from fastmem import plot as fplot  # noqa: E402


def _closing(fn):
    """Call a plot function and close what it drew (pyplot keeps figures alive); the result is discarded."""

    def call(**kw):
        import matplotlib.pyplot as plt

        try:
            fn(**kw)
        finally:
            plt.close("all")
        return None

    return call


def _runs():
    return {"delay 0": (states(), np.sign(R(5).standard_normal((20, 3))))}


def _pca():
    return dyn.pca(states(), 3)


def _trig():
    return dyn.triggered_average(np.tanh(R(7).standard_normal((40, 6))), flipflop_outputs(), (-1, -1, -1),
                                 (-1, -1, 1), 2, 3)


register("fastmem.plot.flipflop.output_codes", lambda: dict(outputs=np.sign(R(5).standard_normal((20, 3)))))
register("fastmem.plot.flipflop.fig2_trajectories",
         lambda: dict(runs=_runs(), steps=10, pcas=None, fixed_points=None, figsize=(4.0, 3.0)),
         call=_closing(fplot.fig2_trajectories))
register("fastmem.plot.flipflop.fig6_slow_points",
         lambda: dict(runs=_runs(), fixed_points={"delay 0": _fp_result()}, steps=10, pcas=None, figsize=(4.0, 3.0)),
         call=_closing(fplot.fig6_slow_points))
register("fastmem.plot.flipflop.fig3_triggered_average",
         lambda: dict(average=_trig(), pca=_pca(), background=states(), n_pcs=3, figsize=(4.0, 3.0)),
         call=_closing(fplot.fig3_triggered_average))
register("fastmem.plot.flipflop.fig4_eigenvalues", lambda: dict(matrices={"W": rnn().W}, figsize=(4.0, 3.0)),
         call=_closing(fplot.fig4_eigenvalues))
register("fastmem.plot.recall.recall_curve",
         lambda: dict(table=_curve(), prediction=stm.optimal_recall_length(20, 2, 0.7), stream=None, q=None,
                      flat=0.25, fig=None),
         call=_closing(fplot.recall_curve))


def _capacity_table():
    import pandas as pd

    return pd.DataFrame({"M": [10, 20, 40], "classical_mc": [9.5, 19.0, 38.0], "sparse_bound": [20, 50, 120]})


register("fastmem.plot.recall.capacity_figure", lambda: dict(table=_capacity_table(), fig=None),
         call=_closing(fplot.capacity_figure))
register("fastmem.plot.phase.phase_diagram",
         lambda: dict(table=_phase_result(), ax=None, value="mean_rmse", log=True, vmin=1e-3, vmax=1.0, theory=True,
                      C=None, colorbar=True, title="t", cmap="viridis"),
         call=_closing(fplot.phase_diagram))
register("fastmem.plot.phase.figure2", lambda: dict(tables=[_phase_result()], value="mean_rmse", log=True,
                                                    figsize=(4.0, 3.0)),
         call=_closing(fplot.figure2))


def _cli(**kw):
    """main(argv): argparse reports a bad command line by SystemExit(2) after printing usage."""
    import contextlib
    import io

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            return fastmem.cli.main(**kw)
    except SystemExit as exc:
        if exc.code == 2:
            raise ValueError(f"argv: {err.getvalue().strip()}") from None
        raise


import fastmem.cli  # noqa: E402

register("fastmem.cli.main", lambda: dict(argv=["config"]), call=_cli)
register("fastmem.cli.build_parser", lambda: {}, call=lambda: fastmem.cli.build_parser().format_usage(), finite=False)
