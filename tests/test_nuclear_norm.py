"""Nuclear-norm recovery: SVT kernel and FISTA solver vs the numpy reference, cvxpy's
optimum, exact recovery through a random network, batches, warm starts, the constrained
variant, lam="auto", threads and bad input."""

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fastmem import _core
from fastmem.reference import nuclear_norm as ref
from fastmem.stm import (
    NetworkOperator,
    lowrank_signal,
    measurement_operator,
    nuclear_norm,
    nuclear_norm_constrained,
    random_network,
    rmse,
)
from fastmem.stm.nuclear_norm import CONTINUATION_FACTOR, GREEDY_STEP, STAGE_TOL, auto_lam


def _problem(N, L, M, R, seed, noise=0.0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((M, N * L)) / np.sqrt(M)
    S = rng.standard_normal((N, R)) @ rng.standard_normal((R, L))
    y = A @ S.reshape(-1) + noise * rng.standard_normal(M)
    return A, S, y


def _lam_max(A, y, N, L):
    return np.linalg.norm((A.T @ y).reshape(N, L), 2)


# ---------------------------------------------------------------- singular value thresholding


@given(
    N=st.integers(1, 12),
    L=st.integers(1, 12),
    B=st.integers(1, 3),
    frac=st.floats(0.0, 1.2),
    method=st.sampled_from(["gram", "bdc", "jacobi"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_svt_matches_numpy(N, L, B, frac, method, seed):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((B, N, L)) * rng.uniform(0.1, 10)
    tau = np.array([frac * np.linalg.norm(Z[b], 2) for b in range(B)])
    out, nuc, rank = _core.singular_value_threshold(Z, tau, method)
    for b in range(B):
        X, n_ref, r_ref = ref.singular_value_threshold(Z[b], tau[b])
        scale = np.linalg.norm(Z[b], 2)
        np.testing.assert_allclose(out[b], X, rtol=0, atol=1e-9 * scale)
        assert nuc[b] == pytest.approx(n_ref, rel=1e-9, abs=1e-9 * scale)
        s = np.linalg.svd(Z[b], compute_uv=False)
        if np.all(np.abs(s - tau[b]) > 1e-6 * scale):  # rank is ambiguous only at the threshold
            assert rank[b] == r_ref


@given(
    N=st.integers(1, 110),
    L=st.integers(1, 45),
    spectrum=st.sampled_from(["distinct", "repeated", "clustered", "low rank"]),
    log_scale=st.floats(-120.0, 120.0),
    frac=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_gram_svt_on_hard_spectra(N, L, spectrum, log_scale, frac, seed):
    # the "gram" path's own eigen-solver (tridiagonal.hpp: root-free QL for the eigenvalues,
    # vectorised inverse iteration for the kept eigenvectors, full solver as fallback) on the
    # paper's sizes and beyond, with repeated and clustered singular values and extreme scales
    rng = np.random.default_rng(seed)
    k = min(N, L)
    s = np.sort(rng.uniform(0.1, 1.0, k))[::-1]
    if spectrum == "repeated":
        s = np.repeat(s[: (k + 2) // 3], 3)[:k]
    elif spectrum == "clustered":
        s = 1.0 + 1e-9 * np.arange(k)[::-1]
    elif spectrum == "low rank":
        s[max(1, k // 3):] = 0.0
        # singular values of exact zeros come out of the Gram form as sqrt(rounding) ~ 1e-8 s_max
        frac = max(frac, 1e-6)
    U = np.linalg.qr(rng.standard_normal((N, k)))[0]
    V = np.linalg.qr(rng.standard_normal((L, k)))[0]
    Z = ((U * s) @ V.T * 10.0**log_scale)[None]
    tau = np.array([frac * s.max() * 10.0**log_scale])
    out, nuc, rank = _core.singular_value_threshold(Z, tau, "gram")
    X, n_ref, r_ref = ref.singular_value_threshold(Z[0], tau[0])
    scale = s.max() * 10.0**log_scale
    np.testing.assert_allclose(out[0], X, rtol=0, atol=1e-9 * scale)
    assert nuc[0] == pytest.approx(n_ref, rel=1e-9, abs=1e-9 * scale)
    if np.all(np.abs(s - frac * s.max()) > 1e-6 * s.max()):
        assert rank[0] == r_ref


# ---------------------------------------------------------------- solver vs numpy reference


@given(
    N=st.integers(1, 6),
    L=st.integers(1, 5),
    M=st.integers(1, 25),
    R=st.integers(1, 3),
    frac=st.sampled_from([0.0, 0.01, 0.1, 0.5, 1.5]),
    seed=st.integers(0, 2**32 - 1),
)
def test_solver_matches_reference(N, L, M, R, frac, seed):
    A, S, y = _problem(N, L, M, min(R, N, L), seed, noise=0.05)
    lam = frac * _lam_max(A, y, N, L)
    fast = nuclear_norm(A, y, (N, L), lam, tol=1e-10, max_iter=50000)
    slow = ref.nuclear_norm(A, y, (N, L), lam, tol=1e-11, max_iter=200000, accelerated=True)
    assert fast.S_hat.shape == (N, L)
    assert fast.objective == pytest.approx(ref.objective(A, y, fast.S_hat, lam), rel=1e-9, abs=1e-12)
    # the optimum value is unique (S may not be when M < N*L): agree to the solvers' accuracy
    scale = 0.5 * float(y @ y) + 1e-12
    assert abs(fast.objective - slow.objective) <= 1e-6 * scale
    if frac >= 1.0:
        assert np.all(fast.S_hat == 0.0) and fast.rank == 0


# (restart, method, continuation) of the core; the reference gets the same options
ITERATIONS = [(False, "fista", False), (True, "fista", False), (True, "greedy", False), (True, "fista", True),
              (True, "greedy", True)]


def _ref_options(restart, method, continuation):
    return dict(accelerated=True, restart=restart, greedy=GREEDY_STEP if method == "greedy" else 0.0,
                continuation=CONTINUATION_FACTOR if continuation else 0.0, stage_tol=STAGE_TOL)


@pytest.mark.parametrize("restart, method, continuation", ITERATIONS)
@pytest.mark.parametrize("matrix_free", [False, True])
def test_reference_runs_the_same_iteration_as_the_core(restart, method, continuation, matrix_free):
    # Same Lipschitz constant, same rule: the numpy FISTA (with or without adaptive restart, greedy
    # or not, with or without continuation) and the C++ solver (A form, or Gram form on an
    # orthogonal network) take the same steps, so after k steps the iterates agree to rounding.
    N, L = 8, 6
    if matrix_free:
        rng = np.random.default_rng(3)
        W, Z = random_network(30, L, rng=rng)
        op = NetworkOperator(W, Z, N)
        A = op.todense()
        y = A @ (rng.standard_normal((N, 2)) @ rng.standard_normal((2, L))).reshape(-1) + 0.05 * rng.standard_normal(30)
    else:
        A, S, y = _problem(N, L, 30, 2, seed=3, noise=0.05)
        op = A
    lam = 0.01 * _lam_max(A, y, N, L)
    lip = 1.5 * np.linalg.norm(A, 2) ** 2  # generous: the core's step safeguard never fires
    opts = dict(restart=restart, method=method, continuation=continuation)
    for k in (1, 7, 40, 150):
        fast = nuclear_norm(op, y, (N, L), lam, tol=0.0, max_iter=k, lipschitz=lip, **opts)
        slow = ref.nuclear_norm(A, y, (N, L), lam, tol=0.0, max_iter=k, lipschitz=lip,
                                **_ref_options(restart, method, continuation))
        assert fast.iterations == slow.iterations == k
        np.testing.assert_allclose(fast.S_hat, slow.S_hat, rtol=0, atol=1e-8 * np.abs(slow.S_hat).max())
        assert fast.objective == pytest.approx(slow.objective, rel=1e-9)
    # with a tolerance: both stop at the same step (continuation: after the same stages)
    fast = nuclear_norm(op, y, (N, L), lam, tol=1e-5, lipschitz=lip, **opts)
    slow = ref.nuclear_norm(A, y, (N, L), lam, tol=1e-5, lipschitz=lip, **_ref_options(restart, method, continuation))
    assert fast.converged and slow.converged and abs(fast.iterations - slow.iterations) <= 1
    # the target stop: the first iterate at or below the target objective
    target = nuclear_norm(op, y, (N, L), lam, tol=1e-4, lipschitz=lip, **opts).objective
    hit = ref.nuclear_norm(A, y, (N, L), lam, tol=0.0, lipschitz=lip, target_objective=target,
                           **_ref_options(restart, method, continuation))
    assert hit.converged and hit.objective <= target * (1 + 1e-13)
    before = ref.nuclear_norm(A, y, (N, L), lam, tol=0.0, max_iter=hit.iterations - 1, lipschitz=lip,
                              **_ref_options(restart, method, continuation))
    assert before.objective > target * (1 - 1e-13)  # (the check in the loop and the SVD round differently)


def test_greedy_and_continuation_reach_the_same_optimum_in_fewer_steps():
    # on a network-sized problem where the rank settles slowly (many singular values above the
    # first thresholds): each acceleration finds the optimum of plain FISTA, and together they pay
    rng = np.random.default_rng(11)
    N, L, M = 30, 12, 150
    W, Z = random_network(M, L, rng=rng)
    op = NetworkOperator(W, Z, N)
    S = rng.standard_normal((N, 3)) @ rng.standard_normal((3, L))
    y = op.matvec(S.reshape(-1)) + 0.01 * rng.standard_normal(M)
    lam = auto_lam(op, 0.01)
    runs = {(m, c): nuclear_norm(op, y, None, lam, tol=1e-9, max_iter=50000, method=m, continuation=c)
            for m in ("fista", "greedy") for c in (False, True)}
    base = runs[("fista", False)]
    for key, res in runs.items():
        assert res.converged, key
        assert res.objective == pytest.approx(base.objective, rel=1e-8), key
    assert runs[("greedy", True)].iterations < base.iterations


# ---------------------------------------------------------------- agreement with cvxpy


def _cvxpy_penalised(A, y, N, L, lam):
    X = cp.Variable((N, L))
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(y - A @ cp.vec(X, order="C")) + lam * cp.normNuc(X)))
    prob.solve(solver=cp.CLARABEL)
    return prob.value, X.value


@pytest.mark.parametrize("seed, frac", [(0, 0.02), (1, 0.1), (2, 0.4)])
def test_optimum_agrees_with_cvxpy(seed, frac):
    N, L, M = 7, 5, 20
    A, S, y = _problem(N, L, M, 2, seed, noise=0.1)
    lam = frac * _lam_max(A, y, N, L)
    value, X = _cvxpy_penalised(A, y, N, L, lam)
    res = nuclear_norm(A, y, (N, L), lam, tol=1e-11, max_iter=100000)
    assert res.converged
    assert res.objective <= value + 1e-7 * abs(value)
    assert res.objective == pytest.approx(value, rel=1e-6)


def test_constrained_agrees_with_cvxpy():
    N, L, M = 7, 5, 20
    A, S, y = _problem(N, L, M, 2, 3, noise=0.1)
    eps = 0.3 * np.linalg.norm(y)
    X = cp.Variable((N, L))
    prob = cp.Problem(cp.Minimize(cp.normNuc(X)), [cp.norm(y - A @ cp.vec(X, order="C"), 2) <= eps])
    prob.solve(solver=cp.CLARABEL)
    res = nuclear_norm_constrained(A, y, (N, L), eps, rtol=1e-6, tol=1e-11)
    assert res.converged
    assert res.residual_norm == pytest.approx(eps, rel=1e-5)
    assert res.nuclear_norm == pytest.approx(prob.value, rel=1e-4)
    # it is the penalised solution at the lam it found
    pen = nuclear_norm(A, y, (N, L), res.lam, tol=1e-11)
    assert pen.residual_norm == pytest.approx(eps, rel=1e-4)


def test_constrained_trivial_and_batched():
    N, L, M = 6, 4, 18
    A, S, y = _problem(N, L, M, 2, 4, noise=0.1)
    big = nuclear_norm_constrained(A, y, (N, L), 2 * np.linalg.norm(y))
    assert np.all(big.S_hat == 0) and big.converged
    Y = np.stack([y, 2 * y, -y], axis=1)
    eps = np.array([0.2, 0.2, 0.5]) * np.linalg.norm(Y, axis=0)
    res = nuclear_norm_constrained(A, Y, (N, L), eps, rtol=1e-4)
    assert res.S_hat.shape == (3, N, L) and np.all(res.converged)
    np.testing.assert_allclose(res.residual_norm, eps, rtol=2e-4)
    one = nuclear_norm_constrained(A, Y[:, 2], (N, L), eps[2], rtol=1e-4)
    assert one.lam == pytest.approx(res.lam[2], rel=1e-8)


# ---------------------------------------------------------------- exact recovery through a network


@pytest.mark.parametrize("matrix_free", [False, True])
def test_exact_recovery_through_random_network(matrix_free):
    rng = np.random.default_rng(11)
    N, L, R, M = 20, 8, 2, 110  # R (N + L - R) = 52 degrees of freedom, N L = 160 inputs
    W, Z = random_network(M, L, rng=rng)
    S = lowrank_signal(N, L, R, rng=rng).S
    A = NetworkOperator(W, Z, N) if matrix_free else measurement_operator(W, Z, N)
    y = (A @ S.reshape(-1)) if matrix_free else A @ S.reshape(-1)
    res = nuclear_norm(A, y, None if matrix_free else (N, L), 1e-4, tol=1e-10)
    assert res.converged
    assert rmse(S, res.S_hat) < 1e-7
    # the recovered stream is numerically rank R
    s = np.linalg.svd(res.S_hat, compute_uv=False)
    assert s[R - 1] > 1e3 * s[R]


def test_noisy_recovery_with_auto_lam():
    rng = np.random.default_rng(5)
    N, L, R, M, noise = 30, 10, 2, 250, 0.01
    W, Z = random_network(M, L, rng=rng)
    S = lowrank_signal(N, L, R, rng=rng).S
    op = NetworkOperator(W, Z, N)
    y = op @ S.reshape(-1) + noise * rng.standard_normal(M)
    res = nuclear_norm(op, y, None, "auto", noise=noise)
    assert res.lam == pytest.approx(auto_lam(op, noise))
    assert rmse(S, res.S_hat) < 1e-3
    s = np.linalg.svd(res.S_hat, compute_uv=False)
    assert R <= res.rank <= 2 * R and s[R - 1] > 100 * s[R]  # noise leaks in only as tiny extra components
    # the rule itself: noise * ||A||_F / sqrt(N L) * (sqrt(N) + sqrt(L)), on the dense A
    A = measurement_operator(W, Z, N)
    want = noise * np.linalg.norm(A) / np.sqrt(N * L) * (np.sqrt(N) + np.sqrt(L))
    assert auto_lam(A, noise, (N, L)) == pytest.approx(want)
    assert auto_lam(op, noise) == pytest.approx(want, rel=0.3)  # Hutchinson estimate


# ---------------------------------------------------------------- batches, warm starts, options


def test_batch_equals_one_by_one_dense_and_network():
    rng = np.random.default_rng(3)
    N, L, M, B = 10, 6, 40, 5
    W, Z = random_network(M, L, rng=rng)
    op = NetworkOperator(W, Z, N)
    A = measurement_operator(W, Z, N)
    S = np.stack([lowrank_signal(N, L, 2, rng=rng).S for _ in range(B)])
    Y = A @ S.reshape(B, -1).T + 0.01 * rng.standard_normal((M, B))
    lam = np.array([0.001, 0.01, 0.05, 0.2, 10.0])
    for Aop, shape in [(A, (N, L)), (op, None)]:
        batch = nuclear_norm(Aop, Y, shape, lam, tol=1e-9)
        assert batch.S_hat.shape == (B, N, L) and batch.iterations.shape == (B,)
        for b in range(B):
            one = nuclear_norm(Aop, Y[:, b], shape, lam[b], tol=1e-9)
            np.testing.assert_allclose(one.S_hat, batch.S_hat[b], rtol=0, atol=1e-8)
            assert abs(one.iterations - batch.iterations[b]) <= 2
            assert one.objective == pytest.approx(batch.objective[b], rel=1e-10)
    dense = nuclear_norm(A, Y, (N, L), lam, tol=1e-9)
    netw = nuclear_norm(op, Y, None, lam, tol=1e-9)
    np.testing.assert_allclose(dense.objective, netw.objective, rtol=1e-8)


def test_warm_start_and_options():
    A, S, y = _problem(10, 6, 45, 2, 8, noise=0.02)
    lam = 0.05 * _lam_max(A, y, 10, 6)
    cold = nuclear_norm(A, y, (10, 6), lam, tol=1e-9)
    warm = nuclear_norm(A, y, (10, 6), lam, warm_start=cold.S_hat, tol=1e-9)
    assert warm.iterations <= 5 and warm.objective == pytest.approx(cold.objective, rel=1e-10)
    for svd in ("bdc", "jacobi"):
        other = nuclear_norm(A, y, (10, 6), lam, svd=svd, tol=1e-9, lipschitz=cold.lipschitz)
        assert other.objective == pytest.approx(cold.objective, rel=1e-9)
    plain = nuclear_norm(A, y, (10, 6), lam, restart=False, tol=1e-9, method="fista", continuation=False)
    restarted = nuclear_norm(A, y, (10, 6), lam, tol=1e-9, method="fista", continuation=False)
    assert plain.objective == pytest.approx(cold.objective, rel=1e-8)
    assert restarted.objective == pytest.approx(cold.objective, rel=1e-8)
    assert restarted.iterations < plain.iterations  # the restart pays
    # restart=False only concerns FISTA: greedy FISTA always restarts
    assert nuclear_norm(A, y, (10, 6), lam, restart=False, tol=1e-9).iterations == cold.iterations
    capped = nuclear_norm(A, y, (10, 6), lam, max_iter=3)
    assert capped.iterations == 3 and not capped.converged
    zero = nuclear_norm(A, y, (10, 6), lam, max_iter=0)
    assert np.all(zero.S_hat == 0) and zero.objective == pytest.approx(0.5 * y @ y)
    # a Lipschitz constant that is far too small is detected and raised, not fatal
    bad = nuclear_norm(A, y, (10, 6), lam, lipschitz=0.05 * cold.lipschitz, tol=1e-9)
    assert bad.objective == pytest.approx(cold.objective, rel=1e-7)
    assert cold.lipschitz == pytest.approx(np.linalg.norm(A, 2) ** 2, rel=0.03)
    assert cold.lipschitz >= np.linalg.norm(A, 2) ** 2 * (1 - 1e-6)


def test_threads_do_not_change_result():
    A, S, y = _problem(12, 5, 50, 2, 9, noise=0.02)
    Y = np.stack([y, 0.5 * y, y[::-1]], axis=1)
    one = nuclear_norm(A, Y, (12, 5), 0.05, n_threads=1, tol=1e-9)
    two = nuclear_norm(A, Y, (12, 5), 0.05, n_threads=2, tol=1e-9)
    np.testing.assert_array_equal(one.S_hat, two.S_hat)
    np.testing.assert_array_equal(one.iterations, two.iterations)


def test_result_is_frozen_and_typed():
    A, S, y = _problem(5, 4, 15, 1, 10)
    res = nuclear_norm(A, y, (5, 4), 0.01)
    assert isinstance(res.iterations, int) and isinstance(res.converged, bool)
    assert isinstance(res.objective, float) and isinstance(res.rank, int)
    with pytest.raises(Exception):
        res.lam = 1.0


# ---------------------------------------------------------------- bad input


def test_bad_input_messages():
    A, S, y = _problem(5, 4, 15, 1, 12)
    with pytest.raises(ValueError, match="shape"):
        nuclear_norm(A, y, (4, 4), 0.1)
    with pytest.raises(ValueError, match="shape"):
        nuclear_norm(A, y, None, 0.1)
    with pytest.raises(ValueError, match="y must have M = 15"):
        nuclear_norm(A, y[:-1], (5, 4), 0.1)
    with pytest.raises(ValueError, match="NaN"):
        nuclear_norm(A, np.full(15, np.nan), (5, 4), 0.1)
    with pytest.raises(ValueError, match="NaN"):
        A_inf = A.copy()
        A_inf[3, 7] = np.inf
        nuclear_norm(A_inf, y, (5, 4), 0.1)
    with pytest.raises(ValueError, match="lam must be >= 0"):
        nuclear_norm(A, y, (5, 4), -1.0)
    with pytest.raises(ValueError, match="one value per column"):
        nuclear_norm(A, np.stack([y, y], 1), (5, 4), [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="noise"):
        nuclear_norm(A, y, (5, 4), "auto")
    with pytest.raises(ValueError, match="lam must be"):
        nuclear_norm(A, y, (5, 4), "big")
    with pytest.raises(ValueError, match="svd"):
        nuclear_norm(A, y, (5, 4), 0.1, svd="lapack")
    with pytest.raises(ValueError, match="warm_start"):
        nuclear_norm(A, y, (5, 4), 0.1, warm_start=np.zeros((4, 5)))
    with pytest.raises(TypeError, match="real"):
        nuclear_norm(A + 1j, y, (5, 4), 0.1)
    with pytest.raises(ValueError, match="tol"):
        nuclear_norm(A, y, (5, 4), 0.1, tol=-1)
    with pytest.raises(TypeError, match="max_iter"):
        nuclear_norm(A, y, (5, 4), 0.1, max_iter=10.5)
    with pytest.raises(ValueError, match="n_threads"):
        nuclear_norm(A, y, (5, 4), 0.1, n_threads=0)
    with pytest.raises(ValueError, match="lipschitz"):
        nuclear_norm(A, y, (5, 4), 0.1, lipschitz=-1.0)
    with pytest.raises(ValueError, match="empty"):
        nuclear_norm(np.zeros((0, 20)), np.zeros(0), (5, 4), 0.1)
    W, Z = random_network(15, 4, rng=0)
    with pytest.raises(ValueError, match="disagrees"):
        nuclear_norm(NetworkOperator(W, Z, 5), y, (4, 5), 0.1)
    with pytest.raises(ValueError, match="eps"):
        nuclear_norm_constrained(A, y, (5, 4), 0.0)
    with pytest.raises(ValueError, match="method"):
        nuclear_norm(A, y, (5, 4), 0.1, method="nesterov")
    with pytest.raises(TypeError, match="continuation"):
        nuclear_norm(A, y, (5, 4), 0.1, continuation=0.3)


def test_core_checks_its_own_arguments():
    A, S, y = _problem(5, 4, 15, 1, 13)
    with pytest.raises(ValueError):
        _core.nuclear_norm_fista(A, y[:, None], np.array([0.1]), 4, 4)
    with pytest.raises(ValueError):
        _core.nuclear_norm_fista(A, y[:, None], np.array([0.1, 0.2]), 5, 4)
    with pytest.raises(ValueError):
        _core.nuclear_norm_fista(A, y[:, None], np.array([-0.1]), 5, 4)
    with pytest.raises(ValueError):
        _core.nuclear_norm_fista(A, y[:, None], np.array([0.1]), 5, 4, svd="x")
    with pytest.raises(ValueError):
        _core.nuclear_norm_fista(A, y[:, None], np.array([0.1]), 5, 4, S0=np.zeros((2, 20)))
    with pytest.raises(ValueError):
        _core.singular_value_threshold(np.zeros((1, 3, 3)), np.array([-1.0]))
    for bad in (dict(greedy=0.5), dict(greedy=2.0), dict(continuation=1.0), dict(continuation=-0.1),
                dict(stage_tol=0.0), dict(stage_tol=np.nan)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            _core.nuclear_norm_fista(A, y[:, None], np.array([0.1]), 5, 4, **bad)


def test_scale_equivariance_of_y_and_A_far_from_one():
    # S(c y, c lam) = c S(y, lam) and S(a A, y, a lam) = S(A, y, lam) / a, also where squares of
    # c y or a A would underflow: the solver works at unit scale and scales back.
    A, S, y = _problem(5, 4, 14, 1, seed=8, noise=0.01)
    lam = 0.05 * _lam_max(A, y, 5, 4)
    base = nuclear_norm(A, y, (5, 4), lam, tol=1e-10, max_iter=20000)
    both = nuclear_norm(A, np.stack([y, 1e-280 * y], axis=1), (5, 4), np.array([lam, 1e-280 * lam]), tol=1e-10,
                        max_iter=20000)
    np.testing.assert_allclose(both.S_hat[1] / 1e-280, both.S_hat[0], rtol=0, atol=1e-8 * np.abs(base.S_hat).max())
    np.testing.assert_allclose(both.S_hat[0], base.S_hat, rtol=0, atol=1e-8 * np.abs(base.S_hat).max())
    tiny = nuclear_norm(A, 1e-120 * y, (5, 4), 1e-120 * lam, tol=1e-10, max_iter=20000)  # c^2 = 1e-240 is a float
    assert tiny.objective / 1e-120 / 1e-120 == pytest.approx(base.objective, rel=1e-8)
    assert both.residual_norm[1] / 1e-280 == pytest.approx(base.residual_norm, rel=1e-6)
    small = nuclear_norm(1e-150 * A, y, (5, 4), 1e-150 * lam, tol=1e-10, max_iter=20000)
    np.testing.assert_allclose(small.S_hat * 1e-150, base.S_hat, rtol=0, atol=1e-8 * np.abs(base.S_hat).max())
    assert small.lipschitz / 1e-300 == pytest.approx(base.lipschitz, rel=1e-6)
    assert small.nuclear_norm * 1e-150 == pytest.approx(base.nuclear_norm, rel=1e-8)


def test_constrained_scale_equivariance_far_from_one():
    # S(c y, c eps) = c S(y, eps) with lam -> c lam, and S(a A, y, eps) = S(A, y, eps) / a with
    # lam -> a lam, also where squares of c y or a A would underflow.
    A, S, y = _problem(5, 4, 14, 1, seed=8, noise=0.01)
    eps = 0.3 * np.linalg.norm(y - A @ S.reshape(-1)) + 0.05 * np.linalg.norm(y)
    base = nuclear_norm_constrained(A, y, (5, 4), eps, rtol=1e-6, tol=1e-10)
    assert base.converged and base.residual_norm == pytest.approx(eps, rel=1e-5)
    atol = 1e-6 * np.abs(base.S_hat).max()
    both = nuclear_norm_constrained(A, np.stack([y, 1e-280 * y], axis=1), (5, 4), np.array([eps, 1e-280 * eps]),
                                    rtol=1e-6, tol=1e-10)
    assert np.all(both.converged)
    np.testing.assert_allclose(both.S_hat[0], base.S_hat, rtol=0, atol=atol)
    np.testing.assert_allclose(both.S_hat[1] / 1e-280, base.S_hat, rtol=0, atol=atol)
    assert both.lam[1] / 1e-280 == pytest.approx(base.lam, rel=1e-6)
    assert both.residual_norm[1] / 1e-280 == pytest.approx(eps, rel=1e-5)
    small = nuclear_norm_constrained(1e-150 * A, y, (5, 4), eps, rtol=1e-6, tol=1e-10)
    assert small.converged
    np.testing.assert_allclose(small.S_hat * 1e-150, base.S_hat, rtol=0, atol=atol)
    assert small.lam / 1e-150 == pytest.approx(base.lam, rel=1e-6)
    assert small.nuclear_norm * 1e-150 == pytest.approx(base.nuclear_norm, rel=1e-6)
    assert small.lipschitz / 1e-300 == pytest.approx(base.lipschitz, rel=1e-6)
    # without the rescaling, the 1e-280 column would underflow (its squares are 0 in float64)
    assert (1e-280 * y) @ (1e-280 * y) == 0.0


@pytest.mark.parametrize("matrix_free", [False, True])
def test_continuation_edge_lams_in_one_batch(matrix_free):
    # lam = 0 (no stages), lam above lam_max (solution 0, no stages), a tiny lam (many stages)
    # in one batch: each column as restarted FISTA finds it; a warm start (no stages) stays put
    N, L, M = 9, 5, 40
    rng = np.random.default_rng(21)
    W, Z = random_network(M, L, rng=rng)
    op = NetworkOperator(W, Z, N)
    A = op.todense()
    y = A @ (rng.standard_normal((N, 2)) @ rng.standard_normal((2, L))).reshape(-1) + 0.05 * rng.standard_normal(M)
    lmax = _lam_max(A, y, N, L)
    lams = np.array([0.0, 2.0 * lmax, 1e-4 * lmax, 0.05 * lmax])
    Y = np.repeat(y[:, None], 4, axis=1)
    operator = op if matrix_free else A
    res = nuclear_norm(operator, Y, (N, L), lams, tol=1e-10, max_iter=100000)
    assert np.all(res.converged)
    assert np.all(res.S_hat[1] == 0.0) and res.rank[1] == 0
    for b in range(4):
        plain = ref.nuclear_norm(A, y, (N, L), lams[b], tol=1e-12, max_iter=400000, accelerated=True,
                                 restart=True, lipschitz=res.lipschitz)
        assert res.objective[b] == pytest.approx(plain.objective, rel=1e-8, abs=1e-12 * float(y @ y))
    warm = nuclear_norm(operator, y, (N, L), lams[2], warm_start=res.S_hat[2], tol=1e-10)
    assert warm.iterations <= 5
