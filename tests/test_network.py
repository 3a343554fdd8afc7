"""Network kernels (propagate, measurement_operator, NetworkOperator) against the numpy reference."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fastmem
from fastmem import reference as ref
from fastmem import stm

sizes = st.integers(min_value=1, max_value=9)
kinds = st.sampled_from(["circle", "orthogonal", "gaussian"])
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@given(M=sizes, L=sizes, N=sizes, B=st.integers(1, 4), kind=kinds, seed=seeds,
       f=st.sampled_from(["linear", "tanh"]), rotate=st.booleans())
def test_propagate_matches_reference(M, L, N, B, kind, seed, f, rotate):
    W, Z = stm.random_network(M, L, kind=kind, radius=0.9, rotate=rotate, rng=seed)
    rng = np.random.default_rng(seed)
    S = rng.standard_normal((B, N, L))
    x0 = rng.standard_normal((B, M))
    eps = 0.1 * rng.standard_normal((B, N, M))
    states = stm.propagate(W, Z, S, x0=x0, noise=eps, nonlinearity=f, return_states=True)
    expected = ref.propagate(W, Z, S, x0=x0, noise_values=eps, nonlinearity=f, return_states=True)
    np.testing.assert_allclose(states, expected, rtol=1e-12, atol=1e-12)
    final = stm.propagate(W, Z, S, x0=x0, noise=eps, nonlinearity=f)
    np.testing.assert_allclose(final, states[:, -1], rtol=0, atol=0)
    # A single stream gives the same as its row of the batch.
    single = stm.propagate(W, Z, S[0], x0=x0[0], noise=eps[0], nonlinearity=f, return_states=True)
    np.testing.assert_allclose(single, states[0], rtol=1e-13, atol=1e-13)


@given(M=sizes, L=sizes, N=sizes, kind=kinds, seed=seeds, rotate=st.booleans())
def test_measurement_operator_matches_reference_and_propagate(M, L, N, kind, seed, rotate):
    W, Z = stm.random_network(M, L, kind=kind, radius=1.0, rotate=rotate, rng=seed)
    A = stm.measurement_operator(W, Z, N)
    assert A.shape == (M, N * L)
    np.testing.assert_allclose(A, ref.measurement_operator(W, Z, N), rtol=1e-11, atol=1e-12)
    S = np.random.default_rng(seed).standard_normal((N, L))
    np.testing.assert_allclose(A @ S.reshape(-1), stm.propagate(W, Z, S), rtol=1e-10, atol=1e-11)


@given(M=sizes, L=sizes, N=sizes, B=st.integers(1, 3), kind=kinds, seed=seeds)
def test_network_operator_is_A_and_its_transpose(M, L, N, B, kind, seed):
    W, Z = stm.random_network(M, L, kind=kind, radius=0.95, rng=seed)
    op = stm.NetworkOperator(W, Z, N)
    A = stm.measurement_operator(W, Z, N)
    rng = np.random.default_rng(seed)
    V, Y = rng.standard_normal((N * L, B)), rng.standard_normal((M, B))
    np.testing.assert_allclose(op @ V, A @ V, rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(op.T @ Y, A.T @ Y, rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(op.rmatvec(Y[:, 0]), ref.network_adjoint(W, Z, N, Y[:, 0]), rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(op.matvec(V[:, 0]), ref.network_apply(W, Z, N, V[:, 0]), rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(op.todense(), A)


def test_block_diagonal_fast_path_equals_dense_path():
    W, Z = stm.random_network(301, 13, kind="circle", radius=0.99, rng=3)
    assert stm.is_block_diagonal(W)
    fast = stm.measurement_operator(W, Z, 40, structure="block_diagonal")
    dense = stm.measurement_operator(W, Z, 40, structure="dense")
    np.testing.assert_allclose(fast, dense, rtol=1e-10, atol=1e-12)
    S = np.random.default_rng(0).standard_normal((5, 40, 13))
    np.testing.assert_allclose(stm.propagate(W, Z, S, structure="block_diagonal"),
                               stm.propagate(W, Z, S, structure="dense"), rtol=1e-10, atol=1e-12)


def test_eigenbasis_shortcut_preserves_recovery_geometry():
    """U^T x[N] of the rotated network is the state of the block-diagonal one (DESIGN.md)."""
    M, L, N = 40, 3, 25
    D, Z = stm.random_network(M, L, kind="circle", radius=1.0, rng=7)
    U = np.linalg.qr(np.random.default_rng(8).standard_normal((M, M)))[0]
    W = U @ D @ U.T
    A_rot = stm.measurement_operator(W, U @ Z, N)
    A_blk = stm.measurement_operator(D, Z, N)
    np.testing.assert_allclose(U.T @ A_rot, A_blk, atol=1e-10)
    v = np.random.default_rng(9).standard_normal(N * L)
    y = A_rot @ v
    assert np.isclose(np.linalg.norm(y - A_rot @ v * 0.5), np.linalg.norm(U.T @ y - A_blk @ v * 0.5))


@pytest.mark.parametrize("kind", ["circle", "orthogonal", "gaussian"])
def test_random_network_spectrum_and_input_scale(kind):
    W, Z = stm.random_network(200, 40, kind=kind, radius=0.8, rng=1)
    assert W.dtype == np.float64 and Z.dtype == np.float64
    assert W.shape == (200, 200) and Z.shape == (200, 40)
    eig = np.abs(np.linalg.eigvals(W))
    assert np.isclose(eig.max(), 0.8, rtol=1e-8)
    if kind != "gaussian":
        np.testing.assert_allclose(eig, 0.8, rtol=1e-8)  # all eigenvalues on the circle
    assert abs(Z.var() * 200 - 1.0) < 0.05  # iid N(0, 1/M)


def test_random_network_rng_conventions():
    a = stm.random_network(10, 2, rng=5)
    b = stm.random_network(10, 2, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    c = stm.random_network(10, 2, rng=6)
    assert not np.array_equal(a[1], c[1])
    # odd M: one real eigenvalue, still block-diagonal
    W, _ = stm.random_network(7, 2, rng=1)
    assert stm.is_block_diagonal(W) and abs(abs(W[6, 6]) - 1.0) < 1e-15


def test_noise_is_drawn_from_rng_reproducibly():
    W, Z = stm.random_network(20, 3, rng=0)
    S = np.ones((10, 3))
    a = stm.propagate(W, Z, S, noise=0.1, rng=42)
    b = stm.propagate(W, Z, S, noise=0.1, rng=42)
    c = stm.propagate(W, Z, S, noise=0.0)
    np.testing.assert_array_equal(a, b)
    assert 0 < np.linalg.norm(a - c) < 2.0


def test_threads_give_the_same_result():
    W, Z = stm.random_network(700, 20, kind="gaussian", radius=0.9, rng=0)
    S = np.random.default_rng(1).standard_normal((6, 30, 20))
    one = stm.propagate(W, Z, S, nonlinearity="tanh", n_threads=1)
    two = stm.propagate(W, Z, S, nonlinearity="tanh", n_threads=2)
    np.testing.assert_array_equal(one, two)
    A1 = stm.measurement_operator(W, Z, 30, n_threads=1)
    A2 = stm.measurement_operator(W, Z, 30, n_threads=2)
    np.testing.assert_array_equal(A1, A2)
    with fastmem.threads(1):
        assert fastmem.get_num_threads() == 1
    assert fastmem.get_num_threads() >= 1


def test_conversion_rules():
    W, Z = stm.random_network(6, 2, rng=0)
    S = np.arange(20, dtype=np.int64).reshape(10, 2)
    x_int = stm.propagate(W, Z, S)
    x_f32 = stm.propagate(W.astype(np.float32), Z, S.astype(np.float32))
    np.testing.assert_allclose(x_int, stm.propagate(W, Z, S.astype(float)))
    np.testing.assert_allclose(x_f32, x_int, rtol=1e-5)
    # non-contiguous views are accepted
    big = np.zeros((20, 4))
    big[::2, ::2] = S
    np.testing.assert_allclose(stm.propagate(W, Z, big[::2, ::2]), x_int)
    Wf = np.asfortranarray(W)
    np.testing.assert_allclose(stm.measurement_operator(Wf, Z, 5), stm.measurement_operator(W, Z, 5))


W0, Z0 = stm.random_network(5, 2, rng=0)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: stm.propagate(W0, Z0, np.ones((4, 3))), ValueError, "S must have shape"),
        (lambda: stm.propagate(W0[:, :4], Z0, np.ones((4, 2))), ValueError, "W must be square"),
        (lambda: stm.propagate(W0, Z0[:4], np.ones((4, 2))), ValueError, "Z must have shape"),
        (lambda: stm.propagate(W0, Z0, np.full((4, 2), np.nan)), ValueError, "S contains NaN"),
        (lambda: stm.propagate(np.where(np.eye(5) > 0, np.inf, W0), Z0, np.ones((4, 2))), ValueError, "W contains NaN"),
        (lambda: stm.propagate(W0, Z0, np.ones((0, 2))), ValueError, "N >= 1"),
        (lambda: stm.propagate(W0, Z0, np.ones((4, 2)) * 1j), TypeError, "S must be real"),
        (lambda: stm.propagate(W0, Z0, np.array([["a", "b"]])), TypeError, "S must be a numeric"),
        (lambda: stm.propagate(W0, Z0, np.ones(4)), ValueError, "S must be 2-d or 3-d"),
        (lambda: stm.propagate(W0, Z0, np.ones((4, 2)), nonlinearity="relu"), ValueError, "nonlinearity"),
        (lambda: stm.propagate(W0, Z0, np.ones((4, 2)), noise=-1.0), ValueError, "noise must be >= 0"),
        (lambda: stm.propagate(W0, Z0, np.ones((4, 2)), noise=np.ones((3, 5))), ValueError, "noise values"),
        (lambda: stm.propagate(W0, Z0, np.ones((4, 2)), x0=np.ones(4)), ValueError, "x0 must have shape"),
        (lambda: stm.propagate(W0, Z0, np.ones((4, 2)), n_threads=0), ValueError, "n_threads"),
        (lambda: stm.propagate(np.ones((5, 5)), Z0, np.ones((4, 2)), structure="block_diagonal"), ValueError, "2x2 diagonal blocks"),
        (lambda: stm.propagate(None, Z0, np.ones((4, 2))), TypeError, "W must be an array"),
        (lambda: stm.measurement_operator(W0, Z0, 0), ValueError, "N must be >= 1"),
        (lambda: stm.measurement_operator(W0, Z0, -3), ValueError, "N must be >= 1"),
        (lambda: stm.measurement_operator(W0, Z0, 2.5), TypeError, "N must be an integer"),
        (lambda: stm.measurement_operator(W0, Z0, 10**11), MemoryError, "more than this machine"),
        (lambda: stm.random_network(0, 3), ValueError, "M must be >= 1"),
        (lambda: stm.random_network(3, -1), ValueError, "L must be >= 1"),
        (lambda: stm.random_network(3, 1, kind="ring"), ValueError, "kind"),
        (lambda: stm.random_network(3, 1, radius=0.0), ValueError, "radius"),
        (lambda: stm.random_network(3, 1, rng="seed"), TypeError, "rng"),
        (lambda: stm.random_network(10**6, 1), MemoryError, "more than this machine"),
        (lambda: stm.NetworkOperator(W0, Z0, 3).matvec(np.ones(5)), ValueError, "V must have"),
        (lambda: stm.NetworkOperator(W0, Z0, 3).rmatvec(np.ones(4)), ValueError, "Y must have"),
        (lambda: fastmem.set_num_threads(0), ValueError, "n must be >= 1"),
    ],
)
def test_bad_input_raises_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_core_rejects_bad_input_directly():
    """A direct call of the private binding raises instead of crashing."""
    from fastmem import _core

    with pytest.raises(ValueError, match="S must be a 3-d"):
        _core.propagate(W0, Z0, np.ones((4, 2)))
    with pytest.raises(ValueError, match="W must be square"):
        _core.measurement_operator(np.ones((3, 4)), Z0, 2)
    with pytest.raises(ValueError, match="NaN"):
        _core.propagate(W0, Z0, np.full((1, 4, 2), np.nan))
    with pytest.raises(ValueError, match="N must be >= 0"):
        _core.measurement_operator(W0, Z0, -1)
    with pytest.raises(ValueError, match="not 2x2 block-diagonal"):
        _core.measurement_operator(np.ones((4, 4)), np.ones((4, 1)), 2, "block_diagonal")
    with pytest.raises(TypeError):
        _core.propagate(W0, Z0, np.ones((1, 4, 2)) * 1j)
