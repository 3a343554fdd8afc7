"""Random linear/tanh networks of eq. (1) and their measurement operator.

    x[n+1] = f(W x[n] + Z s[n] + eps[n]),   x[0] = 0 by default.

For the noiseless linear network the final state is linear in the whole input
stream, ``x[N] = A @ S.reshape(-1)``, with column block k of A equal to
``W^(N-1-k) Z``.

Why the block-diagonal ("circle") network is exact for recovery
-----------------------------------------------------------------
If ``W = U D U^T`` with U orthogonal, then ``U^T x[N]`` is the state of the
network (D, U^T Z). LASSO and nuclear-norm solutions depend on A only through
``||y - A v||``, which ``U^T`` does not change, and with isotropic noise the
noise keeps its distribution. When Z has iid Gaussian entries, ``U^T Z`` has the
same distribution as Z. So a random orthogonal-type network can be simulated, for
recovery purposes, by its real block-diagonal form D (2x2 rotations scaled by
|lambda|), and A is then built in O(M N L) operations instead of O(M^2 N L).
"""

from __future__ import annotations

from typing import Optional, Tuple, Union

import numpy as np

from .. import _core
from .._rng import RNGLike, as_generator
from .._validation import (
    as_float_array,
    check_allocation,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_threads,
)

NETWORK_KINDS = ("circle", "orthogonal", "gaussian")
STRUCTURES = ("auto", "dense", "block_diagonal")


def random_network(
    M: int,
    L: int,
    kind: str = "circle",
    radius: float = 1.0,
    rotate: bool = False,
    rng: RNGLike = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """A random recurrent matrix W (M, M) and input matrix Z (M, L), float64.

    Parameters
    ----------
    M : int
        Number of nodes (>= 1).
    L : int
        Number of input channels (>= 1).
    kind : {"circle", "orthogonal", "gaussian"}
        ``"circle"``: the theory's model, eigenvalues ``radius * exp(+-i w)`` with
        phases ``w ~ U(0, pi)`` in conjugate pairs, built as a real block-diagonal
        of 2x2 rotations (plus one real eigenvalue ``+-radius`` when M is odd).
        ``"orthogonal"``: Haar-random orthogonal matrix times ``radius``.
        ``"gaussian"``: iid Gaussian entries rescaled to spectral radius ``radius``.
    radius : float
        Spectral radius (> 0).
    rotate : bool
        For ``"circle"``: conjugate by a Haar-random orthogonal matrix, giving a
        dense W with the same spectrum. Recovery results are the same in law (see
        the module notes), so sweeps keep the block-diagonal form.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    W : ndarray (M, M)
    Z : ndarray (M, L), entries iid N(0, 1/M)
    """
    M = check_int(M, "M", minimum=1)
    L = check_int(L, "L", minimum=1)
    check_choice(kind, "kind", NETWORK_KINDS)
    radius = check_float(radius, "radius", minimum=0.0, min_inclusive=False)
    rotate = check_bool(rotate, "rotate")
    check_allocation(M * M + M * L, "random_network(M, L)")
    gen = as_generator(rng)
    if kind == "circle":
        W = _circle_blocks(M, radius, gen)
        if rotate:
            U = _haar_orthogonal(M, gen)
            W = U @ W @ U.T
    elif kind == "orthogonal":
        W = radius * _haar_orthogonal(M, gen)
    else:
        G = gen.standard_normal((M, M)) / np.sqrt(M)
        W = G * (radius / np.max(np.abs(np.linalg.eigvals(G))))
    Z = gen.standard_normal((M, L)) / np.sqrt(M)
    return np.ascontiguousarray(W), Z


def _circle_blocks(M: int, radius: float, gen: np.random.Generator) -> np.ndarray:
    W = np.zeros((M, M))
    phases = gen.uniform(0.0, np.pi, size=M // 2)
    c, s = radius * np.cos(phases), radius * np.sin(phases)
    idx = 2 * np.arange(M // 2)
    W[idx, idx] = c
    W[idx + 1, idx + 1] = c
    W[idx, idx + 1] = -s
    W[idx + 1, idx] = s
    if M % 2:
        W[M - 1, M - 1] = radius * (1.0 if gen.uniform() < 0.5 else -1.0)
    return W


def _haar_orthogonal(M: int, gen: np.random.Generator) -> np.ndarray:
    Q, R = np.linalg.qr(gen.standard_normal((M, M)))
    return Q * np.sign(np.diag(R))


def is_block_diagonal(W: np.ndarray) -> bool:
    """True when W has non-zeros only in the 2x2 blocks on its diagonal."""
    W = as_float_array(W, "W", ndim=2, finite=False)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square (M, M), got shape {W.shape}")
    M = W.shape[0]
    if M <= 2:
        return True
    pair = np.arange(M) // 2
    off = pair[:, None] != pair[None, :]
    return not np.any(W[off])


def resolve_structure(W: np.ndarray, structure: str) -> str:
    """``"auto"`` -> ``"block_diagonal"`` if W has that form, else ``"dense"``."""
    check_choice(structure, "structure", STRUCTURES)
    if structure == "auto":
        return "block_diagonal" if is_block_diagonal(W) else "dense"
    if structure == "block_diagonal" and not is_block_diagonal(W):
        raise ValueError("structure='block_diagonal' but W has non-zeros outside its 2x2 diagonal blocks")
    return structure


def _check_network(W, Z) -> Tuple[np.ndarray, np.ndarray]:
    W = as_float_array(W, "W", ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square (M, M), got {W.shape}")
    if W.shape[0] == 0:
        raise ValueError("W must have at least one node, got shape (0, 0)")
    Z = as_float_array(Z, "Z", ndim=(1, 2))
    if Z.ndim == 1:
        Z = Z[:, None]
    if Z.shape[0] != W.shape[0]:
        raise ValueError(f"Z must have shape (M, L) = ({W.shape[0]}, L), got {Z.shape}")
    if Z.shape[1] == 0:
        raise ValueError("Z must have at least one input channel (L >= 1)")
    return W, np.ascontiguousarray(Z)


def propagate(
    W,
    Z,
    S,
    x0=None,
    noise: Union[float, np.ndarray] = 0.0,
    nonlinearity: str = "linear",
    rng: RNGLike = None,
    return_states: bool = False,
    structure: str = "auto",
    n_threads: Optional[int] = None,
) -> np.ndarray:
    """Run ``x[n+1] = f(W x[n] + Z s[n] + eps[n])`` over an input stream.

    Parameters
    ----------
    W : array (M, M)
    Z : array (M, L)
    S : array (N, L) or (B, N, L)
        Row n is s[n]. A batch of B streams runs in parallel in C++ (the batch
        state is one M x B matrix, each step one matrix product).
    x0 : array (M,) or (B, M), optional
        Initial state; zero by default.
    noise : float or array
        Standard deviation of the state noise ``eps[n] ~ N(0, noise^2 I)``, drawn
        from ``rng``; or the noise values themselves, shape (N, M) or (B, N, M).
    nonlinearity : {"linear", "tanh"}
    rng : None, int or numpy.random.Generator
        Used only to draw the noise.
    return_states : bool
        Return all states x[1..N] instead of x[N] alone.
    structure : {"auto", "dense", "block_diagonal"}
        ``"block_diagonal"`` (detected by ``"auto"``) uses O(M) work per step for W.
    n_threads : int, optional
        Threads for this call; the process-wide setting by default.

    Returns
    -------
    ndarray
        x[N] of shape (M,) or (B, M); with ``return_states``, x[1..N] of shape
        (N, M) or (B, N, M).
    """
    W, Z = _check_network(W, Z)
    M, L = Z.shape
    S = as_float_array(S, "S", ndim=(2, 3))
    batched = S.ndim == 3
    S3 = S if batched else S[None]
    B, N = S3.shape[0], S3.shape[1]
    if S3.shape[2] != L:
        want = "(B, N, L)" if batched else "(N, L)"
        raise ValueError(f"S must have shape {want} with L = {L} (the columns of Z), got {S.shape}")
    if N == 0:
        raise ValueError("S must contain at least one time step (N >= 1)")
    if B == 0:
        raise ValueError("S must contain at least one stream (B >= 1)")
    check_choice(nonlinearity, "nonlinearity", ("linear", "tanh"))
    if not isinstance(return_states, (bool, np.bool_)):
        raise TypeError(f"return_states must be a bool, got {type(return_states).__name__}")
    threads = check_threads(n_threads)
    structure = resolve_structure(W, structure)
    check_allocation(B * N * M if return_states else B * M, "propagate output")

    x0_arr = None
    if x0 is not None:
        x0_arr = as_float_array(x0, "x0", ndim=(1, 2))
        if x0_arr.ndim == 1:
            if x0_arr.shape != (M,):
                raise ValueError(f"x0 must have shape (M,) = ({M},), got {x0_arr.shape}")
            x0_arr = np.broadcast_to(x0_arr, (B, M)).copy()
        elif x0_arr.shape != (B, M):
            raise ValueError(f"x0 must have shape (B, M) = ({B}, {M}), got {x0_arr.shape}")

    eps = _noise_values(noise, B, N, M, batched, rng)
    final, states = _core.propagate(W, Z, S3, x0_arr, eps, nonlinearity, bool(return_states), structure, threads)
    out = states if return_states else final
    if not np.isfinite(out).all():
        raise ValueError(_overflow_message("the state of propagate", W, Z, S=S3, x0=x0_arr, noise=eps))
    return out if batched else out[0]


def _overflow_message(what: str, W: np.ndarray, Z: np.ndarray, **others) -> str:
    """A finite network whose result overflowed float64: say which inputs are how large."""
    sizes = [f"max|W| = {np.max(np.abs(W)):.3g}", f"max|Z| = {np.max(np.abs(Z)):.3g}"]
    for name, v in others.items():
        if v is not None and np.size(v):
            sizes.append(f"max|{name}| = {np.max(np.abs(v)):.3g}")
    return (f"{what} overflows float64 (finite inputs, non-finite result): {', '.join(sizes)}; the network's "
            "gain (spectral radius of W) over the steps, or the inputs, are too large: rescale them or use fewer steps")


def _noise_values(noise, B: int, N: int, M: int, batched: bool, rng: RNGLike) -> Optional[np.ndarray]:
    if isinstance(noise, np.ndarray) or isinstance(noise, (list, tuple)):
        eps = as_float_array(noise, "noise", ndim=(2, 3))
        want = (B, N, M) if batched else (N, M)
        if eps.ndim == 2 and eps.shape == (N, M):
            eps = np.broadcast_to(eps, (B, N, M)).copy()
        elif eps.shape != (B, N, M):
            raise ValueError(f"noise values must have shape {want}, got {eps.shape}")
        return eps
    sigma = check_float(noise, "noise", minimum=0.0)
    if sigma == 0.0:
        return None
    check_allocation(B * N * M, "propagate noise")
    gen = as_generator(rng)
    shape = (B, N, M)
    return sigma * gen.standard_normal(shape)


def measurement_operator(
    W, Z, N: int, structure: str = "auto", n_threads: Optional[int] = None
) -> np.ndarray:
    """The dense operator A (M, N*L) with ``x[N] = A @ S.reshape(-1)``.

    Column block k (columns ``k*L .. k*L+L-1``) is ``W^(N-1-k) Z``: the input
    s[k] has been through N-1-k recurrent steps when the state x[N] is read.
    Built in C++ backwards from block N-1 = Z, one product with W per block:
    O(M^2 N L) for dense W, O(M N L) for block-diagonal W (see the module notes
    for why the block-diagonal form is exact for recovery).

    Parameters
    ----------
    W : array (M, M)
    Z : array (M, L)
    N : int
        Number of time steps (>= 1).
    structure : {"auto", "dense", "block_diagonal"}
    n_threads : int, optional

    Returns
    -------
    A : ndarray (M, N*L)
    """
    W, Z = _check_network(W, Z)
    N = check_int(N, "N", minimum=1)
    threads = check_threads(n_threads)
    structure = resolve_structure(W, structure)
    check_allocation(Z.shape[0] * N * Z.shape[1], "measurement_operator A (M x N*L)")
    A = _core.measurement_operator(W, Z, N, structure, threads)
    if not np.isfinite(A).all():
        raise ValueError(_overflow_message(f"A = [W^(N-1) Z, ..., Z] for N = {N}", W, Z))
    return A


class NetworkOperator:
    """The measurement operator of the network (W, Z, N), applied without forming A.

    ``op @ v`` runs the linear network forward over the stream ``v.reshape(N, L)``;
    ``op.T @ y`` runs its transpose backwards. For block-diagonal W each product
    costs O(N M L) per right-hand side and no O(M N L) matrix is stored, which is
    what the solvers use when A is too large. Batches of right-hand sides are
    columns: ``op @ V`` with V of shape (N*L, B).

    Parameters
    ----------
    W : array (M, M)
    Z : array (M, L)
    N : int
    structure : {"auto", "dense", "block_diagonal"}
    """

    def __init__(self, W, Z, N: int, structure: str = "auto"):
        W, Z = _check_network(W, Z)
        self.N = check_int(N, "N", minimum=1)
        self.structure = resolve_structure(W, structure)
        self.W, self.Z = W, Z
        self.M, self.L = Z.shape
        self._op = _core.NetworkOperator(W, Z, self.N, self.structure)

    @property
    def shape(self) -> Tuple[int, int]:
        return (self.M, self.N * self.L)

    def matvec(self, V, n_threads: Optional[int] = None) -> np.ndarray:
        """``A @ V`` for V of shape (N*L,) or (N*L, B)."""
        V = as_float_array(V, "V", ndim=(1, 2))
        if V.shape[0] != self.shape[1]:
            raise ValueError(f"V must have N*L = {self.shape[1]} rows, got shape {V.shape}")
        return self._op.apply(V, check_threads(n_threads))

    def rmatvec(self, Y, n_threads: Optional[int] = None) -> np.ndarray:
        """``A.T @ Y`` for Y of shape (M,) or (M, B)."""
        Y = as_float_array(Y, "Y", ndim=(1, 2))
        if Y.shape[0] != self.M:
            raise ValueError(f"Y must have M = {self.M} rows, got shape {Y.shape}")
        return self._op.adjoint(Y, check_threads(n_threads))

    def __matmul__(self, V) -> np.ndarray:
        return self.matvec(V)

    @property
    def T(self) -> "_AdjointView":
        return _AdjointView(self)

    def todense(self) -> np.ndarray:
        """The dense A (M, N*L), as :func:`measurement_operator` builds it."""
        return measurement_operator(self.W, self.Z, self.N, structure=self.structure)

    def __repr__(self) -> str:
        return f"NetworkOperator(M={self.M}, L={self.L}, N={self.N}, structure={self.structure!r})"


class _AdjointView:
    def __init__(self, op: NetworkOperator):
        self._op = op

    @property
    def shape(self) -> Tuple[int, int]:
        return (self._op.shape[1], self._op.shape[0])

    def __matmul__(self, Y) -> np.ndarray:
        return self._op.rmatvec(Y)
