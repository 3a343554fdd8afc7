"""Recovery error measures."""

from __future__ import annotations

from typing import Union

import numpy as np

from .._validation import as_float_array


def rmse(S_true, S_hat) -> Union[float, np.ndarray]:
    """The paper's relative mean-squared error ``||S - S_hat||_F^2 / ||S||_F^2``.

    Parameters
    ----------
    S_true : array (N, L) or a batch (B, N, L)
        The true stream(s); each must have non-zero energy.
    S_hat : array of the same shape
        The estimate(s).

    Returns
    -------
    float, or ndarray (B,) for batches
        0 for perfect recovery, 1 for the all-zero estimate. (Not a root: the name
        follows the paper's "rMSE".)
    """
    S = as_float_array(S_true, "S_true", ndim=(1, 2, 3), allow_empty=False)
    H = as_float_array(S_hat, "S_hat", ndim=(1, 2, 3))
    if H.shape != S.shape:
        raise ValueError(f"S_hat must have the shape of S_true {S.shape}, got {H.shape}")
    # The ratio is scale-invariant: divide each stream (and its estimate) by its largest
    # entry first, so that squares of huge (1e300) or tiny (1e-300) values neither
    # overflow nor underflow.
    S3, H3 = (S, H) if S.ndim == 3 else (S[None], H[None])
    axes = tuple(range(1, S3.ndim))
    scale = np.max(np.abs(S3), axis=axes, keepdims=True)
    if np.any(scale == 0):
        raise ValueError("S_true has a stream of zero energy; the relative error is undefined")
    with np.errstate(over="ignore", invalid="ignore"):
        diff = (S3 / scale) - (H3 / scale)  # S_hat far larger than S_true may overflow: inf error
        num = np.sum(diff**2, axis=axes)
        den = np.sum((S3 / scale) ** 2, axis=axes)
        out = num / den
    if not np.all(np.isfinite(out)):
        raise ValueError("S_hat is too large relative to S_true: the relative error overflows float64 "
                         "(it exceeds 1e308)")
    return out if S.ndim == 3 else float(out[0])
