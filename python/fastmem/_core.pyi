"""Type stubs of the private extension module fastmem._core (use the public API)."""

from typing import Any, Optional, Tuple

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

def get_num_threads() -> int: ...
def set_num_threads(n: int) -> None: ...
def hardware_threads() -> int: ...
def build_info() -> dict[str, Any]: ...

# network (register_network.cpp)
def propagate(
    W: Array,
    Z: Array,
    S: Array,
    x0: Optional[Array] = None,
    noise: Optional[Array] = None,
    nonlinearity: str = "linear",
    return_states: bool = False,
    structure: str = "dense",
    n_threads: int = 0,
) -> Tuple[Array, Optional[Array]]: ...
def measurement_operator(W: Array, Z: Array, N: int, structure: str = "dense", n_threads: int = 0) -> Array: ...

class NetworkOperator:
    def __init__(self, W: Array, Z: Array, N: int, structure: str = "dense") -> None: ...
    @property
    def shape(self) -> Tuple[int, int]: ...
    @property
    def N(self) -> int: ...
    @property
    def structure(self) -> str: ...
    def apply(self, V: Array, n_threads: int = 0) -> Array: ...
    def adjoint(self, Y: Array, n_threads: int = 0) -> Array: ...
    def to_dense(self) -> Array: ...

# fixed_points (register_fixed_points.cpp)
def find_fixed_points(
    W: Array,
    c: Array,
    initial_states: Array,
    tol_q: float = 1e-12,
    tol_grad: float = 1e-10,
    tol_step: float = 1e-12,
    max_iter: int = 200,
    rcond_min: float = 1e-8,
    max_halvings: int = 4,
    polish: bool = True,
    n_threads: int = 0,
) -> dict[str, Any]: ...
def map_jacobian_eigenvalues(W: Array, points: Array, n_threads: int = 0) -> NDArray[np.complex128]: ...
