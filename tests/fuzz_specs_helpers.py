"""Hostile-input specs of the importable helpers: public names (no underscore) of fastmem's
modules that no ``__all__`` exports (``hostile.discover`` finds them). A user can call them,
so they are fuzzed like the API, or exempted with the reason.
"""

from __future__ import annotations

import numpy as np

import importlib

from fuzz_specs import R, _phase_result, lasso_problem, net, nn_problem, rnn
from hostile import exempt, register

# importlib: ``fastmem.stm.lasso`` as an attribute is the function, not the module
fp_mod, lasso_mod, net_mod, nn_mod, phase_mod, recall_mod, sig_mod = (
    importlib.import_module(f"fastmem.{m}") for m in ("dynamics.fixed_points", "stm.lasso", "stm.network",
                                                       "stm.nuclear_norm", "stm.phase", "stm.recall", "stm.signals"))

register("fastmem.stm.lasso.auto_lam", lambda: dict(A=lasso_problem()[0], noise=0.1), call=lasso_mod.auto_lam)
register("fastmem.stm.nuclear_norm.auto_lam", lambda: dict(A=nn_problem()[0], noise=0.1, shape=(4, 3)),
         call=nn_mod.auto_lam)
register("fastmem.stm.nuclear_norm.frobenius_norm_squared", lambda: dict(A=nn_problem()[0]),
         call=nn_mod.frobenius_norm_squared)
register("fastmem.stm.network.resolve_structure", lambda: dict(W=net()[0], structure="auto"),
         call=net_mod.resolve_structure)
register("fastmem.stm.recall.default_lengths", lambda: dict(q=0.9, count=16), call=recall_mod.default_lengths)
register("fastmem.stm.signals.synthesize", lambda: dict(a=R(3).standard_normal(8), N=4, L=2, basis="dct"),
         call=sig_mod.synthesize)
register("fastmem.stm.signals.temporal_basis", lambda: dict(N=5, basis="dct"), call=sig_mod.temporal_basis)
register("fastmem.dynamics.fixed_points.map_offset",
         lambda: dict(N=6, W_in=rnn().W_in, b=rnn().b, input=np.ones(3)), call=fp_mod.map_offset,
         aliases={"N": ["W_in", "b"]})
register("fastmem.stm.phase.summarize", lambda: dict(table=_phase_result().table), call=phase_mod.summarize)

_PHASE_STEP = ("a step of phase_diagram on its own validated PhaseConfig (not exported by fastmem.stm; "
               "phase_trial is the public way to recompute a trial)")
for _name in ("cell_size", "draw_measurement", "draw_measurements", "task_network", "PhaseConfig.meta"):
    exempt(f"fastmem.stm.phase.{_name}", _PHASE_STEP)
