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
    if S.ndim == 3:
        num = np.sum((S - H) ** 2, axis=(1, 2))
        den = np.sum(S**2, axis=(1, 2))
    else:
        num = np.sum((S - H) ** 2)
        den = np.sum(S**2)
    if np.any(den == 0):
        raise ValueError("S_true has a stream of zero energy; the relative error is undefined")
    out = num / den
    return out if S.ndim == 3 else float(out)
