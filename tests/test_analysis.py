"""PCA, switch-triggered averages and spectra (fastmem.dynamics.analysis)."""

import numpy as np
import pytest
import sklearn.decomposition
from hypothesis import given, strategies as st

from fastmem.dynamics import eigenspectrum, pca, switch_times, triggered_average


@given(T=st.integers(2, 60), N=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_pca_agrees_with_sklearn(T, N, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((T, N)) @ rng.standard_normal((N, N))
    k = min(N, T, 3)
    ours = pca(X, k)
    sk = sklearn.decomposition.PCA(k, svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.explained_variance, sk.explained_variance_, rtol=1e-8, atol=1e-10)
    # axes agree up to sign where their variances are well separated from the next
    ev = np.append(ours.explained_variance, 0.0 if k == N else pca(X, min(N, k + 1)).explained_variance[-1])
    for i in range(k):
        gap = min(abs(ev[i] - ev[i + 1]), abs(ev[i] - ev[i - 1]) if i else np.inf)
        if gap > 1e-6 * max(ev[0], 1e-12) and ev[i] > 1e-9 * max(ev[0], 1e-12):
            assert abs(abs(ours.components[i] @ sk.components_[i]) - 1) < 1e-6
    np.testing.assert_allclose(ours.components @ ours.components.T, np.eye(k), atol=1e-10)
    Y = ours.transform(X)
    assert Y.shape == (T, k)
    np.testing.assert_allclose(Y.var(axis=0, ddof=1), ours.explained_variance, rtol=1e-8, atol=1e-10)


def test_pca_full_rank_round_trip_and_batch(rng):
    X = rng.standard_normal((3, 40, 5))
    p = pca(X, 5)
    np.testing.assert_allclose(p.inverse_transform(p.transform(X)), X, atol=1e-12)
    assert p.transform(X).shape == (3, 40, 5)
    assert p.explained_variance_ratio.sum() == pytest.approx(1.0)


def test_pca_recovers_a_planted_plane(rng):
    basis = np.linalg.qr(rng.standard_normal((20, 2)))[0]
    X = rng.standard_normal((500, 2)) * [5.0, 2.0] @ basis.T + 0.01 * rng.standard_normal((500, 20))
    p = pca(X, 2)
    assert np.linalg.svd(p.components @ basis, compute_uv=False).min() > 0.999
    assert p.explained_variance_ratio.sum() > 0.99


def test_triggered_average_of_a_known_response(rng):
    T, N = 400, 4
    response = rng.standard_normal((12, N))  # a fixed shape around every switch
    Y = np.tile([-1.0, -1.0, -1.0], (T, 1))
    X = 0.0 * rng.standard_normal((T, N))
    switches = [50, 150, 250, 395]  # the last one's window runs off the end
    for s in switches:
        Y[s:, 2] = 1.0
        Y[s + 40 :, 2] = -1.0 if s + 40 < T else 1.0
        lo, hi = s - 4, min(s + 8, T)
        X[lo:hi] += response[: hi - lo]
    ta = triggered_average(X, Y, before=4, after=8)
    np.testing.assert_array_equal(ta.events, [50, 150, 250])
    np.testing.assert_allclose(ta.mean, response, atol=1e-12)
    np.testing.assert_array_equal(ta.lags, np.arange(-4, 8))
    assert ta.n_events == 3
    np.testing.assert_array_equal(switch_times(Y, (-1, -1, -1), (-1, -1, 1)), switches)
    # continuous outputs: signs decide
    ta2 = triggered_average(X, 0.7 * Y, before=4, after=8)
    np.testing.assert_allclose(ta2.mean, ta.mean)
    # a switch that never happens
    none = triggered_average(X, Y, source=(1, 1, 1), target=(1, 1, -1), before=4, after=8)
    assert none.n_events == 0 and np.isnan(none.mean).all()


def test_eigenspectrum(rng):
    W = rng.standard_normal((30, 30)) / np.sqrt(30)
    ev = eigenspectrum(W)
    np.testing.assert_allclose(np.sort_complex(ev), np.sort_complex(np.linalg.eigvals(W)), atol=1e-12)
    assert np.all(np.diff(np.abs(ev)) <= 1e-12)
    R = np.array([[0.0, -1.0], [1.0, 0.0]]) * 0.9
    np.testing.assert_allclose(np.abs(eigenspectrum(R)), [0.9, 0.9])


def test_bad_input(rng):
    X = rng.standard_normal((10, 3))
    with pytest.raises(ValueError, match="n_components must be <= 3"):
        pca(X, 4)
    with pytest.raises(ValueError, match="at least 2 states"):
        pca(X[:1], 1)
    with pytest.raises(ValueError, match="states must have last axis of length 3"):
        pca(X, 2).transform(np.ones((4, 2)))
    with pytest.raises(ValueError, match="outputs must have as many steps"):
        triggered_average(X, np.ones((9, 3)))
    with pytest.raises(ValueError, match="source and target must have length 2"):
        triggered_average(X, np.ones((10, 2)))
    with pytest.raises(ValueError, match="source must hold values"):
        triggered_average(X, np.ones((10, 3)), source=(2, 0, 0))
    with pytest.raises(ValueError, match="W must be square"):
        eigenspectrum(np.ones((2, 3)))
    with pytest.raises(ValueError, match="states contains NaN"):
        pca(np.full((5, 2), np.nan))
