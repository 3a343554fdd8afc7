"""Guards of the packaging: one version, typing markers shipped, a stub for every binding.

These run against whatever ``fastmem`` is imported: the dev tree (``PYTHONPATH=python``,
or an editable install) or an installed wheel (``scripts/build_wheels.sh`` runs the suite
against the repaired wheel in a fresh virtual environment).
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import inspect
import re
import sys
import types
from pathlib import Path

import pytest

import fastmem
from fastmem import _core

PACKAGE_DIR = Path(fastmem.__file__).resolve().parent
CHECKOUT = PACKAGE_DIR.parent.parent  # python/fastmem -> repository root, when run from a checkout
FROM_CHECKOUT = PACKAGE_DIR.parent.name == "python" and (CHECKOUT / "pyproject.toml").is_file()

# scikit-build-core's default regex for its "regex" version provider.
VERSION_REGEX = r"""(?i)^(__version__|VERSION)(?: ?\: ?str)? *= *(['"])v?(?P<value>.+?)\2"""


def _toml(path: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.9/3.10
        tomllib = pytest.importorskip("tomli")
    with open(path, "rb") as f:
        return tomllib.load(f)


def test_version_is_a_release_string():
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?(a|b|rc|dev|post)\d+)?", fastmem.__version__), fastmem.__version__


@pytest.mark.skipif(not FROM_CHECKOUT, reason="needs the source checkout's pyproject.toml")
def test_version_has_one_source_in_the_checkout():
    """The build reads the version from python/fastmem/_version.py, the same file fastmem imports."""
    pyproject = _toml(CHECKOUT / "pyproject.toml")
    assert "version" in pyproject["project"]["dynamic"]
    assert "version" not in pyproject["project"]
    provider = pyproject["tool"]["scikit-build"]["metadata"]["version"]
    assert provider["provider"] == "scikit_build_core.metadata.regex"
    version_file = CHECKOUT / provider["input"]
    assert version_file.resolve() == (PACKAGE_DIR / "_version.py")
    match = re.search(provider.get("regex", VERSION_REGEX), version_file.read_text(), re.MULTILINE)
    assert match is not None, "the regex provider finds no version in _version.py"
    assert match.group("value") == fastmem.__version__


@pytest.mark.skipif(FROM_CHECKOUT, reason="checks an installed wheel, not the dev tree")
def test_installed_metadata_matches_version():
    dist = importlib.metadata.distribution("fastmem")
    assert dist.version == fastmem.__version__
    # the compiled core was built for the same version (CMake gets it from scikit-build-core)
    assert _core.build_info()["version"] == fastmem.__version__
    shipped = {str(f).replace("\\", "/") for f in dist.files or []}
    for name in ("fastmem/py.typed", "fastmem/_core.pyi", "fastmem/_version.py"):
        assert name in shipped, f"{name} is missing from the wheel's RECORD"
    extras = set(dist.metadata.get_all("Provides-Extra") or [])
    assert {"plot", "progress", "dask", "torch", "peers", "test", "docs"} <= extras


def test_typing_markers_are_present():
    assert (PACKAGE_DIR / "py.typed").is_file()
    assert (PACKAGE_DIR / "_core.pyi").is_file()


def _stub_names(body) -> dict:
    """Top-level names a stub body defines: {name: set of member names for classes, else None}."""
    names: dict = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[node.name] = None
        elif isinstance(node, ast.ClassDef):
            names[node.name] = set(_stub_names(node.body))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = None
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = None
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
    return names


def _public(names):
    return {n for n in names if not n.startswith("_")}


STUB_ONLY = {"Array"}  # type aliases the stub defines for itself


def test_every_binding_has_a_stub_and_every_stub_a_binding():
    stubs = _stub_names(ast.parse((PACKAGE_DIR / "_core.pyi").read_text()).body)
    bound = _public(dir(_core))
    missing = sorted(bound - set(stubs))
    assert not missing, f"fastmem._core binds {missing} with no entry in _core.pyi"
    stale = sorted(_public(stubs) - bound - STUB_ONLY)
    assert not stale, f"_core.pyi declares {stale}, which fastmem._core does not define"
    for name in sorted(bound):
        obj = getattr(_core, name)
        if isinstance(obj, types.ModuleType):  # a pybind11 submodule: its stub is a nested class-like block
            continue
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            members = _public(vars(obj))
            declared = stubs[name] or set()
            missing = sorted(members - declared)
            assert not missing, f"_core.{name} has {missing} with no entry in its _core.pyi class"


PUBLIC_MODULES = ["fastmem", "fastmem.stm", "fastmem.stm.theory", "fastmem.dynamics", "fastmem.plot", "fastmem.reference"]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_names_exist_and_are_documented(module_name):
    """The API docs list each public module's __all__: every name must exist and carry a docstring."""
    if module_name == "fastmem.stm.theory" and importlib.util.find_spec(module_name) is None:
        pytest.skip("fastmem.stm.theory is not there yet")
    module = importlib.import_module(module_name)
    assert (module.__doc__ or "").strip(), f"{module_name} has no module docstring"
    names = getattr(module, "__all__", None)
    assert names is not None, f"{module_name} defines no __all__"
    assert len(names) == len(set(names)), f"{module_name}.__all__ lists a name twice"
    for name in names:
        assert hasattr(module, name), f"{module_name}.__all__ lists {name!r}, which does not exist"
        obj = getattr(module, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert (obj.__doc__ or "").strip(), f"{module_name}.{name} has no docstring"
