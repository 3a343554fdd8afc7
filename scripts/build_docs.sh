#!/usr/bin/env bash
# Build the HTML documentation with warnings as errors:
#     sphinx-build -W -b html docs docs/_build/html
# Autodoc imports fastmem: the dev build next to the sources when there is one
# (cmake --build build/dev with -DFASTMEM_DEV_INPLACE=ON puts _core*.so into python/fastmem),
# otherwise the installed package. Needs the docs extra: pip install "fastmem[docs]" (or sphinx).
# -E: always re-read every page, so a cached page cannot hide a warning. Extra arguments go to sphinx-build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
PYTHON=${PYTHON:-python3}
if compgen -G "python/fastmem/_core*" > /dev/null; then
  export PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}"
fi
"$PYTHON" -c "import fastmem, sys; print(f'documenting fastmem {fastmem.__version__} from {fastmem.__file__}')" || {
  echo "error: fastmem is not importable: build it (see the README's Development section) or pip install ." >&2
  exit 2
}
"$PYTHON" -c "import sphinx" 2>/dev/null || { echo "error: sphinx is missing: pip install \"fastmem[docs]\"" >&2; exit 2; }
exec "$PYTHON" -m sphinx -W --keep-going -E -b html "$@" docs docs/_build/html
