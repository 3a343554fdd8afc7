"""Working-set LASSO with the coordinate-descent + semismooth-Newton inner solver, on a dense A and
on the network's Toeplitz Gram (stm.lasso on a NetworkOperator with orthogonal W, identity basis).

The Newton steps keep an updated Cholesky factor of G_SS (appends, block appends, removals), so
these tests aim at the regimes that exercise it: supports of ~0.9 M next to the phase transition,
working sets wider than the rank of A, tiny lam (more unknowns than measurements).
"""

import numpy as np
import pytest
import sklearn.linear_model
from hypothesis import given, settings
from hypothesis import strategies as st

from fastmem import _core
from fastmem.reference import lasso as ref
from fastmem.stm import NetworkOperator, lasso, measurement_operator, random_network, sparse_signal


def _network_problem(M, L, N, K, noise, seed):
    W, Z = random_network(M, L, rng=seed)
    A = measurement_operator(W, Z, N)
    _, a = sparse_signal(N, L, K, rng=seed + 1)
    y = A @ a + noise * np.random.default_rng(seed + 2).standard_normal(M)
    return A, NetworkOperator(W, Z, N), y


def _reference_objective(A, y, lam):
    """The optimum by scikit-learn's coordinate descent, run far past our tolerance."""
    M = A.shape[0]
    sk = sklearn.linear_model.Lasso(alpha=lam / M, fit_intercept=False, tol=1e-14, max_iter=1_000_000)
    sk.fit(A, y)
    return ref.objective(A, y, sk.coef_, lam)


@settings(max_examples=20, deadline=None)
@given(M=st.integers(2, 40), L=st.integers(1, 4), N=st.integers(1, 12), rho=st.floats(0.05, 0.8),
       frac=st.floats(0.002, 0.9), seed=st.integers(0, 10_000))
def test_network_working_set_reaches_the_optimum(M, L, N, rho, frac, seed):
    K = max(1, min(N * L, int(rho * M)))
    A, op, y = _network_problem(M, L, N, K, 0.01, seed)
    lam = frac * np.abs(A.T @ y).max()
    r_net = lasso(op, y, lam, tol=1e-10, max_iter=100_000, n_threads=1)
    r_dense = lasso(A, y, lam, tol=1e-10, max_iter=100_000, n_threads=1)
    F_ref = _reference_objective(A, y, lam)
    for r in (r_net, r_dense):
        assert r.converged
        assert r.gap >= 0
        # the certified gap bounds the distance to the optimum (Gram-form objectives: a few ulps of ||y||^2)
        F = ref.objective(A, y, r.coef, lam)
        assert F - F_ref <= 1e-9 * F_ref + 1e-12 * float(y @ y)
        assert F_ref - F <= 1e-7 * F_ref + 1e-12 * float(y @ y)  # sklearn is not exactly optimal either


@pytest.mark.parametrize("rho", [0.3, 0.5])
def test_large_supports_next_to_the_transition(rho):
    # the paper's regime at a tenth of its size: supports of ~0.9 M, cond(G_SS) ~ 1e3
    M, L, N = 120, 10, 40
    A, op, y = _network_problem(M, L, N, int(rho * M), 0.01, seed=3)
    lam = 0.01 * np.sqrt(2 * np.log(N * L)) * np.sqrt((A**2).sum(axis=0).mean())
    F_ref = _reference_objective(A, y, lam)
    for operator in (op, A):
        r = lasso(operator, y, lam, tol=1e-9, n_threads=1)
        assert r.converged and r.gap <= 1e-9 * r.objective
        F = ref.objective(A, y, r.coef, lam)
        assert abs(F - F_ref) <= 1e-7 * F_ref
        assert np.count_nonzero(r.coef) > 0.6 * M  # the regime the Newton updates are for


def test_tiny_lam_more_unknowns_than_measurements_recovers_exactly():
    # working sets wider than rank(A): the Newton faces are singular, the solver must still converge
    N, L, M, K = 20, 5, 60, 6
    A, op, _ = _network_problem(M, L, N, K, 0.0, seed=1)
    _, a = sparse_signal(N, L, K, rng=7)
    y = A @ a
    for operator in (op, A):
        r = lasso(operator, y, 1e-6, tol=1e-8, max_iter=50_000)
        assert r.converged
        np.testing.assert_allclose(r.coef, a, atol=1e-4)


def test_gram_working_set_threads_and_batch_columns_agree():
    M, L, N = 80, 6, 25
    W, Z = random_network(M, L, rng=5)
    op = NetworkOperator(W, Z, N)
    A = measurement_operator(W, Z, N)
    g = np.random.default_rng(9)
    Y = np.stack([A @ sparse_signal(N, L, 30, rng=s)[1] + 0.01 * g.standard_normal(M) for s in range(3)], axis=1)
    r1 = lasso(op, Y, 0.02, n_threads=1)
    r2 = lasso(op, Y, 0.02, n_threads=2)
    r3 = lasso(op, Y[:, 1], 0.02, n_threads=2)
    np.testing.assert_array_equal(r1.coef, r2.coef)
    np.testing.assert_array_equal(r1.iterations, r2.iterations)
    np.testing.assert_allclose(r3.coef, r1.coef[:, 1], rtol=1e-12, atol=1e-14)


def test_gram_working_set_warm_start_and_bad_input():
    M, L, N = 50, 4, 15
    A, op, y = _network_problem(M, L, N, 15, 0.01, seed=2)
    r = lasso(op, y, 0.01, tol=1e-9)
    r2 = lasso(op, y, 0.01, tol=1e-9, warm_start=r.coef)
    assert r2.converged and r2.iterations <= 2
    G = _core.ToeplitzGram(op._op, None, 1)
    AtY = (A.T @ y)[None, :]
    yy = np.array([y @ y])
    with pytest.raises(ValueError, match="p0"):
        _core.lasso_working_set_gram(G, AtY, yy, np.array([0.01]), None, 1e-6, 100, 0, 1)
    with pytest.raises(ValueError, match="lam"):
        _core.lasso_working_set_gram(G, AtY, yy, np.array([-1.0]), None, 1e-6, 100, 100, 1)
    with pytest.raises(ValueError, match="AtY"):
        _core.lasso_working_set_gram(G, AtY[:, :-1], yy, np.array([0.01]), None, 1e-6, 100, 100, 1)
    with pytest.raises(ValueError, match="identity basis"):
        from fastmem.stm import dct_basis

        Gd = _core.ToeplitzGram(op._op, dct_basis(N), 1)
        _core.lasso_working_set_gram(Gd, AtY, yy, np.array([0.01]), None, 1e-6, 100, 100, 1)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("given", ["dense", "network"])
def test_working_set_that_cannot_fit_is_a_memory_error_not_a_crash(monkeypatch, threads, given):
    # The working set's G_WW and Cholesky factor grow with the data (tiny lam: hundreds of
    # columns). Past FASTMEM_MEMORY_LIMIT the solver must raise MemoryError from inside its
    # OpenMP region over the batch (an exception escaping it would abort the interpreter).
    # (L=10, N=50: small enough that the network path keeps its working sets at any support)
    A, op, y = _network_problem(200, 10, 50, 150, 0.0, 3)
    Y = np.column_stack([y, np.roll(y, 1)])
    monkeypatch.setenv("FASTMEM_MEMORY_LIMIT", "2e6")  # 2 MB: A (0.8 MB) fits, a working set of ~250 columns not
    with pytest.raises(MemoryError, match="LASSO working set .* more than this machine can hold"):
        lasso(A if given == "dense" else op, Y, lam=1e-4, n_threads=threads)
    monkeypatch.delenv("FASTMEM_MEMORY_LIMIT")
    res = lasso(A if given == "dense" else op, Y, lam=1e-4, n_threads=threads)  # fits without the limit
    assert np.all(np.isfinite(res.coef)) and np.all(res.objective > 0)


@pytest.mark.parametrize("value", ["abc", "-1", "0", "nan", "inf", "infinity", "1_000_000", " 1e9", "1e9 ", "0x100000",
                                   "1e", "1e5."])
def test_bad_memory_limit_is_a_value_error_naming_it(monkeypatch, value):
    from fastmem._validation import check_allocation

    A, _, y = _network_problem(40, 2, 10, 5, 0.0, 1)
    monkeypatch.setenv("FASTMEM_MEMORY_LIMIT", value)
    with pytest.raises(ValueError, match="FASTMEM_MEMORY_LIMIT"):
        check_allocation(10, "x")
    with pytest.raises(ValueError, match="FASTMEM_MEMORY_LIMIT"):  # the C++ core reads it too
        _core.lasso_working_set(A, y[None, :], np.array([1e-3]), None, 1e-6, 1000, 10, 1)


def _toeplitz_inputs(op, Y):
    G = _core.ToeplitzGram(op._op, None, 1)
    Y = np.atleast_2d(Y.T).T
    AtY = np.ascontiguousarray((op.T @ Y).T)
    return G, AtY, np.einsum("mb,mb->b", Y, Y)


def test_large_supports_switch_to_gram_fista_from_the_start():
    # L=20, N=40: the automatic limit is sqrt(apply_cost / 2) = 313 non-zeros. A column whose
    # support passes it is solved by Gram-form FISTA from its start (0): the same coefficients
    # as lasso_gram run cold, bit for bit, after the working-set steps spent before the switch.
    M, L, N = 600, 20, 40
    A, op, y_big = _network_problem(M, L, N, 450, 0.01, seed=4)
    _, _, y_small = _network_problem(M, L, N, 20, 0.01, seed=4)
    Y = np.column_stack([y_big, y_small])
    lam = 0.01 * np.sqrt(2 * np.log(N * L)) * np.sqrt((A**2).sum(axis=0).mean())
    G, AtY, yy = _toeplitz_inputs(op, Y)
    lams = np.full(2, lam)
    auto = _core.lasso_working_set_gram(G, AtY, yy, lams, None, 1e-9, 100_000, 100, 1)
    ws_only = _core.lasso_working_set_gram(G, AtY, yy, lams, None, 1e-9, 100_000, 100, 1, max_size=0)
    fista = _core.lasso_gram(G, AtY, yy, lams, None, 1e-9, 100_000, 0.0, None, 0.0, 10, 1)
    assert np.count_nonzero(auto["coef"][0]) > 313 and np.count_nonzero(auto["coef"][1]) < 313
    np.testing.assert_array_equal(auto["coef"][0], fista["coef"][0])  # the large support: FISTA from 0
    assert auto["iterations"][0] > fista["iterations"][0]
    np.testing.assert_array_equal(auto["coef"][1], ws_only["coef"][1])  # the small one: working sets only
    assert auto["iterations"][1] == ws_only["iterations"][1]
    assert np.all(auto["converged"])
    F_ref = _reference_objective(A, y_big, lam)
    assert abs(ref.objective(A, y_big, auto["coef"][0], lam) - F_ref) <= 1e-8 * F_ref
    # the public call takes this path: same answer, whatever the thread count
    r1 = lasso(op, Y, lam, tol=1e-9, n_threads=1)
    r2 = lasso(op, Y, lam, tol=1e-9, n_threads=2)
    np.testing.assert_array_equal(r1.coef, r2.coef)
    np.testing.assert_allclose(r1.coef, auto["coef"].T, rtol=1e-10, atol=1e-13)


@settings(max_examples=10, deadline=None)
@given(max_size=st.integers(1, 60), frac=st.floats(0.001, 0.5), seed=st.integers(0, 1000))
def test_forced_switch_reaches_the_optimum(max_size, frac, seed):
    # any limit, any mix of switched and working-set columns, warm starts from X0
    M, L, N = 40, 3, 12
    A, op, y = _network_problem(M, L, N, 15, 0.01, seed)
    Y = np.column_stack([y, np.roll(y, 3)])
    lams = frac * np.abs(A.T @ Y).max(axis=0)
    G, AtY, yy = _toeplitz_inputs(op, Y)
    out = _core.lasso_working_set_gram(G, AtY, yy, lams, None, 1e-10, 200_000, 10, 2, max_size=max_size)
    assert np.all(out["converged"])
    for b in range(2):
        F_ref = _reference_objective(A, Y[:, b], lams[b])
        F = ref.objective(A, Y[:, b], out["coef"][b], lams[b])
        assert abs(F - F_ref) <= 1e-7 * F_ref + 1e-12 * float(Y[:, b] @ Y[:, b])
    with pytest.raises(ValueError, match="max_size"):
        _core.lasso_working_set_gram(G, AtY, yy, lams, None, 1e-6, 100, 10, 1, max_size=-2)


@pytest.mark.parametrize("value", ["8e9", "8000000000", "8.5e+9", "+8e9", ".5e10"])
def test_memory_limit_numbers_read_alike_in_python_and_the_core(monkeypatch, value):
    from fastmem._validation import memory_limit_bytes

    A, _, y = _network_problem(40, 2, 10, 5, 0.0, 1)
    monkeypatch.setenv("FASTMEM_MEMORY_LIMIT", value)
    assert memory_limit_bytes() == float(value)
    res = _core.lasso_working_set(A, y[None, :], np.array([1e-3]), None, 1e-6, 1000, 10, 1)  # the core accepts it
    assert np.all(np.isfinite(res["objective"])) and np.all(res["objective"] > 0)
