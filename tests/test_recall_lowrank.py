"""fastmem.stm.recall with low-rank inputs: recall_curve(model="lowrank") and the low-rank storage capacity."""

import numpy as np
import pandas as pd
import pytest

from fastmem.stm import measurement_operator, random_network
from fastmem.stm.recall import (
    infinite_stream,
    measured_optimum,
    optimal_recall_length,
    recall_curve,
    storage_capacity,
    summarize_curve,
)

# Rank-1 streams of L = 10 channels into M = 200 nodes at q = 0.9 with a little state noise:
# the window's degrees of freedom R (N' + L - R) fit the network up to N' ~ 100, but inputs older
# than ~1/(1-q) have faded, so the curve has an interior minimum (measured at N' = 10..14).
SETUP = dict(M=200, L=10, q=0.9, model="lowrank", rank=1, noise=0.01)
LENGTHS = [1, 2, 3, 5, 7, 10, 14, 20, 28, 40]


@pytest.fixture(scope="module")
def curve():
    return recall_curve(**SETUP, lengths=LENGTHS, trials=30, rng=1, progress=False, n_threads=1)


def test_lowrank_curve_has_an_interior_minimum(curve):
    summ = summarize_curve(curve)
    r = summ["rmse"].to_numpy()
    i = int(np.argmin(r))
    assert 0 < i < len(r) - 1
    assert r[0] > 2 * r[i]  # omission errors
    assert r[-1] > 3 * r[i]  # recall errors
    assert r[i] < 0.2  # the best window is recovered well (the zero estimate has rMSE 1)
    om = summ["omitted"].to_numpy()
    assert np.all(np.diff(om) < 0)
    assert bool(curve["converged"].all())
    assert np.all(curve["lam"] > 0)


def test_lowrank_curve_matches_truth_of_one_trial():
    """Recompute one trial's window error by hand from the same draws (the trial's seed is
    derived from rng and the trial index), with the same solver: the curve's number is the
    error of the recovered window against the true inputs."""
    from fastmem._rng import seed_entropy, trial_generator
    from fastmem.stm import nuclear_norm, propagate
    from fastmem.stm.recall import burn_in_length

    M, L, q, R, N = 60, 6, 0.8, 1, 8
    table = recall_curve(M, L, q, model="lowrank", rank=R, lengths=[N], trials=1, rng=5, progress=False,
                         n_threads=1)
    gen = trial_generator(seed_entropy(5), (0,))
    W, Z = random_network(M, L, kind="circle", radius=q, rng=gen)
    T = burn_in_length(q) + N
    S = infinite_stream(T, L, "lowrank", rank=R, rng=gen)
    x = propagate(W, Z, S, noise=0.0, rng=gen)
    A = measurement_operator(W, Z, N)
    window = S[T - N:]
    n_eff = np.sqrt((R * q ** (2 * N)) / ((1 - q * q) * M))
    S_hat = nuclear_norm(A, x, (N, L), "auto", noise=n_eff, tol=1e-4, max_iter=2000, n_threads=1).S_hat
    expected = np.sum((S_hat - window) ** 2) / np.sum(window**2)
    assert table["rmse"].iloc[0] == pytest.approx(expected, rel=1e-9)
    assert table["energy"].iloc[0] == pytest.approx(np.sum(window**2), rel=1e-12)


def test_lowrank_predicted_optimum_is_in_the_measured_flat_region(curve):
    best = measured_optimum(curve)
    pred = optimal_recall_length(**SETUP)
    assert pred.capacity > max(LENGTHS) // 2
    assert best.low <= pred.length <= best.high


def test_lowrank_curve_is_reproducible_and_thread_independent():
    kw = dict(**SETUP, lengths=[2, 6, 15], trials=3, rng=11, progress=False)
    a = recall_curve(**kw, n_threads=1)
    b = recall_curve(**kw, n_threads=1)
    c = recall_curve(**kw, n_threads=2)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    d = recall_curve(**{**kw, "rng": 12}, n_threads=1)
    assert not np.allclose(a["rmse"], d["rmse"])
    assert a.attrs["model"] == "lowrank" and a.attrs["rank"] == 1


def test_lowrank_bad_parameters():
    with pytest.raises(ValueError, match="rank must be <= min"):
        recall_curve(50, 4, 0.9, model="lowrank", rank=5, lengths=[6, 8], trials=1, progress=False)
    with pytest.raises(ValueError, match="rank must be <= min"):
        recall_curve(50, 4, 0.9, model="lowrank", rank=2, lengths=[1, 8], trials=1, progress=False)
    with pytest.raises(ValueError, match="rank"):
        recall_curve(50, 4, 0.9, model="lowrank", rank=0, lengths=[2], trials=1, progress=False)
    with pytest.raises(ValueError, match="rank"):
        optimal_recall_length(50, 4, 0.9, model="lowrank", rank=5)
    with pytest.raises(ValueError, match="rank"):
        storage_capacity(20, 4, "lowrank", rank=5)
    with pytest.raises(ValueError, match="rank"):
        storage_capacity(20, 4, "lowrank", rank=0)
    with pytest.raises(ValueError, match="model"):
        storage_capacity(20, 4, "low-rank")
    with pytest.raises(ValueError, match="q must be < 1"):
        recall_curve(50, 4, 1.0, model="lowrank", rank=1, lengths=[2], trials=1, progress=False)


def test_lowrank_storage_capacity_beats_the_classical_bound_within_the_degrees_of_freedom():
    # A rank-R stream of N steps has R (N + L - R) degrees of freedom: recovery needs at least that
    # many measurements, so N L <= L (M / R + R - L). Measured: well above M (the classical bound),
    # below that ceiling, smaller for a larger rank, and the same for the same seed.
    M, L = 40, 10
    cap1 = storage_capacity(M, L, "lowrank", rank=1, trials=3, rng=0, n_threads=1)
    cap2 = storage_capacity(M, L, "lowrank", rank=2, trials=3, rng=0, n_threads=1)
    assert M < cap1 <= L * (M / 1 + 1 - L)
    assert cap2 <= L * (M / 2 + 2 - L)
    assert cap2 < cap1
    assert cap1 % L == 0 and cap2 % L == 0
    assert storage_capacity(M, L, "lowrank", rank=1, trials=3, rng=0, n_threads=1) == cap1


def test_lowrank_prediction_without_capacity_is_flagged():
    # With the bound's constant C = 1, M = 100 nodes cannot hold rank-2 windows of 20 channels:
    # capacity 0, the estimate is 1 everywhere; a smaller C gives a real prediction.
    none = optimal_recall_length(100, 20, 0.9, model="lowrank", rank=2)
    assert none.capacity == 0 and np.all(none.error == 1.0)
    some = optimal_recall_length(100, 20, 0.9, model="lowrank", rank=2, C=0.3)
    assert some.capacity > 0 and some.length <= some.capacity and np.min(some.error) < 1.0
