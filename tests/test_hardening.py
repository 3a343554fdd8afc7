"""Faults the hostile-input fuzz found, one regression test each (issue 9).

Overflow of finite inputs, OverflowError from float arithmetic, unclear messages for
degenerate tables, the cost of the dct coherence, and the nuclear-norm binding's
conversion of A. Each test failed before its fix.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from fastmem import _core, stm
from fastmem.stm import recall as recall_mod
from fastmem.stm import theory

R = np.random.default_rng


def _net(M=6, L=2, seed=0):
    return stm.random_network(M, L, rng=seed)


def _stream(N=5, L=2, seed=1):
    return R(seed).standard_normal((N, L))


# --------------------------------------------------------------------------- overflow of finite inputs


@pytest.mark.parametrize("which", ["W", "Z", "S"])
def test_propagate_refuses_overflow_naming_the_inputs(which):
    W, Z = _net()
    kw = dict(W=W, Z=Z, S=_stream())
    kw[which] = kw[which] * 1e300
    if which == "W":  # x 1e300 overflows after two steps
        with pytest.raises(ValueError, match=r"overflows float64.*max\|W\| = 9"):
            stm.propagate(**kw)
    else:  # Z s or its sums overflow within one step (or the state stays finite: then it must be right)
        try:
            x = stm.propagate(**kw)
        except ValueError as exc:
            assert "overflows float64" in str(exc) and f"max|{which}|" in str(exc)
        else:
            assert np.isfinite(x).all()


def test_propagate_unstable_network_over_many_steps_is_refused():
    W, Z = stm.random_network(4, 1, radius=2.0, rng=0)
    S = np.ones((2000, 1))  # 2^2000 overflows
    with pytest.raises(ValueError, match="spectral radius of W"):
        stm.propagate(W, Z, S)
    with pytest.raises(ValueError, match="N = 2000 overflows float64"):
        stm.measurement_operator(W, Z, 2000)
    # the same network over a few steps is fine
    assert np.isfinite(stm.measurement_operator(W, Z, 20)).all()


def test_measurement_operator_refuses_overflow():
    W, Z = _net()
    with pytest.raises(ValueError, match=r"overflows float64.*max\|W\|"):
        stm.measurement_operator(W * 1e300, Z, 5)


@pytest.mark.parametrize("scale", [1e300, 1e-300, 1e-320])
def test_rmse_is_scale_invariant(scale):
    S, H = _stream(), _stream(seed=2)
    expected = np.sum((S - H) ** 2) / np.sum(S**2)
    assert stm.rmse(S * scale, H * scale) == pytest.approx(expected, rel=1e-3 if scale < 1e-310 else 1e-12)
    batch = np.stack([S, 2 * S])
    got = stm.rmse(batch * scale, np.stack([H, 2 * H]) * scale)
    np.testing.assert_allclose(got, [expected, expected], rtol=1e-3 if scale < 1e-310 else 1e-12)


def test_rmse_overflowing_ratio_is_an_error_naming_s_hat():
    S = _stream()
    with pytest.raises(ValueError, match="S_hat is too large"):
        stm.rmse(S, S * 1e300)


def _lasso_problem(M=8, P=12):
    g = R(4)
    A = g.standard_normal((M, P)) / np.sqrt(M)
    x = np.zeros(P)
    x[[1, 5]] = [1.0, -2.0]
    return A, A @ x


@pytest.mark.parametrize("arg", ["A", "y", "warm_start"])
def test_lasso_refuses_inputs_whose_squares_overflow(arg):
    A, y = _lasso_problem()
    kw = dict(A=A, y=y, lam=0.05, warm_start=np.zeros(A.shape[1]))
    kw[arg] = kw[arg] + 1e300 if arg == "warm_start" else kw[arg] * 1e300
    with pytest.raises(ValueError, match=f"^{arg} is too large for float64"):
        stm.lasso(**kw)


def test_lasso_moderately_large_inputs_still_solve():
    A, y = _lasso_problem()
    ref = stm.lasso(A, y, 0.05, tol=1e-10)
    big = stm.lasso(A, y * 1e100, 0.05 * 1e100, tol=1e-10)  # the problem scales: coef x 1e100
    np.testing.assert_allclose(big.coef, ref.coef * 1e100, rtol=1e-6, atol=1e94)


def test_lasso_on_an_overflowing_network_operator_is_refused():
    W, Z = stm.random_network(4, 1, radius=3.0, rng=0)
    op = stm.NetworkOperator(W, Z, 800)  # 3^800 > 1e308
    with pytest.raises(ValueError, match="^A is too large for float64.*N = 800 steps"):
        stm.lasso(op, np.ones(4), 0.1, max_iter=5)
    # radius 1: fine
    op1 = stm.NetworkOperator(*stm.random_network(4, 1, radius=1.0, rng=0), 800)
    assert np.isfinite(stm.lasso(op1, np.ones(4), 0.1, max_iter=5).coef).all()


@pytest.mark.parametrize("algorithm", ["working_set", "fista"])
@pytest.mark.parametrize("y_scale, A_scale", [(1e-300, 1.0), (1e-150, 1.0), (1e120, 1.0), (1.0, 1e-200),
                                              (1e-300, 1e-5)])
def test_lasso_is_scale_equivariant_at_extreme_scales(algorithm, y_scale, A_scale):
    """Before: y * 1e-300 returned coef = 0 'converged' (squares underflowed), silently wrong."""
    A, y = _lasso_problem()
    ref = stm.lasso(A, y, 0.05, tol=1e-10, algorithm=algorithm)
    got = stm.lasso(A * A_scale, y * y_scale, 0.05 * y_scale * A_scale, tol=1e-10, algorithm=algorithm)
    factor = y_scale / A_scale
    np.testing.assert_allclose(got.coef / factor, ref.coef, rtol=1e-7, atol=1e-9)
    assert got.converged
    if 1e-150 < y_scale**2:
        assert got.objective == pytest.approx(ref.objective * y_scale**2, rel=1e-7)


def test_lasso_batch_columns_of_different_scales():
    A, y = _lasso_problem()
    Y = np.stack([y, y * 1e-300, y * 1e120], axis=1)
    lam = np.array([0.05, 0.05e-300, 0.05e120])
    got = stm.lasso(A, Y, lam, tol=1e-10)
    ref = stm.lasso(A, y, 0.05, tol=1e-10)
    for b, f in enumerate([1.0, 1e-300, 1e120]):
        np.testing.assert_allclose(got.coef[:, b] / f, ref.coef, rtol=1e-7, atol=1e-9)


def test_lasso_solution_that_overflows_is_refused():
    A, y = _lasso_problem()
    with pytest.raises(ValueError, match="solution overflows float64"):
        stm.lasso(A * 1e-300, y * 1e100, 1e-300, tol=1e-6, max_iter=50)


def test_lasso_estimator_overflow_names_x_and_y():
    A, y = _lasso_problem()
    with pytest.raises(ValueError, match="^X is too large"):
        stm.Lasso(alpha=0.01).fit(A * 1e300, y)
    with pytest.raises(ValueError, match="^y is too large"):
        stm.Lasso(alpha=0.01).fit(A, y * 1e300)
    est = stm.Lasso(alpha=0.01).fit(A, y)
    X = A.copy()
    X[:, 5] = 1e308  # a finite X whose prediction (coef_[5] ~ -2) overflows
    with pytest.raises(ValueError, match="^X is too large for this model"):
        est.predict(X)
    with pytest.raises(ValueError, match="^X is too large for this model"):
        est.score(X, y)


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_lasso_score_is_scale_invariant(scale):
    """Before: y and prediction x 1e300 made ss_res, ss_tot = inf and R^2 NaN."""
    A, y = _lasso_problem()
    est = stm.Lasso(alpha=0.01).fit(A, y)
    r2 = est.score(A, y)
    # the same model for y * scale: coef_ and intercept_ scale with y
    est.coef_, est.intercept_ = est.coef_ * scale, est.intercept_ * scale
    assert est.score(A, y * scale) == pytest.approx(r2, rel=1e-9)
    # weights are scale-free too
    assert est.score(A, y * scale, sample_weight=np.full(len(y), scale)) == pytest.approx(r2, rel=1e-9)


def test_lasso_score_checks_sample_weight():
    A, y = _lasso_problem()
    est = stm.Lasso(alpha=0.01).fit(A, y)
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        est.score(A, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="sample_weight must not sum to zero"):
        est.score(A, y, sample_weight=np.zeros(len(y)))


@pytest.mark.parametrize("fn", [stm.state_covariance, stm.memory_capacity])
@pytest.mark.parametrize("arg", ["Z", "input_variance"])
def test_capacity_refuses_overflowing_input_covariance(fn, arg):
    W, Z = _net()
    kw = dict(W=0.9 * W, Z=Z, input_variance=1.0)
    if arg == "Z":
        kw["Z"] = Z * 1e300
    else:  # finite v, Z whose product v Z Z^T overflows
        kw["Z"], kw["input_variance"] = Z * 1e10, 1e300
    with pytest.raises(ValueError, match=f"overflows float64.*rescale .*{arg}"):
        fn(**kw)


def test_state_covariance_near_unit_radius_overflow_is_refused():
    W, Z = _net()
    with pytest.raises(ValueError, match="overflows float64"):
        stm.state_covariance((1 - 1e-15) * W, Z * 1e150, input_variance=1e7)


# --------------------------------------------------------------------------- optimal_recall_length


def test_optimal_recall_length_tiny_q_gives_a_finite_curve():
    p = stm.optimal_recall_length(M=50, L=4, q=1e-300)
    assert np.isfinite(p.error).all() and np.all((p.error >= 0) & (p.error <= 1))
    assert p.length == 1  # a network that forgets at once recalls the last input


def test_optimal_recall_length_huge_noise_is_a_value_error():
    with pytest.raises(ValueError, match="noise must be <="):
        stm.optimal_recall_length(M=50, L=4, q=0.9, noise=1e300)
    p = stm.optimal_recall_length(M=50, L=4, q=0.9, noise=1e100)  # swamped: every error is 1
    assert np.all(p.error == 1.0)


def test_optimal_recall_length_q_near_one_does_not_allocate_1_over_1_minus_q():
    p = stm.optimal_recall_length(M=50, L=4, q=1 - 1e-12)
    assert len(p.lengths) <= p.capacity + 8 and np.isfinite(p.error).all()


@pytest.mark.parametrize("kw", [dict(M=50, L=4, q=0.9), dict(M=200, L=1, q=0.95, noise=0.01, rank=1),
                                dict(M=100, L=3, q=0.8, model="lowrank", rank=2, noise=0.1)])
def test_optimal_recall_length_matches_the_direct_formula(kw):
    """The overflow-safe product equals the docstring's two factors multiplied."""
    p = stm.optimal_recall_length(**kw)
    direct = np.minimum(p.omission * p.recall, 1.0)
    np.testing.assert_allclose(p.error, direct, rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- recall tables


def _table(error, energy):
    n = len(error)
    return pd.DataFrame(dict(length=np.repeat([1, 2], n // 2), trial=np.tile(np.arange(n // 2), 2),
                             error=error, energy=energy, omitted=np.full(n, 0.1)))


def test_measured_optimum_all_nan_curve_is_a_clear_error():
    table = _table(np.zeros(4), np.zeros(4))  # every window had zero energy: rMSE undefined everywhere
    with pytest.raises(ValueError, match="table gives no finite rMSE at any length"):
        stm.measured_optimum(table)


@pytest.mark.parametrize("bad, match", [(dict(error=[np.nan] * 4), "column 'error' must hold finite"),
                                        (dict(energy=[-1.0] * 4), "column 'energy' must hold finite"),
                                        (dict(error=["x"] * 4), "column 'error' must be numeric")])
def test_summarize_curve_refuses_tampered_tables(bad, match):
    table = _table(np.ones(4), np.ones(4)).assign(**bad)
    with pytest.raises((ValueError, TypeError), match=match):
        stm.summarize_curve(table)


def test_summarize_curve_empty_table():
    with pytest.raises(ValueError, match="table is empty"):
        stm.summarize_curve(_table(np.ones(4), np.ones(4)).iloc[:0])


# --------------------------------------------------------------------------- dct coherence in closed form


@pytest.mark.parametrize("N", [1, 2, 3, 16, 101])
def test_named_dct_coherence_closed_form_matches_the_fft(N):
    assert theory._named_coherence("dct", N) == pytest.approx(stm.coherence("dct", N=N), rel=1e-12)
    assert stm.sparse_nodes_needed(3, N, basis="dct") == pytest.approx(
        stm.sparse_nodes_needed(3, N, mu=stm.coherence("dct", N=N)), rel=1e-12)


def test_sparse_capacity_bound_dct_builds_no_basis(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("an N x N dct basis was built")

    theory._named_coherence.cache_clear()
    monkeypatch.setattr(theory, "coherence", boom)
    t0 = time.perf_counter()
    n = stm.sparse_capacity_bound(M=10**6, rate=0.01, basis="dct", n_max=10**7)
    assert time.perf_counter() - t0 < 5.0  # generous: was an N x N matrix + FFT per candidate N
    K = max(1, math.ceil(0.01 * n))
    assert stm.sparse_nodes_needed(K, n, basis="dct") < 10**6
    assert stm.sparse_nodes_needed(max(1, math.ceil(0.01 * (n + 1))), n + 1, basis="dct") >= 10**6


# --------------------------------------------------------------------------- nuclear-norm binding: A is named


@pytest.mark.parametrize("bad, exc", [(None, TypeError), ("bogus", TypeError), ([[1.0, 2.0], [3.0]], TypeError),
                                      (np.ones((4, 3), dtype=complex), TypeError),
                                      (np.ones((4, 3)).astype(object), TypeError), (np.ones(3), ValueError)])
def test_core_nuclear_norm_messages_name_a(bad, exc):
    with pytest.raises(exc, match=r"(?<![A-Za-z])A(?![A-Za-z])"):
        _core.operator_norm_squared(bad)
    with pytest.raises(exc, match=r"(?<![A-Za-z])A(?![A-Za-z])"):
        _core.nuclear_norm_fista(bad, np.ones((4, 1)), np.array([0.1]), 3, 1)


def test_core_nuclear_norm_refuses_huge_views_before_copying():
    view = np.broadcast_to(np.float64(0.5), (2**40, 3))
    with pytest.raises(MemoryError, match="more than this machine can hold"):
        _core.operator_norm_squared(view)


# --------------------------------------------------------------------------- the command line


@pytest.mark.parametrize("argv, option", [
    (["--threads", "0", "config"], "--threads"),
    (["--threads", "-3", "config"], "--threads"),
    (["--threads", "abc", "config"], "--threads"),
    (["reproduce", "stm-fig2", "--trials", "-5", "--quick"], "--trials"),
    (["reproduce", "stm-fig2", "--L", "0", "--quick"], "--L"),
    (["reproduce", "stm-fig2", "--N", "-1", "--quick"], "--N"),
    (["reproduce", "stm-fig2", "--grid", "0", "--quick"], "--grid"),
    (["reproduce", "stm-fig2", "--seed", "-1", "--quick"], "--seed"),
    (["reproduce", "stm-fig3", "--trials", "0", "--quick"], "--trials"),
    (["reproduce", "flipflop", "--test-steps", "-1", "--quick"], "--test-steps"),
    (["reproduce", "flipflop", "--initial-states", "-1", "--quick"], "--initial-states"),
    (["reproduce", "flipflop", "--train-steps", "1.5", "--quick"], "--train-steps"),
    (["reproduce", "bogus"], "target"),
])
def test_cli_refuses_bad_options_before_any_work(argv, option, capsys, tmp_path):
    """Before: tracebacks from deep inside the run ('n must be >= 1, got 0' for --threads 0)."""
    from fastmem import cli

    with pytest.raises(SystemExit) as exc:
        cli.main(argv + (["--out", str(tmp_path)] if argv[0] == "reproduce" and argv[1] != "bogus" else []))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())  # nothing was run


def test_cli_unusable_output_folder_is_an_error_not_a_traceback(capsys, tmp_path):
    from fastmem import cli

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert cli.main(["reproduce", "stm-fig2", "--quick", "--no-progress", "--out", str(blocker / "sub")]) == 1
    err = capsys.readouterr().err
    assert "stm-fig2: error:" in err and "Traceback" not in err


def test_cli_argv_type():
    from fastmem import cli

    with pytest.raises(TypeError, match="argv must be None or a list of strings"):
        cli.main("config")


# --------------------------------------------------------------------------- found and left (see the report)


def test_nuclear_norm_is_scale_equivariant_at_tiny_scales():
    g = R(9)
    A = g.standard_normal((10, 12)) / np.sqrt(10)
    S = np.outer(g.standard_normal(4), g.standard_normal(3))
    y = A @ S.reshape(-1)
    ref = stm.nuclear_norm(A, y, (4, 3), 0.01, tol=1e-9, max_iter=2000)
    got = stm.nuclear_norm(A, y * 1e-300, (4, 3), 0.01e-300, tol=1e-9, max_iter=2000)
    np.testing.assert_allclose(got.S_hat / 1e-300, ref.S_hat, atol=1e-6)


# --------------------------------------------------------------------------- importable helpers (not in __all__)


def _mod(name):
    import importlib

    return importlib.import_module(name)


def test_importable_helpers_validate_their_arguments():
    """Before: nuclear_norm.auto_lam on a broadcast (2^40, 12) view ran einsum for hours (a hang);
    the others raised AttributeError/IndexError or numpy messages naming nothing."""
    huge = np.broadcast_to(np.float64(0.5), (2**40, 12))
    with pytest.raises(MemoryError, match="more than this machine can hold"):
        _mod("fastmem.stm.nuclear_norm").auto_lam(huge, 0.1, (4, 3))
    with pytest.raises(MemoryError, match="more than this machine can hold"):
        _mod("fastmem.stm.lasso").auto_lam(huge, 0.1)
    with pytest.raises(TypeError, match="shape must be a pair"):
        _mod("fastmem.stm.nuclear_norm").auto_lam(np.ones((3, 12)), 0.1, "bogus")
    with pytest.raises(ValueError, match="^a must have N\\*L = 8 rows"):
        _mod("fastmem.stm.signals").synthesize(np.ones(9), 4, 2)
    with pytest.raises(ValueError, match="^b must have shape"):
        _mod("fastmem.dynamics.fixed_points").map_offset(6, None, np.ones(7))
    with pytest.raises(ValueError, match="^count must be >= 1"):
        _mod("fastmem.stm.recall").default_lengths(0.9, count=-1)
    with pytest.raises(TypeError, match="^table must be a phase-diagram DataFrame"):
        _mod("fastmem.stm.phase").summarize(None)


@pytest.mark.parametrize("solver", ["lasso_gram", "nuclear_norm_gram"])
def test_gram_solvers_are_scale_equivariant_at_tiny_scales(solver):
    W, Z = stm.random_network(8, 2, radius=0.9, rng=4)
    G = stm.ToeplitzGram(W, Z, 3)
    x = np.zeros(6)
    x[[1, 4]] = [1.0, -2.0]
    y = stm.measurement_operator(W, Z, 3) @ x
    fn = getattr(stm, solver)
    ref = fn(G, y, 0.01, tol=1e-10).coef
    got = fn(G, y * 1e-300, 0.01e-300, tol=1e-10).coef
    np.testing.assert_allclose(got / 1e-300, ref, atol=1e-6)
