"""Sparse recovery by LASSO (FISTA in C++).

For each column y_b of y, :func:`lasso` minimises

    F_b(a) = 0.5 ||y_b - A Psi a||_2^2 + lam_b ||a||_1

over the coefficients a (length P = N*L), with A the measurement operator (a dense
matrix or the matrix-free :class:`~fastmem.stm.NetworkOperator`) and Psi an
orthonormal synthesis basis, so the recovered stream is ``vec(S) = Psi a``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Optional, Tuple, Union

import numpy as np

from .. import _core
from .._validation import (
    as_float_array,
    check_allocation,
    check_choice,
    check_float,
    check_int,
    check_norm,
    check_threads,
)
from ._scaling import check_operator_gain, column_scales, safe_scale
from .network import NetworkOperator
from .signals import BASES, dct_basis

ORTHONORMAL_ATOL = 1e-8
ALGORITHMS = ("auto", "fista", "working_set", "gram")
WORKING_SET_P0 = 100  # size of the first working set


@dataclass(frozen=True)
class LassoResult:
    """Result of :func:`lasso`.

    Attributes
    ----------
    coef : ndarray (P,) or (P, B)
        The coefficients a (one column per right-hand side).
    S : ndarray (N, L) or (B, N, L), or None
        The recovered stream(s) ``vec(S) = Psi a``; None when the shape (N, L) is
        unknown (a dense A without ``signal_shape``).
    iterations : int or ndarray (B,)
        Proximal-gradient steps taken.
    objective : float or ndarray (B,)
        ``0.5||y - A Psi a||^2 + lam ||a||_1`` at the returned a.
    gap : float or ndarray (B,)
        Duality gap (>= 0), an upper bound on ``objective - optimum``.
    converged : bool or ndarray (B,)
        ``gap <= tol * objective`` was reached within ``max_iter``.
    lam : float or ndarray (B,)
        The regularisation actually used (resolved from ``"auto"``).
    lipschitz : float
        The step's Lipschitz constant, an estimate of ``||A Psi||_2^2`` (``"fista"``;
        0 for ``"working_set"``, whose inner problems each estimate their own).
    """

    coef: np.ndarray
    S: Optional[np.ndarray]
    iterations: Union[int, np.ndarray]
    objective: Union[float, np.ndarray]
    gap: Union[float, np.ndarray]
    converged: Union[bool, np.ndarray]
    lam: Union[float, np.ndarray]
    lipschitz: float


def auto_lam(A, noise: float) -> float:
    """The ``lam="auto"`` rule: ``noise * sqrt(2 log P) * ||A||_F / sqrt(P)``.

    The universal threshold for noise of standard deviation ``noise`` on each entry
    of y, scaled by the root-mean-square column norm of A (= that of A Psi for
    orthonormal Psi). For a NetworkOperator ``||A||_F^2`` is estimated from 16
    fixed Gaussian probes (Hutchinson, ``E||A^T g||^2 = ||A||_F^2``; deterministic).
    """
    noise = check_float(noise, "noise", minimum=0.0)
    if isinstance(A, NetworkOperator):
        M, P = A.shape
        G = np.random.default_rng(0).standard_normal((M, 16))
        fro2 = float(np.sum(A.rmatvec(G) ** 2) / 16)
    else:
        A = as_float_array(A, "A", ndim=2, allow_empty=False)
        check_norm(A, "A")
        M, P = A.shape
        fro2 = float(np.sum(A * A))
    return noise * np.sqrt(2.0 * np.log(max(P, 2))) * np.sqrt(fro2 / P)


def _resolve_basis(basis, P: int, shape: Optional[Tuple[int, int]]):
    """-> (kind, matrix) with kind in {"identity", "temporal", "dense"}."""
    if basis is None:
        return "identity", None
    if isinstance(basis, str):
        if basis not in BASES:
            raise ValueError(f"basis must be None, one of {', '.join(map(repr, BASES))} or an ndarray, got {basis!r}")
        if basis == "identity":
            return "identity", None
        if shape is None:
            raise ValueError("basis='dct' needs the signal shape: pass signal_shape=(N, L) (or a NetworkOperator)")
        return "temporal", dct_basis(shape[0])
    Psi = as_float_array(basis, "basis", ndim=2)
    if Psi.shape == (P, P):
        kind = "dense"
    elif shape is not None and Psi.shape == (shape[0], shape[0]):
        kind = "temporal"
    else:
        want = f"(P, P) = ({P}, {P})" + (f" or (N, N) = ({shape[0]}, {shape[0]})" if shape else "")
        raise ValueError(f"basis must have shape {want}, got {Psi.shape}")
    err = np.abs(Psi.T @ Psi - np.eye(Psi.shape[0])).max()
    if err > ORTHONORMAL_ATOL * max(1, Psi.shape[0]):
        raise ValueError(
            f"basis must be orthonormal (Psi.T @ Psi == I; max deviation {err:.2e}); for another dictionary "
            "pass A @ Psi as A and basis=None"
        )
    return kind, Psi


def _dense_times_basis(A: np.ndarray, kind: str, Psi, L: int) -> np.ndarray:
    if kind == "identity":
        return A
    if kind == "dense":
        return A @ Psi
    M, P = A.shape
    N = P // L  # (A Psi)[:, k*L + l] = sum_n A[:, n*L + l] D[n, k]
    return np.einsum("mnl,nk->mkl", A.reshape(M, N, L), Psi, optimize=True).reshape(M, P)


def _synthesize(coef2: np.ndarray, kind: str, Psi, shape) -> Optional[np.ndarray]:
    """coef2 (P, B) -> S (B, N, L)."""
    if shape is None:
        return None
    N, L = shape
    Ac = coef2.T.reshape(-1, N, L)
    if kind == "identity":
        return Ac.copy()
    if kind == "temporal":
        return np.einsum("nk,bkl->bnl", Psi, Ac)
    return (Psi @ coef2).T.reshape(-1, N, L)


def _lasso_gram(op: NetworkOperator, Yt: np.ndarray, lam: np.ndarray, X0t, psi, tol: float, max_iter: int,
                threads: int) -> dict:
    """The Gram-form solve of lasso(): right-hand sides (A Psi)^T y_b from the operator's adjoint."""
    from .gram import _coefficient_adjoint

    G = _core.ToeplitzGram(op._op, psi, threads)
    AtY = _coefficient_adjoint(op, Yt.T, psi, threads)  # (P, B)
    yy = np.einsum("bm,bm->b", Yt, Yt)
    if psi is None:  # Gram entries straight from the Toeplitz blocks: working sets, as for a dense A
        return _core.lasso_working_set_gram(G, np.ascontiguousarray(AtY.T), yy, lam, X0t, tol, max_iter,
                                            WORKING_SET_P0, threads)
    return _core.lasso_gram(G, np.ascontiguousarray(AtY.T), yy, lam, X0t, tol, max_iter, 0.0, None, 0.0, 10, threads)


def lasso(
    A,
    y,
    lam: Union[float, np.ndarray, str],
    basis=None,
    noise: Optional[float] = None,
    tol: float = 1e-6,
    max_iter: int = 10000,
    warm_start=None,
    signal_shape: Optional[Tuple[int, int]] = None,
    algorithm: str = "auto",
    n_threads: Optional[int] = None,
) -> LassoResult:
    """Recover sparse coefficients from measurements by LASSO (FISTA in C++).

    Minimises, for each column b of y,

        0.5 ||y_b - A Psi a_b||_2^2 + lam_b ||a_b||_1

    by FISTA with a step from a power-iteration estimate of ||A Psi||^2, monotone
    adaptive restart (O'Donoghue & Candes) and a stop on the relative duality gap
    ``gap <= tol * objective`` (or ``max_iter`` steps).

    Two drivers (``algorithm``):

    * ``"fista"``: FISTA on the whole problem; all columns of y advance together as
      matrix products (one apply and one adjoint of A Psi per step), converged
      columns leave the batch. The only driver for a NetworkOperator.
    * ``"working_set"`` (dense A): a growing subset W of the columns (started from
      the largest correlations |a_j^T y|, extended by the KKT violators
      |a_j^T r| > lam of the whole problem after each inner solve, as celer does),
      solved in Gram form on W by coordinate descent with Anderson extrapolation and
      semismooth Newton steps: the minimiser on the face predicted by one coordinate
      step (G_SS x_S = q_S - lam sign_S, a Cholesky factor updated as S changes),
      kept when it lowers the objective. Optimality is always checked on all
      columns. Columns of a batch are solved independently, in parallel.
      ``iterations`` counts coordinate-descent epochs plus Newton steps.

    * ``"gram"`` (NetworkOperator whose W is a scaled orthogonal matrix, e.g. the
      circle network): the block-Toeplitz ``A^T A`` (:class:`~fastmem.stm.ToeplitzGram`)
      replaces A. With the identity basis, the same working sets as ``"working_set"``,
      their Gram entries looked up from the Toeplitz blocks (nothing after the build
      depends on M), as long as the support stays below ``sqrt(apply_cost / 2)``
      non-zeros (1063 at L = 40, N = 100): a column whose support outgrows it is solved
      from its start by FISTA in Gram form instead, whose step (one product with
      ``A^T A``) then costs less than a coordinate-descent epoch on the working set
      (measured at the paper's size: 5-26x faster for supports of 1800-3300); its
      ``iterations`` add both. With a temporal basis, FISTA in Gram form (products cost
      O(N L (N + L)) per column whatever M), same stopping rule as ``"fista"``.

    ``"auto"`` picks ``"working_set"`` for a dense A, ``"gram"`` for a NetworkOperator
    with a scaled orthogonal W (and the identity or a temporal basis), and ``"fista"``
    otherwise.

    Parameters
    ----------
    A : ndarray (M, P) or NetworkOperator
        The measurement operator (e.g. :func:`measurement_operator`), or the network
        itself, applied matrix-free (A Psi is then never formed).
    y : array (M,) or (M, B)
        Measurements; B right-hand sides are solved together.
    lam : float >= 0, array (B,) or "auto"
        The l1 weight, one per column if an array. ``"auto"`` needs ``noise`` (the
        standard deviation of the noise on each entry of y) and uses
        ``noise * sqrt(2 log P) * ||A||_F / sqrt(P)`` (see :func:`auto_lam`).
    basis : None, "identity", "dct" or ndarray
        The orthonormal synthesis basis Psi: ``"dct"`` is the DCT-II along time per
        input channel (``kron(dct_basis(N), I_L)``, see :func:`basis_matrix`); an
        ndarray is Psi (P, P) or temporal atoms D (N, N). Non-orthonormal bases are
        rejected. With a dense A, ``A @ Psi`` is formed once; with a NetworkOperator
        Psi is applied before A on every product.
    noise : float, optional
        Noise level for ``lam="auto"``.
    tol : float
        Relative duality-gap tolerance.
    max_iter : int
        Maximum proximal steps per column.
    warm_start : array (P,) or (P, B), optional
        Initial coefficients.
    signal_shape : (N, L), optional
        Shape of one stream when A is dense (a NetworkOperator knows it); needed for
        ``basis="dct"`` and to return S.
    algorithm : {"auto", "fista", "working_set", "gram"}
        See above; ``max_iter`` counts FISTA steps (inner steps for working sets).
    n_threads : int, optional

    Returns
    -------
    LassoResult
    """
    is_op = isinstance(A, NetworkOperator)
    if is_op:
        M, P = A.shape
        shape = (A.N, A.L)
        if signal_shape is not None and tuple(signal_shape) != shape:
            raise ValueError(f"signal_shape {tuple(signal_shape)} disagrees with the operator's (N, L) = {shape}")
    else:
        A = as_float_array(A, "A", ndim=2)
        M, P = A.shape
        if M == 0 or P == 0:
            raise ValueError(f"A must not be empty, got shape {A.shape}")
        check_norm(A, "A")
        shape = None
        if signal_shape is not None:
            if not isinstance(signal_shape, (tuple, list)) or len(signal_shape) != 2:
                raise TypeError(f"signal_shape must be a pair (N, L), got {signal_shape!r}")
            N_ = check_int(signal_shape[0], "signal_shape[0]", minimum=1)
            L_ = check_int(signal_shape[1], "signal_shape[1]", minimum=1)
            if N_ * L_ != P:
                raise ValueError(f"signal_shape (N, L) = ({N_}, {L_}) must have N*L = P = {P} (the columns of A)")
            shape = (N_, L_)
    y_arr = as_float_array(y, "y", ndim=(1, 2))
    batched = y_arr.ndim == 2
    Y = y_arr if batched else y_arr[:, None]
    if Y.shape[0] != M:
        raise ValueError(f"y must have M = {M} rows (the rows of A), got shape {y_arr.shape}")
    B = Y.shape[1]
    if B == 0:
        raise ValueError("y must have at least one column")
    check_norm(Y, "y")
    check_choice(algorithm, "algorithm", ALGORITHMS)
    if algorithm == "working_set" and is_op:
        raise ValueError("algorithm='working_set' needs a dense A; use 'fista' (or 'auto') with a NetworkOperator")
    if algorithm == "gram" and not is_op:
        raise ValueError("algorithm='gram' needs a NetworkOperator A (its W^T W = q^2 I gives a block-Toeplitz A^T A)")
    orthogonal = is_op and _core.orthogonal_scale(A._op) > 0
    if algorithm == "gram" and not orthogonal:
        raise ValueError("algorithm='gram' needs a network whose W is a scaled orthogonal matrix (W^T W = q^2 I)")
    if algorithm == "auto":
        algorithm = ("gram" if orthogonal else "fista") if is_op else "working_set"
    tol = check_float(tol, "tol", minimum=0.0)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    threads = check_threads(n_threads)
    check_allocation(12 * P * B + 8 * M * B, "lasso work arrays")

    if isinstance(lam, str):
        if lam != "auto":
            raise ValueError(f"lam must be a number >= 0, an array of B numbers or 'auto', got {lam!r}")
        if noise is None:
            raise ValueError("lam='auto' needs the noise level: pass noise=<std of the noise on y>")
        lam_vec = np.full(B, auto_lam(A, noise))
    elif isinstance(lam, numbers.Real) and not isinstance(lam, (bool, np.bool_)):
        lam_vec = np.full(B, check_float(lam, "lam", minimum=0.0))
    else:
        lam_vec = as_float_array(lam, "lam", ndim=(0, 1))
        lam_vec = np.broadcast_to(lam_vec, (B,)).copy() if lam_vec.ndim == 0 else lam_vec
        if lam_vec.shape != (B,):
            raise ValueError(f"lam must be a scalar or have one value per column of y (B = {B}), got shape {lam_vec.shape}")
        if np.any(lam_vec < 0):
            raise ValueError(f"lam must be >= 0, got min {lam_vec.min()}")

    kind, Psi = _resolve_basis(basis, P, shape)
    X0t = None
    if warm_start is not None:
        X0 = as_float_array(warm_start, "warm_start", ndim=(1, 2))
        X0 = X0[:, None] if X0.ndim == 1 else X0
        if X0.shape != (P, B):
            raise ValueError(f"warm_start must have shape (P, B) = ({P}, {B}) (or (P,) for one column), got {X0.shape}")
        check_norm(X0, "warm_start")
        X0t = np.ascontiguousarray(X0.T)
    # Scale-equivariance (see _scaling.py): solve for u = a * x / c with A / a, y_b / c_b and
    # lam_b / (a c_b); a = c = 1 (exact no-ops) unless a magnitude is outside [1e-100, 1e100].
    if is_op:
        check_operator_gain(A)
    a = 1.0 if is_op else float(safe_scale(np.max(np.abs(A))))
    c = column_scales(Y)
    Yt = np.ascontiguousarray((Y / c).T)
    lam_solve = lam_vec / (a * c)
    if X0t is not None:
        X0t = np.ascontiguousarray(X0t * (a / c)[:, None])
    A_solve = A if a == 1.0 else A / a
    L_basis = shape[1] if shape else 1

    if algorithm == "gram" and kind == "dense":
        algorithm = "fista"  # a basis that mixes channels breaks the time-convolution structure
    if algorithm == "gram":
        out = _lasso_gram(A, Yt, lam_solve, X0t, Psi if kind == "temporal" else None, tol, max_iter, threads)
    elif is_op:
        out = _core.lasso_network(A._op, Yt, lam_solve, X0t, kind, Psi, L_basis, tol, max_iter, 0.0, threads)
    elif algorithm == "fista":
        APsi = _dense_times_basis(A_solve, kind, Psi, L_basis)
        out = _core.lasso_dense(APsi, Yt, lam_solve, X0t, "identity", None, 1, tol, max_iter, 0.0, threads)
    else:
        APsi = _dense_times_basis(A_solve, kind, Psi, L_basis)
        out = _core.lasso_working_set(APsi, Yt, lam_solve, X0t, tol, max_iter, WORKING_SET_P0, threads)

    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        out = dict(out, coef=out["coef"] * (c / a)[:, None], objective=out["objective"] * c**2,
                   gap=out["gap"] * c**2, lipschitz=out["lipschitz"] * a**2)
    if not all(np.isfinite(out[k]).all() for k in ("coef", "objective", "gap", "lipschitz")):
        # finite inputs whose solution is not a float64 number (e.g. A = 1e-300 * A0: coefficients ~ 1e300 |y|)
        raise ValueError("the LASSO solution overflows float64: A is too small (or y too large) for it; "
                         "rescale A or y (the coefficients scale with y / A)")
    coef2 = np.ascontiguousarray(out["coef"].T)  # (P, B)
    S = _synthesize(coef2, kind, Psi, shape)
    iters = out["iterations"].astype(np.int64)
    if batched:
        return LassoResult(coef2, S, iters, out["objective"], out["gap"], out["converged"], lam_vec,
                           float(out["lipschitz"]))
    return LassoResult(coef2[:, 0], None if S is None else S[0], int(iters[0]), float(out["objective"][0]),
                       float(out["gap"][0]), bool(out["converged"][0]), float(lam_vec[0]), float(out["lipschitz"]))
