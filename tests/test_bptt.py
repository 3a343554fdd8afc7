"""The tanh RNN and its BPTT trainer against the numpy reference, finite differences and torch."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from fastmem import _core
from fastmem.dynamics import TanhRNN
from fastmem.reference import bptt as ref

KEYS = ("W", "W_in", "W_out", "b", "b_out")


def random_weights(rng, N, I, O, bias=True, scale=1.0):
    w = {
        "W": rng.normal(size=(N, N)) * scale / np.sqrt(N),
        "W_in": rng.normal(size=(N, I)),
        "W_out": rng.normal(size=(O, N)) / np.sqrt(N),
        "b": rng.normal(size=N) * 0.3 if bias else None,
        "b_out": rng.normal(size=O) * 0.3 if bias else None,
    }
    return w


def trainer(w, B, U, **kw):
    return _core.BpttTrainer(w["W"], w["W_in"], w["W_out"], w["b"], w["b_out"], B, U, **kw)


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


# -- model ---------------------------------------------------------------------


def test_init_follows_the_paper():
    m = TanhRNN(rng=0)
    assert m.W.shape == (100, 100) and m.W_in.shape == (100, 3) and m.W_out.shape == (3, 100)
    assert m.b is None and m.b_out is None
    assert np.abs(m.W).max() <= 0.1 and np.abs(m.W).max() > 0.099
    assert np.abs(m.W_out).max() <= 0.1
    assert np.abs(m.W_in).max() <= 1 / np.sqrt(3) and np.abs(m.W_in).max() > 0.57
    # uniform: variance (1/sqrt(N))^2 / 3
    assert abs(m.W.var() - 1 / 300) < 2e-4
    np.testing.assert_array_equal(TanhRNN(rng=0).W, m.W)
    mb = TanhRNN(n_hidden=4, bias=True, rng=0)
    assert mb.b.shape == (4,) and mb.b_out.shape == (3,)


@given(B=st.integers(1, 3), T=st.integers(0, 12), N=st.integers(1, 9), bias=st.booleans(), seed=st.integers(0, 99))
def test_run_matches_reference(B, T, N, bias, seed):
    rng = np.random.default_rng(seed)
    m = TanhRNN(n_hidden=N, n_in=2, n_out=3, bias=bias, rng=rng)
    if bias:
        m.b = rng.normal(size=N)
        m.b_out = rng.normal(size=3)
    X = rng.normal(size=(B, T, 2))
    S0 = rng.normal(size=(B, N))
    states, out = m.run(X, S0)
    rs, ro = ref.rnn_forward(m.weights(), X, S0)
    np.testing.assert_allclose(states, rs, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(out, ro, rtol=1e-12, atol=1e-13)
    s1, o1 = m.run(X[0], S0[0])
    np.testing.assert_allclose(s1, rs[0], rtol=1e-12, atol=1e-13)
    assert s1.shape == (T, N) and o1.shape == (T, 3)


def test_run_is_thread_independent():
    m = TanhRNN(rng=1)
    X = np.random.default_rng(2).normal(size=(5, 300, 3))
    a = m.run(X, n_threads=1)
    b = m.run(X, n_threads=2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_run_bad_input():
    m = TanhRNN(n_hidden=5, rng=0)
    with pytest.raises(ValueError, match="n_in"):
        m.run(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="X must be"):
        m.run(np.zeros(10))
    with pytest.raises(ValueError, match="NaN"):
        m.run(np.full((10, 3), np.nan))
    with pytest.raises(ValueError, match="S0"):
        m.run(np.zeros((10, 3)), S0=np.zeros(4))
    with pytest.raises(TypeError):
        m.run(np.zeros((10, 3), dtype=complex))
    m.W[0, 0] = np.nan
    with pytest.raises(ValueError, match="W contains NaN"):
        m.run(np.zeros((10, 3)))
    m.W = np.zeros((5, 4))
    with pytest.raises(ValueError, match="W must have shape"):
        m.run(np.zeros((10, 3)))


# -- save / load -----------------------------------------------------------------


@pytest.mark.parametrize("bias", [False, True])
def test_save_load_round_trip(tmp_path, bias):
    from fastmem.dynamics import FlipFlopTask

    m = TanhRNN(n_hidden=6, bias=bias, rng=3)
    if bias:
        m.b += 0.5
    path = tmp_path / "m.npz"
    m.save(path, task=FlipFlopTask(delay=8, rate=0.01))
    m2 = TanhRNN.load(path)
    for k in KEYS:
        a, b = getattr(m, k), getattr(m2, k)
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)
    assert m2.task_settings == {"bits": 3, "rate": 0.01, "delay": 8}
    m3 = TanhRNN(n_hidden=6, rng=3)
    m3.save(tmp_path / "n.npz")
    assert TanhRNN.load(tmp_path / "n.npz").task_settings is None


def _tamper(tmp_path, **changes):
    m = TanhRNN(n_hidden=4, rng=0)
    m.save(tmp_path / "good.npz", task=None)
    data = dict(np.load(tmp_path / "good.npz"))
    for k, v in changes.items():
        if v is None:
            data.pop(k)
        else:
            data[k] = v
    bad = tmp_path / "bad.npz"
    np.savez(bad, **data)
    return bad


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"format_version": np.array(99)}, "format_version"),
        ({"format": np.array("something.else")}, "not a"),
        ({"W": None}, "missing 'W'"),
        ({"W": np.zeros((4, 3))}, "W must"),
        ({"W_in": np.zeros((5, 3))}, "W_in must have shape"),
        ({"W_out": np.full((3, 4), np.nan)}, "NaN"),
        ({"W": np.zeros((4, 4), dtype=np.int64)}, "floating point"),
        ({"b": np.zeros(4)}, "both"),
        ({"task_bits": np.array(3)}, "incomplete task"),
        ({"extra": np.zeros(2)}, "unexpected"),
        ({"W": np.array([object()] * 16, dtype=object).reshape(4, 4)}, "pickle"),
    ],
)
def test_load_rejects_tampered_files(tmp_path, changes, match):
    with pytest.raises(ValueError, match=match):
        TanhRNN.load(_tamper(tmp_path, **changes))


def test_load_rejects_non_npz(tmp_path):
    p = tmp_path / "x.npz"
    p.write_bytes(b"not a zip file at all")
    with pytest.raises((ValueError, OSError)):
        TanhRNN.load(p)


# -- torch interop ----------------------------------------------------------------


@pytest.mark.parametrize("bias", [False, True])
def test_torch_round_trip_and_same_outputs(bias):
    rng = np.random.default_rng(5)
    m = TanhRNN(n_hidden=8, bias=bias, rng=rng)
    if bias:
        m.b = rng.normal(size=8)
        m.b_out = rng.normal(size=3)
    rnn, lin = m.to_torch()
    X = rng.normal(size=(2, 15, 3))
    with torch.no_grad():
        h, _ = rnn(torch.from_numpy(X))
        y = torch.tanh(lin(h)).numpy()
    states, out = m.run(X)
    np.testing.assert_allclose(states, h.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(out, y, rtol=1e-12, atol=1e-13)
    m2 = TanhRNN.from_torch(rnn, lin)
    for k in KEYS:
        a, b = getattr(m, k), getattr(m2, k)
        if a is None:
            assert b is None
        else:
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)


def test_from_torch_rejects_wrong_modules():
    with pytest.raises(TypeError):
        TanhRNN.from_torch(torch.nn.RNN(3, 4, nonlinearity="relu"), torch.nn.Linear(4, 3))
    with pytest.raises(ValueError):
        TanhRNN.from_torch(torch.nn.RNN(3, 4), torch.nn.Linear(5, 3))
    with pytest.raises(ValueError):
        TanhRNN.from_torch(torch.nn.RNN(3, 4, num_layers=2), torch.nn.Linear(4, 3))


# -- gradients ---------------------------------------------------------------------


@given(
    B=st.integers(1, 20),
    U=st.integers(1, 6),
    N=st.integers(1, 8),
    bias=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_gradient_matches_reference(B, U, N, bias, seed):
    rng = np.random.default_rng(seed)
    w = random_weights(rng, N, 3, 2, bias)
    X = rng.normal(size=(B, U, 3))
    Y = rng.uniform(-1, 1, size=(B, U, 2))
    S0 = np.tanh(rng.normal(size=(B, N)))
    tr = trainer(w, B, U)
    tr.state = S0
    loss, g = tr.gradient(X, Y)
    rloss, rg = ref.window_gradient(w, X, Y, S0)
    assert abs(loss - rloss) <= 1e-12 * abs(rloss)
    for k in KEYS:
        np.testing.assert_allclose(g[k], rg[k], rtol=1e-9, atol=1e-14 * np.abs(rg[k]).max())
    # the carried state advanced to the last state of the window
    states, _ = ref.rnn_forward(w, X, S0)
    np.testing.assert_allclose(tr.state, states[:, -1], rtol=1e-12, atol=1e-14)


def test_gradient_matches_central_differences():
    rng = np.random.default_rng(11)
    N, B, U = 6, 3, 5
    w = random_weights(rng, N, 3, 3, bias=True, scale=1.5)
    X = rng.normal(size=(B, U, 3))
    Y = rng.uniform(-1, 1, size=(B, U, 3))
    S0 = np.tanh(rng.normal(size=(B, N)))
    tr = trainer(w, B, U)
    tr.state = S0
    _, g = tr.gradient(X, Y)
    h = 1e-5
    for k in KEYS:
        fd = np.zeros_like(w[k])
        for idx in np.ndindex(w[k].shape):
            wp = {a: v.copy() for a, v in w.items()}
            wm = {a: v.copy() for a, v in w.items()}
            wp[k][idx] += h
            wm[k][idx] -= h
            fd[idx] = (ref.window_loss(wp, X, Y, S0) - ref.window_loss(wm, X, Y, S0)) / (2 * h)
        assert rel_err(g[k], fd) < 1e-6, k


@pytest.mark.parametrize("bias", [False, True])
def test_gradient_matches_torch_autograd(bias):
    rng = np.random.default_rng(12)
    N, B, U = 20, 7, 10
    m = TanhRNN(n_hidden=N, bias=bias, rng=rng)
    if bias:
        m.b = rng.normal(size=N) * 0.3
        m.b_out = rng.normal(size=3) * 0.3
    X = rng.normal(size=(B, U, 3))
    Y = np.sign(rng.normal(size=(B, U, 3)))
    S0 = np.tanh(rng.normal(size=(B, N)))
    rnn, lin = m.to_torch()
    h, _ = rnn(torch.from_numpy(X), torch.from_numpy(S0)[None])
    loss = torch.nn.functional.mse_loss(torch.tanh(lin(h)), torch.from_numpy(Y))
    loss.backward()
    tr = trainer(m.weights(), B, U)
    tr.state = S0
    l2, g = tr.gradient(X, Y)
    assert abs(l2 - loss.item()) < 1e-12
    pairs = {"W": rnn.weight_hh_l0, "W_in": rnn.weight_ih_l0, "W_out": lin.weight}
    if bias:
        pairs.update(b=rnn.bias_ih_l0, b_out=lin.bias)
    for k, p in pairs.items():
        assert rel_err(g[k], p.grad.numpy()) < 1e-6, k


def test_gradient_is_thread_independent():
    rng = np.random.default_rng(4)
    w = random_weights(rng, 30, 3, 3)
    X = rng.normal(size=(70, 10, 3))
    Y = rng.uniform(-1, 1, size=(70, 10, 3))
    out = []
    for n in (1, 2, 3):
        tr = trainer(w, 70, 10)
        out.append(tr.gradient(X, Y, n_threads=n))
    for loss, g in out[1:]:
        assert loss == out[0][0]
        for k in KEYS:
            np.testing.assert_array_equal(g[k], out[0][1][k])


# -- Adam / training steps ------------------------------------------------------------


@pytest.mark.parametrize(
    "trainable, clip",
    [(("W", "W_out"), None), (("W", "W_in", "W_out", "b", "b_out"), None), (("W", "W_out"), 0.05)],
)
def test_training_matches_reference_step_for_step(trainable, clip):
    rng = np.random.default_rng(21)
    N, B, U, steps = 9, 4, 3, 25
    w = random_weights(rng, N, 3, 3, bias=True)
    X = rng.normal(size=(B, U * steps, 3))
    Y = np.sign(rng.normal(size=(B, U * steps, 3)))
    flags = {f"train_{k}": (k in trainable) for k in KEYS}
    tr = trainer(w, B, U, lr=3e-3, clip=0.0 if clip is None else clip, **flags)
    losses = tr.train(X, Y)
    params, rlosses, S = ref.train(w, X, Y, U, lr=3e-3, clip=clip, trainable=trainable)
    np.testing.assert_allclose(losses, rlosses, rtol=1e-10)
    got = tr.weights()
    for k in KEYS:
        np.testing.assert_allclose(got[k], params[k], rtol=1e-9, atol=1e-12)
        if k not in trainable:
            np.testing.assert_array_equal(got[k], w[k])
    np.testing.assert_allclose(tr.state, S, rtol=1e-9, atol=1e-12)
    assert tr.step == steps


def test_adam_matches_torch_optimizer():
    rng = np.random.default_rng(8)
    m = TanhRNN(n_hidden=10, rng=rng)
    B, U, steps = 5, 4, 20
    X = rng.normal(size=(B, U * steps, 3))
    Y = np.sign(rng.normal(size=(B, U * steps, 3)))
    rnn, lin = m.to_torch()
    opt = torch.optim.Adam([rnn.weight_hh_l0, lin.weight], lr=1e-2)
    rnn.weight_ih_l0.requires_grad_(False)
    h0 = torch.zeros(1, B, 10, dtype=torch.float64)
    tl = []
    for s in range(steps):
        xs = torch.from_numpy(X[:, s * U : (s + 1) * U])
        ys = torch.from_numpy(Y[:, s * U : (s + 1) * U])
        opt.zero_grad()
        h, hn = rnn(xs, h0)
        loss = torch.nn.functional.mse_loss(torch.tanh(lin(h)), ys)
        loss.backward()
        opt.step()
        h0 = hn.detach()
        tl.append(loss.item())
    tr = trainer(m.weights(), B, U, lr=1e-2)
    losses = tr.train(X, Y)
    np.testing.assert_allclose(losses, tl, rtol=1e-9)
    np.testing.assert_allclose(tr.weights()["W"], rnn.weight_hh_l0.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tr.weights()["W_out"], lin.weight.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_core_trainer_rejects_bad_arguments():
    w = random_weights(np.random.default_rng(0), 4, 3, 3)
    with pytest.raises(ValueError, match="unroll"):
        trainer(w, 2, 0)
    with pytest.raises(ValueError, match="batch"):
        trainer(w, 0, 2)
    bad = dict(w, W=np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="NaN"):
        trainer(bad, 2, 2)
    tr = trainer(w, 2, 2)
    with pytest.raises(ValueError, match="X must have shape"):
        tr.train(np.zeros((3, 4, 3)), np.zeros((3, 4, 3)))
    with pytest.raises(ValueError, match="Y must have shape"):
        tr.train(np.zeros((2, 4, 3)), np.zeros((2, 5, 3)))
