"""fastmem.stm.recall: infinite-length inputs and the optimal recall length."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from fastmem.stm import propagate, random_network
from fastmem.stm.recall import (
    burn_in_length,
    infinite_stream,
    measured_optimum,
    optimal_recall_length,
    recall_curve,
    summarize_curve,
)

# A sparse model at moderate q with a little state noise: the curve's minimum is interior.
SETUP = dict(M=100, L=20, q=0.9, rate=0.05, noise=0.02)
LENGTHS = [1, 2, 3, 5, 7, 10, 14, 20, 28, 40]


@pytest.fixture(scope="module")
def curve():
    # n_threads=1: on a loaded 2-core machine the LASSO kernel with 2 OpenMP threads is far slower.
    return recall_curve(**SETUP, lengths=LENGTHS, trials=60, rng=1, progress=False, n_threads=1)


def test_curve_has_an_interior_minimum(curve):
    r = summarize_curve(curve)["rmse"].to_numpy()
    i = int(np.argmin(r))
    assert 0 < i < len(r) - 1
    assert max(r[0], r[1]) > 1.15 * r[i]  # omission errors: too short a window
    assert r[-1] > 3 * r[i]  # recall errors: too long a window
    # The omitted part of the trace decays with the window (like q^(2 N') plus the noise's share).
    om = summarize_curve(curve)["omitted"].to_numpy()
    assert np.all(np.diff(om) < 0)
    assert om[0] > 0.7 and om[LENGTHS.index(28)] < 0.1


def test_predicted_optimum_is_in_the_measured_flat_region(curve):
    best = measured_optimum(curve)
    pred = optimal_recall_length(**SETUP)
    assert best.low <= pred.length <= best.high
    assert best.low <= best.length <= best.high
    assert 1 <= pred.length <= pred.capacity


def test_prediction_moves_with_noise_and_network_size():
    base = optimal_recall_length(100, 10, 0.9, rate=0.1)
    noisy = optimal_recall_length(100, 10, 0.9, rate=0.1, noise=0.1)
    big = optimal_recall_length(400, 10, 0.9, rate=0.1)
    assert noisy.length < base.length < big.length
    assert base.capacity < big.capacity
    lr = optimal_recall_length(200, 20, 0.9, model="lowrank", rank=2)
    assert 2 <= lr.length <= lr.capacity
    assert np.all((base.error > 0) & (base.error <= 1))


def test_burn_in_reaches_the_never_started_state():
    q = 0.9
    T = burn_in_length(q)
    assert q**T < 1e-12 <= q ** (T - 1)
    W, Z = random_network(30, 3, kind="circle", radius=q, rng=0)
    S = infinite_stream(4 * T, 3, "sparse", rate=0.2, rng=1)
    x_long = propagate(W, Z, S)
    x_burn = propagate(W, Z, S[-T:])
    assert np.linalg.norm(x_long - x_burn) <= 1e-11 * np.linalg.norm(x_long)


def test_low_rank_stream_windows_have_the_rank():
    S = infinite_stream(50, 8, "lowrank", rank=3, rng=2)
    assert np.linalg.matrix_rank(S[-10:]) == 3
    assert np.mean(np.sum(S**2, axis=1)) == pytest.approx(3.0, rel=0.4)


def test_resume_determinism_and_executor(tmp_path):
    kw = dict(**SETUP, lengths=[2, 5, 12], rng=7, progress=False)
    full = recall_curve(**kw, trials=4)
    again = recall_curve(**kw, trials=4)
    pd.testing.assert_frame_equal(full, again)
    store = tmp_path / "recall.csv"
    part = recall_curve(**kw, trials=2, store=store)
    resumed = recall_curve(**kw, trials=4, store=store)
    pd.testing.assert_frame_equal(resumed, full, check_dtype=False)
    pd.testing.assert_frame_equal(part, full[full.trial < 2].reset_index(drop=True), check_dtype=False)
    with ThreadPoolExecutor(2) as ex:
        par = recall_curve(**kw, trials=4, executor=ex)
    pd.testing.assert_frame_equal(par, full, check_dtype=False)
    assert set(full.columns) >= {"trial", "length", "rmse", "error", "energy", "omitted"}


def test_bad_parameters():
    with pytest.raises(ValueError, match="q must be < 1"):
        recall_curve(50, 4, 1.0, lengths=[1, 2], trials=1, progress=False)
    with pytest.raises(ValueError, match="q must be < 1"):
        recall_curve(50, 4, 1.5, lengths=[1, 2], trials=1, progress=False)
    with pytest.raises(ValueError, match="q must be < 1"):
        optimal_recall_length(50, 4, 1.0)
    with pytest.raises(ValueError, match="q must be < 1"):
        burn_in_length(1.0)
    with pytest.raises(ValueError, match="q must be >"):
        recall_curve(50, 4, 0.0, lengths=[1], trials=1, progress=False)
    with pytest.raises(ValueError, match="lengths must all be >= 1"):
        recall_curve(50, 4, 0.9, lengths=[0, 3], trials=1, progress=False)
    with pytest.raises(ValueError, match="lengths must all be >= 1"):
        recall_curve(50, 4, 0.9, lengths=[-2], trials=1, progress=False)
    with pytest.raises(ValueError, match="non-empty"):
        recall_curve(50, 4, 0.9, lengths=[], trials=1, progress=False)
    with pytest.raises(TypeError, match="integers"):
        recall_curve(50, 4, 0.9, lengths=[1.5, 2], trials=1, progress=False)
    with pytest.raises(ValueError, match="model"):
        recall_curve(50, 4, 0.9, model="dense", lengths=[1], trials=1, progress=False)
    with pytest.raises(ValueError, match="rank"):
        recall_curve(50, 4, 0.9, model="lowrank", rank=3, lengths=[2, 5], trials=1, progress=False)
    with pytest.raises(ValueError, match="trials"):
        recall_curve(50, 4, 0.9, lengths=[1], trials=0, progress=False)


def test_figures_and_storage_capacity(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from fastmem.plot import capacity_figure
    from fastmem.plot import recall_curve as plot_recall_curve
    from fastmem.stm.recall import storage_capacity

    table = recall_curve(**SETUP, lengths=[2, 5, 12], trials=3, rng=3, progress=False, n_threads=1)
    fig = plot_recall_curve(table, prediction=optimal_recall_length(**SETUP))
    fig.savefig(tmp_path / "fig3.png")
    assert len(fig.axes) == 2
    # A sparse stream is stored beyond the classical bound M (superlinear capacity).
    cap = storage_capacity(30, 4, "sparse", rate=0.05, trials=3, rng=0, n_threads=1)
    assert cap > 30
    fig = capacity_figure(pd.DataFrame({"M": [30], "classical_mc": [29.5], "sparse_measured": [cap]}))
    fig.savefig(tmp_path / "cap.png")
    assert (tmp_path / "cap.png").stat().st_size > 0
