"""FISTA LASSO (fastmem.stm.lasso) and the scikit-learn compatible estimator."""

import numpy as np
import pytest
import sklearn.base
import sklearn.linear_model
from hypothesis import given
from hypothesis import strategies as st

from fastmem.reference import lasso as ref
from fastmem.stm import (
    Lasso,
    NetworkOperator,
    basis_matrix,
    dct_basis,
    lasso,
    measurement_operator,
    random_network,
    rmse,
    sparse_signal,
)
from fastmem.stm.lasso import auto_lam


def _problem(seed, M, P, B=None):
    g = np.random.default_rng(seed)
    A = g.standard_normal((M, P)) / np.sqrt(M)
    y = g.standard_normal(M if B is None else (M, B))
    return A, y


@given(M=st.integers(1, 12), P=st.integers(1, 15), seed=st.integers(0, 10_000), frac=st.floats(0.01, 1.5),
       algorithm=st.sampled_from(["fista", "working_set"]))
def test_matches_numpy_reference(M, P, seed, frac, algorithm):
    A, y = _problem(seed, M, P)
    lam = frac * np.abs(A.T @ y).max()
    res = lasso(A, y, lam, tol=1e-9, max_iter=200_000, algorithm=algorithm)
    x_ref, F_ref, gap_ref, _ = ref.lasso(A, y, lam, tol=1e-9, max_iter=200_000)
    assert res.converged
    assert res.gap >= 0
    assert res.objective == pytest.approx(ref.objective(A, y, res.coef, lam), rel=1e-12, abs=1e-14)
    assert abs(res.objective - F_ref) <= 2e-9 * max(F_ref, 1e-300) + 1e-15
    assert res.gap <= 1e-9 * res.objective
    assert res.gap >= res.objective - min(F_ref, res.objective) - 1e-13
    if lam >= np.abs(A.T @ y).max():  # above lam_max the solution is exactly 0
        assert np.all(res.coef == 0)


@pytest.mark.parametrize("algorithm", ["fista", "working_set"])
@pytest.mark.parametrize("seed", range(3))
def test_optimum_matches_sklearn(seed, algorithm):
    A, y = _problem(seed, 40, 300)
    M = A.shape[0]
    lam = 0.05 * np.abs(A.T @ y).max()
    res = lasso(A, y, lam, tol=1e-9, algorithm=algorithm)
    sk = sklearn.linear_model.Lasso(alpha=lam / M, fit_intercept=False, tol=1e-12, max_iter=1_000_000).fit(A, y)
    F_sk = ref.objective(A, y, sk.coef_, lam)
    assert abs(res.objective - F_sk) <= 1e-6 * F_sk
    np.testing.assert_allclose(res.coef, sk.coef_, atol=1e-4)


def _network(M=60, L=5, N=20, seed=1):
    W, Z = random_network(M, L, rng=seed)
    return W, Z, measurement_operator(W, Z, N), NetworkOperator(W, Z, N)


@pytest.mark.parametrize("basis", ["identity", "dct"])
@pytest.mark.parametrize("use_operator", [False, True])
def test_exact_recovery_noiseless(basis, use_operator):
    # dense A takes the working-set driver, the operator plain FISTA
    N, L, M, K = 20, 5, 60, 6
    W, Z, A, op = _network(M, L, N)
    S, a = sparse_signal(N, L, K, basis=basis, rng=7)
    y = A @ S.reshape(-1)
    res = lasso(op if use_operator else A, y, 1e-6, basis=basis, signal_shape=None if use_operator else (N, L),
                tol=1e-8, max_iter=50_000)
    assert res.converged
    assert res.S.shape == (N, L)
    assert rmse(S, res.S) < 1e-9
    np.testing.assert_allclose(res.coef, a, atol=1e-4)
    assert set(np.flatnonzero(np.abs(res.coef) > 1e-3)) == set(np.flatnonzero(a))
    np.testing.assert_allclose(res.S.reshape(-1), basis_matrix(N, L, basis) @ res.coef, atol=1e-12)


def test_operator_and_dense_agree_with_user_basis():
    N, L, M = 12, 3, 30
    W, Z, A, op = _network(M, L, N, seed=3)
    D, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((N, N)))
    S, a = sparse_signal(N, L, 4, basis=D, rng=1)
    y = A @ S.reshape(-1)
    r_op = lasso(op, y, 1e-3, basis=D, tol=1e-10)
    r_dense = lasso(A, y, 1e-3, basis=np.kron(D, np.eye(L)), signal_shape=(N, L), tol=1e-10)
    assert r_op.objective == pytest.approx(r_dense.objective, rel=1e-8)
    np.testing.assert_allclose(r_op.S, r_dense.S, atol=1e-5)
    # and the same as solving with A Psi formed by hand
    r_hand = lasso(A @ np.kron(D, np.eye(L)), y, 1e-3, tol=1e-10)
    assert r_hand.objective == pytest.approx(r_op.objective, rel=1e-8)


@pytest.mark.parametrize("algorithm", ["fista", "working_set"])
def test_objective_non_increasing_and_gap_nonnegative(algorithm):
    A, y = _problem(5, 30, 80)
    lam = 0.05 * np.abs(A.T @ y).max()
    prev = np.inf
    F_opt = lasso(A, y, lam, tol=1e-10).objective
    for k in [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 400, 800]:
        r = lasso(A, y, lam, tol=0.0, max_iter=k, algorithm=algorithm)
        assert r.iterations <= k
        if algorithm == "fista":
            assert r.iterations == k
        assert r.objective <= prev * (1 + 1e-13)
        assert r.gap >= 0
        assert r.gap >= r.objective - F_opt - 1e-12  # the gap bounds suboptimality
        prev = r.objective


@pytest.mark.parametrize("algorithm", ["fista", "working_set"])
def test_batch_equals_column_by_column(algorithm):
    A, Y = _problem(2, 25, 60, B=5)
    lams = np.array([0.001, 0.05, 0.2, 0.5, 5.0]) * np.abs(A.T @ Y).max()
    rb = lasso(A, Y, lams, tol=1e-8, max_iter=100_000, algorithm=algorithm)
    assert rb.coef.shape == (60, 5) and rb.objective.shape == (5,) and rb.iterations.shape == (5,)
    assert rb.converged.all()
    for b in range(5):
        r = lasso(A, Y[:, b], lams[b], tol=1e-8, max_iter=100_000, algorithm=algorithm)
        assert r.iterations == rb.iterations[b]
        np.testing.assert_allclose(rb.coef[:, b], r.coef, rtol=1e-9, atol=1e-12)
        assert rb.objective[b] == pytest.approx(r.objective, rel=1e-12)
    np.testing.assert_array_equal(rb.lam, lams)


def test_threads_agree():
    N, L, M = 30, 6, 80
    W, Z, A, op = _network(M, L, N, seed=4)
    S = np.stack([sparse_signal(N, L, 10, rng=s)[0] for s in range(3)])
    Y = (A @ S.reshape(3, -1).T)
    for AA, algorithm in ((A, "fista"), (A, "working_set"), (op, "fista")):
        r1 = lasso(AA, Y, 0.01, signal_shape=(N, L) if AA is A else None, n_threads=1, algorithm=algorithm)
        r2 = lasso(AA, Y, 0.01, signal_shape=(N, L) if AA is A else None, n_threads=2, algorithm=algorithm)
        r3 = lasso(AA, Y[:, :1], 0.01, signal_shape=(N, L) if AA is A else None, n_threads=2, algorithm=algorithm)
        np.testing.assert_allclose(r3.coef[:, 0], r1.coef[:, 0], rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(r1.iterations, r2.iterations)
        np.testing.assert_allclose(r1.coef, r2.coef, rtol=1e-12, atol=1e-14)


def test_warm_start_from_solution_is_immediate():
    A, y = _problem(8, 30, 70)
    lam = 0.1 * np.abs(A.T @ y).max()
    r = lasso(A, y, lam, tol=1e-8)
    r2 = lasso(A, y, lam, tol=1e-8, warm_start=r.coef)
    assert r2.converged and r2.iterations <= 2 and r2.iterations < r.iterations
    assert r2.objective <= r.objective * (1 + 1e-12)


def test_lam_auto():
    W, Z, A, op = _network(50, 4, 10)
    y = np.random.default_rng(0).standard_normal(50)
    P = A.shape[1]
    want = 0.1 * np.sqrt(2 * np.log(P)) * np.linalg.norm(A) / np.sqrt(P)
    r = lasso(A, y, "auto", noise=0.1, max_iter=5)
    assert r.lam == pytest.approx(want)
    assert auto_lam(op, 0.1) == pytest.approx(want, rel=0.1)  # the operator's Frobenius norm is estimated


def test_estimator_matches_sklearn():
    g = np.random.default_rng(0)
    X = g.standard_normal((50, 80))
    y = X[:, :5] @ g.standard_normal(5) + 0.1 * g.standard_normal(50) + 2.0
    for fit_intercept in (True, False):
        ours = Lasso(alpha=0.05, fit_intercept=fit_intercept, tol=1e-10, max_iter=100_000).fit(X, y)
        sk = sklearn.linear_model.Lasso(alpha=0.05, fit_intercept=fit_intercept, tol=1e-12, max_iter=100_000).fit(X, y)
        np.testing.assert_allclose(ours.coef_, sk.coef_, atol=1e-6)
        assert ours.intercept_ == pytest.approx(sk.intercept_, abs=1e-6)
        np.testing.assert_allclose(ours.predict(X), sk.predict(X), atol=1e-5)
        assert ours.score(X, y) == pytest.approx(sk.score(X, y), abs=1e-8)
        assert 0 <= ours.dual_gap_ and isinstance(ours.n_iter_, int)
    Y = g.standard_normal((50, 3))
    ours = Lasso(alpha=0.05, tol=1e-10, max_iter=100_000).fit(X, Y)
    sk = sklearn.linear_model.Lasso(alpha=0.05, tol=1e-12, max_iter=100_000).fit(X, Y)
    assert ours.coef_.shape == sk.coef_.shape == (3, 80)
    np.testing.assert_allclose(ours.coef_, sk.coef_, atol=1e-6)
    # scikit-learn's parameter protocol
    c = sklearn.base.clone(ours)
    assert c.get_params() == ours.get_params()
    c.set_params(alpha=0.2, warm_start=True)
    c.fit(X, y)
    n1 = c.n_iter_
    c.fit(X, y)
    assert c.n_iter_ <= n1


def test_bad_input():
    A, y = _problem(0, 10, 20)
    with pytest.raises(ValueError, match="lam must be >= 0"):
        lasso(A, y, -1.0)
    with pytest.raises(ValueError, match="lam must be >= 0"):
        lasso(A, np.stack([y, y], 1), np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="one value per column"):
        lasso(A, np.stack([y, y], 1), np.array([1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="y must have M = 10 rows"):
        lasso(A, y[:9], 1.0)
    with pytest.raises(ValueError, match="y contains NaN"):
        lasso(A, np.where(np.arange(10) == 3, np.nan, y), 1.0)
    with pytest.raises(ValueError, match="A contains NaN"):
        lasso(np.full((10, 20), np.inf), y, 1.0)
    with pytest.raises(ValueError, match="orthonormal"):
        lasso(A, y, 1.0, basis=2 * np.eye(20))
    with pytest.raises(ValueError, match="basis must have shape"):
        lasso(A, y, 1.0, basis=np.eye(7))
    with pytest.raises(ValueError, match="signal_shape"):
        lasso(A, y, 1.0, basis="dct")
    with pytest.raises(ValueError, match="N\\*L = P"):
        lasso(A, y, 1.0, signal_shape=(3, 3))
    with pytest.raises(ValueError, match="noise"):
        lasso(A, y, "auto")
    with pytest.raises(ValueError, match="'auto'"):
        lasso(A, y, "big")
    with pytest.raises(ValueError, match="warm_start"):
        lasso(A, y, 1.0, warm_start=np.zeros(19))
    with pytest.raises(ValueError, match="tol"):
        lasso(A, y, 1.0, tol=-1.0)
    with pytest.raises(TypeError, match="max_iter"):
        lasso(A, y, 1.0, max_iter=10.5)
    with pytest.raises(ValueError, match="n_threads"):
        lasso(A, y, 1.0, n_threads=0)
    with pytest.raises(ValueError, match="algorithm"):
        lasso(A, y, 1.0, algorithm="cd")
    _, _, _, op = _network(10, 2, 10)
    with pytest.raises(ValueError, match="signal_shape"):
        lasso(op, y, 1.0, signal_shape=(5, 4))
    with pytest.raises(ValueError, match="dense A"):
        lasso(op, y, 1.0, algorithm="working_set")
    with pytest.raises(ValueError, match="alpha"):
        Lasso(alpha=-1).fit(A, y)
    with pytest.raises(RuntimeError, match="not fitted"):
        Lasso().predict(A)
