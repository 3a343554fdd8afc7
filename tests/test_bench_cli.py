"""bench/run.py drives every benchmark the same way: each bench/bench_<name>.py is imported by
name and its main(argv) is called (argv = ["--quick"] or []). Running the benchmarks is too slow
for the tests; their command lines are not: every main must take argv and answer --help, and
run.py must import them as modules (benchmarks with a process pool pickle their functions by
module name)."""

import importlib
import inspect
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
NAMES = sorted(p.stem for p in BENCH.glob("bench_*.py"))


@pytest.fixture(autouse=True)
def bench_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))


def test_every_benchmark_is_listed_by_run():
    run = importlib.import_module("run")
    assert sorted("bench_" + n for n in run.available()) == NAMES
    with pytest.raises(SystemExit) as exc:
        run.main(["no_such_benchmark"])
    assert exc.value.code == 2


@pytest.mark.parametrize("name", NAMES)
def test_benchmark_main_takes_argv_and_answers_help(name, capsys):
    module = importlib.import_module(name)
    assert list(inspect.signature(module.main).parameters) == ["argv"], f"{name}.main must take argv (run.py passes it)"
    with pytest.raises(SystemExit) as exc:
        module.main(["--help"])
    assert exc.value.code == 0
    assert "--quick" in capsys.readouterr().out
    assert sys.modules[name] is module
