"""State-space analysis of a trained RNN: PCA, switch-triggered averages, spectra.

The tools of sections 4 and 5 of the delayed flip-flop paper: PCA fitted on a test
trajectory, the average of all instances of one output switch aligned at the
switch, and the eigenvalues of the recurrent matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Tuple

import numpy as np

from .._validation import as_float_array, check_allocation, check_int


@dataclass(frozen=True)
class PCA:
    """Principal components of a set of states.

    Attributes
    ----------
    mean : ndarray (N,)
        The mean state, subtracted before projecting.
    components : ndarray (n_components, N)
        Orthonormal principal axes, by decreasing variance; each axis's sign is fixed
        so that its largest-magnitude entry is positive.
    explained_variance : ndarray (n_components,)
        Variance of the states along each axis (denominator T - 1).
    explained_variance_ratio : ndarray (n_components,)
        The same as a fraction of the total variance.
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    def transform(self, states) -> np.ndarray:
        """Project states (..., N) onto the components: (..., n_components)."""
        X = as_float_array(states, "states", allow_empty=True)
        if X.ndim < 1 or X.shape[-1] != self.mean.shape[0]:
            raise ValueError(f"states must have last axis of length {self.mean.shape[0]}, got shape {X.shape}")
        return (X - self.mean) @ self.components.T

    def inverse_transform(self, scores) -> np.ndarray:
        """States (..., N) from projections (..., n_components)."""
        Y = as_float_array(scores, "scores")
        if Y.ndim < 1 or Y.shape[-1] != self.n_components:
            raise ValueError(f"scores must have last axis of length {self.n_components}, got shape {Y.shape}")
        return Y @ self.components + self.mean


def pca(states, n_components: int = 3) -> PCA:
    """Fit PCA to states over time.

    Parameters
    ----------
    states : array_like (T, N) or (B, T, N)
        Hidden states (a batch is pooled over trials and time); at least 2 states.
    n_components : int
        Number of axes to keep, 1 <= n_components <= N.

    Returns
    -------
    PCA
        The axes maximise the variance of the projected states (eigenvectors of the
        states' covariance matrix, largest eigenvalues first).
    """
    X = as_float_array(states, "states", ndim=(2, 3), allow_empty=False)
    X = X.reshape(-1, X.shape[-1])
    T, N = X.shape
    if T < 2:
        raise ValueError(f"states must hold at least 2 states to fit PCA, got {T}")
    n_components = check_int(n_components, "n_components", minimum=1, maximum=N)
    mean = X.mean(axis=0)
    Xc = X - mean
    cov = (Xc.T @ Xc) / (T - 1)
    if not np.isfinite(cov).all():
        raise ValueError("states are too large: their covariance overflows float64")
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1]
    evals = np.clip(evals[order], 0.0, None)
    comps = evecs[:, order].T
    signs = np.sign(comps[np.arange(N), np.argmax(np.abs(comps), axis=1)])
    comps = comps * np.where(signs == 0, 1.0, signs)[:, None]
    total = evals.sum()
    ratio = evals / total if total > 0 else np.zeros_like(evals)
    return PCA(
        mean=mean,
        components=np.ascontiguousarray(comps[:n_components]),
        explained_variance=evals[:n_components],
        explained_variance_ratio=ratio[:n_components],
    )


@dataclass(frozen=True)
class TriggeredAverage:
    """Average of the states around every instance of one output switch.

    Attributes
    ----------
    mean : ndarray (before + after, N)
        Average state; row ``before`` is the first step showing the target output.
    lags : ndarray (before + after,)
        Steps relative to the switch, ``-before .. after - 1``.
    events : ndarray (n_events,)
        Time indices of the switches averaged (the first step at the target output).
    source, target : tuple
        The output before and after the switch.
    """

    mean: np.ndarray
    lags: np.ndarray
    events: np.ndarray
    source: Tuple[float, ...]
    target: Tuple[float, ...]

    @property
    def n_events(self) -> int:
        return int(self.events.size)


def switch_times(outputs, source: Sequence[float], target: Sequence[float]) -> np.ndarray:
    """Steps t where ``sign(outputs[t-1]) == source`` and ``sign(outputs[t]) == target``."""
    Y = as_float_array(outputs, "outputs", ndim=2, allow_empty=False)
    src = as_float_array(source, "source")
    tgt = as_float_array(target, "target")
    if src.shape != (Y.shape[1],) or tgt.shape != (Y.shape[1],):
        raise ValueError(
            f"source and target must have length {Y.shape[1]} (the number of outputs), got {src.shape} and {tgt.shape}"
        )
    S = np.sign(Y)
    hit = (S[:-1] == src).all(axis=1) & (S[1:] == tgt).all(axis=1)
    return np.flatnonzero(hit) + 1


def triggered_average(
    states,
    outputs,
    source: Sequence[float] = (-1, -1, -1),
    target: Sequence[float] = (-1, -1, 1),
    before: int = 10,
    after: int = 20,
) -> TriggeredAverage:
    """Average the states around every switch of the output from ``source`` to ``target``.

    Parameters
    ----------
    states : array_like (T, N)
        Hidden states over time.
    outputs : array_like (T, n_out)
        Outputs (or targets) over time; their signs define the output state, so the
        network's continuous outputs and the task's +-1 targets both work.
    source, target : sequence of n_out values in {-1, 0, 1}
        The switch studied (the paper's: (-1, -1, -1) -> (-1, -1, 1)).
    before, after : int
        Steps kept before the switch and from the switch on; switches whose window
        leaves the recording are skipped.

    Returns
    -------
    TriggeredAverage
        ``mean`` is all-NaN when no complete switch was found (``n_events == 0``).
    """
    X = as_float_array(states, "states", ndim=2, allow_empty=False)
    Y = as_float_array(outputs, "outputs", ndim=2, allow_empty=False)
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"outputs must have as many steps as states ({X.shape[0]}), got {Y.shape[0]}")
    before = check_int(before, "before", minimum=0)
    after = check_int(after, "after", minimum=1)
    check_allocation((before + after) * X.shape[1], "the triggered average (before + after, N)")
    for name, v in (("source", source), ("target", target)):
        arr = as_float_array(v, name, ndim=1)
        if not np.isin(arr, (-1.0, 0.0, 1.0)).all():
            raise ValueError(f"{name} must hold values in {{-1, 0, 1}}, got {tuple(v)}")
    t = switch_times(Y, source, target)
    t = t[(t - before >= 0) & (t + after <= X.shape[0])]
    if t.size:
        idx = t[:, None] + np.arange(-before, after)[None, :]
        mean = X[idx].mean(axis=0)
    else:
        mean = np.full((before + after, X.shape[1]), np.nan)
    return TriggeredAverage(
        mean=mean,
        lags=np.arange(-before, after),
        events=t,
        source=tuple(float(s) for s in source),
        target=tuple(float(s) for s in target),
    )


def eigenspectrum(W) -> np.ndarray:
    """Eigenvalues of a square matrix W, complex, sorted by decreasing modulus."""
    if hasattr(W, "W") and not isinstance(W, np.ndarray):
        W = W.W
    W = as_float_array(W, "W", ndim=2, allow_empty=False)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square (N, N), got shape {W.shape}")
    ev = np.linalg.eigvals(W).astype(complex)
    order = np.lexsort((-ev.imag, -ev.real, -np.abs(ev)))
    return ev[order]
