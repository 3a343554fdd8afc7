#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer run of the C++ core.
#
#   scripts/sanitize.sh [pytest args...]      (default: the kernel-exercising tests)
#
# 1. builds _core with -DFASTMEM_SANITIZE=ON (ASan+UBSan, -fno-sanitize-recover) into
#    build/sanitize (one module: -DFASTMEM_SIMD_VARIANTS=OFF), never touching
#    python/fastmem/;
# 2. stages a copy of the python package with that module in build/sanitize/pkg;
# 3. runs pytest on it with libasan preloaded (Python itself is not instrumented),
#    detect_leaks=0 (CPython's allocator "leaks" by design), halt_on_error=1, and
#    UBSan reports fatal; any report makes the run, and this script, fail.
#
# Takes ~15-25 minutes on 2 cores (the instrumented build is most of it; the tests ~4 minutes),
# so it is not part of .ci/run (see README, "Sanitizers"); run it after changing C++ code.
# Set FASTMEM_SANITIZE_JOBS for the build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build="$root/build/sanitize"
python=${PYTHON:-python}

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFASTMEM_SANITIZE=ON \
  -DFASTMEM_SIMD_VARIANTS=OFF -DFASTMEM_DEV_INPLACE=OFF -DSKBUILD_PROJECT_VERSION=0.1.0 \
  -Dpybind11_DIR="$("$python" -m pybind11 --cmakedir)" >/dev/null
cmake --build "$build" -j "${FASTMEM_SANITIZE_JOBS:-2}"

# the package, with the sanitized core only (no AVX2 variant, no stale .so)
rm -rf "$build/pkg" && mkdir -p "$build/pkg"
cp -r python/fastmem "$build/pkg/fastmem"
find "$build/pkg/fastmem" -name '_core*.so' -delete
cp "$build"/_core*.so "$build/pkg/fastmem/"

libasan=$(${CXX:-c++} -print-file-name=libasan.so)
libubsan=$(${CXX:-c++} -print-file-name=libubsan.so)
[ -f "$libasan" ] || { echo "sanitize.sh: libasan.so not found ($libasan)" >&2; exit 2; }

log="$build/sanitizer-report"
rm -f "$log".*
if [ $# -eq 0 ]; then
  # every test file that calls the kernels (fuzz, threads, and the areas' own tests)
  set -- tests -q -x -p no:cacheprovider -k "not packaging and not simd and not wheel"
fi

run() {
  env LD_PRELOAD="$libasan:$libubsan" \
    ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:halt_on_error=1:abort_on_error=0:exitcode=86:log_path=$log:strict_init_order=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87:log_path=$log" \
    FASTMEM_SIMD=baseline FASTMEM_FUZZ_TIMEOUT=120 PYTHONPATH="$build/pkg" "$@"
}

# the staged package must load the instrumented core
run "$python" -c "import sys, fastmem; f = str(fastmem._core.build_info()); sys.exit(0 if 'sanitize=ON' in f else 3)" \
  || { echo "sanitize.sh: the staged core is not the sanitized build" >&2; exit 3; }

status=0
run "$python" -m pytest "$@" || status=$?

# a report in a child process (the fuzz test runs children) shows up only as a file;
# "failed to allocate" warnings (a refused 2**40-element request -> MemoryError) are not errors
if compgen -G "$log.*" >/dev/null; then
  errors=$(grep -l -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$log".* || true)
  echo "sanitize.sh: $(cat "$log".* | grep -c "failed to allocate") refused huge allocations (warnings)"
  if [ -n "$errors" ]; then
    echo "sanitize.sh: sanitizer reports:" >&2
    cat $errors >&2
    exit 1
  fi
fi
if [ $status -ne 0 ]; then
  echo "sanitize.sh: pytest failed with status $status" >&2
  exit $status
fi
echo "sanitize.sh: clean (ASan+UBSan, $(date -u +%FT%TZ))"
