"""The documentation builds with warnings as errors (what scripts/build_docs.sh runs).

A docstring that breaks numpydoc/reST markup, a page that points at a function that was
renamed, or a public module missing from the API pages fails here, in CI, instead of on the
day someone builds the docs. The docs are copied first so that the generated API page is not
written into the checkout.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import fastmem

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_docs_build_without_warnings(tmp_path):
    src = tmp_path / "docs"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns("_build", "api"))
    env = dict(os.environ)
    # autodoc must import the fastmem these tests import (the installed one, or the dev tree)
    package_root = str(Path(fastmem.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    run = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html", str(src), str(tmp_path / "html")],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    index = (tmp_path / "html" / "index.html").read_text()
    assert "fastmem" in index
    api = (tmp_path / "html" / "api" / "index.html").read_text()
    for module in ("fastmem.stm", "fastmem.dynamics", "fastmem.plot", "fastmem.reference"):
        assert module in api, f"{module} missing from the API pages"
