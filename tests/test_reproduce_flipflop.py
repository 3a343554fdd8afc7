"""``fastmem reproduce flipflop`` end to end on small saved models (no training)."""

import json

import numpy as np
import pandas as pd

from fastmem.cli import main
from fastmem.dynamics import TanhRNN


def test_reproduce_flipflop_from_saved_models(tmp_path):
    models = tmp_path / "models_in"
    models.mkdir()
    for delay in (0, 8):
        m = TanhRNN(n_hidden=12, rng=delay)
        m.W = np.diag(np.full(12, 1.5)) + 0.1 * np.random.default_rng(delay).standard_normal((12, 12))
        m.save(models / f"flipflop_delay{delay}.npz")
    out = tmp_path / "out"
    rc = main(["reproduce", "flipflop", "--quick", "--out", str(out), "--models", str(models),
               "--test-steps", "3000", "--initial-states", "60", "--no-progress"])
    assert rc == 0
    for stem in ("fig2_trajectories", "fig6_slow_points", "fig3_triggered_average", "fig4_eigenvalues"):
        for ext in ("png", "pdf"):
            assert (out / f"flipflop_{stem}.{ext}").stat().st_size > 1000
    census = pd.read_csv(out / "flipflop_census.csv")
    assert list(census.columns) == ["delay", "n_unstable", "fixed", "slow", "total"]
    assert sorted(census["delay"].unique()) == [0, 8] and census["total"].sum() > 0
    summary = json.loads((out / "flipflop_summary.json").read_text())
    assert summary["format_version"] == 1 and summary["delays"]["0"]["model"].endswith("flipflop_delay0.npz")
    reloaded = TanhRNN.load(out / "models" / "flipflop_delay8.npz")
    assert reloaded.W.shape == (12, 12)
    pts = np.load(out / "flipflop_points_delay0.npz")
    assert pts["points"].shape[1] == 12 and pts["n_unstable"].shape == pts["q"].shape
