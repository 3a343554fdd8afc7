"""The (delayed) 3-bit flip-flop task.

Each of ``bits`` input channels emits pulses of +1 or -1 at random times and is 0
otherwise; output channel k must hold the sign of the last pulse seen on input
channel k, and with ``delay = dt`` it changes only ``dt`` steps after the pulse.

Conventions (chosen here, the paper leaves them open)
-----------------------------------------------------
* **Rate.** ``rate`` is the expected number of pulses per channel per time step.
  Pulses are a discrete-time Poisson (Bernoulli) process: at every step each
  channel independently emits a pulse with probability ``rate``, with a sign +1 or
  -1 with probability 1/2 each. The paper's "Poisson rate lambda = 50" together
  with "approximately 2000 inputs in a hundred thousand steps" is read as a mean
  interval of 50 steps between pulses *over the three channels*, i.e.
  ``rate = 1/150`` per channel (the default): 100,000 steps x 3 channels / 150 =
  2000 pulses on average.
* **Delay.** The target at step t is the sign of the last pulse at a step
  ``<= t - delay`` on that channel: ``targets[t] = hold[t - delay]``. A pulse at
  step p therefore shows in the target at step ``p + delay`` (at step p itself when
  ``delay = 0``). Pulses closer together than the delay are simply both delayed.
* **Before the first pulse** (and until ``delay`` steps after it) a channel's target
  is 0: there is nothing to remember yet. The loss pushes the output to 0 there;
  :func:`fastmem.dynamics.accuracy` leaves out the steps where any target is 0
  (sign undefined). In long streams this concerns only the first few hundred steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, Optional, Tuple

import numpy as np

from .._rng import RNGLike, as_generator
from .._validation import as_float_array, check_allocation, check_float, check_int

DEFAULT_RATE = 1.0 / 150.0


def hold_last_pulse(inputs: np.ndarray, initial: Optional[np.ndarray] = None) -> np.ndarray:
    """Sign of the last non-zero input at or before each step, per channel.

    Parameters
    ----------
    inputs : ndarray, shape (T, bits) or (B, T, bits)
    initial : ndarray, shape (bits,) or (B, bits), optional
        The held value before step 0 (default 0).

    Returns
    -------
    ndarray of the same shape as ``inputs``, entries in {-1, 0, +1}.
    """
    x = as_float_array(inputs, "inputs", ndim=(2, 3))
    squeeze = x.ndim == 2
    if squeeze:
        x = x[None]
    B, T, K = x.shape
    if initial is None:
        init = np.zeros((B, K))
    else:
        init = as_float_array(initial, "initial", ndim=(1, 2))
        if init.shape not in ((K,), (B, K)):
            raise ValueError(f"initial must have shape ({K},) or ({B}, {K}), got {init.shape}")
        init = np.broadcast_to(init, (B, K))
    steps = np.arange(T).reshape(1, T, 1)
    last = np.maximum.accumulate(np.where(x != 0, steps, -1), axis=1)
    picked = np.take_along_axis(x, np.maximum(last, 0), axis=1)
    out = np.where(last >= 0, np.sign(picked), init[:, None, :])
    return out[0] if squeeze else out


@dataclass
class _StreamState:
    held: np.ndarray  # (B, bits): hold value at step (start - 1 - delay)
    pending: np.ndarray  # (B, delay, bits): the last `delay` inputs


class FlipFlopTask:
    """The delayed ``bits``-bit flip-flop task.

    Parameters
    ----------
    bits : int
        Number of independent channels (3 in the paper).
    rate : float
        Expected pulses per channel per step, in (0, 1]; default 1/150 (about 2000
        pulses in 100,000 steps over three channels, the paper's setting).
    delay : int
        Steps between a pulse and the change of the target it causes (0 or 8 in the
        paper).
    rng : None, int or numpy.random.Generator
        Source of all pulse trains drawn by this task object.

    Notes
    -----
    See the module docstring for the conventions (rate, delay, target before the
    first pulse).
    """

    def __init__(self, bits: int = 3, rate: float = DEFAULT_RATE, delay: int = 0, rng: RNGLike = None) -> None:
        self.bits = check_int(bits, "bits", minimum=1, maximum=1024)
        self.rate = check_float(rate, "rate", minimum=0.0, maximum=1.0, min_inclusive=False)
        self.delay = check_int(delay, "delay", minimum=0, maximum=10**6)
        self.rng = as_generator(rng)

    def __repr__(self) -> str:
        return f"FlipFlopTask(bits={self.bits}, rate={self.rate!r}, delay={self.delay})"

    def settings(self) -> Dict[str, float]:
        """The task's parameters (saved with a trained model)."""
        return {"bits": self.bits, "rate": self.rate, "delay": self.delay}

    # -- drawing -----------------------------------------------------------
    def pulses(self, batch: int, steps: int, rng: RNGLike = None) -> np.ndarray:
        """Draw input pulse trains of shape (batch, steps, bits), entries in {-1, 0, +1}."""
        batch = check_int(batch, "batch", minimum=1)
        steps = check_int(steps, "steps", minimum=0)
        check_allocation(2 * batch * steps * self.bits, "the pulse trains")
        gen = self.rng if rng is None else as_generator(rng)
        fire = gen.random((batch, steps, self.bits)) < self.rate
        signs = np.where(gen.random((batch, steps, self.bits)) < 0.5, -1.0, 1.0)
        return np.where(fire, signs, 0.0)

    def targets_for(self, inputs, held=None, pending=None) -> np.ndarray:
        """Targets of a given pulse train (the task's rule, for any input).

        Parameters
        ----------
        inputs : array_like, shape (T, bits) or (B, T, bits)
        held, pending : optional
            The stream state before step 0 (used by :meth:`stream`): ``held`` is the
            hold value at step ``-1 - delay``, ``pending`` the last ``delay`` inputs.
        """
        x = as_float_array(inputs, "inputs", ndim=(2, 3))
        if x.shape[-1] != self.bits:
            raise ValueError(f"inputs must have {self.bits} channels in the last axis, got shape {x.shape}")
        squeeze = x.ndim == 2
        if squeeze:
            x = x[None]
        B, T, K = x.shape
        if pending is None:
            pending = np.zeros((B, self.delay, K))
        else:
            pending = as_float_array(pending, "pending", shape=(B, self.delay, K))
        if held is not None:
            held = as_float_array(held, "held", ndim=(1, 2))
            if held.shape not in ((K,), (B, K)):
                raise ValueError(f"held must have shape ({K},) or ({B}, {K}), got {held.shape}")
        ext = np.concatenate([pending, x], axis=1)
        hold = hold_last_pulse(ext, held)
        y = hold[:, :T, :]
        return y[0] if squeeze else y

    def sample(self, batch: int, steps: int, rng: RNGLike = None) -> Tuple[np.ndarray, np.ndarray]:
        """Independent streams starting from rest.

        Returns
        -------
        inputs : ndarray, shape (batch, steps, bits)
        targets : ndarray, shape (batch, steps, bits)
        """
        x = self.pulses(batch, steps, rng)
        return x, self.targets_for(x)

    def stream(self, steps: int, chunk: int = 10_000, batch: Optional[int] = None,
               rng: RNGLike = None) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        """Yield consecutive chunks of one long stream (or of ``batch`` streams).

        The pulse trains continue across chunks and the targets carry the held
        values and the pulses still inside the delay, so concatenating the chunks
        gives exactly one stream of ``steps`` steps.

        Yields
        ------
        (inputs, targets) of shape (n, bits) each, or (batch, n, bits) when
        ``batch`` is given; n = ``chunk`` except possibly for the last chunk.
        """
        steps = check_int(steps, "steps", minimum=0)
        chunk = check_int(chunk, "chunk", minimum=1)
        B = 1 if batch is None else check_int(batch, "batch", minimum=1)
        check_allocation(2 * B * (min(chunk, steps) + self.delay + 1) * self.bits, "one chunk of the stream (batch x chunk)")
        gen = self.rng if rng is None else as_generator(rng)
        return self._stream(steps, chunk, B, batch is None, gen)

    def _stream(self, steps, chunk, B, squeeze, gen):
        state = _StreamState(np.zeros((B, self.bits)), np.zeros((B, self.delay, self.bits)))
        done = 0
        while done < steps:
            n = min(chunk, steps - done)
            x = self.pulses(B, n, gen)
            y = self.next_targets(x, state)
            done += n
            yield (x[0], y[0]) if squeeze else (x, y)

    def next_targets(self, x: np.ndarray, state: _StreamState) -> np.ndarray:
        """Targets of the chunk ``x`` (B, n, bits) continuing ``state``, which is advanced."""
        if not isinstance(state, _StreamState):
            raise TypeError(f"state must come from new_state(), got {type(state).__name__}")
        B = state.held.shape[0]
        x = as_float_array(x, "x", shape=(B, None, self.bits))
        ext = np.concatenate([state.pending, x], axis=1)
        hold = hold_last_pulse(ext, state.held)
        n = x.shape[1]
        y = hold[:, :n, :]
        state.held = hold[:, n - 1, :].copy() if n > 0 else state.held
        state.pending = ext[:, n:, :].copy()
        return y

    def new_state(self, batch: int) -> _StreamState:
        """A fresh stream state (streams at rest) for :meth:`next_targets`."""
        batch = check_int(batch, "batch", minimum=1)
        check_allocation(batch * (self.delay + 1) * self.bits, "the stream state for this batch")
        return _StreamState(np.zeros((batch, self.bits)), np.zeros((batch, self.delay, self.bits)))
