"""Plain numpy reference of the tanh RNN, its truncated-BPTT gradient and Adam.

Loops over time, no C++: for tests of :mod:`fastmem.dynamics`. Shapes follow the
library: X (B, T, n_in), targets (B, T, n_out), states (B, T, N).

    S(t) = tanh(W S(t-1) + W_in X(t) + b),  Y(t) = tanh(W_out S(t) + b_out)
    L    = mean over (B, T, n_out) of (Y - target)^2
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np

Weights = Dict[str, Optional[np.ndarray]]


def rnn_forward(weights: Weights, X: np.ndarray, S0: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
    """States (B, T, N) and outputs (B, T, n_out) of the batch X (B, T, n_in) from S0 (B, N)."""
    W, W_in, W_out = weights["W"], weights["W_in"], weights["W_out"]
    b, b_out = weights.get("b"), weights.get("b_out")
    B, T, _ = X.shape
    N = W.shape[0]
    S = np.zeros((B, N)) if S0 is None else np.array(S0, dtype=float)
    states = np.zeros((B, T, N))
    outputs = np.zeros((B, T, W_out.shape[0]))
    for t in range(T):
        A = S @ W.T + X[:, t] @ W_in.T
        if b is not None:
            A = A + b
        S = np.tanh(A)
        Z = S @ W_out.T
        if b_out is not None:
            Z = Z + b_out
        states[:, t] = S
        outputs[:, t] = np.tanh(Z)
    return states, outputs


def window_loss(weights: Weights, X: np.ndarray, Y: np.ndarray, S0: Optional[np.ndarray] = None) -> float:
    """Mean squared error of one window (the quantity BPTT differentiates)."""
    _, out = rnn_forward(weights, X, S0)
    return float(np.mean((out - Y) ** 2))


def window_gradient(
    weights: Weights, X: np.ndarray, Y: np.ndarray, S0: Optional[np.ndarray] = None
) -> Tuple[float, Dict[str, np.ndarray]]:
    """Loss and gradient of one window, by backpropagation through time.

    S0 is a constant (truncation): no gradient flows into it.
    Gradients for b and b_out are returned even when the model has none (they are
    the gradients with respect to a zero bias).
    """
    W, W_in, W_out = weights["W"], weights["W_in"], weights["W_out"]
    B, T, _ = X.shape
    N = W.shape[0]
    S_prev = np.zeros((B, N)) if S0 is None else np.array(S0, dtype=float)
    states, out = rnn_forward(weights, X, S_prev)
    count = out.size
    loss = float(np.sum((out - Y) ** 2) / count)
    dZ = 2.0 * (out - Y) / count * (1.0 - out**2)  # (B, T, n_out)
    grads = {k: np.zeros_like(v) for k, v in (("W", W), ("W_in", W_in), ("W_out", W_out))}
    grads["b"] = np.zeros(N)
    grads["b_out"] = np.zeros(W_out.shape[0])
    dA_next = np.zeros((B, N))
    for t in range(T - 1, -1, -1):
        S_t = states[:, t]
        S_before = states[:, t - 1] if t > 0 else S_prev
        grads["W_out"] += dZ[:, t].T @ S_t
        grads["b_out"] += dZ[:, t].sum(axis=0)
        dS = dZ[:, t] @ W_out + dA_next @ W
        dA = dS * (1.0 - S_t**2)
        grads["W"] += dA.T @ S_before
        grads["W_in"] += dA.T @ X[:, t]
        grads["b"] += dA.sum(axis=0)
        dA_next = dA
    return loss, grads


class Adam:
    """Adam with torch.optim.Adam's arithmetic, on a dict of arrays (updated in place)."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m: Dict[str, np.ndarray] = {}
        self.v: Dict[str, np.ndarray] = {}
        self.step = 0

    def update(self, params: Dict[str, np.ndarray], grads: Dict[str, np.ndarray]) -> None:
        self.step += 1
        bc1 = 1.0 - self.beta1**self.step
        bc2 = 1.0 - self.beta2**self.step
        for k, g in grads.items():
            m = self.m.setdefault(k, np.zeros_like(g))
            v = self.v.setdefault(k, np.zeros_like(g))
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            params[k] -= (self.lr / bc1) * m / (np.sqrt(v) / np.sqrt(bc2) + self.eps)


def clip_gradient(grads: Dict[str, np.ndarray], max_norm: float) -> float:
    """Rescale ``grads`` in place to total norm ``max_norm`` when larger (torch's rule). Returns the norm."""
    norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
    coef = max_norm / (norm + 1e-6)
    if coef < 1.0:
        for g in grads.values():
            g *= coef
    return norm


def train(
    weights: Weights,
    X: np.ndarray,
    Y: np.ndarray,
    unroll: int,
    lr: float = 1e-3,
    clip: Optional[float] = None,
    trainable=("W", "W_out"),
    S0: Optional[np.ndarray] = None,
) -> Tuple[Weights, np.ndarray, np.ndarray]:
    """Truncated BPTT over X (B, T, n_in): one Adam step per window of ``unroll`` steps.

    Returns the updated weights (a copy), the loss of every step and the final state.
    """
    params = {k: (None if v is None else np.array(v, dtype=float)) for k, v in weights.items()}
    opt = Adam(lr=lr)
    B, T, _ = X.shape
    S = np.zeros((B, params["W"].shape[0])) if S0 is None else np.array(S0, dtype=float)
    losses = []
    for s in range(T // unroll):
        sl = slice(s * unroll, (s + 1) * unroll)
        loss, grads = window_gradient(params, X[:, sl], Y[:, sl], S)
        losses.append(loss)
        states, _ = rnn_forward(params, X[:, sl], S)
        S = states[:, -1]
        g = {k: grads[k] for k in trainable if params.get(k) is not None}
        if clip is not None:
            clip_gradient(g, clip)
        opt.update(params, g)
    return params, np.array(losses), S
