"""Input streams that are sparse in a basis (the sparse half of the compressive-memory paper).

Layout (see DESIGN.md): a stream S has shape (N, L), row n is the input s[n]; its
vector is ``vec(S) = S.reshape(-1)`` (row-major, entries ``n*L .. n*L+L-1`` are s[n]).
The coefficients ``a`` (length N*L) use the same layout: entry ``k*L + l`` is the
coefficient of temporal atom k in input channel l. Then

    vec(S) = Psi @ a,     Psi = kron(D, I_L)      (size N*L x N*L)

where D (N, N) holds the temporal atoms as columns: D = I_N for ``"identity"``
(spikes) and D = :func:`dct_basis` (N) for ``"dct"``. Equivalently
``S = D @ a.reshape(N, L)``: the transform acts on each input channel along time.
"""

from __future__ import annotations

from typing import Optional, Tuple, Union

import numpy as np

from .._rng import RNGLike, as_generator
from .._validation import as_float_array, check_allocation, check_choice, check_int

BASES = ("identity", "dct")
BasisLike = Union[str, np.ndarray]
SUPPORTS = ("shared", "per_step")


def dct_basis(N: int) -> np.ndarray:
    """The orthonormal DCT-II basis of length-N sequences, atoms as columns.

    ``D[n, k] = c_k cos(pi (n + 1/2) k / N)`` with ``c_0 = sqrt(1/N)`` and
    ``c_k = sqrt(2/N)`` otherwise, so ``D.T @ D = I``. ``D.T @ s`` is the
    orthonormal DCT-II of s (``scipy.fft.dct(s, norm="ortho")``) and ``D @ a`` its
    inverse (``scipy.fft.idct(a, norm="ortho")``).

    Parameters
    ----------
    N : int
        Sequence length (>= 1).

    Returns
    -------
    D : ndarray (N, N)
    """
    N = check_int(N, "N", minimum=1)
    check_allocation(N * N, "dct_basis(N)")
    n = np.arange(N)[:, None]
    k = np.arange(N)[None, :]
    D = np.cos(np.pi * (n + 0.5) * k / N) * np.sqrt(2.0 / N)
    D[:, 0] = np.sqrt(1.0 / N)
    return D


def temporal_basis(N: int, basis: BasisLike) -> Optional[np.ndarray]:
    """The temporal atoms D (N, N) of a named basis; None for ``"identity"``."""
    if isinstance(basis, str):
        check_choice(basis, "basis", BASES)
        return None if basis == "identity" else dct_basis(N)
    raise TypeError(f"basis must be 'identity', 'dct' or an ndarray, got {type(basis).__name__}")


def basis_matrix(N: int, L: int, basis: BasisLike = "identity") -> np.ndarray:
    """The full synthesis matrix Psi (N*L, N*L) with ``S.reshape(-1) = Psi @ a``.

    Parameters
    ----------
    N, L : int
        Time steps and input channels.
    basis : {"identity", "dct"} or ndarray
        A named basis gives ``Psi = kron(D, I_L)`` (D the temporal atoms, applied per
        channel along time). An array of shape (N*L, N*L) is returned as is (checked);
        an array of shape (N, N) is taken as temporal atoms D and expanded to
        ``kron(D, I_L)``.

    Returns
    -------
    Psi : ndarray (N*L, N*L)
    """
    N = check_int(N, "N", minimum=1)
    L = check_int(L, "L", minimum=1)
    P = N * L
    check_allocation(P * P, "basis_matrix (N*L x N*L)")
    if isinstance(basis, str):
        D = temporal_basis(N, basis)
        return np.eye(P) if D is None else np.kron(D, np.eye(L))
    return _array_basis(basis, N, L)


def _array_basis(basis, N: int, L: int) -> np.ndarray:
    Psi = as_float_array(basis, "basis", ndim=2)
    P = N * L
    if Psi.shape == (P, P):
        return Psi
    if Psi.shape == (N, N):
        return np.kron(Psi, np.eye(L))
    raise ValueError(f"basis must have shape (N*L, N*L) = ({P}, {P}) or (N, N) = ({N}, {N}), got {Psi.shape}")


def synthesize(a: np.ndarray, N: int, L: int, basis: BasisLike = "identity") -> np.ndarray:
    """``vec(S) = Psi @ a`` for coefficients a (N*L,) or a batch (N*L, B): S (N, L) or (B, N, L).

    Uses the per-channel transform for named bases (no N*L x N*L matrix).
    """
    N = check_int(N, "N", minimum=1)
    L = check_int(L, "L", minimum=1)
    a = as_float_array(a, "a", ndim=(1, 2))
    if a.shape[0] != N * L:
        raise ValueError(f"a must have N*L = {N * L} rows, got shape {a.shape}")
    batched = a.ndim == 2
    A = a.T.reshape(-1, N, L) if batched else a.reshape(1, N, L)
    if isinstance(basis, str):
        D = temporal_basis(N, basis)
        S = A.copy() if D is None else np.einsum("nk,bkl->bnl", D, A)
    else:
        Psi = basis_matrix(N, L, basis)
        S = (Psi @ A.reshape(A.shape[0], -1).T).T.reshape(-1, N, L)
    return S if batched else S[0]


def sparse_signal(
    N: int,
    L: int,
    K: int,
    basis: BasisLike = "identity",
    rng: RNGLike = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """A random input stream with exactly K non-zero coefficients in a basis.

    The support is K distinct positions of the N*L coefficients drawn uniformly
    without replacement; the amplitudes are iid N(0, 1) (non-zero with probability 1).

    Parameters
    ----------
    N : int
        Time steps (>= 1).
    L : int
        Input channels (>= 1).
    K : int
        Number of non-zero coefficients, 0 <= K <= N*L.
    basis : {"identity", "dct"} or ndarray
        ``"identity"``: spikes (low coherence with sinusoids); ``"dct"``: orthonormal
        DCT-II along time in each channel (high coherence). An ndarray is a synthesis
        matrix Psi of shape (N*L, N*L), or temporal atoms D of shape (N, N) used per
        channel. See :func:`basis_matrix` for the exact Psi.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    S : ndarray (N, L)
        The stream, ``S.reshape(-1) == basis_matrix(N, L, basis) @ a``.
    a : ndarray (N*L,)
        The coefficients, exactly K of them non-zero.
    """
    N = check_int(N, "N", minimum=1)
    L = check_int(L, "L", minimum=1)
    check_allocation(N * L, "sparse_signal (N x L)")
    P = N * L
    K = check_int(K, "K", minimum=0, maximum=P)
    if not isinstance(basis, str):
        basis = _array_basis(basis, N, L)
    else:
        check_choice(basis, "basis", BASES)
    gen = as_generator(rng)
    a = np.zeros(P)
    support = gen.choice(P, size=K, replace=False)
    a[support] = _nonzero_normal(gen, K)
    return synthesize(a, N, L, basis), a


def joint_sparse_signal(
    N: int,
    L: int,
    F: int,
    K: int,
    Phi=None,
    support: str = "shared",
    rng: RNGLike = None,
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A stream built from a few features of a dictionary (the paper's Fig. 1, top).

    ``s[n] = Phi @ c[n]``, with each c[n] (length F) having exactly K non-zeros
    (iid N(0, 1) amplitudes). In matrix form ``S = C @ Phi.T`` and
    ``vec(S) = kron(I_N, Phi) @ vec(C)``.

    Parameters
    ----------
    N : int
        Time steps.
    L : int
        Input channels.
    F : int
        Number of features (dictionary atoms).
    K : int
        Active features per time step, 0 <= K <= F.
    Phi : array (L, F), optional
        The feature dictionary. By default a random one: orthonormal columns (QR of a
        Gaussian matrix) when F <= L, otherwise Gaussian columns scaled to unit norm.
    support : {"shared", "per_step"}
        ``"shared"``: the same K features are active at every step (joint sparsity,
        N*K non-zeros in all); ``"per_step"``: each step draws its own K features.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    S : ndarray (N, L)
    C : ndarray (N, F)
        The coefficients, row n is c[n].
    Phi : ndarray (L, F)
    """
    N = check_int(N, "N", minimum=1)
    L = check_int(L, "L", minimum=1)
    F = check_int(F, "F", minimum=1)
    K = check_int(K, "K", minimum=0, maximum=F)
    check_choice(support, "support", SUPPORTS)
    check_allocation(N * F + L * F, "joint_sparse_signal")
    gen = as_generator(rng)
    if Phi is None:
        G = gen.standard_normal((L, F))
        if F <= L:
            Q, R = np.linalg.qr(G)
            Phi = Q * np.where(np.diag(R) < 0, -1.0, 1.0)
        else:
            Phi = G / np.linalg.norm(G, axis=0)
    else:
        Phi = as_float_array(Phi, "Phi", shape=(L, F))
    C = np.zeros((N, F))
    if support == "shared":
        cols = gen.choice(F, size=K, replace=False)
        C[:, cols] = _nonzero_normal(gen, (N, K))
    else:
        for n in range(N):
            cols = gen.choice(F, size=K, replace=False)
            C[n, cols] = _nonzero_normal(gen, K)
    return C @ Phi.T, C, Phi


def _nonzero_normal(gen: np.random.Generator, shape) -> np.ndarray:
    """iid N(0, 1), with the probability-zero draw 0.0 replaced by 1.0 (exact support sizes)."""
    x = gen.standard_normal(shape)
    return np.where(x == 0.0, 1.0, x)
