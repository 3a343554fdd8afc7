"""A small, generic engine for resumable parameter sweeps.

A sweep is a list of *tasks* (tuples of ints or strings, named by ``key``) and a
picklable *worker* that turns one task into a list of rows (dicts). The engine

* runs the tasks in-process (``executor=None``: the C++ kernels use all cores), on
  any ``concurrent.futures.Executor``-like object (``submit`` returning futures),
  or on a Dask cluster (a ``dask.distributed.Client``);
* appends each finished task's rows to a CSV ``store`` as soon as they arrive,
  whole rows in one ``write`` followed by ``flush`` and ``fsync``, so a killed
  process loses at most the tasks in flight;
* on a second call with the same store skips the finished tasks (resume);
* returns one tidy pandas DataFrame, rows sorted by the task key.

Seeds are not the engine's business beyond one rule: a worker derives every
random draw from the sweep's entropy and the task/cell/trial indices alone
(:func:`fastmem._rng.trial_generator`), so any task can be recomputed by
itself, in any order, on any machine, and a resumed sweep equals an
uninterrupted one.

Store format (version 1)
------------------------
A CSV file whose first line is ``# fastmem-sweep 1 {json}`` (the sweep's
settings, ``meta``), then a header line, then one line per row. Every row has a
``_task_rows`` column: the number of rows its task produced, so a task whose
rows were only partly written is detected and rerun. A last line without its
newline (a write cut short) is removed on the next open with a warning. A store
written with different settings is refused, never mixed.

Process pools
-------------
A process pool that *forks* after OpenMP has started threads can deadlock in
the child. A ``ProcessPoolExecutor`` whose start method is ``fork`` is therefore
refused; create it with ``mp_context=multiprocessing.get_context("spawn")`` (or
``"forkserver"``), or use :func:`process_pool`.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import warnings
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor
from concurrent.futures import wait as _cf_wait
from typing import Any, Callable, Dict, Hashable, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

FORMAT_VERSION = 1
_MAGIC = "# fastmem-sweep"
_TASK_ROWS = "_task_rows"
# pandas < 3 parses floats with a fast, not always exact, parser unless asked.
_READ_KW = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}

Task = Tuple[Hashable, ...]
Row = Dict[str, Any]

__all__ = ["run_sweep", "read_store", "process_pool", "SweepStore", "FORMAT_VERSION"]


def process_pool(max_workers: Optional[int] = None, method: str = "spawn") -> ProcessPoolExecutor:
    """A ``ProcessPoolExecutor`` with a start method that is safe after OpenMP ("spawn" or "forkserver")."""
    if method not in ("spawn", "forkserver"):
        raise ValueError(f"method must be 'spawn' or 'forkserver' (fork after OpenMP can hang), got {method!r}")
    if max_workers is not None:
        from ._validation import check_int

        max_workers = check_int(max_workers, "max_workers", minimum=1, maximum=4096)
    return ProcessPoolExecutor(max_workers=max_workers, mp_context=multiprocessing.get_context(method))


# --------------------------------------------------------------------------- store


def _cell(value: Any) -> Any:
    """A row value as CSV wants it: numpy scalars -> Python, bools kept as 0/1-free strings."""
    if isinstance(value, (np.bool_, bool)):
        return "True" if value else "False"
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return repr(float(value))
    if isinstance(value, float):
        return repr(value)
    return value


class SweepStore:
    """An append-only CSV file of finished rows (see the module notes for the format).

    Parameters
    ----------
    path : str or os.PathLike
    meta : mapping
        JSON-serialisable settings of the sweep; a store written with other
        settings is refused.
    key : sequence of str
        Names of the task-key columns.
    """

    def __init__(self, path, meta: Mapping[str, Any], key: Sequence[str]):
        self.path = _store_path(path)
        if not isinstance(meta, Mapping):
            raise TypeError(f"meta must be a mapping of JSON-serialisable settings, got {type(meta).__name__}")
        self.meta = json.loads(json.dumps(dict(meta), sort_keys=True))
        self.key = _check_key(key)
        self.columns: Optional[List[str]] = None
        self._existing = self._open()

    # -- reading ------------------------------------------------------------
    def _open(self) -> pd.DataFrame:
        if not os.path.exists(self.path) or os.path.getsize(self.path) == 0:
            return pd.DataFrame()
        with open(self.path, "rb") as fh:
            data = fh.read()
        if not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            warnings.warn(
                f"store {self.path!r}: its last line was cut short (a write was interrupted); "
                f"removing the partial line ({len(data) - cut} bytes) and rerunning that task",
                RuntimeWarning,
                stacklevel=4,
            )
            with open(self.path, "r+b") as fh:
                fh.truncate(cut)
                fh.flush()
                os.fsync(fh.fileno())
            data = data[:cut]
            if not data:  # the cut was inside the settings line: nothing was stored yet
                return pd.DataFrame()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"store {self.path!r} is damaged (not UTF-8 text: {exc}); choose another file") from None
        lines = text.splitlines(keepends=True)
        if not lines or not lines[0].startswith(_MAGIC):
            raise ValueError(f"store {self.path!r} is not a fastmem sweep store (no '{_MAGIC}' first line); "
                             "choose another file")
        head = lines[0][len(_MAGIC):].strip()
        version, _, meta_text = head.partition(" ")
        if version != str(FORMAT_VERSION):
            raise ValueError(f"store {self.path!r} has format version {version}, this fastmem writes {FORMAT_VERSION}")
        try:
            meta = json.loads(meta_text)
        except json.JSONDecodeError:
            raise ValueError(f"store {self.path!r}: its settings line is damaged; choose another file") from None
        if meta != self.meta:
            diff = sorted(k for k in set(meta) | set(self.meta) if meta.get(k) != self.meta.get(k))
            raise ValueError(
                f"store {self.path!r} was written by a sweep with other settings (differ in: {', '.join(diff)}); "
                "use another store file, or call with the same settings to resume"
            )
        if len(lines) == 1:
            return pd.DataFrame()
        self.columns = next(csv.reader([lines[1]]))
        missing = [k for k in (*self.key, _TASK_ROWS) if k not in self.columns]
        if missing:
            raise ValueError(f"store {self.path!r} lacks the key columns {missing}; choose another file")
        if len(lines) == 2:
            return pd.DataFrame(columns=self.columns)
        try:
            frame = pd.read_csv(io.StringIO("".join(lines[1:])), **_READ_KW)
        except Exception as exc:  # pragma: no cover - damaged in the middle, not at the end
            raise ValueError(f"store {self.path!r} cannot be read ({exc}); it was edited or damaged") from None
        damaged = frame[list(self.key) + [_TASK_ROWS]].isna().any(axis=1)
        if damaged.any():
            where = ", ".join(str(i + 3) for i in np.flatnonzero(damaged.to_numpy())[:5])
            raise ValueError(f"store {self.path!r} has damaged lines (line {where}: a key or {_TASK_ROWS} is "
                             "missing); it was edited or corrupted, choose another file")
        # Keep only complete tasks: a task is complete when all its rows are present.
        counts = frame.groupby(list(self.key), sort=False)[_TASK_ROWS].transform("size")
        complete = counts == frame[_TASK_ROWS]
        if not complete.all():
            warnings.warn(
                f"store {self.path!r}: {int((~complete).sum())} rows belong to tasks that were only partly "
                "written; removing them and rerunning those tasks",
                RuntimeWarning,
                stacklevel=4,
            )
            body = [ln for ln, ok in zip(lines[2:], complete.to_numpy()) if ok]
            self._rewrite(lines[:2] + body)
        return frame[complete].reset_index(drop=True)

    def _rewrite(self, lines: Sequence[str]) -> None:
        """Replace the store's content atomically (temporary file, fsync, rename)."""
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write("".join(lines))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def finished(self) -> set:
        """The keys (tuples) of the tasks already in the store."""
        if self._existing.empty:
            return set()
        keys = self._existing[list(self.key)].itertuples(index=False, name=None)
        return {tuple(_normal(v) for v in k) for k in keys}

    def existing(self) -> pd.DataFrame:
        return self._existing

    # -- writing ------------------------------------------------------------
    def append(self, rows: Sequence[Row]) -> None:
        """Append the rows of one task: one write of whole lines, then flush and fsync."""
        if not isinstance(rows, Sequence) or isinstance(rows, (str, bytes)):
            raise TypeError(f"rows must be a list of dicts, got {type(rows).__name__}")
        if not rows:
            return
        buf = io.StringIO()
        new_file = not os.path.exists(self.path) or os.path.getsize(self.path) == 0
        if new_file:
            buf.write(f"{_MAGIC} {FORMAT_VERSION} {json.dumps(self.meta, sort_keys=True)}\n")
        if self.columns is None:
            self.columns = list(rows[0].keys())
            buf.write(",".join(self.columns) + "\n")
        writer = csv.writer(buf, lineterminator="\n")
        for row in rows:
            if set(row) != set(self.columns):
                raise ValueError(
                    f"worker rows must all have the same columns {self.columns}, got {sorted(row)}"
                )
            writer.writerow([_cell(row[c]) for c in self.columns])
        payload = buf.getvalue().encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(payload)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)


def _store_path(path) -> str:
    if not isinstance(path, (str, os.PathLike)) or isinstance(os.fspath(path), bytes):
        raise TypeError(f"store must be a str or os.PathLike .csv file name, got {type(path).__name__}")
    path = os.fspath(path)
    if not path.endswith(".csv"):
        raise ValueError(f"store must be a .csv file path, got {path!r}")
    if "\x00" in path:
        raise ValueError("store path must not contain NUL characters")
    return path


def _check_key(key) -> Tuple[str, ...]:
    if isinstance(key, str) or not isinstance(key, (tuple, list)):
        raise TypeError(f"key must be a tuple or list of column names, got {type(key).__name__} {key!r}")
    key = tuple(key)
    if not key or not all(isinstance(k, str) for k in key):
        raise ValueError(f"key must be a non-empty sequence of column names, got {key!r}")
    return key


def read_store(path, key: Sequence[str]) -> pd.DataFrame:
    """The complete tasks' rows of a store (any settings), sorted by ``key``; repairs a cut last line."""
    path = _store_path(path)
    key = _check_key(key)
    try:
        with open(path, "r", encoding="utf-8") as fh:
            first = fh.readline()
    except UnicodeDecodeError as exc:
        raise ValueError(f"store {path!r} is damaged (not UTF-8 text: {exc})") from None
    if not first.startswith(_MAGIC):
        raise ValueError(f"{path!r} is not a fastmem sweep store")
    meta = json.loads(first[len(_MAGIC):].strip().partition(" ")[2])
    store = SweepStore(path, meta, key)
    table = store.existing().drop(columns=[_TASK_ROWS], errors="ignore")
    return table.sort_values(list(key), kind="stable").reset_index(drop=True) if not table.empty else table


def _normal(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        f = float(v)
        return int(f) if f.is_integer() else f
    return v


# --------------------------------------------------------------------------- executors


def _is_dask_client(executor: Any) -> bool:
    mod = type(executor).__module__ or ""
    return mod.startswith("distributed") and hasattr(executor, "gather") and hasattr(executor, "submit")


def _check_executor(executor: Any) -> None:
    if executor is None or _is_dask_client(executor):
        return
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(
            "executor must be None, a concurrent.futures.Executor-like object (with submit) or a "
            f"dask.distributed.Client, got {type(executor).__name__}"
        )
    if isinstance(executor, ProcessPoolExecutor):
        ctx = getattr(executor, "_mp_context", None)
        method = ctx.get_start_method() if ctx is not None else multiprocessing.get_start_method()
        if method == "fork":
            raise ValueError(
                "a ProcessPoolExecutor that forks can hang after OpenMP has started threads; create it "
                "with mp_context=multiprocessing.get_context('spawn') (or 'forkserver'), or use "
                "fastmem.sweep.process_pool()"
            )


def _run_task(worker: Callable[[Task], List[Row]], task: Task) -> List[Row]:
    return list(worker(task))


def _finish_rows(key: Sequence[str], task: Task, rows: Sequence[Row]) -> List[Row]:
    out = []
    for row in rows:
        if not isinstance(row, Mapping):
            raise TypeError(f"worker must return a list of dicts (rows), got an item of type {type(row).__name__}")
        full = {k: v for k, v in zip(key, task)}
        for k, v in row.items():
            if k in full and _normal(v) != _normal(full[k]):
                raise ValueError(f"worker row has {k}={v!r} but its task has {k}={full[k]!r}")
            full[k] = v
        full[_TASK_ROWS] = len(rows)
        out.append(full)
    return out


# --------------------------------------------------------------------------- the sweep


def run_sweep(
    worker: Callable[[Task], Iterable[Row]],
    tasks: Sequence[Task],
    key: Sequence[str],
    *,
    store=None,
    meta: Optional[Mapping[str, Any]] = None,
    executor: Any = None,
    progress: bool = True,
    desc: str = "sweep",
) -> pd.DataFrame:
    """Run ``worker`` over ``tasks`` and return all rows as one tidy DataFrame.

    Parameters
    ----------
    worker : callable
        ``worker(task) -> list of dict``: the rows of one task. Must be picklable
        (a module-level function or a ``functools.partial`` of one) to run on a
        process pool or Dask. Each row gets the task's key fields as columns.
    tasks : sequence of tuple
        The tasks, each a tuple of ints/strings with one entry per name in ``key``;
        keys must be unique.
    key : sequence of str
        Column names of the task tuple's entries.
    store : str or os.PathLike, optional
        A ``.csv`` file: finished rows are appended as they arrive, and a later
        call with the same store (and the same ``meta``) skips finished tasks.
    meta : mapping, optional
        JSON-serialisable settings that define the sweep (written to the store;
        resuming with different settings is refused).
    executor : None, Executor-like or dask.distributed.Client
        None runs the tasks one after another in this process. Otherwise each task
        is submitted to the executor (process pools must not fork, see the
        module notes).
    progress : bool
        Show a tqdm progress bar over tasks.
    desc : str
        The progress bar's label.

    Returns
    -------
    pandas.DataFrame
        Every row of every task (those from the store first-come, then new),
        sorted by ``key``.
    """
    key = _check_key(key)
    if not callable(worker):
        raise TypeError(f"worker must be callable, got {type(worker).__name__}")
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, (Sequence, np.ndarray)):
        raise TypeError(f"tasks must be a sequence of tuples, got {type(tasks).__name__}")
    tasks = [tuple(t) if isinstance(t, (tuple, list)) else (t,) for t in tasks]
    for t in tasks:
        if len(t) != len(key):
            raise ValueError(f"every task must have {len(key)} entries {key}, got {t!r}")
    norm = [tuple(_normal(v) for v in t) for t in tasks]
    if len(set(norm)) != len(norm):
        raise ValueError("tasks must be unique")
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be a bool, got {type(progress).__name__}")
    _check_executor(executor)

    sweep_store = SweepStore(store, meta or {}, key) if store is not None else None
    done = sweep_store.finished() if sweep_store is not None else set()
    todo = [t for t, n in zip(tasks, norm) if n not in done]
    wanted = set(norm)
    collected: List[Row] = []

    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=desc, disable=not progress, unit="task")

    def accept(task: Task, rows: Sequence[Row]) -> None:
        full = _finish_rows(key, task, rows)
        if sweep_store is not None:
            sweep_store.append(full)
        collected.extend(full)
        bar.update(1)

    try:
        if executor is None:
            for task in todo:
                accept(task, _run_task(worker, task))
        elif _is_dask_client(executor):
            from distributed import as_completed as dask_as_completed

            futures = {executor.submit(_run_task, worker, t, pure=False): t for t in todo}
            try:
                for fut in dask_as_completed(list(futures)):
                    accept(futures[fut], fut.result())
            finally:
                for fut in futures:
                    if not fut.done():
                        fut.cancel()
        else:
            pending = {executor.submit(_run_task, worker, t): t for t in todo}
            try:
                while pending:
                    finished, _ = _cf_wait(list(pending), return_when=FIRST_COMPLETED)
                    for fut in finished:
                        task = pending.pop(fut)
                        accept(task, fut.result())
            finally:
                for fut in pending:
                    fut.cancel()
    finally:
        bar.close()

    parts = []
    if sweep_store is not None and not sweep_store.existing().empty:
        old = sweep_store.existing()
        keep = [tuple(_normal(v) for v in k) in wanted for k in old[list(key)].itertuples(index=False, name=None)]
        parts.append(old[keep])
    if collected:
        parts.append(pd.DataFrame(collected, columns=list(collected[0].keys())))
    if not parts:
        return pd.DataFrame(columns=list(key))
    table = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    table = table.drop(columns=[_TASK_ROWS], errors="ignore")
    for col in table.columns:  # values read back from CSV and fresh values: one dtype per column
        if table[col].dtype == object:
            conv = pd.to_numeric(table[col], errors="coerce")
            if conv.notna().all():
                table[col] = conv
            elif set(table[col].map(str)) <= {"True", "False"}:
                table[col] = table[col].map(lambda v: str(v) == "True")
    return table.sort_values(list(key), kind="stable").reset_index(drop=True)
