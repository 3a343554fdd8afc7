"""numpy reference of the network kernels of :mod:`fastmem.stm.network`."""

from __future__ import annotations

from typing import Optional

import numpy as np


def propagate(W, Z, S, x0=None, noise_values: Optional[np.ndarray] = None, nonlinearity: str = "linear",
              return_states: bool = False) -> np.ndarray:
    """x[n+1] = f(W x[n] + Z s[n] + eps[n]) for S (N, L) or (B, N, L), one stream at a time."""
    S = np.asarray(S, dtype=float)
    batched = S.ndim == 3
    S3 = S if batched else S[None]
    B, N, _ = S3.shape
    M = W.shape[0]
    X0 = np.zeros((B, M)) if x0 is None else np.broadcast_to(np.asarray(x0, float), (B, M))
    eps = None if noise_values is None else np.broadcast_to(noise_values, (B, N, M))
    f = np.tanh if nonlinearity == "tanh" else (lambda v: v)
    finals, all_states = [], []
    for b in range(B):
        x = X0[b].copy()
        states = np.empty((N, M))
        for n in range(N):
            pre = W @ x + Z @ S3[b, n]
            if eps is not None:
                pre = pre + eps[b, n]
            x = f(pre)
            states[n] = x
        finals.append(x)
        all_states.append(states)
    out = np.stack(all_states) if return_states else np.stack(finals)
    return out if batched else out[0]


def measurement_operator(W, Z, N: int) -> np.ndarray:
    """A (M, N*L) with column block k = W^(N-1-k) Z, by explicit matrix powers."""
    M, L = Z.shape
    A = np.empty((M, N * L))
    for k in range(N):
        A[:, k * L:(k + 1) * L] = np.linalg.matrix_power(W, N - 1 - k) @ Z
    return A


def network_apply(W, Z, N: int, V) -> np.ndarray:
    """A @ V without forming A: run the linear network over each column of V."""
    V = np.asarray(V, float)
    cols = V.reshape(V.shape[0], -1)
    L = Z.shape[1]
    out = np.stack([propagate(W, Z, cols[:, b].reshape(N, L)) for b in range(cols.shape[1])], axis=1)
    return out.reshape((W.shape[0],) + V.shape[1:])


def network_adjoint(W, Z, N: int, Y) -> np.ndarray:
    """A.T @ Y without forming A: block k = Z^T (W^T)^(N-1-k) y."""
    Y = np.asarray(Y, float)
    cols = Y.reshape(Y.shape[0], -1)
    L = Z.shape[1]
    out = np.empty((N * L, cols.shape[1]))
    for b in range(cols.shape[1]):
        r = cols[:, b].copy()
        for k in range(N - 1, -1, -1):
            out[k * L:(k + 1) * L, b] = Z.T @ r
            r = W.T @ r
    return out.reshape((N * L,) + Y.shape[1:])
