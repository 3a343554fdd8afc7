"""fastmem: short-term memory in recurrent networks, measured and explained.

Two halves mirror the two papers the library comes from:

* :mod:`fastmem.stm` -- compressive memory of linear random RNNs: networks,
  measurement operators, sparse (LASSO) and low-rank (nuclear norm) recovery,
  phase diagrams and recall curves.
* :mod:`fastmem.dynamics` -- memory in a trained tanh RNN: the (delayed) 3-bit
  flip-flop task, BPTT training, fixed and slow points, PCA and spectra.

:mod:`fastmem.reference` holds a plain numpy version of every kernel,
:mod:`fastmem.plot` the figures, and ``fastmem`` on the command line reproduces them.
"""

import os as _os

# OpenMP threads that wait at a barrier spin by default (GNU: OMP_WAIT_POLICY=active for a
# while). On a machine shared with other processes a spinning thread burns the time slice the
# thread it waits for needs: measured on 2 cores at load 8, a 2-thread Gram product took 16 ms
# with spinning and 0.36 ms with passive waiting (45x). libgomp reads this once, when it is
# loaded, so it is set here, before the core (and its libgomp) loads, unless the user chose.
if "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ:
    _os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

from ._version import __version__
from ._simd import load_core as _load_core

_core = _load_core()  # the build of the C++ core for this CPU, as fastmem._core

from ._config import get_num_threads, set_num_threads, show_config, threads
from . import stm, dynamics, reference

__all__ = [
    "__version__",
    "get_num_threads",
    "set_num_threads",
    "show_config",
    "threads",
    "stm",
    "dynamics",
    "reference",
]
