"""fastmem.stm.theory: capacity bounds and Jaeger's memory capacity (exact and simulated)."""

import math

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import given, settings
from hypothesis import strategies as st

from fastmem.stm import coherence, dct_basis, random_network
from fastmem.stm.theory import (
    lowrank_capacity_bound,
    lowrank_nodes_needed,
    memory_capacity,
    sparse_capacity_bound,
    sparse_nodes_needed,
    state_covariance,
)


# ----------------------------------------------------------------- bounds


def test_sparse_bound_formula_and_coherence_is_computed():
    N, L, K = 100, 4, 20
    got = sparse_nodes_needed(K, N, L, basis="identity", C=2.0, gamma=1.5)
    mu = coherence("identity", N=N)
    assert got == pytest.approx(2.0 * K * mu**2 * math.log(N * L) ** 1.5)
    # DCT atoms are coherent with sinusoids: mu^2 ~ N, the bound reverts to ~ M > N.
    dct = sparse_nodes_needed(K, N, L, basis="dct")
    assert dct / sparse_nodes_needed(K, N, L, basis="identity") > N / 4
    assert sparse_nodes_needed(K, N, L, basis=dct_basis(N)) == pytest.approx(dct)
    assert sparse_nodes_needed(K, N, L, mu=3.0, gamma=0.0) == pytest.approx(9.0 * K)


def test_lowrank_bound_formula_with_temporal_factor():
    N, L, R = 60, 10, 2
    base = lowrank_nodes_needed(R, N, L, C=1.0, lam=2.0)
    assert base == pytest.approx(R * (N + L) * math.log(N * L) ** 2)
    V = np.linalg.qr(np.random.default_rng(0).standard_normal((N, R)))[0]
    with_v = lowrank_nodes_needed(R, N, L, V=V, lam=2.0)
    assert with_v == pytest.approx(base * coherence(V) ** 2)
    # A temporal factor made of slow cosines is far more coherent than a random one.
    assert lowrank_nodes_needed(R, N, L, V=dct_basis(N)[:, :R]) > 5 * lowrank_nodes_needed(R, N, L, V=V)
    with pytest.raises(ValueError, match="R must be <="):
        lowrank_nodes_needed(20, N, L)


def test_capacity_bounds_invert_the_node_bounds():
    for M in (50, 300):
        N = sparse_capacity_bound(M, rate=0.05, L=2)
        K = lambda n: max(1, math.ceil(0.05 * n * 2))  # noqa: E731
        assert sparse_nodes_needed(K(N), N, 2) < M <= sparse_nodes_needed(K(N + 1), N + 1, 2)
        N = lowrank_capacity_bound(M, R=2, L=10)
        if N:
            assert lowrank_nodes_needed(2, N, 10) < M <= lowrank_nodes_needed(2, N + 1, 10)
    assert lowrank_capacity_bound(5, R=2, L=10) == 0


# ----------------------------------------------------------------- state covariance


@settings(max_examples=25, deadline=None)
@given(
    M=st.integers(1, 9),
    L=st.integers(1, 3),
    kind=st.sampled_from(["circle", "gaussian", "orthogonal"]),
    radius=st.floats(0.05, 0.97),
    noise=st.sampled_from([0.0, 0.3]),
    seed=st.integers(0, 2**16),
)
def test_state_covariance_solves_the_lyapunov_equation(M, L, kind, radius, noise, seed):
    W, Z = random_network(M, L, kind=kind, radius=radius, rng=seed)
    C = state_covariance(W, Z, noise=noise, input_variance=2.0)
    Q = 2.0 * Z @ Z.T + noise**2 * np.eye(M)
    ref = sla.solve_discrete_lyapunov(W, Q)
    np.testing.assert_allclose(C, ref, atol=1e-9 * max(1.0, np.abs(ref).max()))
    np.testing.assert_allclose(C, C.T)


def test_dense_and_block_paths_agree_on_the_same_spectrum():
    W, Z = random_network(30, 2, kind="circle", radius=0.9, rng=4)
    U = np.linalg.qr(np.random.default_rng(5).standard_normal((30, 30)))[0]
    C_block = state_covariance(W, Z, noise=0.1)
    C_dense = state_covariance(U @ W @ U.T, U @ Z, noise=0.1)  # dense W: doubling path
    np.testing.assert_allclose(U @ C_block @ U.T, C_dense, atol=1e-10)


# ----------------------------------------------------------------- memory capacity


@pytest.mark.parametrize("kind", ["circle", "gaussian"])
def test_noiseless_exact_mc_equals_krylov_rank(kind):
    M = 8
    W, Z = random_network(M, 1, kind=kind, radius=0.6, rng=1)
    mc = memory_capacity(W, Z, max_delay=400)
    krylov = np.hstack([np.linalg.matrix_power(W, k) @ Z for k in range(M)])
    assert mc.rank == np.linalg.matrix_rank(krylov) == M
    assert mc.total == pytest.approx(M, abs=1e-6)
    assert np.all((mc.per_delay >= 0) & (mc.per_delay <= 1 + 1e-12))


def test_noiseless_mc_of_a_deficient_krylov_space_is_its_rank():
    # Input enters only the first 2x2 block: the Krylov matrix has rank 2, so MC = 2 < M.
    W, _ = random_network(10, 1, kind="circle", radius=0.7, rng=2)
    Z = np.zeros((10, 1))
    Z[0, 0], Z[1, 0] = 0.6, -0.3
    mc = memory_capacity(W, Z, max_delay=300)
    assert mc.rank == 2
    assert mc.total == pytest.approx(2.0, abs=1e-6)


def test_noise_lowers_capacity_monotonically():
    W, Z = random_network(20, 1, kind="circle", radius=0.9, rng=3)
    totals = [memory_capacity(W, Z, noise=s, max_delay=300).total for s in (0.0, 0.01, 0.05, 0.2)]
    assert all(a > b for a, b in zip(totals, totals[1:]))
    assert totals[0] <= 20 + 1e-6


def test_exact_matches_simulation_within_sampling_error():
    M, sigma = 16, 0.1
    W, Z = random_network(M, 2, kind="gaussian", radius=0.85, rng=7)
    exact = memory_capacity(W, Z, max_delay=40, noise=sigma)
    sim = memory_capacity(W, Z, max_delay=40, noise=sigma, method="simulate", steps=40000, rng=11)
    n_test = 0.2 * 40000
    # sd of an estimated squared correlation is <= 2/sqrt(n); allow 4 sd, plus the readout's fitting bias ~ M/n.
    tol = 4 * 2 / np.sqrt(n_test) + 2 * M / (0.8 * 40000)
    assert np.max(np.abs(exact.per_channel - sim.per_channel)) < tol
    assert sim.total == pytest.approx(exact.total, rel=0.03)


def test_tanh_with_small_inputs_is_the_linear_network():
    W, Z = random_network(12, 1, kind="circle", radius=0.8, rng=9)
    lin = memory_capacity(W, Z, max_delay=30, noise=0.05)
    # Same signal-to-noise ratio, inputs 100x smaller: tanh is linear to ~1e-4.
    tanh = memory_capacity(W, Z, max_delay=30, noise=0.0005, input_variance=1e-4, method="simulate",
                           nonlinearity="tanh", steps=30000, rng=1)
    assert tanh.total == pytest.approx(lin.total, rel=0.04)
    # Large inputs saturate tanh and cost memory.
    sat = memory_capacity(W, Z, max_delay=30, noise=0.05 * 3, input_variance=9.0, method="simulate",
                          nonlinearity="tanh", steps=30000, rng=1)
    assert sat.total < 0.9 * lin.total


def test_agrees_with_reservoirpy_memory_capacity():
    from reservoirpy.nodes import Reservoir, Ridge
    from reservoirpy.observables import memory_capacity as rpy_memory_capacity

    M, k_max = 20, 40
    W, Z = random_network(M, 1, kind="circle", radius=0.85, rng=12)
    # reservoirpy: x(t) = f(W x(t-1) + Win u(t)); its delay k (1..k_max) is our delay k.
    model = Reservoir(W=W, Win=Z, bias=0.0, activation="identity", lr=1.0) >> Ridge(ridge=1e-12)
    series = np.random.default_rng(0).uniform(-0.8, 0.8, size=(20000, 1))
    theirs = rpy_memory_capacity(model, k_max=k_max, as_list=True, series=series)
    exact = memory_capacity(W, Z, max_delay=k_max + 1)
    assert np.max(np.abs(exact.per_delay[1:] - theirs)) < 0.1
    assert exact.per_delay[1:].sum() == pytest.approx(theirs.sum(), rel=0.03)
    # Same stream, same kind of estimate (finite-sample ridge readouts): closer still.
    ours = memory_capacity(W, Z, max_delay=k_max + 1, method="simulate", inputs=series, washout=2 * k_max,
                           ridge=0.0)
    assert np.max(np.abs(ours.per_delay[1:] - theirs)) < 0.03


def test_bad_parameters():
    W, Z = random_network(6, 1, kind="circle", radius=1.0, rng=0)
    with pytest.raises(ValueError, match="spectral radius"):
        memory_capacity(W, Z)
    Wg, Zg = random_network(6, 1, kind="gaussian", radius=1.2, rng=0)
    with pytest.raises(ValueError, match="spectral radius"):
        memory_capacity(Wg, Zg)
    W, Z = random_network(6, 1, kind="circle", radius=0.5, rng=0)
    with pytest.raises(ValueError, match="nonlinearity='linear'"):
        memory_capacity(W, Z, nonlinearity="tanh")
    with pytest.raises(ValueError, match="max_delay"):
        memory_capacity(W, Z, max_delay=0)
    with pytest.raises(ValueError, match="noise"):
        memory_capacity(W, Z, noise=-1.0)
    with pytest.raises(ValueError, match="method"):
        memory_capacity(W, Z, method="magic")
    with pytest.raises(ValueError, match="square"):
        memory_capacity(np.ones((3, 4)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="inputs"):
        memory_capacity(W, Z, method="simulate", inputs=np.ones((20, 1)))
