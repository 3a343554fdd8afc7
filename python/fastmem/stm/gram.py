"""The Gram matrix A^T A of an orthogonal network, applied as a convolution in time.

When ``W^T W = q^2 I`` (the "circle" network of any radius, or a scaled orthogonal
matrix), block (k, k') of ``G = A^T A`` is ``q^(N-1-k) Z^T U^(k-k') Z q^(N-1-k')``
with ``U = W / q`` orthogonal: G is block-Toeplitz up to a diagonal scaling, so
``G x`` is a convolution over the N time steps, computed with length-2N DFTs (as
matrix products) and one 2L x 2L product per frequency. A product costs
O(N L (N + L)) per right-hand side whatever the number of nodes M, against
O(M N L) for A and A^T (the network operator) and O((N L)^2) for a dense G; the
one O(M) step, building the blocks ``Z^T U^j Z``, is done once.

The solvers in Gram form (:func:`lasso_gram`, :func:`nuclear_norm_gram`) minimise the
same objectives as :func:`~fastmem.stm.lasso` and :func:`~fastmem.stm.nuclear_norm`
from ``G``, ``A^T y`` and ``||y||^2``; :func:`~fastmem.stm.phase_diagram` uses them for
the circle network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from .. import _core
from .._validation import as_float_array, check_allocation, check_float, check_int, check_threads
from .network import NetworkOperator
from ._scaling import column_scales
from .signals import BasisLike, temporal_basis

__all__ = ["ToeplitzGram", "GramResult", "lasso_gram", "nuclear_norm_gram"]


class ToeplitzGram:
    """``G = (A Psi)^T (A Psi)`` for a network with ``W^T W = q^2 I``.

    Parameters
    ----------
    W : array (M, M)
        Recurrent matrix; must be a scaled orthogonal matrix (checked, O(M) for the
        block-diagonal circle network, O(M^3) for a dense W).
    Z : array (M, L)
    N : int
        Time steps.
    basis : {"identity", "dct"}, optional
        Orthonormal temporal basis Psi (the unknowns are then the coefficients a of
        ``S = Psi a``, along time); default identity. (:func:`~fastmem.stm.lasso` on a
        NetworkOperator also takes user temporal atoms.)
    n_threads : int, optional

    Raises
    ------
    ValueError
        When W is not a scaled orthogonal matrix.
    """

    def __init__(self, W, Z, N: int, basis: BasisLike = "identity", n_threads: Optional[int] = None):
        self.operator = W if isinstance(W, NetworkOperator) else NetworkOperator(W, Z, N)
        self.N, self.L = self.operator.N, self.operator.L
        N, L = self.N, self.L
        # the spectrum (N+1 blocks of 2L x 2L), the DFT matrices and the per-chunk blocks Z^T U^j Z
        check_allocation((N + 1) * 4 * L * L + 9 * N * L * L + 4 * N * (N + 1), "ToeplitzGram(N, L)")
        psi = temporal_basis(self.N, basis)
        self.basis = psi
        self._G = _core.ToeplitzGram(self.operator._op, psi, check_threads(n_threads))

    @classmethod
    def from_operator(cls, op: NetworkOperator, basis: BasisLike = "identity",
                      n_threads: Optional[int] = None) -> "ToeplitzGram":
        """The Gram operator of an existing :class:`NetworkOperator`."""
        if not isinstance(op, NetworkOperator):
            raise TypeError(f"op must be a NetworkOperator, got {type(op).__name__}")
        return cls(op, None, op.N, basis=basis, n_threads=n_threads)

    @property
    def shape(self) -> Tuple[int, int]:
        P = self.N * self.L
        return (P, P)

    @property
    def scale(self) -> float:
        """q, with ``W^T W = q^2 I``."""
        return float(self._G.scale)

    def apply(self, X, n_threads: Optional[int] = None) -> np.ndarray:
        """``G @ x`` for x of shape (P,) or each column of X (P, B)."""
        X = as_float_array(X, "X", ndim=(1, 2))
        P = self.shape[0]
        if X.shape[0] != P:
            raise ValueError(f"X must have N*L = {P} rows, got shape {X.shape}")
        rows = np.ascontiguousarray(X.reshape(P, -1).T)
        out = self._G.apply(rows, check_threads(n_threads)).T
        return out.reshape(X.shape)

    def __matmul__(self, X) -> np.ndarray:
        return self.apply(X)

    def todense(self) -> np.ndarray:
        """The dense G (P, P)."""
        return self._G.to_dense()

    def adjoint_measurements(self, Y, n_threads: Optional[int] = None) -> np.ndarray:
        """``(A Psi)^T Y`` for Y of shape (M,) or (M, B): the right-hand side of the Gram form."""
        Y = as_float_array(Y, "y", ndim=(1, 2))
        if Y.size == 0:
            raise ValueError(f"y must not be empty, got shape {Y.shape}")
        if Y.shape[0] != self.operator.M:
            raise ValueError(f"y must have M = {self.operator.M} rows, got shape {Y.shape}")
        Y2 = Y.reshape(self.operator.M, -1)
        AtY = _coefficient_adjoint(self.operator, Y2, self.basis, check_threads(n_threads))
        return AtY.reshape((-1,) + Y.shape[1:])

    def __repr__(self) -> str:
        return f"ToeplitzGram(N={self.N}, L={self.L}, M={self.operator.M}, scale={self.scale:.6g})"


def _coefficient_adjoint(op: NetworkOperator, Y: np.ndarray, psi: Optional[np.ndarray], threads: int) -> np.ndarray:
    """``(A Psi)^T Y`` (P, B) for Y (M, B): the network's adjoint, then Psi^T along time per channel."""
    AtY = op._op.adjoint(np.ascontiguousarray(Y), threads)
    if psi is None:
        return AtY
    B = AtY.shape[1]
    return np.einsum("nk,nlb->klb", psi, AtY.reshape(op.N, op.L, B)).reshape(-1, B)


@dataclass(frozen=True)
class GramResult:
    """Result of :func:`lasso_gram` / :func:`nuclear_norm_gram`.

    coef: (P,) or (P, B) solution (coefficients in the basis for LASSO); objective,
    iterations, converged (the solver's tolerance was met), settled (stopped by the
    reference test), lipschitz.
    """

    coef: np.ndarray
    objective: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    settled: np.ndarray
    lipschitz: float


def _gram_problem(G, y, lam, warm_start, reference, tol, max_iter, settle_tol, n_threads):
    if not isinstance(G, ToeplitzGram):
        raise TypeError(f"G must be a ToeplitzGram, got {type(G).__name__}")
    Y = as_float_array(y, "y", ndim=(1, 2))
    if Y.size == 0:
        raise ValueError(f"y must not be empty, got shape {Y.shape}")
    single = Y.ndim == 1
    Y2 = Y.reshape(Y.shape[0], -1)
    B = Y2.shape[1]
    lam_arr = as_float_array(lam, "lam", ndim=(0, 1))
    lam_vec = np.broadcast_to(lam_arr.reshape(-1), (B,)).astype(float) if lam_arr.size in (1, B) else None
    if lam_vec is None:
        raise ValueError(f"lam must be a scalar or have one value per column of y ({B}), got shape {lam_arr.shape}")
    if np.any(lam_vec < 0):
        raise ValueError("lam must be >= 0")
    P = G.shape[0]

    def rows(a, name):
        if a is None:
            return None
        a = as_float_array(a, name, ndim=(1, 2))
        if a.shape[0] != P or a.size != P * B:
            raise ValueError(f"{name} must have shape ({P},) or ({P}, {B}) like the solution, got {a.shape}")
        return np.ascontiguousarray(a.reshape(P, B).T)

    tol = check_float(tol, "tol", minimum=0.0)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    settle_tol = check_float(settle_tol, "settle_tol", minimum=0.0)
    threads = check_threads(n_threads)
    # Scale-equivariance: solve for x / c_b from y_b / c_b and lam_b / c_b, c_b = 1 (an exact no-op)
    # unless column b's magnitude is outside [1e-100, 1e100] (||y||^2 would under/overflow).
    c = column_scales(Y2)
    Y2 = Y2 / c
    AtY = np.ascontiguousarray(G.adjoint_measurements(Y2, n_threads=n_threads).T)
    yy = np.einsum("mb,mb->b", Y2, Y2)
    if not np.all(np.isfinite(yy)) or not np.all(np.isfinite(AtY)):
        raise ValueError("y is too large: ||y||^2 or A^T y overflows (rescale y)")
    X0, ref = rows(warm_start, "warm_start"), rows(reference, "reference")
    return single, c, (G._G, AtY, yy, np.ascontiguousarray(lam_vec / c)), dict(
        X0=None if X0 is None else X0 / c[:, None], tol=tol, max_iter=max_iter,
        reference=None if ref is None else np.ascontiguousarray(ref / c[:, None]), settle_tol=settle_tol,
        n_threads=threads)


def _result(res, single: bool, c: np.ndarray) -> GramResult:
    with np.errstate(over="ignore", under="ignore"):
        coef = res["coef"].T * c
        objective = np.asarray(res["objective"]) * c**2
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(objective))):
        raise ValueError("the solution overflows float64: y is too large for it (rescale y)")
    pick = (lambda a: np.asarray(a)[0]) if single else np.asarray
    return GramResult(coef=coef[:, 0] if single else coef, objective=pick(objective),
                      iterations=pick(np.asarray(res["iterations"]).astype(int)),
                      converged=pick(np.asarray(res["converged"]).astype(bool)),
                      settled=pick(np.asarray(res["settled"]).astype(bool)), lipschitz=float(res["lipschitz"]))


def lasso_gram(G: ToeplitzGram, y, lam, *, warm_start=None, reference=None, tol: float = 1e-6,
               max_iter: int = 10000, settle_tol: float = 0.0, n_threads: Optional[int] = None) -> GramResult:
    """LASSO for each column of y, in Gram form on a :class:`ToeplitzGram`.

    Minimises, per column b, ``0.5 ||y_b - A Psi a||^2 + lam_b ||a||_1`` by FISTA with
    monotone restart, stopping on the relative duality gap ``<= tol`` (the same objective
    and rule as :func:`~fastmem.stm.lasso`), using only ``G``, ``(A Psi)^T y_b`` and
    ``||y_b||^2``.

    Parameters
    ----------
    G : ToeplitzGram
    y : array (M,) or (M, B)
    lam : float or array (B,)
    warm_start : array (P,) or (P, B), optional
    reference : array (P,) or (P, B), optional
        A known answer (the true coefficients in a simulation). With ``settle_tol > 0`` a
        column also stops once ``||a - reference||^2`` changes by at most
        ``settle_tol`` (relative) over 10 steps, at two checks in a row.
    tol, max_iter, settle_tol, n_threads

    Returns
    -------
    GramResult
    """
    single, c, args, kwargs = _gram_problem(G, y, lam, warm_start, reference, tol, max_iter, settle_tol, n_threads)
    return _result(_core.lasso_gram(*args, **kwargs), single, c)


def nuclear_norm_gram(G: ToeplitzGram, y, lam, *, warm_start=None, reference=None, tol: float = 1e-6,
                      max_iter: int = 10000, settle_tol: float = 0.0, method: str = "greedy",
                      continuation: bool = True, n_threads: Optional[int] = None) -> GramResult:
    """Nuclear-norm recovery for each column of y, in Gram form on a :class:`ToeplitzGram`.

    Minimises, per column b, ``0.5 ||y_b - A vec(S)||^2 + lam_b ||S||_*`` (S of shape
    (N, L)) by greedy FISTA (or FISTA) with singular value thresholding and continuation on
    lam, stopping on the relative step ``||S+ - S|| <= tol h ||S+||`` (all as
    :func:`~fastmem.stm.nuclear_norm`, whose ``method`` ("greedy" or "fista": Douglas-Rachford
    has no Gram form) and ``continuation`` these are). G
    must have the identity basis. See :func:`lasso_gram` for the other arguments; the
    settling test only runs in the last continuation stage (lam itself).
    """
    from .nuclear_norm import FISTA_METHODS, _acceleration_arguments

    if isinstance(G, ToeplitzGram) and G.basis is not None:
        raise ValueError("nuclear_norm_gram needs a ToeplitzGram with the identity basis")
    accel = _acceleration_arguments(method, continuation, FISTA_METHODS)  # no "dr" in Gram form
    single, c, args, kwargs = _gram_problem(G, y, lam, warm_start, reference, tol, max_iter, settle_tol, n_threads)
    kwargs.update(accel)
    return _result(_core.nuclear_norm_gram(*args, **kwargs), single, c)
