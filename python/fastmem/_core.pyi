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

# lasso (register_lasso.cpp): FISTA for Yt (B, M); returns dict(coef (B, P), objective, gap,
# iterations, converged (B,), lipschitz)
def lasso_dense(
    A: Array,
    Yt: Array,
    lam: Array,
    X0t: Optional[Array] = None,
    basis_kind: str = "identity",
    basis: Optional[Array] = None,
    L: int = 1,
    tol: float = 1e-6,
    max_iter: int = 10000,
    lipschitz: float = 0.0,
    n_threads: int = 0,
) -> dict[str, Any]: ...
def lasso_working_set(
    A: Array,
    Yt: Array,
    lam: Array,
    X0t: Optional[Array] = None,
    tol: float = 1e-6,
    max_iter: int = 10000,
    p0: int = 100,
    n_threads: int = 0,
) -> dict[str, Any]: ...
def lasso_network(
    op: NetworkOperator,
    Yt: Array,
    lam: Array,
    X0t: Optional[Array] = None,
    basis_kind: str = "identity",
    basis: Optional[Array] = None,
    L: int = 1,
    tol: float = 1e-6,
    max_iter: int = 10000,
    lipschitz: float = 0.0,
    n_threads: int = 0,
) -> dict[str, Any]: ...
# bptt (register_bptt.cpp)
def rnn_run(
    W: Array,
    W_in: Array,
    W_out: Array,
    b: Optional[Array],
    b_out: Optional[Array],
    X: Array,
    S0: Optional[Array] = None,
    n_threads: int = 0,
) -> Tuple[Array, Array]: ...

class BpttTrainer:
    def __init__(
        self,
        W: Array,
        W_in: Array,
        W_out: Array,
        b: Optional[Array],
        b_out: Optional[Array],
        batch: int,
        unroll: int,
        train_W: bool = True,
        train_W_in: bool = False,
        train_W_out: bool = True,
        train_b: bool = False,
        train_b_out: bool = False,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        clip: float = 0.0,
    ) -> None: ...
    @property
    def step(self) -> int: ...
    @property
    def batch(self) -> int: ...
    @property
    def unroll(self) -> int: ...
    @property
    def chunks(self) -> int: ...
    @property
    def last_grad_norm(self) -> float: ...
    state: Array
    def weights(self) -> dict[str, Optional[Array]]: ...
    def train(self, X: Array, Y: Array, n_threads: int = 0) -> Array: ...
    def gradient(self, X: Array, Y: Array, n_threads: int = 0) -> Tuple[float, dict[str, Array]]: ...
    def apply_update(self) -> None: ...

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
    chord_steps: int = 8,
    polish: bool = True,
    share_batch: int = 0,
    share_tol: float = 1e-6,
    share_radius: float = ...,
    share_decrease: float = 0.25,
    merge: bool = True,
    n_threads: int = 0,
) -> dict[str, Any]: ...
def map_jacobian_eigenvalues(W: Array, points: Array, n_threads: int = 0) -> NDArray[np.complex128]: ...

# nuclear_norm (register_nuclear_norm.cpp): FISTA + SVT for y (M, B), lam (B,), S0 (B, N*L);
# A is a dense (M, N*L) array or a NetworkOperator. Returns dict(S (B, N, L), objective,
# residual_norm, nuclear_norm, rank, iterations, converged (B,), lipschitz).
def nuclear_norm_fista(
    A: Any,
    y: Array,
    lam: Array,
    N: int,
    L: int,
    S0: Optional[Array] = None,
    tol: float = 1e-6,
    max_iter: int = 10000,
    lipschitz: float = 0.0,
    svd: str = "gram",
    restart: bool = True,
    n_threads: int = 0,
    greedy: float = 0.0,
    continuation: float = 0.0,
    stage_tol: float = 1e-3,
) -> dict[str, Any]: ...
def nuclear_norm_dr(
    A: Any,
    y: Array,
    lam: Array,
    N: int,
    L: int,
    K: Array,
    S0: Optional[Array] = None,
    tol: float = 1e-6,
    max_iter: int = 10000,
    svd: str = "gram",
    memory: int = 10,
    n_threads: int = 0,
) -> dict[str, Any]: ...
def network_outer_gram(op: NetworkOperator) -> Array: ...
def operator_norm_squared(A: Any, n_threads: int = 0) -> float: ...
def singular_value_threshold(S: Array, tau: Array, svd: str = "gram", n_threads: int = 0) -> Tuple[Array, Array, Array]: ...
# gram (register_gram.cpp): block-Toeplitz A^T A of scaled-orthogonal networks and the
# Gram-form solvers; batches are (B, P) rows; dicts as the A-form solvers plus "settled".
def orthogonal_scale(op: NetworkOperator) -> float: ...

class ToeplitzGram:
    def __init__(self, op: NetworkOperator, basis: Optional[Array] = None, n_threads: int = 0) -> None: ...
    @property
    def shape(self) -> tuple[int, int]: ...
    @property
    def scale(self) -> float: ...
    def apply(self, X: Array, n_threads: int = 0) -> Array: ...
    def to_dense(self) -> Array: ...

def lasso_gram(
    G: ToeplitzGram,
    AtY: Array,
    yy: Array,
    lam: Array,
    X0: Optional[Array] = None,
    tol: float = 1e-6,
    max_iter: int = 10000,
    lipschitz: float = 0.0,
    reference: Optional[Array] = None,
    settle_tol: float = 0.0,
    settle_every: int = 10,
    n_threads: int = 0,
) -> dict[str, Any]: ...
def lasso_working_set_gram(
    G: ToeplitzGram,
    AtY: Array,
    yy: Array,
    lam: Array,
    X0: Optional[Array] = None,
    tol: float = 1e-6,
    max_iter: int = 10000,
    p0: int = 100,
    n_threads: int = 0,
    max_size: int = -1,
) -> dict[str, Any]: ...
def nuclear_norm_gram(
    G: ToeplitzGram,
    AtY: Array,
    yy: Array,
    lam: Array,
    X0: Optional[Array] = None,
    tol: float = 1e-6,
    max_iter: int = 10000,
    lipschitz: float = 0.0,
    restart: bool = True,
    reference: Optional[Array] = None,
    settle_tol: float = 0.0,
    settle_every: int = 10,
    n_threads: int = 0,
    greedy: float = 0.0,
    continuation: float = 0.0,
    stage_tol: float = 1e-3,
) -> dict[str, Any]: ...
