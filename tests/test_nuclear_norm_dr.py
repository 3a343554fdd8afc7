"""nuclear_norm(method="dr"): Douglas-Rachford + Anderson acceleration against the numpy
reference (step for step), the optimum of greedy FISTA and cvxpy's, exact recovery, the network
operator's K = A A^T, batches, warm starts and bad input."""

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastmem import _core
from fastmem.reference import nuclear_norm as ref
from fastmem.stm import NetworkOperator, lowrank_signal, measurement_operator, nuclear_norm, random_network
from fastmem.stm.nuclear_norm import auto_lam


def _problem(N, L, M, R, seed, noise=0.0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((M, N * L)) / np.sqrt(M)
    S = rng.standard_normal((N, R)) @ rng.standard_normal((R, L))
    y = A @ S.reshape(-1) + noise * rng.standard_normal(M)
    return A, S, y


def _lam_max(A, y, N, L):
    return np.linalg.norm((A.T @ y).reshape(N, L), 2)


@pytest.mark.parametrize("M, kind, rotate, radius, N", [
    (8, "circle", False, 1.0, 5), (9, "circle", False, 0.9, 7), (7, "circle", True, 1.0, 4),
    (6, "gaussian", False, 0.8, 1), (10, "orthogonal", False, 1.1, 16), (1, "circle", False, 1.0, 3),
])
def test_network_outer_gram_is_A_At(M, kind, rotate, radius, N):
    W, Z = random_network(M, 3, kind=kind, radius=radius, rotate=rotate, rng=M + N)
    A = measurement_operator(W, Z, N)
    K = _core.network_outer_gram(NetworkOperator(W, Z, N)._op)
    np.testing.assert_allclose(K, A @ A.T, rtol=0, atol=1e-12 * np.abs(A @ A.T).max())


@settings(max_examples=40, deadline=None)
@given(
    N=st.integers(1, 6),
    L=st.integers(1, 5),
    M=st.integers(1, 25),
    R=st.integers(1, 3),
    frac=st.sampled_from([0.0, 0.01, 0.1, 0.5, 1.5]),
    seed=st.integers(0, 2**32 - 1),
)
def test_dr_matches_reference_and_fista_optimum(N, L, M, R, frac, seed):
    A, S, y = _problem(N, L, M, min(R, N, L), seed, noise=0.05)
    lam = frac * _lam_max(A, y, N, L)
    fast = nuclear_norm(A, y, (N, L), lam, tol=1e-9, max_iter=20000, method="dr")
    slow = ref.nuclear_norm_dr(A, y, (N, L), lam, tol=1e-9, max_iter=20000)
    fista = nuclear_norm(A, y, (N, L), lam, tol=1e-11, max_iter=100000, method="greedy")
    assert fast.S_hat.shape == (N, L)
    assert fast.objective == pytest.approx(ref.objective(A, y, fast.S_hat, lam), rel=1e-9, abs=1e-12)
    scale = 0.5 * float(y @ y) + 1e-12
    # the same algorithm: the same optimum and (rounding aside) the same number of steps
    assert abs(fast.objective - slow.objective) <= 1e-8 * scale
    assert fast.converged == slow.converged
    if fast.iterations < 200:
        assert abs(fast.iterations - slow.iterations) <= max(2, fast.iterations // 10)
    # the same optimum as greedy FISTA
    assert abs(fast.objective - fista.objective) <= 1e-7 * scale
    if frac >= 1.0:
        assert np.allclose(fast.S_hat, 0.0)


@pytest.mark.parametrize("R, noise, seed", [(1, 0.0, 0), (1, 0.01, 1), (3, 0.01, 2), (5, 0.0, 3)])
def test_dr_reaches_the_fista_optimum_through_a_network(R, noise, seed):
    # a circle network, M well below N L (the case the method is for): R = 1, rank-deficient
    # noise-free signals, noisy ones; the same optimum as greedy FISTA to the tolerance
    N, L, M = 20, 8, 70
    rng = np.random.default_rng(seed)
    W, Z = random_network(M, L, rng=rng)
    op = NetworkOperator(W, Z, N)
    A = measurement_operator(W, Z, N)
    S = lowrank_signal(N, L, R, rng=rng).S
    y = A @ S.reshape(-1) + noise * rng.standard_normal(M)
    lam = auto_lam(A, max(noise, 1e-3), (N, L))
    dr = nuclear_norm(op, y, (N, L), lam, tol=1e-9, method="dr")
    dense = nuclear_norm(A, y, (N, L), lam, tol=1e-9, method="dr")
    star = nuclear_norm(op, y, (N, L), lam, tol=1e-12, max_iter=200000)
    assert dr.converged and dr.iterations == dense.iterations
    assert dr.objective == pytest.approx(dense.objective, rel=1e-10)
    assert dr.objective == pytest.approx(star.objective, rel=1e-8)
    assert np.linalg.norm(dr.S_hat - star.S_hat) <= 1e-3 * np.linalg.norm(star.S_hat)
    assert dr.rank == star.rank


def test_dr_exact_recovery_noiseless():
    N, L, M, R = 10, 6, 60, 2
    A, S, y = _problem(N, L, M, R, 5)
    lam = 1e-5 * _lam_max(A, y, N, L)
    res = nuclear_norm(A, y, (N, L), lam, tol=1e-10, method="dr")
    assert res.converged and res.rank == R
    assert np.linalg.norm(res.S_hat - S) <= 1e-3 * np.linalg.norm(S)


def test_dr_agrees_with_cvxpy():
    N, L, M = 6, 5, 18
    A, S, y = _problem(N, L, M, 2, 7, noise=0.05)
    lam = 0.1 * _lam_max(A, y, N, L)
    X = cp.Variable((N, L))
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(y - A @ cp.vec(X, order="C")) + lam * cp.normNuc(X)))
    prob.solve(solver=cp.CLARABEL)
    res = nuclear_norm(A, y, (N, L), lam, tol=1e-10, method="dr")
    assert res.objective == pytest.approx(prob.value, rel=1e-6)
    assert np.linalg.norm(res.S_hat - X.value) <= 1e-3 * np.linalg.norm(X.value)


def test_dr_batch_warm_start_and_edges():
    N, L, M = 8, 5, 30
    A, S, y = _problem(N, L, M, 2, 11, noise=0.02)
    lam = 0.05 * _lam_max(A, y, N, L)
    Y = np.stack([y, 0.5 * y, np.zeros(M)], axis=1)
    lams = np.array([lam, lam, lam])
    batch = nuclear_norm(A, Y, (N, L), lams, tol=1e-8, method="dr")
    for b in range(3):
        one = nuclear_norm(A, Y[:, b], (N, L), lams[b], tol=1e-8, method="dr")
        np.testing.assert_array_equal(batch.S_hat[b], one.S_hat)
        assert batch.iterations[b] == one.iterations
    assert np.all(batch.S_hat[2] == 0.0) and batch.converged[2]
    # a warm start at the answer converges at once
    warm = nuclear_norm(A, y, (N, L), lam, tol=1e-6, method="dr", warm_start=batch.S_hat[0])
    assert warm.objective == pytest.approx(batch.objective[0], rel=1e-7)
    assert warm.iterations <= 10
    zero = nuclear_norm(A, y, (N, L), lam, max_iter=0, method="dr", warm_start=batch.S_hat[0])
    assert zero.iterations == 0 and zero.objective == pytest.approx(batch.objective[0], rel=1e-9)
    # lam above lam_max: the answer is 0
    big = nuclear_norm(A, y, (N, L), 2 * _lam_max(A, y, N, L), method="dr")
    assert big.converged and np.all(big.S_hat == 0.0)


def test_dr_threads_do_not_change_result():
    N, L, M = 12, 6, 40
    rng = np.random.default_rng(3)
    W, Z = random_network(M, L, rng=rng)
    op = NetworkOperator(W, Z, N)
    Y = rng.standard_normal((M, 3))
    a = nuclear_norm(op, Y, (N, L), 0.1, method="dr", n_threads=1)
    b = nuclear_norm(op, Y, (N, L), 0.1, method="dr", n_threads=2)
    np.testing.assert_array_equal(a.S_hat, b.S_hat)


def test_dr_core_checks_its_arguments():
    N, L, M = 3, 2, 4
    A, S, y = _problem(N, L, M, 1, 0)
    Y = y[:, None].copy()
    K = A @ A.T
    with pytest.raises(ValueError, match="K must have shape"):
        _core.nuclear_norm_dr(A, Y, np.array([0.1]), N, L, np.eye(M + 1))
    with pytest.raises(ValueError, match="memory"):
        _core.nuclear_norm_dr(A, Y, np.array([0.1]), N, L, K, memory=-1)
    with pytest.raises(ValueError, match="lam"):
        _core.nuclear_norm_dr(A, Y, np.array([-0.1]), N, L, K)
    with pytest.raises(ValueError, match="K"):
        _core.nuclear_norm_dr(A, Y, np.array([0.1]), N, L, np.full((M, M), np.nan))
    with pytest.raises(ValueError, match="method"):
        nuclear_norm(A, y, (N, L), 0.1, method="douglas")


@pytest.mark.parametrize("M, expected", [(40, "dr"), (41, "greedy")])  # N L = 400: "dr" up to M = 40
@pytest.mark.parametrize("given", ["dense", "network"])
def test_auto_method_is_dr_for_few_measurements_else_greedy(M, expected, given):
    # the default method="auto" is exactly "dr" where 10 M <= N L and exactly "greedy" above
    W, Z = random_network(M, 4, rng=M)
    A = measurement_operator(W, Z, 100)
    op = A if given == "dense" else NetworkOperator(W, Z, 100)
    rng = np.random.default_rng(M)
    y = A @ lowrank_signal(100, 4, 1, rng=rng).S.reshape(-1) + 0.01 * rng.standard_normal(M)
    lam = 0.05 * _lam_max(A, y, 100, 4)
    auto = nuclear_norm(op, y, (100, 4), lam)
    same = nuclear_norm(op, y, (100, 4), lam, method=expected)
    other = nuclear_norm(op, y, (100, 4), lam, method="greedy" if expected == "dr" else "dr")
    np.testing.assert_array_equal(auto.S_hat, same.S_hat)
    assert auto.iterations == same.iterations and auto.iterations != other.iterations
    # and both reach the optimum (the tightly solved greedy FISTA's) to the default tolerance
    best = nuclear_norm(op, y, (100, 4), lam, method="greedy", tol=1e-11, max_iter=100000)
    assert (auto.objective - best.objective) / best.objective < 1e-5


def test_gram_form_has_no_dr_method():
    # nuclear_norm_gram is FISTA-only: method="dr" (or "auto") is refused, not run as FISTA
    from fastmem.stm import ToeplitzGram, nuclear_norm_gram

    W, Z = random_network(20, 3, rng=0)
    G = ToeplitzGram(W, Z, 10)
    y = np.random.default_rng(0).standard_normal(20)
    for method in ("dr", "auto"):
        with pytest.raises(ValueError, match="method"):
            nuclear_norm_gram(G, y, 0.1, method=method)
