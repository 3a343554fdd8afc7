"""Coherence of temporal atoms with sinusoids (DESIGN.md, "Coherence with sinusoids").

    mu = max_j max_w || sum_n psi_j[n] e^(-i w n) ||_2

for unit-norm atoms psi_j (length N, values in R or R^L), evaluated on a grid of
``oversample * N`` frequencies by a zero-padded FFT along time. For unit-norm atoms
``1 <= mu <= sqrt(N)``: about 1 for spikes (the identity basis: every |DTFT| is 1),
sqrt(N) for DCT or Fourier atoms (the constant atom reaches sqrt(N) at w = 0).
Random networks store streams with low mu far better than oscillatory ones.
"""

from __future__ import annotations

from typing import Optional, Union

import numpy as np

from .._validation import as_float_array, check_allocation, check_int, check_bool
from .signals import BASES, temporal_basis


def coherence(
    Psi_or_atoms: Union[str, np.ndarray],
    N: Optional[int] = None,
    oversample: int = 16,
    normalize: bool = True,
) -> float:
    """The coherence mu of a set of temporal atoms with sinusoids.

    Parameters
    ----------
    Psi_or_atoms : {"identity", "dct"} or array
        * an (N, R) matrix whose columns are R temporal atoms of length N (for
          example the temporal factor V of a low-rank stream, or ``dct_basis(N)``);
        * with ``N`` given, a synthesis matrix Psi of shape (N*L, P) in the stream
          layout (``vec(S) = Psi @ a``): column j is reshaped to an (N, L) atom and its
          DTFT along time is a vector in C^L, whose Euclidean norm is used (for the
          per-channel bases of :func:`~fastmem.stm.basis_matrix` this is the temporal
          atom's own |DTFT|);
        * a basis name, with ``N`` given.
    N : int, optional
        Atom length; the number of rows by default.
    oversample : int
        FFT length is ``oversample * N`` (>= 1): the frequency grid is
        ``2 pi k / (oversample N)``.
    normalize : bool
        Scale every atom to unit Euclidean norm first (the definition assumes it).

    Returns
    -------
    float
        mu, in [1, sqrt(N)] for unit-norm atoms (up to the grid's resolution).
    """
    oversample = check_int(oversample, "oversample", minimum=1, maximum=1 << 16)
    if isinstance(Psi_or_atoms, str):
        if N is None:
            raise ValueError(f"coherence of a named basis needs N, e.g. coherence({Psi_or_atoms!r}, N=100)")
        N = check_int(N, "N", minimum=1)
        D = temporal_basis(N, Psi_or_atoms)
        X = np.eye(N) if D is None else D
        atoms = X[:, None, :]  # (N, 1, R)
    else:
        X = as_float_array(Psi_or_atoms, "Psi_or_atoms", ndim=(1, 2), allow_empty=False)
        if X.ndim == 1:
            X = X[:, None]
        if N is None:
            N = X.shape[0]
        N = check_int(N, "N", minimum=1)
        if X.shape[0] % N:
            raise ValueError(f"Psi_or_atoms must have N*L rows with N = {N}, got shape {X.shape}")
        L = X.shape[0] // N
        atoms = X.reshape(N, L, X.shape[1])  # row-major stream layout: row n*L + l
    check_allocation(oversample * N * atoms.shape[1] * atoms.shape[2] * 2, "coherence FFT")
    norms = np.sqrt(np.sum(atoms**2, axis=(0, 1)))
    if check_bool(normalize, "normalize"):
        if np.any(norms == 0):
            raise ValueError("Psi_or_atoms has an all-zero atom; its coherence is undefined")
        atoms = atoms / norms
    spectrum = np.fft.rfft(atoms, n=oversample * N, axis=0)  # real atoms: |DTFT| is symmetric in w
    magnitude = np.sqrt(np.sum(np.abs(spectrum) ** 2, axis=1))
    return float(magnitude.max())


__all__ = ["coherence"]
