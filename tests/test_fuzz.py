"""Hostile input: every public entry point of fastmem, and every ``fastmem._core`` binding.

* ``test_every_entry_point_has_a_spec``: the public API is discovered by walking the
  packages (tests/hostile.py); each entry needs a valid call in tests/fuzz_specs.py.
* ``test_entry_point_survives_hostile_input[...]``: the exhaustive single-mutation sweep,
  run in child processes (a segfault or a hang is then a reported fault of the call
  that caused it, and the sweep goes on without it).
* ``test_random_combinations``: hypothesis draws 1-3 simultaneous mutations of one
  entry point and calls it in this process.

The rule checked: a call succeeds with a finite result (the valid result itself when
the hostile variant holds the same numbers) or raises ValueError/TypeError/MemoryError
naming the argument. Set FASTMEM_FUZZ_REPORT=path to get the counts as JSON.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hostile

hostile.load_specs()
FOUND = hostile.discover()
ENTRIES = sorted(FOUND)
CHILD_TIMEOUT_S = 900


def test_every_entry_point_has_a_spec():
    missing = sorted(e for e in FOUND if e not in hostile.SPECS and e not in hostile.EXEMPT)
    assert not missing, (
        "public entry points without a hostile-input spec (register a valid small call in "
        f"tests/fuzz_specs.py, see its docstring): {missing}"
    )


def test_no_stale_specs():
    stale = sorted(e for e in list(hostile.SPECS) + list(hostile.EXEMPT) if e not in FOUND)
    assert not stale, f"specs for entry points that are no longer public (remove them from tests/fuzz_specs.py): {stale}"


def test_discovery_sees_the_core_and_the_subpackages():
    prefixes = ["fastmem._core.", "fastmem.stm.", "fastmem.stm.theory.", "fastmem.dynamics.", "fastmem.sweep."]
    for p in prefixes:
        assert any(e.startswith(p) for e in FOUND), p
    assert not any(e.startswith("fastmem.reference") for e in FOUND)


def _run_children(entries, tmp_path):
    """The exhaustive sweep in child processes, restarted after a crash or hang."""
    out = tmp_path / "fuzz.jsonl"
    # the child imports fastmem exactly as this process did (installed or PYTHONPATH=python)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    skip: set = set()
    faults = []
    remaining = list(entries)
    for _ in range(50):
        cmd = [sys.executable, hostile.__file__, str(out)]
        for s in sorted(skip):
            cmd += ["--skip", s]
        proc = subprocess.run(cmd + remaining, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, env=env)
        rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
        if proc.returncode == 0:
            break
        starts = [r for r in rows if "start" in r]
        if not starts:
            raise RuntimeError(f"fuzz child failed before any call:\n{proc.stderr[-3000:]}")
        last = starts[-1]
        kind = "hang" if "Timeout" in proc.stderr else "crash"
        faults.append({"entry": last["start"], "arg": last["call"].partition("=")[0], "label": last["call"],
                       "status": kind, "detail": f"rc={proc.returncode} " + proc.stderr[-500:]})
        entry = last["start"]
        if last["call"] == "valid":
            remaining = remaining[remaining.index(entry) + 1:]
        else:
            remaining = remaining[remaining.index(entry):]
            skip.add(f"{entry}::{last['call']}")
            skip.update(f"{r['entry']}::{r['arg']}={r['label']}" for r in rows if r.get("entry") == entry)
        if not remaining:
            break
    outcomes = {}
    for r in rows:
        if "status" in r:
            outcomes.setdefault((r["entry"], r["arg"], r["label"]), r)
    for f in faults:
        outcomes[(f["entry"], f["arg"], f["label"])] = f
    return list(outcomes.values())


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    entries = [e for e in ENTRIES if e in hostile.SPECS]
    outcomes = _run_children(entries, tmp_path_factory.mktemp("fuzz"))
    by_entry = collections.defaultdict(list)
    for o in outcomes:
        by_entry[o["entry"]].append(o)
    report = os.environ.get("FASTMEM_FUZZ_REPORT")
    if report:
        with open(report, "w") as fh:
            json.dump({"calls": len(outcomes), "status": collections.Counter(o["status"] for o in outcomes),
                       "entries": len(by_entry), "outcomes": outcomes}, fh, indent=1)
    return by_entry


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e in hostile.SPECS])
def test_entry_point_survives_hostile_input(sweep, entry):
    outcomes = sweep.get(entry)
    assert outcomes, f"{entry} was not exercised"
    faults = [o for o in outcomes if not o["status"].startswith("ok")
              and not hostile.known_reason(entry, o["arg"], o["label"], o["status"])]
    assert not faults, f"{entry}: {len(faults)} of {len(outcomes)} calls faulted:\n" + "\n".join(
        f"  {o['status']:<20} {o['label']:<32} {o['detail']}" for o in faults
    )


# --------------------------------------------------------------------------- random combinations

_COMBO_ENTRIES = [e for e in ENTRIES if e in hostile.SPECS]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.data())
def test_random_combinations(data):
    entry = data.draw(st.sampled_from(_COMBO_ENTRIES), label="entry")
    spec = hostile.SPECS[entry]
    kwargs = spec.make()
    muts = hostile.all_mutations(kwargs, spec)
    if not muts:
        return
    k = data.draw(st.integers(1, min(3, len(muts))), label="k")
    chosen = {}
    for _ in range(k):
        m = data.draw(st.sampled_from(muts))
        chosen[m.arg] = m
    for m in chosen.values():
        kwargs[m.arg] = m.value
    names = hostile.param_names_of(FOUND[entry], kwargs)
    base = None
    if all(m.expect == "same" for m in chosen.values()):
        base = hostile.invoke(FOUND[entry], spec, spec.make())
    o = hostile.check_call(entry, FOUND[entry], spec, kwargs, list(chosen.values()), base, names)
    if o.fault and any(hostile.known_reason(entry, m.arg, m.label, o.status) for m in chosen.values()):
        return
    assert not o.fault, f"{entry} with {o.label}: {o.status}: {o.detail}"


# --------------------------------------------------------------------------- the finiteness rule itself

# Entry points whose results hold no computed numbers (settings, strings, None): the only
# ones allowed to switch the finiteness check off. Any other NaN/Inf a result may hold by
# design must be named in its spec's ``nonfinite`` (fields / keys / columns).
_NO_NUMBERS = {
    "fastmem._config.show_config",       # prints, returns None
    "fastmem._core.build_info",          # strings and flags
    "fastmem.stm.estimator.Lasso.get_params",
    "fastmem.stm.estimator.Lasso.set_params",  # stores what it is given (scikit-learn: fit validates)
    "fastmem.sweep.process_pool",        # returns an executor
    "fastmem.cli.build_parser",          # usage text
}


def test_finiteness_check_is_switched_off_only_for_results_without_numbers():
    off = {e for e, s in hostile.SPECS.items() if not s.finite}
    assert off == _NO_NUMBERS, f"finite=False used for {sorted(off - _NO_NUMBERS)}: name the fields in nonfinite="


def test_nonfinite_walker_names_the_parts():
    import dataclasses

    import pandas as pd

    @dataclasses.dataclass(frozen=True)
    class Result:
        error: np.ndarray
        recall: np.ndarray

    r = Result(error=np.array([0.1, np.nan]), recall=np.array([1.0, np.inf]))
    assert hostile.nonfinite_names(r) == ["error", "recall"]
    assert hostile.nonfinite_names(r, ("recall",)) == ["error"]
    table = pd.DataFrame({"rmse": [np.nan, 0.1], "energy": [1.0, np.inf], "model": ["a", "b"]})
    assert hostile.nonfinite_names(table, ("rmse",)) == ["energy"]
    assert hostile.is_finite({"a": 1.0, "b": (2.0, np.float64(3.0))})
    assert not hostile.is_finite({"a": [1.0, complex(np.nan, 0)]})
