"""Interruption and damaged files: what tests/test_sweep.py and tests/test_bptt.py do not cover.

* A sweep whose workers call the C++ kernels, SIGKILLed twice at random moments
  (seeded) and resumed each time, ends with the uninterrupted table: no duplicate and
  no missing task.
* A store cut at *every* byte offset is repaired (RuntimeWarning) and completed, or
  refused with a ValueError naming the file; never silently misread. Damage in the
  middle (a non-UTF-8 byte, a line with an extra field, a duplicated task) likewise.
* Saved models (TanhRNN.save, npz without pickle): cut at many offsets, a flipped
  byte, a pickled object array, wrong dtype/shape/version, NaN weights, an extra
  array, a plain .npy: each load raises ValueError naming the file.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from functools import partial

import numpy as np
import pandas as pd
import pytest

from fastmem import dynamics as dyn
from fastmem import stm
from fastmem._rng import trial_generator
from fastmem.sweep import read_store, run_sweep

SEED = 77
TASKS = [(c, t) for c in range(3) for t in range(4)]
KEY = ("cell", "trial")


def lasso_rows(seed, task, delay=0.0):
    """A worker that runs the C++ kernels: network, measurement operator, LASSO."""
    if delay:
        time.sleep(delay)
    gen = trial_generator(seed, task)
    W, Z = stm.random_network(12, 1, rng=gen)
    S, _ = stm.sparse_signal(20, 1, 3, rng=gen)
    A = stm.measurement_operator(W, Z, 20)
    res = stm.lasso(A, A @ S.reshape(-1), 0.01, max_iter=300)
    err = float(np.linalg.norm(res.coef - S.reshape(-1)))
    return [{"err": err, "iters": int(res.iterations)}, {"err": -err, "iters": 0}]


def reference():
    return run_sweep(partial(lasso_rows, SEED), TASKS, KEY, progress=False)


def assert_complete(store, ref):
    body = store.read_text().splitlines()[2:]
    assert len(body) == len(set(body)) == 2 * len(TASKS), "duplicate or missing rows in the store"
    pd.testing.assert_frame_equal(read_store(store, KEY), ref)


_SCRIPT = textwrap.dedent(
    """
    import sys
    from functools import partial
    sys.path.insert(0, {tests!r})
    from test_interruption_files import lasso_rows, TASKS, KEY, SEED
    from fastmem.sweep import run_sweep
    run_sweep(partial(lasso_rows, SEED, delay=0.05), TASKS, KEY, store={store!r}, progress=False)
    """
)


def test_sigkill_at_random_moments_then_resume(tmp_path):
    store = tmp_path / "sweep.csv"
    ref = reference()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    script = _SCRIPT.format(tests=os.path.dirname(os.path.abspath(__file__)), store=str(store))
    moments = random.Random(SEED)
    kills = 0
    for _ in range(2):
        before = len(store.read_text().splitlines()) if store.exists() else 0
        proc = subprocess.Popen([sys.executable, "-c", script], env=env)
        # wait until this run has written something new, then kill at a random moment
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if store.exists() and len(store.read_text().splitlines()) > max(before, 2):
                break
            time.sleep(0.01)
        time.sleep(moments.uniform(0.0, 0.12))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a cut line is reported, then removed
            read_store(store, KEY)
    assert kills >= 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        table = run_sweep(partial(lasso_rows, SEED), TASKS, KEY, store=store, progress=False)
    pd.testing.assert_frame_equal(table, ref)
    assert_complete(store, ref)


def _square_rows(task):
    c, t = task
    return [{"v": float(c * 10 + t) + 0.25, "w": f"c{c}"}, {"v": -1.5, "w": "x"}]


def test_store_cut_at_every_byte(tmp_path):
    """Repaired and completed, or refused naming the file: never silently misread."""
    tasks = [(c, t) for c in range(2) for t in range(3)]
    ref = run_sweep(_square_rows, tasks, KEY, progress=False)
    full = tmp_path / "full.csv"
    run_sweep(_square_rows, tasks, KEY, store=full, meta={"m": 1}, progress=False)
    data = full.read_bytes()
    store = tmp_path / "cut.csv"
    refused = 0
    head = len(b"".join(data.splitlines(keepends=True)[:3]))  # settings, header, first row: every byte
    cuts = sorted(set(range(head)) | set(np.linspace(head, len(data), 20).astype(int).tolist()))
    for cut in cuts:
        store.write_bytes(data[:cut])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                table = run_sweep(_square_rows, tasks, KEY, store=store, meta={"m": 1}, progress=False)
        except ValueError as exc:
            assert str(store) in str(exc), f"cut at {cut}: {exc}"
            refused += 1
            continue
        pd.testing.assert_frame_equal(table, ref, obj=f"table after a cut at byte {cut}")
        body = store.read_text().splitlines()[2:]
        assert len(body) == len(set(body)) == 2 * len(tasks), f"cut at {cut}"
    assert refused == 0, f"{refused} cuts were refused rather than repaired"


@pytest.mark.parametrize("damage", ["non-utf8", "extra-field", "duplicated-task", "garbage-line", "bad-header-json"])
def test_store_damaged_in_the_middle(tmp_path, damage):
    tasks = [(c, t) for c in range(2) for t in range(3)]
    ref = run_sweep(_square_rows, tasks, KEY, progress=False)
    store = tmp_path / "store.csv"
    run_sweep(_square_rows, tasks, KEY, store=store, progress=False)
    lines = store.read_bytes().splitlines(keepends=True)
    if damage == "non-utf8":
        lines[4] = lines[4][:2] + b"\xff\xfe" + lines[4][2:]
    elif damage == "extra-field":
        lines[4] = lines[4].rstrip(b"\n") + b",1,2\n"
    elif damage == "duplicated-task":
        lines[4:4] = lines[2:4]
    elif damage == "garbage-line":
        lines[5] = b"\x00\x01garbage\n"
    else:
        lines[0] = lines[0][:-3] + b"\n"
    store.write_bytes(b"".join(lines))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            table = run_sweep(_square_rows, tasks, KEY, store=store, progress=False)
    except ValueError as exc:
        assert str(store) in str(exc), exc
        return
    # repaired: then the table must be the true one, every task exactly once
    pd.testing.assert_frame_equal(table, ref)
    body = store.read_text().splitlines()[2:]
    assert len(body) == len(set(body)) == 2 * len(tasks)


# --------------------------------------------------------------------------- saved models


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "model.npz"
    dyn.TanhRNN(n_hidden=8, n_in=3, n_out=3, bias=True, rng=0).save(path, task=dyn.FlipFlopTask(rng=0))
    return path


def _load_fails_cleanly(path):
    with pytest.raises(ValueError) as info:
        dyn.TanhRNN.load(path)
    assert str(path) in str(info.value)
    return str(info.value)


def test_model_round_trip_is_exact(model_file):
    m = dyn.TanhRNN.load(model_file)
    ref = dyn.TanhRNN(n_hidden=8, n_in=3, n_out=3, bias=True, rng=0)
    for k, v in ref.weights().items():
        np.testing.assert_array_equal(m.weights()[k], v)


def test_model_truncated_anywhere_is_refused(model_file, tmp_path):
    data = model_file.read_bytes()
    cut_path = tmp_path / "cut.npz"
    for cut in sorted(set(np.linspace(0, len(data) - 1, 60).astype(int).tolist())):
        cut_path.write_bytes(data[:cut])
        _load_fails_cleanly(cut_path)


def test_model_with_a_flipped_byte_is_refused_or_identical(model_file, tmp_path):
    """A flipped byte is caught (zip CRC, header checks) or lands where it changes nothing."""
    data = bytearray(model_file.read_bytes())
    ref = dyn.TanhRNN.load(model_file).weights()
    bad = tmp_path / "flip.npz"
    rng = random.Random(3)
    for pos in sorted(rng.sample(range(len(data)), 60)):
        d = bytearray(data)
        d[pos] ^= 0x5A
        bad.write_bytes(bytes(d))
        try:
            got = dyn.TanhRNN.load(bad).weights()
        except ValueError as exc:
            assert str(bad) in str(exc)
            continue
        for k, v in ref.items():  # accepted: then it must be the same model
            if v is None:
                assert got[k] is None
            else:
                np.testing.assert_array_equal(got[k], v, err_msg=f"byte {pos} changed {k} silently")


def _rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    for k, v in changes.items():
        if v is None:
            arrays.pop(k, None)
        else:
            arrays[k] = v
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


@pytest.mark.parametrize(
    "changes, words",
    [
        (dict(W=np.zeros((8, 8), dtype=object)), "pickle"),
        (dict(W=np.zeros((8, 8), dtype=np.int64)), "W"),
        (dict(W=np.zeros((8, 7))), "W"),
        (dict(W_in=np.zeros((7, 3))), "W_in"),
        (dict(b=np.full(8, np.nan)), "b"),
        (dict(b_out=None), "b"),
        (dict(format_version=np.array(2)), "format_version"),
        (dict(format=np.array("something.else")), "format"),
        (dict(format=None), "format"),
        (dict(extra=np.zeros(2)), "unexpected"),
        (dict(task_rate=np.array(7.0)), "task"),
        (dict(W_out=None), "W_out"),
    ],
)
def test_model_tampered_is_refused(model_file, changes, words):
    _rewrite(model_file, **changes)
    msg = _load_fails_cleanly(model_file)
    assert words in msg


def test_model_file_of_another_kind_is_refused(tmp_path):
    npy = tmp_path / "a.npy"
    np.save(npy, np.zeros(3))
    _load_fails_cleanly(npy)
    txt = tmp_path / "b.npz"
    txt.write_text("not a zip")
    _load_fails_cleanly(txt)
    with pytest.raises(TypeError, match="path"):
        dyn.TanhRNN.load(3)  # an int is a file descriptor to open(): refused
    with pytest.raises(TypeError, match="path"):
        dyn.TanhRNN(n_hidden=4).save(3)
