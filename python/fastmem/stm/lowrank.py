"""Low-rank input streams: S = V Q^T of rank R (the paper's low-rank model).

The stream S (N, L) (row n is the input s[n], as everywhere in fastmem) is the product of a
temporal factor V (N, R), whose columns are R prototypical time courses, and channel
loadings Q (L, R): ``S = V @ Q.T``. (The paper writes the L x N matrix ``Q V^*``.)

* ``coherence="low"``: V has iid N(0, 1) entries -- time courses that look like nothing
  in particular, which random networks store well.
* ``coherence="high"``: the columns of V are R distinct DCT-II atoms (sinusoids along
  time, drawn at random among the N), scaled by sqrt(N) so that their energy matches the
  Gaussian case -- the case the paper predicts the network stores badly.

Q has iid N(0, 1/R) entries, so every entry of S has unit variance in both cases. The
coherence of the stream with sinusoids is that of the columns of V, computed with
:func:`fastmem.stm.coherence` (about 1-3 for Gaussian V at N = 100, sqrt(N) for DCT atoms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._rng import RNGLike, as_generator
from .._validation import check_allocation, check_choice, check_int
from .coherence import coherence as _coherence
from .signals import dct_basis

COHERENCE_LEVELS = ("low", "high")


@dataclass(frozen=True)
class LowRankSignal:
    """A rank-R stream and its factors, from :func:`lowrank_signal`.

    Unpacks as ``S, V, Q, mu = lowrank_signal(...)``.

    Attributes
    ----------
    S : ndarray (N, L)
        The stream, ``V @ Q.T``.
    V : ndarray (N, R)
        Temporal factor (Gaussian, or scaled DCT atoms).
    Q : ndarray (L, R)
        Channel loadings.
    coherence : float
        ``fastmem.stm.coherence(V)``: coherence of the temporal atoms with sinusoids.
    """

    S: np.ndarray
    V: np.ndarray
    Q: np.ndarray
    coherence: float

    def __iter__(self):
        return iter((self.S, self.V, self.Q, self.coherence))


def lowrank_signal(N: int, L: int, R: int, coherence: str = "low", rng: RNGLike = None) -> LowRankSignal:
    """Draw a rank-R input stream ``S = V @ Q.T`` of shape (N, L).

    Parameters
    ----------
    N : int
        Number of time steps (>= 1).
    L : int
        Number of input channels (>= 1).
    R : int
        Rank, ``1 <= R <= min(N, L)``.
    coherence : {"low", "high"}
        ``"low"``: Gaussian temporal factor V. ``"high"``: V made of R distinct DCT-II
        atoms (sinusoids along time) times sqrt(N).
    rng : None, int or numpy.random.Generator

    Returns
    -------
    LowRankSignal
        ``(S, V, Q, coherence)``, a frozen dataclass that also unpacks as a tuple.
    """
    N = check_int(N, "N", minimum=1)
    L = check_int(L, "L", minimum=1)
    R = check_int(R, "R", minimum=1)
    if R > min(N, L):
        raise ValueError(f"R must be <= min(N, L) = {min(N, L)}, got {R}")
    check_choice(coherence, "coherence", COHERENCE_LEVELS)
    check_allocation(N * L + N * R + L * R, "lowrank_signal")
    gen = as_generator(rng)
    if coherence == "low":
        V = gen.standard_normal((N, R))
    else:
        atoms = np.sort(gen.choice(N, size=R, replace=False))
        V = np.sqrt(N) * dct_basis(N)[:, atoms]
    Q = gen.standard_normal((L, R)) / np.sqrt(R)
    S = V @ Q.T
    return LowRankSignal(S=S, V=V, Q=Q, coherence=float(_coherence(V)))
