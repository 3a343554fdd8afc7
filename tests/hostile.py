"""Hostile-input fuzzing of every public entry point of fastmem (and of ``fastmem._core``).

How it works
------------
* :func:`discover` walks the public API: ``__all__`` of ``fastmem`` and of every
  public subpackage/module (``fastmem.stm``, ``fastmem.stm.theory``,
  ``fastmem.dynamics``, ``fastmem.sweep``, ``fastmem.plot``, ``fastmem.cli`` and any
  new one), the public methods of every public class, and every name in
  ``fastmem._core``. ``fastmem.reference`` (the tests' numpy oracles) and
  ``fastmem.reproduce`` (each target's ``run(args)``, reached through the fuzzed
  ``fastmem.cli.main``) are not walked.
* Every entry point needs a *spec* in ``tests/fuzz_specs.py`` (or a later
  ``tests/fuzz_specs_*.py``, loaded after it; ``amend`` changes a spec's options): a function returning
  one small, valid set of keyword arguments. ``test_fuzz.py::test_every_entry_point_has_a_spec``
  fails for a public function without one (so new entry points get hardened).
* :func:`mutations` derives hostile variants of each argument from its valid value
  (wrong rank/shape, zero-size and huge dimensions, float32/int/complex/object/str
  arrays, non-contiguous, Fortran-ordered and read-only views, NaN/Inf, finite values
  x 1e300 (overflow) and x 1e-300 (underflow), negative,
  absurd or non-integer sizes and tolerances, None, wrong types). Some variants
  hold the same numbers as the valid value ("same": a list, a strided view, a
  read-only view, a numpy scalar); those must give the valid call's result.
* :func:`check_call` runs one call and classifies it: it must succeed with a finite
  result or raise ValueError/TypeError/MemoryError whose message names the argument
  (for shape changes, any argument of the call). Anything else is a *fault*:

  ==================  =======================================================
  crash               the process died (segfault, abort): seen by the parent
  hang                no answer within the time limit
  wrong-exception     an exception other than ValueError/TypeError/MemoryError
  unnamed-argument    the message does not name the offending argument
  unrefused-alloc     MemoryError from an attempted allocation (numpy, std::bad_alloc)
                      rather than a refusal before allocating (check_allocation)
  non-finite          the call returned NaN or Inf (a silent NaN) outside the spec's
                      documented ``nonfinite`` fields
  rejected-equivalent an input holding the same numbers was refused
  different-result    an input holding the same numbers gave another result
  baseline            the spec's valid call itself failed (a broken spec)
  ==================  =======================================================

Run as a script (``python tests/hostile.py OUT.jsonl [ENTRY ...]``) it performs the
exhaustive single-mutation sweep and writes one JSON line per call; the test
runs it in a child process so that a segfault is a reported fault, not a dead
test run.
"""

from __future__ import annotations

import dataclasses
import faulthandler
import importlib
import inspect
import json
import math
import os
import pkgutil
import re
import signal
import sys
import time
import warnings
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

ALLOWED = (ValueError, TypeError, MemoryError)
# reference: the numpy oracles of the tests; reproduce: run(args) of each target, reached
# through fastmem.cli.main (which is fuzzed); __main__: runs the CLI on import.
EXCLUDED_MODULES = ("fastmem.reference", "fastmem.reproduce", "fastmem.__main__")
CALL_TIMEOUT_S = float(os.environ.get("FASTMEM_FUZZ_TIMEOUT", "60"))
HUGE = 2**40


# --------------------------------------------------------------------------- specs


@dataclasses.dataclass
class Spec:
    """How to call one entry point validly.

    make : () -> dict
        Fresh valid keyword arguments (small sizes). Keys starting with ``_`` are
        helpers passed to ``call`` but never mutated (e.g. ``_self``).
    call : callable, optional
        ``call(**kwargs)``; defaults to the entry point itself.
    finite : bool
        Whether a successful result must be finite. Prefer ``nonfinite``: False skips the
        check for the whole result (only for results that hold no computed numbers).
    nonfinite : sequence of str
        Names of the result's fields / dict keys / DataFrame columns that may hold NaN or
        Inf by documented design (e.g. ``rmse`` of an all-zero window); every other number
        in the result must be finite.
    skip : sequence of str
        Arguments not to mutate (say why in a comment).
    aliases : dict
        Other words an error message may use for an argument (``{"model_or_W": ["W"]}``).
    exact : bool
        Whether "same" variants must reproduce the valid result (False for calls
        whose result is not a pure function of the arguments).
    errors : tuple of exception types
        Further exceptions that are a clean refusal (OSError for file names).
    """

    make: Callable[[], Dict[str, Any]]
    call: Optional[Callable[..., Any]] = None
    finite: bool = True
    nonfinite: Sequence[str] = ()
    skip: Sequence[str] = ()
    aliases: Dict[str, Sequence[str]] = dataclasses.field(default_factory=dict)
    exact: bool = True
    errors: Tuple[type, ...] = ()


SPECS: Dict[str, Spec] = {}
EXEMPT: Dict[str, str] = {}
KNOWN: List[Tuple[str, str, str, str]] = []  # (entry pattern, "arg=label" pattern, status, reason)


def register(name: str, make: Callable[[], Dict[str, Any]], **options) -> None:
    """Register the spec of the entry point ``name`` (its dotted id, see :func:`entry_id`)."""
    if name in SPECS:
        raise KeyError(f"spec for {name} registered twice")
    SPECS[name] = Spec(make, **options)


def exempt(name: str, reason: str) -> None:
    """Mark an entry point as not fuzzed, with the reason (kept short and honest)."""
    EXEMPT[name] = reason


def known(entry: str, call: str, status: str, reason: str) -> None:
    """A fault found and left (fnmatch patterns on the entry id and "arg=label"), with where/why.

    The test still runs the call; the fault is reported as known instead of failing.
    """
    KNOWN.append((entry, call, status, reason))


def known_reason(entry: str, arg: str, label: str, status: str) -> Optional[str]:
    import fnmatch

    call = label if "=" in label else f"{arg}={label}"
    for e, c, s, reason in KNOWN:
        if fnmatch.fnmatchcase(entry, e) and fnmatch.fnmatchcase(call, c) and fnmatch.fnmatchcase(status, s):
            return reason
    return None


# --------------------------------------------------------------------------- discovery


def entry_id(obj: Any, owner: Optional[type] = None, attr: Optional[str] = None) -> str:
    if owner is not None:
        return f"{entry_id(owner)}.{attr}"
    mod = getattr(obj, "__module__", None) or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", repr(obj))
    if mod.startswith("fastmem._core"):
        mod = "fastmem._core"
    return f"{mod}.{name}"


def _public_modules() -> List[Any]:
    import fastmem

    mods = {"fastmem": fastmem}
    stack = [fastmem]
    while stack:
        pkg = stack.pop()
        if not hasattr(pkg, "__path__"):
            continue
        for info in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + "."):
            name = info.name
            if any(part.startswith("_") for part in name.split(".")[1:]):
                continue
            if name.startswith(EXCLUDED_MODULES):
                continue
            mod = importlib.import_module(name)
            # a plain module is public when its package exports it or it defines __all__
            parent = sys.modules[name.rpartition(".")[0]]
            short = name.rpartition(".")[2]
            if info.ispkg or hasattr(mod, "__all__") or short in getattr(parent, "__all__", ()):
                if info.ispkg or hasattr(mod, "__all__"):
                    mods[name] = mod
                stack.append(mod)
    return list(mods.values())


def _public_names(mod) -> List[str]:
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n, v in vars(mod).items() if not n.startswith("_") and getattr(v, "__module__", None) == mod.__name__]
    return list(names)


def _methods(cls) -> Iterator[Tuple[str, Any]]:
    for attr, raw in vars(cls).items():
        if attr.startswith("_") or isinstance(raw, property):
            continue
        if isinstance(raw, (staticmethod, classmethod)) or inspect.isfunction(raw) or callable(raw):
            if type(raw).__name__ in ("property", "pybind11_static_property"):
                continue
            yield attr, getattr(cls, attr)


def _is_data_container(cls) -> bool:
    """A result dataclass: its constructor only stores fields."""
    return dataclasses.is_dataclass(cls)


def discover(include_core: bool = True) -> Dict[str, Any]:
    """id -> callable for every public entry point."""
    found: Dict[str, Any] = {}

    def add_class(cls):
        if not _is_data_container(cls):
            found[entry_id(cls)] = cls
        for attr, meth in _methods(cls):
            found[entry_id(None, cls, attr)] = meth

    for mod in _public_modules():
        for name in _public_names(mod):
            obj = getattr(mod, name)
            if inspect.ismodule(obj) or not callable(obj):
                continue
            if getattr(obj, "__module__", "").startswith(EXCLUDED_MODULES):
                continue
            if inspect.isclass(obj):
                if issubclass(obj, BaseException):
                    continue
                add_class(obj)
            else:
                found[entry_id(obj)] = obj
    # Importable helpers: public names (no underscore) defined in any walked module but not
    # exported by an __all__ (e.g. fastmem.stm.lasso.auto_lam). A user can reach them, so
    # they need a spec too, or an exempt() with the reason.
    import fastmem

    for info in pkgutil.walk_packages(fastmem.__path__, "fastmem."):
        name = info.name
        if any(part.startswith("_") for part in name.split(".")[1:]) or name.startswith(EXCLUDED_MODULES):
            continue
        mod = importlib.import_module(name)
        for attr, obj in list(vars(mod).items()):
            if attr.startswith("_") or not callable(obj) or getattr(obj, "__module__", None) != name:
                continue
            if inspect.isclass(obj):
                if issubclass(obj, BaseException):
                    continue
                if entry_id(obj) not in found:
                    add_class(obj)
            elif entry_id(obj) not in found:
                found[entry_id(obj)] = obj
    if include_core:
        core = fastmem._core
        for name in dir(core):
            if name.startswith("_"):
                continue
            obj = getattr(core, name)
            if inspect.isclass(obj):
                found[f"fastmem._core.{name}"] = obj
                for attr, meth in _methods(obj):
                    found[f"fastmem._core.{name}.{attr}"] = meth
            elif callable(obj):
                found[f"fastmem._core.{name}"] = obj
    return found


# --------------------------------------------------------------------------- mutations


@dataclasses.dataclass
class Mutation:
    arg: str
    label: str
    value: Any
    # "any": clean error or finite result; "same": must equal the valid result;
    # "overflow": finite values whose results may overflow (a _core binding checks its
    # inputs, not its outputs: there a non-finite result is allowed; the public API must refuse)
    expect: str = "any"
    shape_change: bool = False


def _nan_at(v: np.ndarray, val: float) -> np.ndarray:
    out = np.array(v, dtype=np.float64, copy=True)
    out.reshape(-1)[out.size // 2] = val
    return out


def _noncontig(v: np.ndarray) -> np.ndarray:
    big = np.repeat(v, 2, axis=-1)
    return big[..., ::2]


def _readonly(v: np.ndarray) -> np.ndarray:
    out = v.copy()
    out.setflags(write=False)
    return out


def array_mutations(arg: str, v: np.ndarray) -> List[Mutation]:
    m: List[Mutation] = []
    S = lambda label, value: m.append(Mutation(arg, label, value, "same"))  # noqa: E731
    A = lambda label, value, shape=False: m.append(Mutation(arg, label, value, "any", shape))  # noqa: E731
    if v.dtype.kind == "f" and v.ndim >= 1 and v.size:
        S("noncontiguous-view", _noncontig(v))
        S("readonly", _readonly(v))
        if v.ndim >= 2:
            S("fortran-order", np.asfortranarray(v))
        if v.size <= 64:
            S("nested-list", v.tolist())
    if v.dtype.kind == "f" and v.size:
        A("float32", v.astype(np.float32))
        A("int64", np.round(v).astype(np.int64))
        A("bool", v > 0)
        A("complex", v.astype(np.complex128))
        A("object", v.astype(object))
        A("str", v.astype(str))
        A("nan", _nan_at(v, np.nan))
        A("inf", _nan_at(v, np.inf))
        A("-inf", _nan_at(v, -np.inf))
        m.append(Mutation(arg, "huge-values", v * 1e300, "overflow"))
        # squares underflow to 0 (a silent 0/0 = NaN, or a zero "converged" solution)
        m.append(Mutation(arg, "tiny-values", v * 1e-300, "overflow"))
    A("rank+1", v[None], True)
    if v.ndim >= 1:
        A("rank-1", v[0] if v.shape[0] else v.reshape(v.shape[1:]) if v.ndim > 1 else np.float64(0.0), True)
        A("0-d", np.float64(1.0), True)
        A("python-float", 1.5, True)
    if v.ndim >= 2 and v.shape[0] != v.shape[1]:
        A("transposed", np.ascontiguousarray(np.swapaxes(v, 0, 1)), True)
    for ax in range(v.ndim):
        shp = list(v.shape)
        shp[ax] = 0
        A(f"zero-size-axis{ax}", np.zeros(shp), True)
        shp[ax] = v.shape[ax] + 1
        A(f"size+1-axis{ax}", np.ones(shp) * 0.5, True)
    if v.ndim >= 1:
        shp = list(v.shape)
        shp[0] = HUGE
        A("huge-dimension-view", np.broadcast_to(np.float64(0.5), tuple(shp)), True)
    A("empty-list", [], True)
    A("ragged-list", [[1.0, 2.0], [3.0]], True)
    A("None", None)
    A("string", "bogus")
    return m


def int_mutations(arg: str, v: int) -> List[Mutation]:
    m = [
        Mutation(arg, "numpy-int", np.int64(v), "same"),
        Mutation(arg, "zero", 0),
        Mutation(arg, "negative", -1),
        Mutation(arg, "huge", HUGE),
        Mutation(arg, "int64-overflow", 2**63),
        Mutation(arg, "bigint", 10**30),
        Mutation(arg, "float-integral", float(v)),
        Mutation(arg, "float", v + 0.5),
        Mutation(arg, "nan", math.nan),
        Mutation(arg, "bool", True),
        Mutation(arg, "None", None),
        Mutation(arg, "string", str(v)),
        Mutation(arg, "array", np.array([v, v])),
    ]
    return m


def float_mutations(arg: str, v: float) -> List[Mutation]:
    return [
        Mutation(arg, "numpy-float", np.float64(v), "same"),
        Mutation(arg, "zero", 0.0),
        Mutation(arg, "negative", -abs(v) - 1.0),
        Mutation(arg, "nan", math.nan),
        Mutation(arg, "inf", math.inf),
        Mutation(arg, "-inf", -math.inf),
        Mutation(arg, "huge", 1e300),
        Mutation(arg, "tiny", 1e-300),
        Mutation(arg, "complex", complex(v, 1.0)),
        Mutation(arg, "None", None),
        Mutation(arg, "string", "1.0"),
        Mutation(arg, "bool", True),
    ]


def str_mutations(arg: str, v: str) -> List[Mutation]:
    return [
        Mutation(arg, "empty", ""),
        Mutation(arg, "bogus", "bogus\x00name"),
        Mutation(arg, "upper", v.upper() + "_X"),
        Mutation(arg, "None", None),
        Mutation(arg, "int", 3),
        Mutation(arg, "bytes", v.encode()),
    ]


def bool_mutations(arg: str, v: bool) -> List[Mutation]:
    return [
        Mutation(arg, "numpy-bool", np.bool_(v), "same"),
        Mutation(arg, "None", None),
        Mutation(arg, "string", "yes"),
        Mutation(arg, "float", 0.5),
        Mutation(arg, "array", np.array([True, False])),
    ]


def none_mutations(arg: str) -> List[Mutation]:
    return [
        Mutation(arg, "string", "bogus"),
        Mutation(arg, "nan", math.nan),
        Mutation(arg, "negative", -1),
        Mutation(arg, "huge", HUGE),
        Mutation(arg, "3-d-array", np.full((2, 3, 5), 0.5), True),
        Mutation(arg, "nan-array", np.array([np.nan])),
        Mutation(arg, "object", object()),
    ]


def seq_mutations(arg: str, v: Sequence) -> List[Mutation]:
    return [
        Mutation(arg, "empty", type(v)()),
        Mutation(arg, "None", None),
        Mutation(arg, "nan-items", type(v)([math.nan] * max(len(v), 1))),
        Mutation(arg, "longer", type(v)(list(v) + list(v[-1:]) * 2)),
        Mutation(arg, "string-items", type(v)(["x"] * max(len(v), 1))),
    ]


def other_mutations(arg: str) -> List[Mutation]:
    return [Mutation(arg, "None", None), Mutation(arg, "string", "bogus"), Mutation(arg, "int", 3),
            Mutation(arg, "object", object())]


def mutations(arg: str, value: Any) -> List[Mutation]:
    if isinstance(value, (bool, np.bool_)):
        return bool_mutations(arg, bool(value))
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
        return array_mutations(arg, value)
    if isinstance(value, (int, np.integer)):
        return int_mutations(arg, int(value))
    if isinstance(value, (float, np.floating)):
        return float_mutations(arg, float(value))
    if isinstance(value, str):
        return str_mutations(arg, value)
    if value is None:
        return none_mutations(arg)
    if isinstance(value, (tuple, list)) and all(isinstance(x, (int, float)) for x in value):
        return seq_mutations(arg, value)
    return other_mutations(arg)


def all_mutations(kwargs: Dict[str, Any], spec: Spec) -> List[Mutation]:
    out: List[Mutation] = []
    for arg, value in kwargs.items():
        if arg.startswith("_") or arg in spec.skip:
            continue
        out.extend(mutations(arg, value))
    return out


# --------------------------------------------------------------------------- checking


class CallTimeout(Exception):
    pass


def _alarm(signum, frame):  # pragma: no cover - only on a hang
    raise CallTimeout()


def _walk_named(obj: Any, depth: int = 0, key: Optional[str] = None) -> Iterator[Tuple[Optional[str], np.ndarray]]:
    """(name, array) for every numeric array / scalar inside a result (dataclasses, dicts,
    tuples, DataFrames, fastmem objects); the name is the nearest field, key or column."""
    if depth > 4 or obj is None:
        return
    if isinstance(obj, (bool, np.bool_, str, bytes)):
        return
    if isinstance(obj, (int, np.integer)):
        return  # integers are finite (and may not fit a float)
    if isinstance(obj, (float, complex, np.number)):
        yield key, np.asarray(obj)
    elif isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc":
            yield key, obj
        elif obj.dtype == object:
            for x in obj.reshape(-1)[:1000]:
                yield from _walk_named(x, depth + 1, key)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from _walk_named(getattr(obj, f.name), depth + 1, f.name)
    elif isinstance(obj, dict):
        for k, x in obj.items():
            yield from _walk_named(x, depth + 1, str(k))
    elif isinstance(obj, (tuple, list)):
        for x in obj[:1000]:
            yield from _walk_named(x, depth + 1, key)
    elif type(obj).__module__.startswith("pandas"):
        if hasattr(obj, "select_dtypes"):
            num = obj.select_dtypes(include=["number"])
            for col in num.columns:
                yield str(col), num[col].to_numpy(dtype=float)
        elif hasattr(obj, "to_numpy"):
            try:
                yield key, np.asarray(obj.to_numpy(dtype=float))
            except (TypeError, ValueError):
                pass
    elif type(obj).__module__.startswith("fastmem") and hasattr(obj, "__dict__"):
        for k, x in vars(obj).items():
            yield from _walk_named(x, depth + 1, k)


def _walk_numbers(obj: Any, depth: int = 0) -> Iterator[np.ndarray]:
    for _, a in _walk_named(obj, depth):
        yield a


def nonfinite_names(result: Any, allowed: Sequence[str] = ()) -> List[str]:
    """Names of the parts of ``result`` holding NaN/Inf, except those ``allowed``."""
    return sorted({str(k) for k, a in _walk_named(result) if k not in allowed and not np.isfinite(a).all()})


def is_finite(result: Any, allowed: Sequence[str] = ()) -> bool:
    return not nonfinite_names(result, allowed)


def same_result(a: Any, b: Any) -> bool:
    xs, ys = list(_walk_numbers(a)), list(_walk_numbers(b))
    if len(xs) != len(ys):
        return False
    for x, y in zip(xs, ys):
        if x.shape != y.shape or not np.allclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True):
            return False
    return True


def names_argument(message: str, names: Sequence[str]) -> bool:
    for n in names:
        if re.search(r"(?<![A-Za-z0-9])" + re.escape(n) + r"(?![A-Za-z0-9])", message):
            return True
    return False


@dataclasses.dataclass
class Outcome:
    entry: str
    arg: str
    label: str
    status: str  # "ok-result", "ok-error", or a fault kind
    detail: str = ""

    @property
    def fault(self) -> bool:
        return not self.status.startswith("ok")


def invoke(target: Callable, spec: Spec, kwargs: Dict[str, Any]) -> Any:
    call = spec.call or target
    return call(**kwargs)


def check_call(entry: str, target: Callable, spec: Spec, kwargs: Dict[str, Any], muts: Sequence[Mutation],
               baseline: Any = None, param_names: Sequence[str] = ()) -> Outcome:
    """Call ``target`` with ``kwargs`` (already mutated by ``muts``) and classify the outcome."""
    arg = ",".join(m.arg for m in muts) or "-"
    label = ",".join(m.label for m in muts) or "valid"
    expect_same = bool(muts) and all(m.expect == "same" for m in muts) and spec.exact
    use_alarm = hasattr(signal, "SIGALRM") and threading_main()
    if use_alarm:
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, CALL_TIMEOUT_S)
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = invoke(target, spec, kwargs)
    except CallTimeout:
        return Outcome(entry, arg, label, "hang", f"> {CALL_TIMEOUT_S} s")
    except ALLOWED + tuple(spec.errors) as exc:
        msg = f"{type(exc).__name__}: {exc}"
        if not muts:
            return Outcome(entry, arg, label, "baseline", msg[:300])
        if isinstance(exc, MemoryError):
            if "more than this machine can hold" in str(exc):
                return Outcome(entry, arg, label, "ok-error", msg[:200])
            return Outcome(entry, arg, label, "unrefused-alloc", msg[:300])
        if spec.errors and isinstance(exc, tuple(spec.errors)):
            return Outcome(entry, arg, label, "ok-error", msg[:200])
        if any(m.expect == "same" for m in muts) and len(muts) == 1:
            return Outcome(entry, arg, label, "rejected-equivalent", msg[:300])
        names: List[str] = []
        for m in muts:
            names.append(m.arg)
            names.extend(spec.aliases.get(m.arg, ()))
        if any(m.shape_change for m in muts) or len(muts) > 1:
            names.extend(param_names)
            for n in param_names:
                names.extend(spec.aliases.get(n, ()))
        if "incompatible function arguments" in str(exc) or names_argument(str(exc), names):
            return Outcome(entry, arg, label, "ok-error", msg[:200])
        return Outcome(entry, arg, label, "unnamed-argument", msg[:300])
    except Exception as exc:  # noqa: BLE001 - classifying is the point
        return Outcome(entry, arg, label, "wrong-exception", f"{type(exc).__name__}: {exc}"[:300])
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    dt = time.perf_counter() - t0
    overflow_ok = entry.startswith("fastmem._core.") and any(m.expect == "overflow" for m in muts)
    if spec.finite and not overflow_ok:
        bad = nonfinite_names(result, spec.nonfinite)
        if bad:
            return Outcome(entry, arg, label, "non-finite", f"result {type(result).__name__} has NaN/Inf in {bad}")
    if expect_same and baseline is not None and not same_result(result, baseline):
        return Outcome(entry, arg, label, "different-result", "same numbers, other result")
    return Outcome(entry, arg, label, "ok-result", f"{dt:.3f}s")


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def param_names_of(target: Callable, kwargs: Dict[str, Any]) -> List[str]:
    names = [k for k in kwargs if not k.startswith("_")]
    try:
        names += [p for p in inspect.signature(target).parameters if p not in names]
    except (TypeError, ValueError):
        pass
    return names


def fuzz_entry(entry: str, target: Callable, spec: Spec, log=None, skip=()) -> List[Outcome]:
    """The exhaustive single-mutation sweep of one entry point (``skip``: "entry::arg=label" ids)."""
    outcomes: List[Outcome] = []
    kwargs = spec.make()
    names = param_names_of(target, kwargs)
    if log:
        log(entry, "valid")
    base = check_call(entry, target, spec, kwargs, (), None, names)
    outcomes.append(base)
    baseline = None
    if base.status == "ok-result":
        baseline = invoke(target, spec, spec.make())
    for mut in all_mutations(kwargs, spec):
        if f"{entry}::{mut.arg}={mut.label}" in skip:
            continue
        kw = spec.make()
        kw[mut.arg] = mut.value
        if log:
            log(entry, f"{mut.arg}={mut.label}")
        outcomes.append(check_call(entry, target, spec, kw, (mut,), baseline, names))
    return outcomes


def amend(name: str, **options) -> None:
    """Change options of an already registered spec (from a later specs module)."""
    if name not in SPECS:
        raise KeyError(f"amend: no spec registered for {name}")
    SPECS[name] = dataclasses.replace(SPECS[name], **options)


def load_specs() -> None:
    """Import tests/fuzz_specs.py, then every tests/fuzz_specs_*.py (sorted)."""
    if not SPECS:
        importlib.import_module("fuzz_specs")
        here = os.path.dirname(os.path.abspath(__file__))
        for fname in sorted(os.listdir(here)):
            if fname.startswith("fuzz_specs_") and fname.endswith(".py"):
                importlib.import_module(fname[:-3])


# --------------------------------------------------------------------------- child process


def main(argv: Sequence[str]) -> int:
    """``hostile.py OUT.jsonl [--skip ENTRY::CALL]... [ENTRY ...]``: the exhaustive sweep."""
    out_path = argv[0]
    rest = list(argv[1:])
    skip = set()
    wanted = []
    while rest:
        a = rest.pop(0)
        if a == "--skip":
            skip.add(rest.pop(0))
        else:
            wanted.append(a)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    load_specs()
    found = discover()
    entries = wanted or sorted(e for e in found if e in SPECS)
    # import the optional packages (torch, dask, sklearn...) before any call is timed
    import fastmem._config

    fastmem._config.build_info()
    # entry points taking file names get ints among the hostile values: an int is an
    # open file descriptor to open(), so keep the low descriptors away from our output
    low = [os.open(os.devnull, os.O_RDWR) for _ in range(16)]
    with open(out_path, "a", encoding="utf-8") as out:

        def log(entry, what):
            # a hard limit per call: C++ code holding no GIL cannot be interrupted by the alarm
            faulthandler.dump_traceback_later(CALL_TIMEOUT_S * 2, exit=True)
            out.write(json.dumps({"start": entry, "call": what}) + "\n")
            out.flush()

        for entry in entries:
            for o in fuzz_entry(entry, found[entry], SPECS[entry], log, skip):
                out.write(json.dumps(dataclasses.asdict(o)) + "\n")
                out.flush()
            faulthandler.cancel_dump_traceback_later()
            out.write(json.dumps({"done": entry}) + "\n")
            out.flush()
    for fd in low:
        try:
            os.close(fd)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    # run the copy that fuzz_specs registers into (not this __main__ module)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import hostile

    sys.exit(hostile.main(sys.argv[1:]))
