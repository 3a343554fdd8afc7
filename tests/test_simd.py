"""The x86-64-v3 build of the core agrees with the baseline build."""

import importlib
import os
import subprocess
import sys

import numpy as np
import pytest

import fastmem
from fastmem._simd import cpu_supports_x86_64_v3

SCRIPT = """
import numpy as np, fastmem
from fastmem import stm
W, Z = stm.random_network(300, 20, kind="gaussian", radius=0.9, rng=0)
S = np.random.default_rng(1).standard_normal((4, 30, 20))
np.save({path!r}, np.concatenate([stm.propagate(W, Z, S, nonlinearity="tanh").ravel(),
                                  stm.measurement_operator(W, Z, 30).ravel()]))
print(fastmem._core.build_info()["simd_variant"])
"""


def _has_variant() -> bool:
    try:
        importlib.import_module("fastmem._core_x86_64_v3")
    except ImportError:
        return False
    return True


def _run(tmp_path, simd):
    path = str(tmp_path / f"{simd}.npy")
    env = dict(os.environ, FASTMEM_SIMD=simd)
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(path=path)], env=env, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip(), np.load(path)


def test_loaded_core_is_the_one_for_this_cpu():
    variant = fastmem._core.build_info()["simd_variant"]
    if _has_variant() and cpu_supports_x86_64_v3() and os.environ.get("FASTMEM_SIMD", "auto") == "auto":
        assert variant == "x86-64-v3"
    else:
        assert variant in ("baseline", "native", "x86-64-v3")


def test_variants_agree(tmp_path):
    if not (_has_variant() and cpu_supports_x86_64_v3()):
        if os.environ.get("FASTMEM_REQUIRE_SIMD_VARIANT"):
            pytest.fail("the x86-64-v3 core was not built or this CPU lacks AVX2/FMA")
        pytest.skip("development build without the x86-64-v3 core (pip builds include it)")
    name_b, base = _run(tmp_path, "baseline")
    name_v, v3 = _run(tmp_path, "x86-64-v3")
    assert (name_b, name_v) == ("baseline", "x86-64-v3")
    np.testing.assert_allclose(v3, base, rtol=1e-11, atol=1e-12)


def test_bad_simd_choice_is_refused(tmp_path):
    env = dict(os.environ, FASTMEM_SIMD="avx9000")
    out = subprocess.run([sys.executable, "-c", "import fastmem"], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "FASTMEM_SIMD must be" in out.stderr
