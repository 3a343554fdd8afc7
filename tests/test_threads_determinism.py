"""Threads and determinism of every kernel and sweep.

* Concurrency: the kernels release the GIL; the same calls made at once from several
  Python threads give bit-for-bit the results of sequential calls.
* Determinism across runs: the same seed gives bit-identical results in this process
  and in two fresh processes (catches reads of uninitialised memory and hidden state).
* Thread count: n_threads=1 and n_threads=2 agree to rtol 1e-12 (atol 1e-12 on values
  of order one). The kernels partition work over an outer loop, so in practice they
  are bit-identical; the tolerance leaves room for a future reduction done in a fixed
  tree.

The cases are (a) every entry point of the fuzz specs (tests/fuzz_specs.py) that takes
``n_threads`` -- so a new kernel is covered as soon as it is registered there -- and
(b) a few larger hand-made calls of the C++ kernels (enough columns, trials and
initial states that two threads really split the work).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import hostile
from fastmem import _core
from fastmem import dynamics as dyn
from fastmem import stm

hostile.load_specs()
FOUND = hostile.discover()

RTOL = 1e-12
ATOL = 1e-12


def _big_cases():
    """Name -> f(n_threads) for larger calls that split across threads."""
    g = np.random.default_rng(0)
    M, L, N, B = 40, 3, 30, 12
    W, Z = stm.random_network(M, L, rng=1)
    Wd = g.standard_normal((M, M)) / (2 * np.sqrt(M))
    S = g.standard_normal((B, N, L))
    A = stm.measurement_operator(W, Z, N)
    Y = A @ (g.standard_normal((N * L, B)) * (g.random((N * L, B)) < 0.1))
    rnn = dyn.TanhRNN(n_hidden=32, n_in=3, n_out=3, bias=True, rng=2)
    w = rnn.weights()
    X = dyn.FlipFlopTask(rate=0.1, rng=3).pulses(8, 60, rng=4)
    x0 = np.tanh(g.standard_normal((24, 32)))

    def trainer(n):
        t = _core.BpttTrainer(w["W"], w["W_in"], w["W_out"], w["b"], w["b_out"], 8, 10, lr=1e-2)
        Yt = np.tanh(np.cumsum(X, axis=1))
        return t.train(X, Yt, n), t.weights()

    op = _core.NetworkOperator(Wd, Z, N, "dense")
    return {
        "core.propagate": lambda n: _core.propagate(Wd, Z, S, None, None, "tanh", True, "dense", n),
        "core.measurement_operator": lambda n: _core.measurement_operator(Wd, Z, N, "dense", n),
        "core.NetworkOperator.apply": lambda n: op.apply(g2(N * L, B), n),
        "core.NetworkOperator.adjoint": lambda n: op.adjoint(g2(M, B), n),
        "stm.lasso": lambda n: stm.lasso(A, Y, 0.05, tol=1e-8, max_iter=300, n_threads=n),
        "stm.lasso(network)": lambda n: stm.lasso(stm.NetworkOperator(W, Z, N), Y, 0.05, max_iter=200, n_threads=n),
        "core.rnn_run": lambda n: _core.rnn_run(w["W"], w["W_in"], w["W_out"], w["b"], w["b_out"], X, None, n),
        "core.BpttTrainer.train": trainer,
        "dynamics.find_fixed_points": lambda n: dyn.find_fixed_points(rnn, x0, max_iter=50, n_threads=n),
        "dynamics.jacobian_eigenvalues": lambda n: dyn.jacobian_eigenvalues(rnn, x0, n_threads=n),
        "stm.memory_capacity": lambda n: stm.memory_capacity(0.95 * W, Z, max_delay=20, n_threads=n),
        "stm.lasso_gram": lambda n: stm.lasso_gram(stm.ToeplitzGram(W, Z, N, n_threads=n), Y, 0.05, tol=1e-8,
                                                   max_iter=300, n_threads=n),
        "stm.nuclear_norm_gram": lambda n: stm.nuclear_norm_gram(stm.ToeplitzGram(W, Z, N, n_threads=n), Y, 0.05,
                                                                 tol=1e-8, max_iter=300, n_threads=n),
    }


def g2(rows, cols, seed=7):
    return np.random.default_rng(seed).standard_normal((rows, cols))


def _spec_cases():
    """Every fuzz-spec entry point whose valid call takes n_threads."""
    out = {}
    for entry, spec in sorted(hostile.SPECS.items()):
        if entry not in FOUND or "n_threads" not in spec.make():
            continue

        def f(n, entry=entry, spec=spec):
            kw = spec.make()
            kw["n_threads"] = n if not entry.startswith("fastmem._core") or n is not None else 0
            return hostile.invoke(FOUND[entry], spec, kw)

        out["spec:" + entry] = f
    return out


CASES = {**_big_cases(), **_spec_cases()}


def arrays_of(result):
    return [np.ascontiguousarray(a) for a in hostile._walk_numbers(result)]


def digest(result) -> str:
    h = hashlib.sha256()
    for a in arrays_of(result):
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def assert_identical(a, b, what):
    xs, ys = arrays_of(a), arrays_of(b)
    assert len(xs) == len(ys), what
    for x, y in zip(xs, ys):
        assert x.shape == y.shape, what
        np.testing.assert_array_equal(x, y, err_msg=what)


def test_kernels_with_n_threads_are_all_covered():
    """Every _core binding taking n_threads appears in a case (through its spec)."""
    takes = []
    for entry, fn in FOUND.items():
        if entry.startswith("fastmem._core") and "n_threads" in (getattr(fn, "__doc__", "") or "").split("\n")[0]:
            takes.append(entry)
    assert takes
    missing = [e for e in takes if "spec:" + e not in CASES]
    assert not missing, missing


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_and_two_threads_agree(name):
    f = CASES[name]
    r1, r2 = f(1), f(2)
    xs, ys = arrays_of(r1), arrays_of(r2)
    assert len(xs) == len(ys)
    for x, y in zip(xs, ys):
        np.testing.assert_allclose(x, y, rtol=RTOL, atol=ATOL, err_msg=name)
    assert_identical(f(2), r2, f"{name}: two runs with 2 threads differ")


def test_concurrent_calls_match_sequential_calls():
    names = sorted(CASES)
    sequential = {n: CASES[n](2) for n in names}
    jobs = [(n, k) for k in range(3) for n in names]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda job: (job[0], CASES[job[0]](2)), jobs))
    for name, r in results:
        assert_identical(r, sequential[name], f"{name}: concurrent result differs from sequential")


def test_same_kernels_concurrently_on_shared_inputs():
    """Many threads reading the same (read-only) arrays at once, mixed thread counts."""
    A = np.asarray(g2(60, 200, seed=3))
    A.setflags(write=False)
    Y = g2(60, 6, seed=4)
    Y.setflags(write=False)
    ref = stm.lasso(A, Y, 0.1, max_iter=200, n_threads=1)
    with ThreadPoolExecutor(max_workers=6) as pool:
        outs = list(pool.map(lambda k: stm.lasso(A, Y, 0.1, max_iter=200, n_threads=1 + k % 2), range(12)))
    for o in outs:
        np.testing.assert_allclose(o.coef, ref.coef, rtol=RTOL, atol=ATOL)


_CHILD = r"""
import json, sys
sys.path.insert(0, {tests!r})
import test_threads_determinism as T
print(json.dumps({{n: T.digest(f(2)) for n, f in sorted(T.CASES.items())}}))
"""


def test_bit_identical_across_processes():
    here = {n: digest(f(2)) for n, f in sorted(CASES.items())}
    tests = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    for _ in range(1):  # this process and a fresh one
        proc = subprocess.run([sys.executable, "-c", _CHILD.format(tests=tests)], capture_output=True, text=True,
                              timeout=600, env=env, cwd=tests)
        assert proc.returncode == 0, proc.stderr[-3000:]
        there = json.loads(proc.stdout.strip().splitlines()[-1])
        differ = sorted(n for n in here if here[n] != there.get(n))
        assert not differ, f"results differ between processes for {differ}"
