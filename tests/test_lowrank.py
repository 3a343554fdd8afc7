"""Low-rank stream model: S = V Q^T, factors, coherence of the temporal factor."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fastmem.stm import LowRankSignal, coherence, dct_basis, lowrank_signal


@given(
    N=st.integers(1, 30),
    L=st.integers(1, 12),
    r=st.integers(1, 12),
    level=st.sampled_from(["low", "high"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_shapes_rank_and_factors(N, L, r, level, seed):
    R = min(r, N, L)
    sig = lowrank_signal(N, L, R, coherence=level, rng=seed)
    assert isinstance(sig, LowRankSignal)
    assert sig.S.shape == (N, L) and sig.V.shape == (N, R) and sig.Q.shape == (L, R)
    assert sig.S.dtype == np.float64
    np.testing.assert_allclose(sig.S, sig.V @ sig.Q.T, rtol=0, atol=1e-12)
    assert np.linalg.matrix_rank(sig.S) == R
    assert sig.coherence == pytest.approx(coherence(sig.V))
    assert 1.0 - 1e-9 <= sig.coherence <= np.sqrt(N) + 1e-9


def test_reproducible_and_unpacks():
    a = lowrank_signal(50, 10, 3, rng=7)
    S, V, Q, mu = lowrank_signal(50, 10, 3, rng=7)
    np.testing.assert_array_equal(a.S, S)
    np.testing.assert_array_equal(a.V, V)
    assert a.coherence == mu
    assert not np.array_equal(lowrank_signal(50, 10, 3, rng=8).S, S)
    with pytest.raises(Exception):
        a.S = None  # frozen


def test_high_coherence_uses_distinct_dct_atoms():
    N = 100
    sig = lowrank_signal(N, 40, 5, coherence="high", rng=0)
    atoms = dct_basis(N).T @ sig.V / np.sqrt(N)  # coordinates of the columns in the DCT basis
    used = np.abs(atoms) > 0.5
    assert np.all(used.sum(axis=0) == 1) and len(set(np.argmax(used, axis=0))) == 5
    np.testing.assert_allclose(np.abs(atoms[used]), 1.0, atol=1e-12)


def test_coherence_high_exceeds_low_and_energy_matches():
    N, L, R = 100, 40, 5
    low = [lowrank_signal(N, L, R, "low", rng=s) for s in range(5)]
    high = [lowrank_signal(N, L, R, "high", rng=s) for s in range(5)]
    assert max(s.coherence for s in low) < 0.5 * min(s.coherence for s in high)
    assert min(s.coherence for s in high) > 0.6 * np.sqrt(N)
    e_low = np.mean([np.mean(s.S**2) for s in low])
    e_high = np.mean([np.mean(s.S**2) for s in high])
    assert 0.6 < e_low < 1.6 and 0.6 < e_high < 1.6


@pytest.mark.parametrize(
    "args, exc",
    [
        ((0, 5, 1), ValueError),
        ((10, 0, 1), ValueError),
        ((10, 5, 0), ValueError),
        ((10, 5, 6), ValueError),
        ((10.0, 5, 1), TypeError),
        ((10, 5, True), TypeError),
    ],
)
def test_bad_sizes(args, exc):
    with pytest.raises(exc):
        lowrank_signal(*args)


def test_bad_coherence_and_rng():
    with pytest.raises(ValueError, match="coherence"):
        lowrank_signal(10, 5, 2, coherence="medium")
    with pytest.raises(TypeError, match="rng"):
        lowrank_signal(10, 5, 2, rng="seed")
