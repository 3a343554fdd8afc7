"""Signal models, coherence with sinusoids and the relative error (fastmem.stm)."""

import numpy as np
import pytest
import scipy.fft
from hypothesis import given
from hypothesis import strategies as st

from fastmem.stm import basis_matrix, coherence, dct_basis, joint_sparse_signal, rmse, sparse_signal


@given(N=st.integers(1, 40))
def test_dct_basis_is_orthonormal_dct_ii(N):
    D = dct_basis(N)
    np.testing.assert_allclose(D.T @ D, np.eye(N), atol=1e-12)
    x = np.random.default_rng(N).standard_normal(N)
    np.testing.assert_allclose(D.T @ x, scipy.fft.dct(x, norm="ortho"), atol=1e-12)
    np.testing.assert_allclose(D @ x, scipy.fft.idct(x, norm="ortho"), atol=1e-12)


@given(N=st.integers(1, 12), L=st.integers(1, 5), frac=st.floats(0, 1), basis=st.sampled_from(["identity", "dct"]),
       seed=st.integers(0, 2**31))
def test_sparse_signal_support_and_synthesis(N, L, frac, basis, seed):
    K = int(round(frac * N * L))
    S, a = sparse_signal(N, L, K, basis=basis, rng=seed)
    assert S.shape == (N, L) and a.shape == (N * L,)
    assert np.count_nonzero(a) == K
    Psi = basis_matrix(N, L, basis)
    np.testing.assert_allclose(S.reshape(-1), Psi @ a, atol=1e-12)
    # the per-channel transform along time: S = D @ a.reshape(N, L)
    D = np.eye(N) if basis == "identity" else dct_basis(N)
    np.testing.assert_allclose(S, D @ a.reshape(N, L), atol=1e-12)
    S2, a2 = sparse_signal(N, L, K, basis=basis, rng=seed)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(S, S2)


def test_sparse_signal_user_basis(rng):
    N, L = 6, 3
    Q, _ = np.linalg.qr(rng.standard_normal((N * L, N * L)))
    S, a = sparse_signal(N, L, 4, basis=Q, rng=0)
    np.testing.assert_allclose(S.reshape(-1), Q @ a, atol=1e-12)
    D, _ = np.linalg.qr(rng.standard_normal((N, N)))  # temporal atoms, per channel
    S, a = sparse_signal(N, L, 4, basis=D, rng=0)
    np.testing.assert_allclose(S.reshape(-1), np.kron(D, np.eye(L)) @ a, atol=1e-12)
    np.testing.assert_allclose(basis_matrix(N, L, D), np.kron(D, np.eye(L)))


def test_sparse_signal_amplitudes_look_gaussian():
    _, a = sparse_signal(100, 40, 4000, rng=3)
    assert abs(a.mean()) < 0.05 and abs(a.std() - 1) < 0.05


@given(N=st.integers(1, 10), L=st.integers(1, 4), F=st.integers(1, 8), seed=st.integers(0, 1000),
       support=st.sampled_from(["shared", "per_step"]))
def test_joint_sparse_signal(N, L, F, seed, support):
    K = seed % (F + 1)
    S, C, Phi = joint_sparse_signal(N, L, F, K, support=support, rng=seed)
    assert S.shape == (N, L) and C.shape == (N, F) and Phi.shape == (L, F)
    np.testing.assert_allclose(S, C @ Phi.T, atol=1e-12)
    assert np.all(np.count_nonzero(C, axis=1) == K)
    if support == "shared":
        active = C != 0
        assert np.all(active == active[0])
    np.testing.assert_allclose(np.linalg.norm(Phi, axis=0), 1.0, atol=1e-12)
    if F <= L:
        np.testing.assert_allclose(Phi.T @ Phi, np.eye(F), atol=1e-12)


def test_joint_sparse_per_step_supports_differ():
    _, C, _ = joint_sparse_signal(50, 10, 20, 3, support="per_step", rng=1)
    assert len({tuple(np.flatnonzero(r)) for r in C}) > 10
    Phi = np.random.default_rng(0).standard_normal((4, 6))
    S, C, P = joint_sparse_signal(5, 4, 6, 2, Phi=Phi, rng=1)
    np.testing.assert_array_equal(P, Phi)


@pytest.mark.parametrize("N", [1, 2, 17, 100])
def test_coherence_known_values(N):
    assert coherence("identity", N=N) == pytest.approx(1.0, abs=1e-12)
    assert coherence(np.eye(N)) == pytest.approx(1.0, abs=1e-12)
    assert coherence("dct", N=N) == pytest.approx(np.sqrt(N), rel=1e-12)
    assert coherence(dct_basis(N)) == pytest.approx(np.sqrt(N), rel=1e-12)
    # the stream-layout Psi of several channels gives the temporal atoms' value
    assert coherence(basis_matrix(N, 3, "dct"), N=N) == pytest.approx(np.sqrt(N), rel=1e-12)
    assert coherence(basis_matrix(N, 3, "identity"), N=N) == pytest.approx(1.0, abs=1e-12)


def test_coherence_fourier_atom_peak_between_grid_points():
    N = 32
    w = 2 * np.pi * 3.37 / N  # off the N-point grid: the zero-padded grid finds it
    atom = np.cos(w * np.arange(N))
    exact = np.abs(np.exp(-1j * np.linspace(0, np.pi, 200001)[:, None] * np.arange(N)) @ atom).max()
    mu = coherence(atom, oversample=64)
    assert mu == pytest.approx(exact / np.linalg.norm(atom), rel=2e-3)
    assert coherence(atom, oversample=1) < mu


@given(N=st.integers(1, 30), R=st.integers(1, 6), seed=st.integers(0, 1000), scale=st.floats(1e-3, 1e3))
def test_coherence_range_and_scale_invariance(N, R, seed, scale):
    V = np.random.default_rng(seed).standard_normal((N, R))
    mu = coherence(V)
    assert 1 - 1e-9 <= mu <= np.sqrt(N) + 1e-9
    assert coherence(scale * V) == pytest.approx(mu, rel=1e-10)
    assert coherence(V[:, [0]]) <= mu + 1e-12


def test_coherence_bad_input():
    with pytest.raises(ValueError, match="N"):
        coherence("dct")
    with pytest.raises(ValueError, match="basis"):
        coherence("wavelet", N=4)
    with pytest.raises(ValueError, match="zero atom"):
        coherence(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="N\\*L rows"):
        coherence(np.eye(6), N=4)
    with pytest.raises(ValueError, match="NaN"):
        coherence(np.full((3, 3), np.nan))


def test_rmse_values_and_batches(rng):
    S = rng.standard_normal((5, 3))
    assert rmse(S, S) == 0.0
    assert rmse(S, np.zeros_like(S)) == pytest.approx(1.0)
    assert rmse(S, 2 * S) == pytest.approx(1.0)
    H = S + 0.1 * rng.standard_normal(S.shape)
    assert rmse(S, H) == pytest.approx(np.sum((S - H) ** 2) / np.sum(S**2))
    B = np.stack([S, 2 * S, -S])
    Hb = np.stack([H, np.zeros_like(S), -S])
    out = rmse(B, Hb)
    assert out.shape == (3,)
    np.testing.assert_allclose(out, [rmse(S, H), 1.0, 0.0])


def test_bad_input():
    with pytest.raises(ValueError, match="K"):
        sparse_signal(3, 2, 7)
    with pytest.raises(ValueError, match="K"):
        sparse_signal(3, 2, -1)
    with pytest.raises(TypeError, match="N"):
        sparse_signal(3.0, 2, 1)
    with pytest.raises(ValueError, match="basis"):
        sparse_signal(3, 2, 1, basis="fourier")
    with pytest.raises(ValueError, match="basis must have shape"):
        sparse_signal(3, 2, 1, basis=np.eye(5))
    with pytest.raises(ValueError, match="support"):
        joint_sparse_signal(3, 2, 4, 1, support="sometimes")
    with pytest.raises(ValueError, match="Phi"):
        joint_sparse_signal(3, 2, 4, 1, Phi=np.eye(3))
    with pytest.raises(ValueError, match="K"):
        joint_sparse_signal(3, 2, 4, 5)
    with pytest.raises(ValueError, match="S_hat"):
        rmse(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="zero energy"):
        rmse(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        rmse(np.ones((2, 3)), np.full((2, 3), np.nan))
