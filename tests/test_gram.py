"""The block-Toeplitz Gram operator of orthogonal networks and the Gram-form solvers."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from fastmem import stm
from fastmem.stm import phase as ph


def dense_gram(W, Z, N, psi=None):
    A = stm.measurement_operator(W, Z, N)
    if psi is not None:
        A = A @ np.kron(psi, np.eye(Z.shape[1]))
    return A.T @ A


@settings(max_examples=30, deadline=None)
@given(M=st.integers(1, 13), L=st.integers(1, 4), N=st.integers(1, 9), radius=st.floats(0.5, 1.2),
       dct=st.booleans(), seed=st.integers(0, 2**31))
def test_toeplitz_gram_equals_dense_gram(M, L, N, radius, dct, seed):
    W, Z = stm.random_network(M, L, radius=radius, rng=seed)
    G = stm.ToeplitzGram(W, Z, N, basis="dct" if dct else "identity")
    ref = dense_gram(W, Z, N, stm.dct_basis(N) if dct else None)
    assert G.scale == pytest.approx(radius, rel=1e-12)
    np.testing.assert_allclose(G.todense(), ref, atol=1e-12 * max(1.0, np.abs(ref).max()))
    x = np.random.default_rng(seed).standard_normal((N * L, 3))
    np.testing.assert_allclose(G @ x, ref @ x, atol=1e-11 * max(1.0, np.abs(ref @ x).max()))
    np.testing.assert_allclose(G.apply(x[:, 0]), ref @ x[:, 0], atol=1e-11 * max(1.0, np.abs(ref @ x).max()))


def test_dense_orthogonal_network_and_threads_agree():
    W, Z = stm.random_network(30, 3, kind="orthogonal", radius=0.97, rng=3)
    G = stm.ToeplitzGram(W, Z, 7)
    np.testing.assert_allclose(G.todense(), dense_gram(W, Z, 7), atol=1e-12)
    Wb, Zb = stm.random_network(700, 5, rng=4)  # several row chunks of the block-diagonal build
    x = np.random.default_rng(0).standard_normal((5 * 6, 4))
    one = stm.ToeplitzGram(Wb, Zb, 6, n_threads=1).apply(x, n_threads=1)
    two = stm.ToeplitzGram(Wb, Zb, 6, n_threads=2).apply(x, n_threads=2)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_allclose(one, dense_gram(Wb, Zb, 6) @ x, atol=1e-11)


@pytest.mark.parametrize("M", [8, 9])
def test_block_diagonal_with_reflections_takes_the_general_build(M):
    # the rotation fast path (two GEMMs over cos/sin(j theta)) must not take a reflection block;
    # the general block-diagonal build must still give A^T A (odd M: a trailing -1 block)
    W, Z = stm.random_network(M, 3, radius=0.9, rng=6)
    c, s = np.cos(0.4), np.sin(0.4)
    W[2:4, 2:4] = 0.9 * np.array([[c, s], [s, -c]])
    if M % 2:
        W[-1, -1] = -0.9
    G = stm.ToeplitzGram(W, Z, 6)
    ref = dense_gram(W, Z, 6)
    np.testing.assert_allclose(G.todense(), ref, atol=1e-12 * np.abs(ref).max())
    Wr, _ = stm.random_network(M, 3, radius=0.9, rng=6)  # all rotations: the fast path
    np.testing.assert_allclose(stm.ToeplitzGram(Wr, Z, 6).todense(), dense_gram(Wr, Z, 6), atol=1e-12 * np.abs(ref).max())


def test_not_orthogonal_is_refused():
    W, Z = stm.random_network(10, 2, kind="gaussian", rng=0)
    with pytest.raises(ValueError, match="orthogonal"):
        stm.ToeplitzGram(W, Z, 4)


def sparse_problem(M=120, L=4, N=20, K=8, B=3, noise=0.01, seed=0):
    W, Z = stm.random_network(M, L, rng=seed)
    g = np.random.default_rng(seed)
    X = np.zeros((N * L, B))
    for b in range(B):
        X[g.choice(N * L, K, replace=False), b] = g.standard_normal(K)
    A = stm.measurement_operator(W, Z, N)
    Y = A @ X + noise * g.standard_normal((M, B))
    return W, Z, N, A, X, Y


def test_lasso_gram_matches_lasso_and_recovers():
    W, Z, N, A, X, Y = sparse_problem()
    lam = np.array([1e-3, 5e-3, 2e-2])
    G = stm.ToeplitzGram(W, Z, N)
    res = stm.lasso_gram(G, Y, lam, tol=1e-10, max_iter=50000)
    ref = stm.lasso(A, Y, lam, tol=1e-10, max_iter=50000)
    assert res.converged.all() and not res.settled.any()
    np.testing.assert_allclose(res.objective, ref.objective, rtol=1e-7)
    err = np.sum((res.coef - X) ** 2, axis=0) / np.sum(X**2, axis=0)
    assert err[0] < 1e-2  # K = 8 of 80 unknowns from 120 noisy measurements


def test_lasso_gram_dct_basis_matches_lasso():
    W, Z, N, A, X, Y = sparse_problem(seed=1)
    G = stm.ToeplitzGram(W, Z, N, basis="dct")
    res = stm.lasso_gram(G, Y, 0.01, tol=1e-10, max_iter=50000)
    ref = stm.lasso(A, Y, 0.01, basis="dct", signal_shape=(N, 4), tol=1e-10, max_iter=50000)
    np.testing.assert_allclose(res.objective, ref.objective, rtol=1e-7)


def test_nuclear_norm_gram_matches_nuclear_norm():
    M, L, N = 150, 5, 12
    W, Z = stm.random_network(M, L, rng=2)
    A = stm.measurement_operator(W, Z, N)
    S = np.stack([stm.lowrank_signal(N, L, 1, rng=b).S for b in range(2)])
    Y = A @ S.reshape(2, -1).T
    G = stm.ToeplitzGram(W, Z, N)
    res = stm.nuclear_norm_gram(G, Y, 1e-3, tol=1e-9, max_iter=20000)
    ref = stm.nuclear_norm(A, Y, shape=(N, L), lam=1e-3, tol=1e-9, max_iter=20000)
    np.testing.assert_allclose(res.objective, ref.objective, rtol=1e-6)
    err = np.sum((res.coef.T - S.reshape(2, -1)) ** 2, axis=1) / np.sum(S.reshape(2, -1) ** 2, axis=1)
    assert np.all(err < 1e-3)


@pytest.mark.parametrize("method,continuation", [("greedy", True), ("greedy", False), ("fista", False)])
def test_nuclear_norm_gram_runs_the_iteration_of_nuclear_norm(method, continuation):
    # stm.nuclear_norm on an orthogonal network takes the same Gram path: same steps, same iterates
    M, L, N = 120, 4, 10
    W, Z = stm.random_network(M, L, rng=5)
    S = np.stack([stm.lowrank_signal(N, L, 2, rng=b).S for b in range(3)])
    op = stm.NetworkOperator(W, Z, N)
    Y = op @ np.ascontiguousarray(S.reshape(3, -1).T)
    lam = np.array([1e-3, 1e-2, 3e-2])
    res = stm.nuclear_norm_gram(stm.ToeplitzGram(W, Z, N), Y, lam, tol=1e-8, max_iter=5000, method=method,
                                continuation=continuation)
    ref = stm.nuclear_norm(op, Y, shape=(N, L), lam=lam, tol=1e-8, max_iter=5000, method=method,
                           continuation=continuation)
    np.testing.assert_array_equal(res.iterations, ref.iterations)
    np.testing.assert_allclose(res.coef.T.reshape(3, N, L), ref.S_hat, rtol=1e-9, atol=1e-12)
    assert np.all(res.converged)


def test_nuclear_norm_gram_variants_reach_the_same_optimum_and_bad_choices():
    W, Z, N = *stm.random_network(150, 5, rng=2), 12
    G = stm.ToeplitzGram(W, Z, N)
    S = np.stack([stm.lowrank_signal(N, 5, 1, rng=b).S for b in range(2)])
    Y = stm.measurement_operator(W, Z, N) @ S.reshape(2, -1).T
    runs = [stm.nuclear_norm_gram(G, Y, 1e-3, tol=1e-10, max_iter=20000, method=m, continuation=c)
            for m, c in [("greedy", True), ("greedy", False), ("fista", False), ("fista", True)]]
    for r in runs[1:]:
        np.testing.assert_allclose(r.objective, runs[0].objective, rtol=1e-7)
    assert np.all(runs[0].iterations < runs[2].iterations)  # greedy + continuation: fewer steps than FISTA
    with pytest.raises(ValueError, match="method"):
        stm.nuclear_norm_gram(G, Y, 1e-3, method="newton")
    with pytest.raises(TypeError, match="continuation"):
        stm.nuclear_norm_gram(G, Y, 1e-3, continuation="yes")


def test_settling_stops_early_with_the_same_error():
    W, Z, N, A, X, Y = sparse_problem(M=60, K=30, seed=3)  # a hard cell: K/M = 0.5
    G = stm.ToeplitzGram(W, Z, N)
    full = stm.lasso_gram(G, Y, 1e-3, tol=1e-9, max_iter=20000)
    fast = stm.lasso_gram(G, Y, 1e-3, tol=1e-9, max_iter=20000, reference=X, settle_tol=1e-4)
    assert np.all(fast.iterations <= full.iterations)
    e_full = np.sum((full.coef - X) ** 2, axis=0) / np.sum(X**2, axis=0)
    e_fast = np.sum((fast.coef - X) ** 2, axis=0) / np.sum(X**2, axis=0)
    np.testing.assert_allclose(e_fast, e_full, rtol=0.1)  # a tiny hard problem; 0.3% at the paper's size
    # nuclear norm (no support polish to finish first): settling must stop columns early
    S = np.stack([stm.lowrank_signal(N, 4, 3, rng=b).S for b in range(3)])
    Yn = A @ S.reshape(3, -1).T
    full = stm.nuclear_norm_gram(G, Yn, 1e-4, tol=1e-10, max_iter=20000)
    # settle_tol 1e-5: on this tiny hard problem 1e-4 moves single errors by 5-150% whatever the
    # method (FISTA or greedy + continuation); at the paper's size 1e-4 moves them by < 1%
    fast = stm.nuclear_norm_gram(G, Yn, 1e-4, tol=1e-10, max_iter=20000, reference=S.reshape(3, -1).T,
                                 settle_tol=1e-5)
    assert fast.settled.any() and np.all(fast.iterations[fast.settled] < full.iterations[fast.settled])
    e_full = np.sum((full.coef.T - S.reshape(3, -1)) ** 2, axis=1) / np.sum(S.reshape(3, -1) ** 2, axis=1)
    e_fast = np.sum((fast.coef.T - S.reshape(3, -1)) ** 2, axis=1) / np.sum(S.reshape(3, -1) ** 2, axis=1)
    np.testing.assert_allclose(e_fast, e_full, rtol=0.1)  # tiny problem; 0.5% at the paper's size


def test_support_polish_finishes_easy_problems_in_few_steps():
    W, Z, N, A, X, Y = sparse_problem(M=200, K=5, seed=8, noise=1e-4)
    G = stm.ToeplitzGram(W, Z, N)
    res = stm.lasso_gram(G, Y, 1e-4, tol=1e-10, max_iter=20000)
    ref = stm.lasso(A, Y, 1e-4, tol=1e-10, max_iter=50000)
    np.testing.assert_allclose(res.objective, ref.objective, rtol=1e-8)
    assert res.converged.all() and np.all(res.iterations < 200)


def test_bad_input():
    W, Z, N, A, X, Y = sparse_problem()
    G = stm.ToeplitzGram(W, Z, N)
    with pytest.raises(ValueError, match="lam"):
        stm.lasso_gram(G, Y, -1.0)
    with pytest.raises(ValueError, match="y"):
        stm.lasso_gram(G, Y[:-1], 0.1)
    with pytest.raises(ValueError, match="reference"):
        stm.lasso_gram(G, Y, 0.1, reference=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="y"):
        stm.lasso_gram(G, np.full_like(Y, np.nan), 0.1)
    with pytest.raises(TypeError, match="G"):
        stm.lasso_gram(A, Y, 0.1)
    with pytest.raises(ValueError, match="identity"):
        stm.nuclear_norm_gram(stm.ToeplitzGram(W, Z, N, basis="dct"), Y, 0.1)


@pytest.mark.parametrize("model", ["sparse", "lowrank"])
def test_phase_gram_path_agrees_with_dense_solver(model):
    """The Gram path (with settling) and the dense A-form solver give the same cells."""
    common = dict(model=model, coherence="low", L=4, N=10, gammas=(0.4, 0.8), rhos=(0.1, 0.3, 0.6), trials=2,
                  rng=5, progress=False, max_iter=3000)
    gram = stm.phase_diagram(operator="gram", **common)
    dense = stm.phase_diagram(operator="dense", tol=1e-7 if model == "sparse" else 1e-8, **common)
    a = np.log10(gram.summary["mean_rmse"].to_numpy() + 1e-12)
    b = np.log10(dense.summary["mean_rmse"].to_numpy() + 1e-12)
    assert np.max(np.abs(a - b)) < 0.1
    assert "settled" in gram.table.columns


@pytest.mark.parametrize("basis", [None, "dct"])
def test_lasso_on_an_orthogonal_network_uses_the_gram_form(basis):
    W, Z, N, A, X, Y = sparse_problem(seed=6)
    op = stm.NetworkOperator(W, Z, N)
    gram = stm.lasso(op, Y, 0.01, basis=basis, tol=1e-9, max_iter=50000)
    fista = stm.lasso(op, Y, 0.01, basis=basis, tol=1e-9, max_iter=50000, algorithm="fista")
    np.testing.assert_allclose(gram.objective, fista.objective, rtol=1e-7)
    np.testing.assert_allclose(gram.coef, fista.coef, atol=1e-4 * np.abs(fista.coef).max())
    Wg, Zg = stm.random_network(40, 4, kind="gaussian", rng=0)
    with pytest.raises(ValueError, match="orthogonal"):
        stm.lasso(stm.NetworkOperator(Wg, Zg, N), Y[:40], 0.01, algorithm="gram")
    with pytest.raises(ValueError, match="NetworkOperator"):
        stm.lasso(A, Y, 0.01, algorithm="gram")


def test_nuclear_norm_on_an_orthogonal_network_uses_the_gram_form():
    M, L, N = 150, 5, 12
    W, Z = stm.random_network(M, L, rng=7)
    op = stm.NetworkOperator(W, Z, N)
    S = np.stack([stm.lowrank_signal(N, L, 1, rng=10 + b).S for b in range(2)])
    Y = op.todense() @ S.reshape(2, -1).T
    on_op = stm.nuclear_norm(op, Y, shape=None, lam=1e-3, tol=1e-9, max_iter=20000)
    dense = stm.nuclear_norm(op.todense(), Y, shape=(N, L), lam=1e-3, tol=1e-9, max_iter=20000)
    np.testing.assert_allclose(on_op.objective, dense.objective, rtol=1e-6)
    np.testing.assert_allclose(on_op.S_hat, dense.S_hat, atol=1e-5 * np.abs(dense.S_hat).max())
    assert on_op.S_hat.shape == (2, N, L)
    eps = 0.5 * np.linalg.norm(Y, axis=0)
    con = stm.nuclear_norm_constrained(op, Y, shape=None, eps=eps)
    assert np.all(con.residual_norm <= eps * 1.02)
