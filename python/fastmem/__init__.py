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
