"""Sphinx configuration of the fastmem documentation.

Build with ``scripts/build_docs.sh`` (``sphinx-build -W -b html docs docs/_build/html``):
autodoc imports the built package, either the installed one or the dev build next to
the sources (``PYTHONPATH=python`` after ``cmake --build build/dev``).

The API reference is discovered, not hard-coded: every public module listed in
``PUBLIC_MODULES`` that exists is documented with the names in its ``__all__``, so a
function that an area adds to an ``__all__`` appears without touching the docs.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re

import fastmem

project = "fastmem"
author = "fastmem developers"
copyright = "fastmem developers"
version = release = fastmem.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",  # numpy-style docstrings
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
html_theme = "alabaster"
html_theme_options = {"description": "Short-term memory in recurrent networks", "fixed_sidebar": True}
html_static_path: list = []

# numpy-style docstrings: Attributes as :ivar: fields (no duplicate attribute entries
# next to what autodoc documents for dataclass fields), types parsed loosely.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_ivar = True
napoleon_use_rtype = False
napoleon_preprocess_types = False

autosummary_generate = True
autosummary_ignore_module_all = False  # document exactly the names in each module's __all__
autosummary_imported_members = False  # but names listed in __all__ are included
autodoc_default_options: dict = {}  # the templates say what each page documents
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_inherit_docstrings = False

# The public API: the library's modules a user imports. A module that does not exist
# (yet) is left out; any other public subpackage of fastmem is added after these.
PUBLIC_MODULES = [
    "fastmem",
    "fastmem.stm",
    "fastmem.stm.theory",
    "fastmem.dynamics",
    "fastmem.plot",
    "fastmem.reference",
]
NOT_API = {"fastmem.cli", "fastmem.reproduce"}  # documented in the narrative pages


def _exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def public_modules() -> list:
    import pkgutil

    found = [m for m in PUBLIC_MODULES if _exists(m)]
    for info in pkgutil.iter_modules(fastmem.__path__, "fastmem."):
        name = info.name
        if not name.rsplit(".", 1)[-1].startswith("_") and name not in found and name not in NOT_API:
            found.append(name)
    return found


API_PAGE = """\
API reference
=============

The public modules of fastmem. Each page lists the names in the module's ``__all__``;
the page is generated at build time from the modules that exist (see ``docs/conf.py``).
Plain numpy versions of the kernels live in :mod:`fastmem.reference`; the private
extension ``fastmem._core`` is not part of the API.

.. autosummary::
   :toctree: generated
   :template: fastmem-module.rst

{modules}
"""


def _write_api_page() -> None:
    """Write docs/api/index.rst (generated, not committed) listing the discovered modules."""
    here = os.path.dirname(os.path.abspath(__file__))
    text = API_PAGE.format(modules="\n".join(f"   {m}" for m in public_modules()))
    path = os.path.join(here, "api", "index.rst")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    old = open(path).read() if os.path.exists(path) else None
    if old != text:  # leave the file alone when nothing changed, so incremental builds stay incremental
        with open(path, "w") as f:
            f.write(text)


_write_api_page()


# fastmem's docstrings write mathematics in plain text, where |x| is an absolute value or a
# norm; reST would read it as a substitution reference and fail the -W build. Escape the bars
# outside inline literals, roles, literal blocks and doctests (no docstring uses substitutions).
_LITERAL = re.compile(r"(``.+?``|(?::[\w:+-]+:)?`[^`]+`_{0,2})")


def _escape_bars(line: str) -> str:
    parts = _LITERAL.split(line)
    return "".join(part if i % 2 else part.replace("|", "\\|") for i, part in enumerate(parts))


def _plain_text_math(app, what, name, obj, options, lines) -> None:
    literal_indent = None  # indentation of the paragraph that opened a literal block (::)
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if literal_indent is not None:
            if not stripped or indent > literal_indent:
                continue
            literal_indent = None
        if "|" in line and not stripped.startswith((">>>", "...")):
            lines[i] = _escape_bars(line)
        if line.rstrip().endswith("::"):
            literal_indent = indent


def setup(app):
    app.connect("autodoc-process-docstring", _plain_text_math)
