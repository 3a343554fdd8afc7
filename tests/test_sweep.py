"""The generic sweep engine: seeds, store, resume, executors, bad input."""

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial

import numpy as np
import pandas as pd
import pytest

from fastmem._rng import trial_generator
from fastmem.sweep import FORMAT_VERSION, process_pool, read_store, run_sweep

SEED = 1234
TASKS = [(c, t) for c in range(4) for t in range(3)]
KEY = ("cell", "trial")


def draw_rows(seed, task, delay=0.0):
    """A worker: three rows per task, every value from (seed, task) alone."""
    if delay:
        time.sleep(delay)
    gen = trial_generator(seed, task)
    x = gen.standard_normal(3)
    return [{"item": i, "value": float(x[i]), "ok": bool(x[i] > 0), "label": f"c{task[0]}"} for i in range(3)]


def _reference():
    return run_sweep(partial(draw_rows, SEED), TASKS, KEY, progress=False)


def test_rows_are_tidy_sorted_and_reproducible_per_task():
    table = _reference()
    assert list(table.columns[:2]) == ["cell", "trial"]
    assert len(table) == 3 * len(TASKS)
    # any task alone gives its rows, whatever else ran
    alone = run_sweep(partial(draw_rows, SEED), [(2, 1)], KEY, progress=False)
    sub = table[(table.cell == 2) & (table.trial == 1)].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, sub)
    # order of the task list does not matter
    shuffled = run_sweep(partial(draw_rows, SEED), TASKS[::-1], KEY, progress=False)
    pd.testing.assert_frame_equal(shuffled, table)
    # another seed gives other values
    other = run_sweep(partial(draw_rows, SEED + 1), TASKS, KEY, progress=False)
    assert not np.allclose(other["value"], table["value"])


def test_store_resume_gives_the_same_table(tmp_path):
    store = tmp_path / "results.csv"
    ref = _reference()
    part = run_sweep(partial(draw_rows, SEED), TASKS[:5], KEY, store=store, meta={"s": 1}, progress=False)
    assert len(part) == 15
    calls = []

    def counting(task):
        calls.append(task)
        return draw_rows(SEED, task)

    full = run_sweep(counting, TASKS, KEY, store=store, meta={"s": 1}, progress=False)
    assert sorted(calls) == sorted(TASKS[5:])  # finished tasks skipped
    pd.testing.assert_frame_equal(full, ref)
    again = run_sweep(counting, TASKS, KEY, store=store, meta={"s": 1}, progress=False)
    assert len(calls) == len(TASKS) - 5  # nothing rerun
    pd.testing.assert_frame_equal(again, ref)
    text = store.read_text()
    assert text.startswith(f"# fastmem-sweep {FORMAT_VERSION} ")
    assert len(text.splitlines()) == 2 + 3 * len(TASKS)
    pd.testing.assert_frame_equal(read_store(store, KEY), ref)


def test_store_with_other_settings_is_refused(tmp_path):
    store = tmp_path / "results.csv"
    run_sweep(partial(draw_rows, SEED), TASKS[:2], KEY, store=store, meta={"s": 1}, progress=False)
    with pytest.raises(ValueError, match="other settings"):
        run_sweep(partial(draw_rows, SEED), TASKS, KEY, store=store, meta={"s": 2}, progress=False)
    bad = tmp_path / "other.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a fastmem sweep store"):
        run_sweep(partial(draw_rows, SEED), TASKS, KEY, store=bad, progress=False)
    with pytest.raises(ValueError, match=".csv"):
        run_sweep(partial(draw_rows, SEED), TASKS, KEY, store=tmp_path / "x.txt", progress=False)


@pytest.mark.parametrize("cut", ["mid_line", "mid_task"])
def test_truncated_store_is_repaired_and_completed(tmp_path, cut):
    store = tmp_path / "results.csv"
    ref = _reference()
    run_sweep(partial(draw_rows, SEED), TASKS, KEY, store=store, progress=False)
    data = store.read_bytes()
    lines = data.splitlines(keepends=True)
    if cut == "mid_line":  # a write cut inside the last line
        damaged = data[: len(data) - len(lines[-1]) // 2]
    else:  # whole lines, but the last task only partly there
        damaged = b"".join(lines[:-1])
    store.write_bytes(damaged)
    with pytest.warns(RuntimeWarning):
        table = run_sweep(partial(draw_rows, SEED), TASKS, KEY, store=store, progress=False)
    pd.testing.assert_frame_equal(table, ref)
    body = store.read_text().splitlines()[2:]
    assert len(body) == len(set(body)) == 3 * len(TASKS)  # no duplicates, none missing


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    from functools import partial
    sys.path.insert(0, {tests!r})
    from test_sweep import draw_rows, TASKS, KEY, SEED
    from fastmem.sweep import run_sweep
    run_sweep(partial(draw_rows, SEED, delay=0.15), TASKS, KEY, store={store!r}, progress=False)
    """
)


def test_resume_after_sigkill(tmp_path):
    store = tmp_path / "results.csv"
    script = _KILL_SCRIPT.format(tests=os.path.dirname(__file__), store=str(store))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        if store.exists() and len(store.read_text().splitlines()) >= 2 + 3 * 3:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_lines = len(store.read_text().splitlines())
    assert 2 + 9 <= n_lines < 2 + 3 * len(TASKS), "the kill should land mid-run"
    table = run_sweep(partial(draw_rows, SEED), TASKS, KEY, store=store, progress=False)
    pd.testing.assert_frame_equal(table, _reference())
    body = store.read_text().splitlines()[2:]
    assert len(body) == len(set(body)) == 3 * len(TASKS)


def test_thread_pool_and_spawn_process_pool_match_local():
    ref = _reference()
    with ThreadPoolExecutor(2) as ex:
        pd.testing.assert_frame_equal(run_sweep(partial(draw_rows, SEED), TASKS, KEY, executor=ex, progress=False), ref)
    with process_pool(2) as ex:
        pd.testing.assert_frame_equal(run_sweep(partial(draw_rows, SEED), TASKS, KEY, executor=ex, progress=False), ref)


def test_fork_process_pool_is_refused():
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as ex:
        with pytest.raises(ValueError, match="spawn"):
            run_sweep(partial(draw_rows, SEED), TASKS, KEY, executor=ex, progress=False)
    with pytest.raises(ValueError, match="fork"):
        process_pool(1, method="fork")


def test_dask_local_cluster_matches_local(tmp_path):
    from dask.distributed import Client, LocalCluster

    ref = _reference()
    store = tmp_path / "results.csv"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            table = run_sweep(partial(draw_rows, SEED), TASKS, KEY, executor=client, store=store, progress=False)
    pd.testing.assert_frame_equal(table, ref)
    pd.testing.assert_frame_equal(read_store(store, KEY), ref)


def test_bad_input():
    w = partial(draw_rows, SEED)
    with pytest.raises(TypeError, match="executor"):
        run_sweep(w, TASKS, KEY, executor=object(), progress=False)
    with pytest.raises(ValueError, match="unique"):
        run_sweep(w, [(0, 0), (0, 0)], KEY, progress=False)
    with pytest.raises(ValueError, match="2 entries"):
        run_sweep(w, [(0, 0, 0)], KEY, progress=False)
    with pytest.raises(ValueError, match="key"):
        run_sweep(w, TASKS, (), progress=False)
    with pytest.raises(TypeError, match="worker"):
        run_sweep(42, TASKS, KEY, progress=False)
    with pytest.raises(TypeError, match="progress"):
        run_sweep(w, TASKS, KEY, progress="yes")
    with pytest.raises(TypeError, match="dicts"):
        run_sweep(lambda t: [1, 2], TASKS, KEY, progress=False)
    with pytest.raises(ValueError, match="task has"):
        run_sweep(lambda t: [{"cell": 99, "v": 1.0}], TASKS, KEY, progress=False)


def test_progress_bar_writes_to_stderr(capsys):
    run_sweep(partial(draw_rows, SEED), TASKS[:2], KEY, progress=True, desc="demo")
    assert "demo" in capsys.readouterr().err
    run_sweep(partial(draw_rows, SEED), TASKS[:2], KEY, progress=False, desc="quiet")
    assert "quiet" not in capsys.readouterr().err
