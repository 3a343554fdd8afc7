"""Plain numpy versions of every fastmem kernel, for tests and benchmarks.

They favour clarity over speed: loops over time and batch, no C++.
"""

from . import bptt, fixed_points
from .network import measurement_operator, network_adjoint, network_apply, propagate
from . import lasso
from . import nuclear_norm

__all__ = ["propagate", "measurement_operator", "network_apply", "network_adjoint", "fixed_points", "bptt", "lasso", "nuclear_norm"]
