"""The paper's capacity bounds, and the classical (Jaeger) short-term memory capacity.

Bounds (Charles, Yap, Yin & Rozell; see ``docs``/README "Theory")
-------------------------------------------------------------------
A linear random network of M nodes stores N inputs of dimension L, recoverable from
x[N], when

* sparse inputs (K non-zeros in a basis Psi):    M > C K mu(Psi)^2 log^gamma(N L)
* low-rank inputs (S = Q V^T of rank R):         M > C mu(V)^2 R (N + L) log^lambda(N L)

The paper proves these with unspecified constants C and exponents gamma, lambda; they
are parameters here (defaults C = 1, exponent 1: an order-of-magnitude reading, not a
certified bound). The coherence mu is computed from the input model with
:func:`fastmem.stm.coherence` (about 1 for spikes, sqrt(N) for DCT/Fourier atoms), so a
model that looks like sinusoids pays its N-fold penalty automatically.

Memory capacity (Jaeger 2001)
-----------------------------
For i.i.d. inputs s[n] of variance v driving ``x[n+1] = f(W x[n] + Z s[n] + eps[n])``,
the memory function m_k is the squared correlation between the input k steps back and
its best linear readout from the state, and MC = sum_k m_k. Delay convention (ours):
delay k reads ``s[n-1-k]`` from ``x[n]``, i.e. the input that went through k recurrent
steps; k = 0 is the most recent input. reservoirpy's ``memory_capacity`` (and Jaeger's
definition) start at k = 1, so their list is our ``per_delay[1:]``.

For a linear network the readout is exact: with ``b_k = W^k z`` and the stationary
state covariance ``C = sum_k W^k Q W^kT`` (Q = v Z Z^T + sigma^2 I, the discrete
Lyapunov equation ``C = W C W^T + Q``), ``m_k = v b_k^T C^+ b_k``. Summed over all delays
and channels this is ``trace(C^+ (C - sigma^2 sum W^k W^kT))``: in the noiseless case
the rank of C, i.e. the rank of the Krylov matrix [Z, W Z, ..., W^(M-1) Z] (<= M).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Optional, Tuple, Union

import numpy as np

from .._rng import RNGLike, as_generator
from .._validation import as_float_array, check_allocation, check_choice, check_float, check_int, check_threads
from .coherence import coherence
from .network import _check_network, is_block_diagonal, measurement_operator, propagate

BasisLike = Union[str, np.ndarray]

__all__ = [
    "sparse_nodes_needed",
    "lowrank_nodes_needed",
    "sparse_capacity_bound",
    "lowrank_capacity_bound",
    "MemoryCapacity",
    "memory_capacity",
    "state_covariance",
]


# --------------------------------------------------------------------------- bounds


def _log_term(N: int, L: int, exponent: float, name: str = "the exponent") -> float:
    # log(N L) is 0 for N = L = 1; the bound is meaningful for N L >= 2, keep it >= log 2.
    try:
        return math.log(max(N * L, 2)) ** exponent
    except OverflowError:
        raise ValueError(f"{name} = {exponent} is too large: log(N L)**{name} overflows float64") from None


def sparse_nodes_needed(
    K: int,
    N: int,
    L: int = 1,
    basis: BasisLike = "identity",
    C: float = 1.0,
    gamma: float = 1.0,
    mu: Optional[float] = None,
) -> float:
    """Nodes needed to store N sparse L-dimensional inputs: ``C K mu^2 log^gamma(N L)``.

    Parameters
    ----------
    K : int
        Non-zero coefficients in the whole stream (the sparsity of vec(S) in Psi).
    N : int
        Inputs to recover (time steps).
    L : int
        Input dimension.
    basis : {"identity", "dct"} or ndarray
        The sparsity basis of the input model; its coherence with sinusoids mu is
        computed with :func:`fastmem.stm.coherence` (an ndarray is a synthesis matrix
        Psi (N*L, P) in the stream layout, or temporal atoms (N, R)).
    C, gamma : float
        The bound's constant and log exponent (unspecified in the paper).
    mu : float, optional
        Use this coherence instead of computing it (for sweeps that already have it).

    Returns
    -------
    float
        The number of nodes M above which the bound guarantees recovery.
    """
    K = check_int(K, "K", minimum=0)
    N = check_int(N, "N", minimum=1)
    L = check_int(L, "L", minimum=1)
    C = check_float(C, "C", minimum=0.0, min_inclusive=False)
    gamma = check_float(gamma, "gamma", minimum=0.0)
    if mu is None:
        if isinstance(basis, str):
            check_choice(basis, "basis", ("identity", "dct"))
            mu = _named_coherence(basis, N)
        else:
            mu = coherence(basis, N=N)
    mu = check_float(mu, "mu", minimum=0.0, min_inclusive=False)
    return C * K * mu**2 * _log_term(N, L, gamma, "gamma")


def lowrank_nodes_needed(
    R: int,
    N: int,
    L: int,
    V: Optional[np.ndarray] = None,
    C: float = 1.0,
    lam: float = 1.0,
    mu: Optional[float] = None,
) -> float:
    """Nodes needed to store a rank-R stream S (N, L): ``C mu^2 R (N + L) log^lam(N L)``.

    Parameters
    ----------
    R : int
        Rank of S.
    N, L : int
        Time steps and input dimension.
    V : array (N, R), optional
        The temporal factor of the model (``S = Q V^T`` in the paper's notation, i.e.
        the columns of S's left factor along time). Its coherence with sinusoids
        ``mu(V)`` is computed with :func:`fastmem.stm.coherence`. Without V (and
        without ``mu``) the factor is 1, which is the issue's ``C R (N + L) log^lam``.
    C, lam : float
        The bound's constant and log exponent (unspecified in the paper).
    mu : float, optional
        Use this coherence instead of computing it from V.

    Returns
    -------
    float
    """
    R = check_int(R, "R", minimum=0)
    N = check_int(N, "N", minimum=1)
    L = check_int(L, "L", minimum=1)
    if R > min(N, L):
        raise ValueError(f"R must be <= min(N, L) = {min(N, L)}, got {R}")
    C = check_float(C, "C", minimum=0.0, min_inclusive=False)
    lam = check_float(lam, "lam", minimum=0.0)
    if mu is None:
        if V is not None:
            V = as_float_array(V, "V", ndim=2)
            if V.shape[0] != N:
                raise ValueError(f"V must have N = {N} rows (time), got shape {V.shape}")
            mu = coherence(V)
        else:
            mu = 1.0
    mu = check_float(mu, "mu", minimum=0.0, min_inclusive=False)
    return C * mu**2 * R * (N + L) * _log_term(N, L, lam, "lam")


def sparse_capacity_bound(
    M: int, rate: float, L: int = 1, basis: BasisLike = "identity", C: float = 1.0, gamma: float = 1.0,
    n_max: int = 10**6,
) -> int:
    """The longest stream (N inputs of dimension L, K = rate*N*L non-zeros) the sparse bound admits for M nodes.

    The largest N with ``sparse_nodes_needed(ceil(rate N L), N, L, basis) < M``
    (0 if none); found by doubling and bisection, assuming the bound grows with N
    (true for named bases). The coherence of a named basis is known in closed form
    (1 for identity, sqrt(N) for dct), so no N x N basis is built per candidate.
    """
    M = check_int(M, "M", minimum=1)
    rate = check_float(rate, "rate", minimum=0.0, maximum=1.0, min_inclusive=False)
    n_max = check_int(n_max, "n_max", minimum=1)
    L = check_int(L, "L", minimum=1)
    if not isinstance(basis, str):
        raise TypeError("sparse_capacity_bound needs a named basis ('identity' or 'dct'), whose atoms exist for every N")
    check_choice(basis, "basis", ("identity", "dct"))

    def ok(N: int) -> bool:
        K = max(1, math.ceil(rate * N * L))
        return sparse_nodes_needed(K, N, L, C=C, gamma=gamma, mu=_named_coherence(basis, N)) < M

    return _largest(ok, n_max)


def lowrank_capacity_bound(M: int, R: int, L: int, C: float = 1.0, lam: float = 1.0, n_max: int = 10**6) -> int:
    """The longest rank-R stream (N, L) the low-rank bound admits for M nodes (mu = 1), 0 if none."""
    M = check_int(M, "M", minimum=1)
    R = check_int(R, "R", minimum=1)
    n_max = check_int(n_max, "n_max", minimum=1)

    def ok(N: int) -> bool:
        return N >= R and lowrank_nodes_needed(R, N, L, C=C, lam=lam) < M

    lo = R if ok(R) else 0
    return _largest(ok, n_max, start=max(lo, 1)) if lo else 0


@functools.lru_cache(maxsize=256)
def _named_coherence(basis: str, N: int) -> float:
    """mu of a named basis in closed form: no N x N basis and no FFT per candidate N.

    * identity: a spike's |DTFT| is 1 at every frequency, so mu = 1;
    * dct: for unit-norm atoms |sum_n psi[n] e^(-iwn)| <= ||psi||_1 <= sqrt(N) (Cauchy-Schwarz),
      with equality for the constant atom psi_0 = 1/sqrt(N) at w = 0: mu = sqrt(N) exactly
      (what ``coherence("dct", N=N)`` computes, to rounding; tests/test_hardening.py checks it).
    """
    if basis == "identity":
        return 1.0
    if basis == "dct":
        return math.sqrt(N)
    return coherence(basis, N=N, oversample=2)


def _largest(ok, n_max: int, start: int = 1) -> int:
    if not ok(start):
        return 0
    lo, hi = start, start * 2
    while hi <= n_max and ok(hi):
        lo, hi = hi, hi * 2
    hi = min(hi, n_max + 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


# --------------------------------------------------------------------------- memory capacity


@dataclass(frozen=True)
class MemoryCapacity:
    """Jaeger's memory function of a network.

    Attributes
    ----------
    delays : ndarray (K,)
        0 .. K-1; delay k reads s[n-1-k] from x[n] (k recurrent steps).
    per_delay : ndarray (K,)
        m_k summed over input channels.
    per_channel : ndarray (K, L)
        m_k of each input channel.
    total : float
        sum of m_k over the delays computed (<= M for linear networks).
    method : str
        ``"exact"`` or ``"simulate"``.
    rank : int or None
        Exact method: numerical rank of the stationary state covariance, the value
        the noiseless total tends to as K grows (the rank of the Krylov matrix).
    M : int
        Number of nodes, the classical bound.
    """

    delays: np.ndarray
    per_delay: np.ndarray
    per_channel: np.ndarray
    total: float
    method: str
    rank: Optional[int]
    M: int


def state_covariance(W, Z, noise: float = 0.0, input_variance: float = 1.0) -> np.ndarray:
    """The stationary state covariance ``C = sum_k W^k (v Z Z^T + sigma^2 I) W^kT``.

    The solution of the discrete Lyapunov equation ``C = W C W^T + Q``, for a linear
    network driven forever by i.i.d. inputs of variance v and state noise of standard
    deviation sigma. Needs spectral radius(W) < 1.

    Two exact algorithms, chosen by the structure of W:

    * 2x2 block-diagonal W (the "circle" networks): eigen-decomposition of each block,
      ``C = V [(V^-1 Q V^-H)_ij / (1 - lambda_i conj(lambda_j))] V^H`` in O(M^2).
    * dense W: doubling (Smith), ``C <- C + A C A^T, A <- A^2`` from ``C = Q, A = W``,
      about log2(log(eps)/log(rho)) rounds of three matrix products (BLAS; measured
      3.3-4.3x faster than ``scipy.linalg.solve_discrete_lyapunov`` at M = 2000 and
      2.7-13x at M = 1000, same answer to 2e-14, on the shared 2-core machine at load
      5-8, see bench/bench_capacity.py).

    Parameters
    ----------
    W : array (M, M)
    Z : array (M, L)
    noise : float
        sigma, standard deviation of the state noise per step.
    input_variance : float
        v, the variance of every input channel.

    Returns
    -------
    C : ndarray (M, M), symmetric
    """
    W, Z = _check_network(W, Z)
    sigma = check_float(noise, "noise", minimum=0.0, maximum=1e150)
    v = check_float(input_variance, "input_variance", minimum=0.0, min_inclusive=False)
    return _checked_covariance(W, Z, sigma, v)


def _checked_covariance(W: np.ndarray, Z: np.ndarray, sigma: float, v: float) -> np.ndarray:
    """C for Q = v Z Z^T + sigma^2 I, refusing finite inputs whose Q or C overflow float64."""
    with np.errstate(over="ignore", invalid="ignore"):
        Q = v * (Z @ Z.T)
        Q[np.diag_indices_from(Q)] += sigma**2
    if not np.isfinite(Q).all():
        raise ValueError(
            f"the input covariance v Z Z^T + sigma^2 I overflows float64 (max|Z| = {np.max(np.abs(Z)):.3g}, "
            f"input_variance = {v:.3g}, noise = {sigma:.3g}); rescale Z, input_variance or noise"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        C = _covariance(W, Q)
    if not np.isfinite(C).all():
        raise ValueError(
            "the stationary state covariance overflows float64: W's spectral radius is too close to 1 for inputs "
            f"this large (max|Z| = {np.max(np.abs(Z)):.3g}, input_variance = {v:.3g}, noise = {sigma:.3g}); "
            "rescale Z, input_variance or noise"
        )
    return C


def _covariance(W: np.ndarray, Q: np.ndarray) -> np.ndarray:
    if is_block_diagonal(W):
        C = _covariance_blocks(W, Q)
        if C is not None:
            return C
    return _covariance_doubling(W, Q)


def _block_eig(W: np.ndarray):
    """Eigen-decomposition of a 2x2 block-diagonal W: (lambda (M,), V blocks, V^-1 blocks) or None."""
    M = W.shape[0]
    nb = M // 2
    idx = 2 * np.arange(nb)
    blocks = np.empty((nb, 2, 2))
    blocks[:, 0, 0] = W[idx, idx]
    blocks[:, 0, 1] = W[idx, idx + 1]
    blocks[:, 1, 0] = W[idx + 1, idx]
    blocks[:, 1, 1] = W[idx + 1, idx + 1]
    lam2, V2 = np.linalg.eig(blocks) if nb else (np.empty((0, 2)), np.empty((0, 2, 2)))
    if nb and np.max(np.linalg.cond(V2)) > 1e8:  # (nearly) defective block: use the dense path
        return None
    lam = np.empty(M, dtype=complex)
    lam[: 2 * nb] = lam2.reshape(-1)
    if M % 2:
        lam[-1] = W[-1, -1]
    Vinv2 = np.linalg.inv(V2) if nb else V2
    return lam, V2.astype(complex), Vinv2.astype(complex)


def _apply_blocks(B2: np.ndarray, X: np.ndarray) -> np.ndarray:
    """(block-diag of 2x2 blocks B2, identity for an odd last row) @ X, in O(M * cols)."""
    M = X.shape[0]
    nb = B2.shape[0]
    out = np.empty(X.shape, dtype=np.result_type(B2, X))
    if nb:
        Xp = X[: 2 * nb].reshape(nb, 2, -1)
        out[: 2 * nb] = np.einsum("bij,bjc->bic", B2, Xp).reshape(2 * nb, -1)
    if M % 2:
        out[-1] = X[-1]
    return out


def _covariance_blocks(W: np.ndarray, Q: np.ndarray) -> Optional[np.ndarray]:
    eig = _block_eig(W)
    if eig is None:
        return None
    lam, V2, Vinv2 = eig
    _check_radius(np.max(np.abs(lam)) if lam.size else 0.0)
    G = _apply_blocks(Vinv2, _apply_blocks(Vinv2, Q.astype(complex)).conj().T).conj().T  # V^-1 Q V^-H
    G /= 1.0 - lam[:, None] * lam.conj()[None, :]
    C = _apply_blocks(V2, _apply_blocks(V2, G).conj().T).conj().T  # V G V^H
    C = C.real
    return 0.5 * (C + C.T)


def _check_radius(rho: float) -> None:
    if not rho < 1.0:
        raise ValueError(
            f"the exact memory capacity needs a stable network (spectral radius of W < 1), got {rho:.6g}: "
            "the state covariance of a network driven forever diverges otherwise; use method='simulate' "
            "or rescale W"
        )


def _covariance_doubling(W: np.ndarray, Q: np.ndarray, max_rounds: int = 64) -> np.ndarray:
    C = Q.copy()
    A = W.copy()
    with np.errstate(over="ignore", invalid="ignore"):  # an unstable W overflows: detected below
        for _ in range(max_rounds):
            term = A @ C @ A.T
            C += term
            if not np.isfinite(C).all():
                break
            if np.abs(term).max() <= 1e-17 * np.abs(C).max():
                return 0.5 * (C + C.T)
            A = A @ A
            if not np.isfinite(A).all():
                break
    rho = float(np.max(np.abs(np.linalg.eigvals(W))))
    _check_radius(rho)
    # Stable but extremely slow decay (rho within ~1e-19 of 1): report plainly.
    raise ValueError(f"the state covariance did not converge in {max_rounds} doubling rounds (spectral radius {rho})")


def _krylov_blocks(W: np.ndarray, Z: np.ndarray, K: int, n_threads: int) -> np.ndarray:
    """[Z, W Z, ..., W^(K-1) Z] as an (M, K*L) array (column block k = W^k Z)."""
    M, L = Z.shape
    check_allocation(M * K * L, "memory_capacity Krylov blocks (M x max_delay*L)")
    if is_block_diagonal(W):
        A = measurement_operator(W, Z, K, structure="block_diagonal", n_threads=n_threads)
        return np.ascontiguousarray(A.reshape(M, K, L)[:, ::-1, :].reshape(M, K * L))
    # Dense W: fill by doubling, B[:, 2^j : 2^(j+1)] = W^(2^j) B[:, : 2^j] (matrix products, not K mat-vecs).
    B = np.empty((M, K * L))
    B[:, :L] = Z
    have, P = 1, W.copy()
    while have < K:
        take = min(have, K - have)
        B[:, have * L : (have + take) * L] = P @ B[:, : take * L]
        have += take
        if have < K:
            P = P @ P
    return B


def memory_capacity(
    W,
    Z,
    max_delay: Optional[int] = None,
    noise: float = 0.0,
    input_variance: float = 1.0,
    method: str = "exact",
    nonlinearity: str = "linear",
    steps: Optional[int] = None,
    washout: Optional[int] = None,
    test_fraction: float = 0.2,
    ridge: float = 1e-10,
    inputs=None,
    rtol: Optional[float] = None,
    rng: RNGLike = None,
    n_threads: Optional[int] = None,
) -> MemoryCapacity:
    """Jaeger's short-term memory capacity MC = sum_k m_k of a network (W, Z).

    ``m_k`` is the squared correlation between ``s[n-1-k]`` (the input k recurrent steps
    back) and its best linear readout from the state ``x[n]``, for i.i.d. inputs. For
    a linear network ``sum_k m_k <= M`` (equality without noise and with a full-rank
    Krylov matrix). See the module notes for the delay convention (reservoirpy's
    delays 1..k_max are our ``per_delay[1:]``).

    Parameters
    ----------
    W : array (M, M)
    Z : array (M, L)
        With L > 1 every channel gets its own readout and ``per_channel`` holds each
        channel's m_k (the other channels act as independent interference).
    max_delay : int, optional
        Number of delays K (0 .. K-1). Default 2*M, reservoirpy's rule of thumb.
    noise : float
        Standard deviation of the state noise ``eps[n] ~ N(0, noise^2 I)``.
    input_variance : float
        Variance v of the i.i.d. inputs (only its ratio to noise^2 matters).
    method : {"exact", "simulate"}
        ``"exact"``: linear networks, from the stationary state covariance (see
        :func:`state_covariance`; needs spectral radius < 1):
        ``m_k = v b_k^T C^+ b_k`` with ``b_k = W^k z``, evaluated as squared norms of
        the whitened Krylov blocks (Cholesky of C with noise, eigen-decomposition and
        pseudo-inverse without). ``"simulate"``: run the network
        (:func:`fastmem.stm.propagate`, any nonlinearity) on an i.i.d. Gaussian stream,
        fit one least-squares readout per delay on the first ``1 - test_fraction`` of
        the states after the washout, and report the squared correlation on the rest.
    nonlinearity : {"linear", "tanh"}
        ``"tanh"`` requires ``method="simulate"``.
    steps : int, optional
        Simulation: samples after the washout (default ``max(20 * K, 50 * M)``).
    washout : int, optional
        Simulation: initial steps discarded (default K + 200).
    test_fraction : float
        Simulation: fraction of the samples that score the readouts.
    ridge : float
        Simulation: ridge of the readout, relative to the mean state variance.
    inputs : array (T, L), optional
        Simulation: use this input stream instead of drawing Gaussian inputs
        (T > washout + K).
    rtol : float, optional
        Exact, noiseless: eigenvalues of C below ``rtol * max`` count as zero (default
        ``M * eps``); this numerical rank is ``rank``.
    rng : None, int or numpy.random.Generator
        Simulation: draws the inputs and the noise.
    n_threads : int, optional

    Returns
    -------
    MemoryCapacity
    """
    W, Z = _check_network(W, Z)
    M, L = Z.shape
    K = 2 * M if max_delay is None else check_int(max_delay, "max_delay", minimum=1)
    sigma = check_float(noise, "noise", minimum=0.0, maximum=1e150)
    v = check_float(input_variance, "input_variance", minimum=0.0, min_inclusive=False)
    check_choice(method, "method", ("exact", "simulate"))
    check_choice(nonlinearity, "nonlinearity", ("linear", "tanh"))
    check_threads(n_threads)
    threads = n_threads
    if method == "exact":
        if nonlinearity != "linear":
            raise ValueError("method='exact' needs nonlinearity='linear'; use method='simulate' for tanh networks")
        per_channel, rank = _mc_exact(W, Z, K, sigma, v, rtol, threads)
    else:
        per_channel = _mc_simulate(W, Z, K, sigma, v, nonlinearity, steps, washout, test_fraction, ridge, inputs,
                                   rng, threads)
        rank = None
    per_delay = per_channel.sum(axis=1)
    return MemoryCapacity(
        delays=np.arange(K), per_delay=per_delay, per_channel=per_channel, total=float(per_delay.sum()),
        method=method, rank=rank, M=M,
    )


def _mc_exact(W, Z, K, sigma, v, rtol, threads) -> Tuple[np.ndarray, int]:
    M, L = Z.shape
    C = _checked_covariance(W, Z, sigma, v)
    B = _krylov_blocks(W, Z, K, threads)
    if sigma > 0:
        # C >= sigma^2 I: Cholesky C = R R^T, m = v ||R^-1 b||^2.
        import scipy.linalg as sla

        R = np.linalg.cholesky(C)
        Y = sla.solve_triangular(R, B, lower=True, check_finite=False)
        rank = M
    else:
        evals, U = np.linalg.eigh(C)
        tol = (M * np.finfo(float).eps if rtol is None else check_float(rtol, "rtol", minimum=0.0)) * max(evals[-1], 0)
        keep = evals > tol
        rank = int(keep.sum())
        Y = (U[:, keep].T @ B) / np.sqrt(evals[keep])[:, None]
    m = v * np.einsum("ij,ij->j", Y, Y)
    return np.clip(m, 0.0, 1.0).reshape(K, L), rank


def _mc_simulate(W, Z, K, sigma, v, nonlinearity, steps, washout, test_fraction, ridge, inputs, rng, threads):
    M, L = Z.shape
    test_fraction = check_float(test_fraction, "test_fraction", minimum=0.0, maximum=1.0,
                                min_inclusive=False, max_inclusive=False)
    ridge = check_float(ridge, "ridge", minimum=0.0)
    gen = as_generator(rng)
    if inputs is not None:
        S = as_float_array(inputs, "inputs", ndim=(1, 2))
        if S.ndim == 1:
            S = S[:, None]
        if S.shape[1] != L:
            raise ValueError(f"inputs must have shape (T, L) with L = {L}, got {S.shape}")
        wash = K if washout is None else check_int(washout, "washout", minimum=0)
        wash = max(wash, K - 1)
        if S.shape[0] < wash + 10 * (K + 1):
            raise ValueError(f"inputs must be longer than washout + 10 * max_delay = {wash + 10 * (K + 1)} steps, got {S.shape[0]}")
    else:
        wash = K + 200 if washout is None else max(check_int(washout, "washout", minimum=0), K - 1)
        T = max(20 * K, 50 * M) if steps is None else check_int(steps, "steps", minimum=10)
        check_allocation((wash + T) * (M + L), "memory_capacity simulation")
        S = np.sqrt(v) * gen.standard_normal((wash + T, L))
    states = propagate(W, Z, S, noise=sigma, nonlinearity=nonlinearity, rng=gen, return_states=True,
                       n_threads=threads)
    # states[n] = x[n+1] depends on s[0..n]; delay k target is s[n-k].
    n = np.arange(wash, S.shape[0])
    X = states[n]
    n_test = max(1, int(round(test_fraction * len(n))))
    n_train = len(n) - n_test
    if n_train < M + 1:
        raise ValueError(f"too few training samples ({n_train}) for {M} nodes; increase steps")
    Xtr, Xte = X[:n_train], X[n_train:]
    mean = Xtr.mean(axis=0)
    Xc = Xtr - mean
    G = Xc.T @ Xc
    G[np.diag_indices_from(G)] += ridge * np.trace(G) / M + np.finfo(float).tiny
    out = np.empty((K, L))
    import scipy.linalg as sla

    cho = sla.cho_factor(G, check_finite=False)
    for l in range(L):
        # Targets for all delays at once: column k is s[n-k, l].
        lag_index = n[:, None] - np.arange(K)[None, :]
        Tgt = S[lag_index, l]
        Ttr, Tte = Tgt[:n_train], Tgt[n_train:]
        coef = sla.cho_solve(cho, Xc.T @ (Ttr - Ttr.mean(axis=0)), check_finite=False)
        pred = (Xte - mean) @ coef
        out[:, l] = _squared_correlation(pred, Tte)
    return out


def _squared_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    den = np.sqrt(np.sum(a * a, axis=0) * np.sum(b * b, axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, np.sum(a * b, axis=0) / np.where(den > 0, den, 1.0), 0.0)
    return r**2
