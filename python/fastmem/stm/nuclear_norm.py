"""Low-rank recovery by nuclear-norm minimisation (FISTA + singular value thresholding in C++).

For each column y_b of y, :func:`nuclear_norm` minimises

    F_b(S) = 0.5 ||y_b - A vec(S)||_2^2 + lam_b ||S||_*        (S of shape (N, L))

with ``vec(S) = S.reshape(-1)`` and A a dense (M, N*L) matrix or the matrix-free
:class:`~fastmem.stm.NetworkOperator`; :func:`nuclear_norm_constrained` solves

    minimise ||S||_*   subject to   ||y_b - A vec(S)||_2 <= eps_b

by continuation on lam (see its notes).

Algorithm (C++, ``cpp/include/fastmem/nuclear_norm.hpp``): accelerated proximal gradient
whose prox is singular value thresholding ``D_tau(Z) = U max(Sigma - tau, 0) V^T``, with
Lip a Lanczos estimate of ``||A||_2^2`` (to 1%, times 1.02; checked on every step and raised
if a step shows it too small), and the relative stopping rule
``||S+ - Y||_F <= tol * h ||S+||_F`` (the proximal-gradient step of length h / Lip at the
momentum point Y, relative to the iterate; h = 1 for FISTA) or ``max_iter`` steps.

* ``method="auto"`` (default): ``"dr"`` where M <= N L / 10 (few measurements: there it is
  both faster and more accurate at the same tol, measured below), ``"greedy"`` otherwise.
* ``method="greedy"``: greedy FISTA (Liang, Luo & Schoenlieb, SIAM J. Sci. Comput.
  2022): momentum coefficient 1, step 1.3 / Lip, the gradient restart (zero momentum after
  it), and the safeguard h <- max(0.96 h, 1) whenever ``||S+ - S||`` exceeds the first step.
  ``method="fista"``: FISTA (Beck & Teboulle) with step 1 / Lip and, with ``restart=True``,
  the gradient-based adaptive restart of O'Donoghue & Candes.
  ``method="dr"``: Douglas-Rachford splitting with Anderson acceleration
  (``cpp/include/fastmem/nuclear_norm_dr.hpp``): ``x = (I + t A^T A)^{-1}(z + t A^T y)`` by
  Woodbury through one Cholesky factor of the M x M matrix ``I + t A A^T``,
  ``w = D_{t lam}(2x - z)``, ``z <- z + w - x``, Anderson type II (memory 10, safeguarded) on
  that map, t from the scale of ``A^T y`` and adapted by residual balancing; stops when
  ``||w - x||_F <= tol ||w||_F`` (plus a rounding floor; see the reference's notes).
  ``continuation``, ``restart`` and ``lipschitz`` do not apply (the result's ``lipschitz`` is the
  one passed, or 0). Each step costs a product with A and with A^T (greedy FISTA in Gram form:
  one Gram product), plus a set-up of O(M^2 log N) (K for a block-diagonal network) and O(M^3)
  (Cholesky): worth it where M is small against N L and FISTA needs many steps. Measured
  (``bench/bench_nuclear_norm.py --M 400 1000``, L = 40, N = 100, one thread, to greedy FISTA's
  objective at tol 1e-6): at M = 400, 37-40 steps for R = 5..20 where greedy FISTA takes 564-584
  (7-7.4x less time), 183 against 485 for R = 1 (1.7x); at M = 1000, 1.3-1.5x faster for
  R = 5..20 but 6x slower for R = 1 (160 steps against 71). At the default tol (1e-6), M = 400,
  R = 1/5/20, the two methods' objectives were within 7e-10 / 7e-11 / 1.4e-10 (dr) and 3.3e-6 /
  2.2e-6 / 1.1e-6 (greedy) of the optimum, dr taking 0.63 / 0.22 / 0.18 of greedy's time. Hence
  ``method="auto"`` takes dr where M <= N L / 10 only. Columns of y are solved one after another
  (no batched products): a batch costs B single solves.
* ``continuation=True`` (default; cold starts with lam > 0 only): the problem is solved for
  ``lam_max * 0.2^k`` (``lam_max = ||A^T y||_2``, the smallest lam whose solution is 0) down
  to lam, each stage to a relative step of 1e-3 and warm-starting the next with the momentum
  reset; only the last stage uses ``tol``.

On the paper's network problems (L = 40, N = 100, M = 400 and 1000, R = 1 to 20) the two together
took 1.6 to 4 times fewer steps than restarted FISTA to the same objective (relative error 2e-6).
The numpy reference (:mod:`fastmem.reference.nuclear_norm`) implements every variant step for step. The singular values of the small
matrix come by default from the eigen-decomposition of its min(N, L)^2 Gram matrix
(``svd="gram"``: tridiagonalisation, all eigenvalues by root-free QL, eigenvectors by inverse
iteration only for the singular values above the threshold, with a full eigen-decomposition as
fallback when they fail a residual or orthogonality check; about 5x faster than Eigen's BDCSVD
and 12x faster than JacobiSVD at 100 x 40, rank 5 + noise); ``svd="bdc"`` or ``"jacobi"`` use a
backward-stable SVD instead. Columns of y are
solved together (operator products are GEMMs over the active columns, SVTs run in parallel
over columns), and each column stops on its own, so a batch gives what one-by-one gives.
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
    check_threads,
)
from ._scaling import column_scales, safe_scale
from .network import NetworkOperator

SVD_METHODS = ("gram", "bdc", "jacobi")
METHODS = ("auto", "greedy", "fista", "dr")
FISTA_METHODS = ("greedy", "fista")  # the schemes of the Gram-form solver (stm.nuclear_norm_gram)
DR_UNKNOWNS_PER_MEASUREMENT = 10  # method="auto" takes "dr" where N L >= 10 M (integers: no rounding)
DR_MEMORY = 10  # Anderson memory of method="dr"
GREEDY_STEP = 1.3  # greedy FISTA's first step, in units of 1 / ||A||^2 (Liang, Luo & Schoenlieb: 1.3)
CONTINUATION_FACTOR = 0.2  # lam stages lam_max * 0.2^k
STAGE_TOL = 1e-3  # relative step at which a continuation stage ends


@dataclass(frozen=True)
class NuclearNormResult:
    """Result of :func:`nuclear_norm` and :func:`nuclear_norm_constrained`.

    Scalars for one right-hand side (y of shape (M,)), arrays of shape (B,) for a batch.

    Attributes
    ----------
    S_hat : ndarray (N, L) or (B, N, L)
        The recovered stream(s).
    objective : float or ndarray
        ``0.5 ||y - A vec(S_hat)||^2 + lam ||S_hat||_*``.
    iterations : int or ndarray
        Proximal-gradient steps taken (for the constrained variant: over all continuation rounds).
    converged : bool or ndarray
        The stopping rule was met within ``max_iter`` (constrained: the residual reached
        ``eps`` to ``rtol``).
    lam : float or ndarray
        The regularisation used (resolved from ``"auto"``, or found by continuation).
    residual_norm : float or ndarray
        ``||y - A vec(S_hat)||_2``.
    nuclear_norm : float or ndarray
        ``||S_hat||_*``.
    rank : int or ndarray
        Number of singular values of S_hat above the last threshold.
    lipschitz : float
        The Lipschitz constant the steps started from (an estimate of ``||A||_2^2``).
    """

    S_hat: np.ndarray
    objective: Union[float, np.ndarray]
    iterations: Union[int, np.ndarray]
    converged: Union[bool, np.ndarray]
    lam: Union[float, np.ndarray]
    residual_norm: Union[float, np.ndarray]
    nuclear_norm: Union[float, np.ndarray]
    rank: Union[int, np.ndarray]
    lipschitz: float


def frobenius_norm_squared(A) -> float:
    """``||A||_F^2``: exact for a dense A; for a NetworkOperator from 16 fixed Gaussian
    probes (Hutchinson, ``E||A^T g||^2 = ||A||_F^2``, deterministic)."""
    if isinstance(A, NetworkOperator):
        G = np.random.default_rng(0).standard_normal((A.shape[0], 16))
        return float(np.sum(A.rmatvec(G) ** 2) / 16)
    A = as_float_array(A, "A", ndim=2, allow_empty=False)
    _check_scale(A, "A")
    return float(np.einsum("ij,ij->", A, A))


def auto_lam(A, noise: float, shape: Optional[Tuple[int, int]] = None) -> float:
    """The ``lam="auto"`` rule: ``noise * ||A||_F / sqrt(N L) * (sqrt(N) + sqrt(L))``.

    For measurement noise e with iid N(0, noise^2) entries, ``A^T e`` reshaped to (N, L) has
    entries of root-mean-square size ``noise * ||A||_F / sqrt(N L)``; were they independent,
    its spectral norm would be about that times ``sqrt(N) + sqrt(L)`` (Bai-Yin). lam at that
    level keeps the noise out of the recovered singular values (the usual
    ``lam ~ E||A^*(e)||_op`` choice of Candes & Plan). ``noise`` is the standard deviation
    of the noise on each entry of y; for state noise eps[n] of standard deviation s in a
    network of spectral radius r, the accumulated noise on x[N] has per-entry standard
    deviation ``s * sqrt(sum_k r^(2k))``, which is what to pass.
    """
    noise = check_float(noise, "noise", minimum=0.0)
    if shape is None:
        if not isinstance(A, NetworkOperator):
            raise ValueError("auto_lam needs shape=(N, L) for a dense A")
        shape = (A.N, A.L)
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise TypeError(f"shape must be a pair (N, L), got {shape!r}")
    N, L = check_int(shape[0], "shape[0]", minimum=1), check_int(shape[1], "shape[1]", minimum=1)
    return noise * np.sqrt(frobenius_norm_squared(A) / (N * L)) * (np.sqrt(N) + np.sqrt(L))


def _check_operator(A, shape) -> Tuple[object, int, int, int, int]:
    """-> (A or its _core operator, M, N, L, P)."""
    if isinstance(A, NetworkOperator):
        M, P = A.shape
        N, L = A.N, A.L
        if shape is not None and tuple(shape) != (N, L):
            raise ValueError(f"shape {tuple(shape)} disagrees with the operator's (N, L) = ({N}, {L})")
        return A._op, M, N, L, P
    A_arr = as_float_array(A, "A", ndim=2)
    M, P = A_arr.shape
    if M == 0 or P == 0:
        raise ValueError(f"A must not be empty, got shape {A_arr.shape}")
    _check_scale(A_arr, "A")
    if shape is None:
        raise ValueError("shape=(N, L) is required with a dense A (a NetworkOperator knows it)")
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise TypeError(f"shape must be a pair (N, L), got {shape!r}")
    N = check_int(shape[0], "shape[0]", minimum=1)
    L = check_int(shape[1], "shape[1]", minimum=1)
    if N * L != P:
        raise ValueError(f"shape (N, L) = ({N}, {L}) must have N*L = {P} (the columns of A, shape {A_arr.shape})")
    return A_arr, M, N, L, P


def _check_y(y, M: int) -> Tuple[np.ndarray, bool]:
    y_arr = as_float_array(y, "y", ndim=(1, 2))
    batched = y_arr.ndim == 2
    Y = y_arr if batched else y_arr[:, None]
    if Y.shape[0] != M:
        raise ValueError(f"y must have M = {M} rows (the rows of A), got shape {y_arr.shape}")
    if Y.shape[1] == 0:
        raise ValueError("y must have at least one column")
    _check_scale(Y, "y")
    return np.ascontiguousarray(Y), batched


# Squares of entries above this overflow float64 in 0.5 ||y - A vec(S)||^2 and ||A||^2.
_MAX_ABS = 1e150


def _check_scale(X: np.ndarray, name: str) -> None:
    if X.size and float(np.max(np.abs(X))) > _MAX_ABS:
        raise ValueError(f"{name} has entries above {_MAX_ABS:g} in magnitude: the objective would overflow "
                         f"float64; rescale {name}")


def _per_column(value, name: str, B: int, minimum: float = 0.0, min_inclusive: bool = True) -> np.ndarray:
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return np.full(B, check_float(value, name, minimum=minimum, min_inclusive=min_inclusive))
    vec = as_float_array(value, name, ndim=(0, 1))
    vec = np.broadcast_to(vec, (B,)).copy() if vec.ndim == 0 else vec
    if vec.shape != (B,):
        raise ValueError(f"{name} must be a scalar or have one value per column of y (B = {B}), got shape {vec.shape}")
    bad = vec < minimum if min_inclusive else vec <= minimum
    if np.any(bad):
        op = ">=" if min_inclusive else ">"
        raise ValueError(f"{name} must be {op} {minimum}, got min {vec.min()}")
    return vec


def _check_warm_start(warm_start, B: int, N: int, L: int, batched: bool) -> Optional[np.ndarray]:
    if warm_start is None:
        return None
    X0 = as_float_array(warm_start, "warm_start", ndim=(2, 3))
    if X0.ndim == 2:
        if X0.shape != (N, L):
            raise ValueError(f"warm_start must have shape (N, L) = ({N}, {L}), got {X0.shape}")
        X0 = np.broadcast_to(X0, (B, N, L))
    elif X0.shape != (B, N, L):
        raise ValueError(f"warm_start must have shape (B, N, L) = ({B}, {N}, {L}), got {X0.shape}")
    return np.ascontiguousarray(X0.reshape(B, N * L))


def _resolve_method(method: str, M: int, P: int) -> str:
    """The scheme ``method`` stands for on a problem with M measurements of P = N L unknowns:
    ``"auto"`` is ``"dr"`` where ``M <= 0.1 P``, else ``"greedy"``; the others are themselves."""
    check_choice(method, "method", METHODS)
    if method != "auto":
        return method
    return "dr" if DR_UNKNOWNS_PER_MEASUREMENT * M <= P else "greedy"


def _acceleration_arguments(method: str, continuation: bool, methods: Tuple[str, ...] = METHODS) -> dict:
    """The core solvers' ``greedy``, ``continuation`` and ``stage_tol`` for ``method`` (one of
    ``methods``) and ``continuation`` (checked: ValueError / TypeError naming the argument)."""
    check_choice(method, "method", methods)
    if not isinstance(continuation, (bool, np.bool_)):
        raise TypeError(f"continuation must be a bool, got {type(continuation).__name__}")
    return dict(greedy=GREEDY_STEP if method == "greedy" else 0.0,
                continuation=CONTINUATION_FACTOR if continuation else 0.0, stage_tol=STAGE_TOL)


def _solve(op, Y, lam_vec, N, L, X0, tol, max_iter, lipschitz, svd, restart, threads, method="fista",
           continuation=False) -> dict:
    accel = _acceleration_arguments(method, continuation)
    if method == "dr":
        # Douglas-Rachford + Anderson (nuclear_norm_dr.hpp) needs K = A A^T (M x M): by doubling
        # for the network operator (O(M^2 log N) when W is block-diagonal), a GEMM for a dense A
        K = _core.network_outer_gram(op) if isinstance(op, _core.NetworkOperator) else op @ op.T
        out = _core.nuclear_norm_dr(op, np.ascontiguousarray(Y), np.ascontiguousarray(lam_vec, dtype=float), N, L,
                                    np.ascontiguousarray(K), X0, tol, max_iter, svd, DR_MEMORY, threads)
        out["lipschitz"] = float(lipschitz)
        return out
    if isinstance(op, _core.NetworkOperator) and svd == "gram" and _core.orthogonal_scale(op) > 0:
        # W^T W = q^2 I: the same FISTA in Gram form on the block-Toeplitz A^T A (stm/gram.py),
        # whose products cost O(N L (N + L)) per column instead of O(M N L)
        G = _core.ToeplitzGram(op, None, threads)
        Yc = np.ascontiguousarray(Y)
        out = _core.nuclear_norm_gram(G, np.ascontiguousarray(op.adjoint(Yc, threads).T), np.einsum("mb,mb->b", Yc, Yc),
                                      np.ascontiguousarray(lam_vec, dtype=float), X0, tol, max_iter, lipschitz, restart,
                                      None, 0.0, 10, threads, **accel)
        out["S"] = out.pop("coef").reshape(-1, N, L)
        return out
    return _core.nuclear_norm_fista(op, Y, lam_vec, N, L, X0, tol, max_iter, lipschitz, svd, restart, threads,
                                    **accel)


def _result(out: dict, lam_vec: np.ndarray, batched: bool, converged=None, iterations=None) -> NuclearNormResult:
    conv = (out["converged"] > 0) if converged is None else converged
    iters = (out["iterations"] if iterations is None else iterations).astype(np.int64)
    rank = out["rank"].astype(np.int64)
    if batched:
        return NuclearNormResult(out["S"], out["objective"], iters, conv, lam_vec, out["residual_norm"],
                                 out["nuclear_norm"], rank, float(out["lipschitz"]))
    return NuclearNormResult(out["S"][0], float(out["objective"][0]), int(iters[0]), bool(conv[0]),
                             float(lam_vec[0]), float(out["residual_norm"][0]), float(out["nuclear_norm"][0]),
                             int(rank[0]), float(out["lipschitz"]))


def nuclear_norm(
    A,
    y,
    shape: Optional[Tuple[int, int]],
    lam: Union[float, np.ndarray, str],
    noise: Optional[float] = None,
    warm_start=None,
    tol: float = 1e-6,
    max_iter: int = 10000,
    lipschitz: Optional[float] = None,
    svd: str = "gram",
    restart: bool = True,
    n_threads: Optional[int] = None,
    method: str = "auto",
    continuation: bool = True,
) -> NuclearNormResult:
    """Recover low-rank streams by nuclear-norm regularised least squares.

    Minimises, for each column b of y,

        F_b(S) = 0.5 ||y_b - A vec(S)||_2^2 + lam_b ||S||_*,    S of shape (N, L),

    ``vec(S) = S.reshape(-1)``: by default (``method="auto"``) by Douglas-Rachford splitting with
    Anderson acceleration where M <= N L / 10, else by greedy FISTA with singular value
    thresholding, continuation on lam and the stopping rule ``||S+ - Y||_F <= tol h ||S+||_F``
    (see the module notes).

    Parameters
    ----------
    A : ndarray (M, N*L) or NetworkOperator
        The measurement operator (e.g. :func:`measurement_operator`), or the network
        itself, applied matrix-free.
    y : array (M,) or (M, B)
        Measurements; the B columns are solved together.
    shape : (N, L) or None
        The shape of one stream; may be None for a NetworkOperator.
    lam : float >= 0, array (B,) or "auto"
        The nuclear-norm weight, one per column if an array. ``"auto"`` needs ``noise``
        and uses :func:`auto_lam`: ``noise * ||A||_F / sqrt(N L) * (sqrt(N) + sqrt(L))``.
    noise : float, optional
        Standard deviation of the noise on each entry of y, for ``lam="auto"``.
    warm_start : array (N, L) or (B, N, L), optional
        Initial iterate(s), e.g. the solution for a nearby lam.
    tol : float
        Relative tolerance of the stopping rule.
    max_iter : int
        Maximum proximal steps per column.
    lipschitz : float, optional
        ``||A||_2^2`` if known (e.g. from a previous result's ``lipschitz``); estimated
        by Lanczos otherwise.
    svd : {"gram", "bdc", "jacobi"}
        How singular values are computed (see the module notes).
    restart : bool
        Adaptive restart of the momentum (``method="fista"``; greedy FISTA always restarts).
    n_threads : int, optional
    method : {"auto", "greedy", "fista", "dr"}
        The scheme (see the module notes): greedy FISTA, FISTA, or Douglas-Rachford splitting
        with Anderson acceleration (fewer, costlier steps; for M small against N*L); "auto"
        takes "dr" where M <= N L / 10 and "greedy" otherwise.
    continuation : bool
        Continuation on lam from ``||A^T y||_2`` down (cold starts only; see the module notes).

    Returns
    -------
    NuclearNormResult
    """
    op, M, N, L, P = _check_operator(A, shape)
    Y, batched = _check_y(y, M)
    B = Y.shape[1]
    if isinstance(lam, str):
        if lam != "auto":
            raise ValueError(f"lam must be a number >= 0, an array of B numbers or 'auto', got {lam!r}")
        if noise is None:
            raise ValueError("lam='auto' needs the noise level: pass noise=<std of the noise on each entry of y>")
        lam_vec = np.full(B, auto_lam(A if isinstance(A, NetworkOperator) else op, noise, (N, L)))
    else:
        if lam is None:
            raise TypeError("lam must be a number >= 0, an array of B numbers or 'auto', got None")
        lam_vec = _per_column(lam, "lam", B)
    X0 = _check_warm_start(warm_start, B, N, L, batched)
    tol = check_float(tol, "tol", minimum=0.0)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    lip = 0.0 if lipschitz is None else check_float(lipschitz, "lipschitz", minimum=0.0, min_inclusive=False)
    check_choice(svd, "svd", SVD_METHODS)
    method = _resolve_method(method, M, P)
    _acceleration_arguments(method, continuation)  # checked here, before any work
    if not isinstance(restart, (bool, np.bool_)):
        raise TypeError(f"restart must be a bool, got {type(restart).__name__}")
    accel = dict(method=method, continuation=bool(continuation))
    threads = check_threads(n_threads)
    check_allocation(8 * P * B + 8 * M * B, "nuclear_norm work arrays")
    # Scale-equivariance (see _scaling.py): solve for U = a S / c with A / a, y_b / c_b and
    # lam_b / (a c_b); a = c = 1 (exact no-ops) unless a magnitude is outside [1e-100, 1e100],
    # where squares in the objective and in ||A||^2 would underflow or overflow.
    a = 1.0 if isinstance(A, NetworkOperator) else float(safe_scale(np.max(np.abs(op))))
    c = column_scales(Y)
    if a != 1.0 or np.any(c != 1.0):
        with np.errstate(over="ignore"):
            op_s = op if a == 1.0 else op / a
        X0_s = None if X0 is None else np.ascontiguousarray(X0 * (a / c)[:, None])
        out = _solve(op_s, np.ascontiguousarray(Y / c), lam_vec / (a * c), N, L, X0_s, tol, max_iter, lip / a / a,
                     svd, bool(restart), threads, **accel)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            out = dict(out, S=out["S"] * (c / a)[:, None, None], objective=out["objective"] * c**2,
                       residual_norm=out["residual_norm"] * c, nuclear_norm=out["nuclear_norm"] * (c / a),
                       lipschitz=out["lipschitz"] * a * a)
        if not all(np.isfinite(out[k]).all() for k in ("S", "objective", "nuclear_norm", "lipschitz")):
            raise ValueError("the nuclear-norm solution overflows float64: A is too small (or y too large) for it; "
                             "rescale A or y (S scales with y / A)")
    else:
        out = _solve(op, Y, lam_vec, N, L, X0, tol, max_iter, lip, svd, bool(restart), threads, **accel)
    return _result(out, lam_vec, batched)


def nuclear_norm_constrained(
    A,
    y,
    shape: Optional[Tuple[int, int]],
    eps: Union[float, np.ndarray],
    rtol: float = 1e-3,
    max_rounds: int = 60,
    tol: float = 1e-7,
    max_iter: int = 10000,
    lipschitz: Optional[float] = None,
    svd: str = "gram",
    n_threads: Optional[int] = None,
) -> NuclearNormResult:
    """Solve ``min ||S||_*  subject to  ||y_b - A vec(S)||_2 <= eps_b`` by continuation on lam.

    For convex problems the constrained solution is the solution of the regularised
    problem of :func:`nuclear_norm` for the lam at which its residual equals eps (the
    residual grows monotonically with lam). For each column we start at
    ``lam_max = ||reshape(A^T y)||_2`` (the smallest lam with solution 0), divide lam by 10
    until the residual drops below eps, then bracket the root of ``residual(lam) = eps``
    by safeguarded interpolation in log(lam) (regula falsi, each step kept inside the
    middle 80% of the bracket). Every solve is warm-started from the previous solution,
    all columns advance together as one batched solve per round. A column stops when
    ``|residual - eps| <= rtol * eps`` (``converged``) or after ``max_rounds`` rounds; if
    ``eps >= ||y_b||`` the answer is 0. If eps is below the least-squares residual the
    problem is infeasible: the column ends with ``converged=False`` at the smallest lam tried.

    Parameters
    ----------
    A, y, shape :
        As in :func:`nuclear_norm`.
    eps : float > 0 or array (B,)
        Bound on the residual norm.
    rtol : float
        Relative accuracy of the residual match.
    max_rounds : int
        Maximum number of regularised solves per column.
    tol, max_iter, lipschitz, svd, n_threads :
        Passed to each regularised solve.

    Returns
    -------
    NuclearNormResult
        ``lam`` is the lam found, ``iterations`` the total proximal steps.
    """
    op, M, N, L, P = _check_operator(A, shape)
    Y, batched = _check_y(y, M)
    B = Y.shape[1]
    eps_vec = _per_column(eps, "eps", B, minimum=0.0, min_inclusive=False)
    rtol = check_float(rtol, "rtol", minimum=0.0, min_inclusive=False)
    max_rounds = check_int(max_rounds, "max_rounds", minimum=1)
    tol = check_float(tol, "tol", minimum=0.0)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    lip = 0.0 if lipschitz is None else check_float(lipschitz, "lipschitz", minimum=0.0, min_inclusive=False)
    check_choice(svd, "svd", SVD_METHODS)
    threads = check_threads(n_threads)
    check_allocation(10 * P * B + 8 * M * B, "nuclear_norm_constrained work arrays")
    # Scale-equivariance, as in nuclear_norm: with A / a, y_b / c_b and eps_b / c_b the solution
    # is U = a S / c and the lam found is lam / (a c); a = c = 1 (exact no-ops) unless a magnitude
    # is outside [1e-100, 1e100].
    a = 1.0 if isinstance(A, NetworkOperator) else float(safe_scale(np.max(np.abs(op))))
    c = column_scales(Y)
    if a == 1.0 and np.all(c == 1.0):
        out, lam = _constrained(A, op, Y, eps_vec, N, L, rtol, max_rounds, tol, max_iter, lip, svd, threads)
        return _result(out, lam, batched, converged=out["converged"], iterations=out["iterations"])
    with np.errstate(over="ignore"):
        op_s = op if a == 1.0 else op / a
    out, lam = _constrained(op_s if a != 1.0 else A, op_s, np.ascontiguousarray(Y / c), eps_vec / c, N, L, rtol,
                            max_rounds, tol, max_iter, lip / a / a, svd, threads)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        out = dict(out, S=out["S"] * (c / a)[:, None, None], objective=out["objective"] * c**2,
                   residual_norm=out["residual_norm"] * c, nuclear_norm=out["nuclear_norm"] * (c / a),
                   lipschitz=out["lipschitz"] * a * a)
        lam = lam * a * c
    if not all(np.isfinite(out[k]).all() for k in ("S", "objective", "nuclear_norm", "lipschitz")) or \
            not np.isfinite(lam).all():
        raise ValueError("the nuclear-norm solution overflows float64: A is too small (or y too large) for it; "
                         "rescale A or y (S scales with y / A)")
    return _result(out, lam, batched, converged=out["converged"], iterations=out["iterations"])


def _constrained(A, op, Y, eps_vec, N, L, rtol, max_rounds, tol, max_iter, lip, svd, threads):
    """The continuation of nuclear_norm_constrained at unit scale: -> (out dict, lam per column)."""
    B = Y.shape[1]
    if lip == 0.0:
        lip = _core.operator_norm_squared(op, threads) * 1.01
    AtY = _adjoint(A, op, Y, threads)  # (P, B)
    lam_max = np.array([np.linalg.norm(AtY[:, b].reshape(N, L), 2) for b in range(B)])
    y_norm = np.linalg.norm(Y, axis=0)

    S = np.zeros((B, N * L))
    lam = lam_max.copy()
    resid = y_norm.copy()
    objective = 0.5 * y_norm**2
    nuc = np.zeros(B)
    rank = np.zeros(B, dtype=np.int64)
    iters = np.zeros(B, dtype=np.int64)
    done = (eps_vec >= y_norm) | (lam_max == 0.0)
    conv = done.copy()
    lo = np.zeros(B)  # lam with residual <= eps (0 = not found yet)
    hi = lam_max.copy()  # lam with residual >= eps
    r_lo = np.zeros(B)
    r_hi = y_norm.copy()
    floor = lam_max * 1e-12
    for _ in range(max_rounds):
        active = np.flatnonzero(~done)
        if active.size == 0:
            break
        trial = np.empty(active.size)
        for i, b in enumerate(active):
            if lo[b] == 0.0:
                trial[i] = hi[b] / 10.0
            else:
                a, c = np.log(lo[b]), np.log(hi[b])
                frac = (eps_vec[b] - r_lo[b]) / max(r_hi[b] - r_lo[b], 1e-300)
                trial[i] = np.exp(a + np.clip(frac, 0.1, 0.9) * (c - a))
        out = _solve(op, np.ascontiguousarray(Y[:, active]), trial, N, L,
                     np.ascontiguousarray(S[active]), tol, max_iter, lip, svd, True, threads, method="greedy")
        for i, b in enumerate(active):
            r = out["residual_norm"][i]
            S[b] = out["S"][i].reshape(-1)
            lam[b], resid[b] = trial[i], r
            objective[b], nuc[b] = out["objective"][i], out["nuclear_norm"][i]
            rank[b] = out["rank"][i]
            iters[b] += out["iterations"][i]
            if abs(r - eps_vec[b]) <= rtol * eps_vec[b]:
                done[b] = conv[b] = True
            elif r < eps_vec[b]:
                lo[b], r_lo[b] = trial[i], r
            else:
                hi[b], r_hi[b] = trial[i], r
                if trial[i] <= floor[b]:
                    done[b] = True  # infeasible: even lam ~ 0 leaves a residual above eps
    out = {
        "S": S.reshape(B, N, L),
        "objective": objective,
        "converged": conv,
        "iterations": iters,
        "residual_norm": resid,
        "nuclear_norm": nuc,
        "rank": rank,
        "lipschitz": lip,
    }
    return out, lam


def _adjoint(A, op, Y: np.ndarray, threads: int) -> np.ndarray:
    if isinstance(A, NetworkOperator):
        return A.rmatvec(Y, n_threads=threads or None)
    return op.T @ Y
