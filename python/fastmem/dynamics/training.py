"""Truncated backpropagation through time (BPTT) with Adam for the flip-flop RNN.

The objective minimised by :func:`train` is the mean squared error of the outputs,

    L = mean over streams b, window steps t and channels k of (Y_bk(t) - target_bk(t))^2,

on windows of ``unroll`` consecutive steps cut from a batch of continuous input
streams. The hidden state is carried from one window into the next (the streams
never restart) but the gradient stops at the window's start ("unfolded ten steps"
in the paper). Each window is one Adam step. The forward pass, the backward pass
through tanh and the recurrence, optional gradient-norm clipping and Adam all run
in C++ (:class:`fastmem._core.BpttTrainer`); Python only draws the pulse trains in
blocks and reports progress.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .. import _core
from .._rng import RNGLike, as_generator
from .._validation import as_float_array, check_allocation, check_float, check_int, check_threads
from .model import TanhRNN
from .task import FlipFlopTask

# Defaults chosen by bench/bench_bptt.py (see docs/flipflop_delay.md): with them a
# 100-unit network reaches >= 99% held-out accuracy on delay 0 and delay 8.
DEFAULT_STEPS = 16_000
DEFAULT_BATCH = 32
DEFAULT_LR = 5e-4
DEFAULT_CLIP = 1.0
DEFAULT_TRAIN_RATE = 1.0 / 30.0
DEFAULT_CHECK_EVERY = 250
DEFAULT_TARGET = 0.999  # on the check stream: 0.995 there left 98.5-98.8% on held-out 100k streams
DEFAULT_CHECK_STEPS = 50_000
_BLOCK = 50  # Adam steps per C++ call (progress-bar granularity)


@dataclass(frozen=True)
class AccuracyResult:
    """Accuracy of a model on a held-out stream.

    Attributes
    ----------
    accuracy : float
        Fraction of scored steps at which every output has its target's sign.
    channel_accuracy : ndarray, shape (bits,)
        The same per channel.
    steps_scored : int
        Steps scored: those where every target is non-zero (after the first
        pulse, plus the delay, on every channel).
    transitions : int
        Target sign changes (a pulse of the other sign, ``delay`` steps later).
    on_time : float
        Fraction of transitions at which the output takes the new sign exactly
        at the step the target changes (not before, not later).
    early : float
        Fraction of transitions at which the output already had the new sign one
        step before the target changed (it did not wait for the delay).
    median_latency : float
        Median over transitions of the steps from the target change until the
        output first has the new sign (inf when it never does before the next
        change on that channel); 0 for a perfect network.
    latencies : ndarray
        The latency of every transition (float, inf = missed).
    """

    accuracy: float
    channel_accuracy: np.ndarray
    steps_scored: int
    transitions: int
    on_time: float
    early: float
    median_latency: float
    latencies: np.ndarray


@dataclass(frozen=True)
class TrainHistory:
    """What :func:`train` did.

    Attributes
    ----------
    loss : ndarray, shape (steps_done,)
        Mean squared error of every Adam step (before the step's update).
    check_steps : ndarray of int
        Steps after which the held-out accuracy was checked.
    check_accuracy : ndarray
        The accuracy at those checks.
    steps : int
        Adam steps taken.
    seconds : float
        Wall time of the training (checks included).
    reached_target : bool
        Whether ``target_accuracy`` was reached (training stopped there).
    """

    loss: np.ndarray
    check_steps: np.ndarray
    check_accuracy: np.ndarray
    steps: int
    seconds: float
    reached_target: bool


def score(outputs: np.ndarray, targets: np.ndarray) -> AccuracyResult:
    """Accuracy and per-transition latency of outputs (T, bits) against targets (T, bits)."""
    for value, name in ((outputs, "outputs"), (targets, "targets")):
        if isinstance(value, np.ndarray):
            check_allocation(value.size, name)
    out = np.sign(as_float_array(outputs, "outputs", ndim=2))
    y = as_float_array(targets, "targets", ndim=2)
    if out.shape != y.shape:
        raise ValueError(f"outputs and targets must have the same shape (T, bits), got {out.shape} and {y.shape}")
    T, K = y.shape
    scored = np.all(y != 0, axis=1)
    match = out == y
    n = int(scored.sum())
    acc = float(np.all(match, axis=1)[scored].mean()) if n else float("nan")
    ch = match[scored].mean(axis=0) if n else np.full(K, np.nan)
    lat_all, early_all = [], []
    for k in range(K):
        change = np.flatnonzero((y[1:, k] != y[:-1, k]) & (y[:-1, k] != 0)) + 1
        if change.size == 0:
            continue
        # next step (>= j) at which the output matches the target
        idx = np.where(match[:, k], np.arange(T), T)
        next_match = np.minimum.accumulate(idx[::-1])[::-1]
        nxt = np.append(change[1:], T)
        lat = (next_match[change] - change).astype(float)
        lat[next_match[change] >= nxt] = np.inf
        lat_all.append(lat)
        early_all.append(out[change - 1, k] == y[change, k])
    if lat_all:
        lat = np.concatenate(lat_all)
        early = np.concatenate(early_all)
        on_time = float(np.mean((lat == 0) & ~early))
        frac_early = float(np.mean(early))
        median = float(np.median(lat))
    else:
        lat = np.zeros(0)
        on_time = frac_early = median = float("nan")
    return AccuracyResult(acc, ch, n, int(lat.size), on_time, frac_early, median, lat)


def accuracy(
    model: TanhRNN,
    task: FlipFlopTask,
    steps: int = 100_000,
    rng: RNGLike = None,
    n_threads: Optional[int] = None,
) -> AccuracyResult:
    """Accuracy of ``model`` on one fresh stream of ``steps`` steps of ``task``.

    The network starts at rest (S = 0); steps before every channel has seen its
    first pulse (target 0) are not scored. Accuracy = fraction of scored steps at
    which every output has the sign of its target; the result also reports, per
    target transition, whether the output switches exactly when the target does.

    Parameters
    ----------
    model : TanhRNN
    task : FlipFlopTask
        Its ``bits`` must equal ``model.n_in`` and ``model.n_out``.
    steps : int
        Length of the test stream (100,000 in the paper).
    rng : None, int or numpy.random.Generator
        Draws the stream (default: the task's own generator).
    """
    _check_pair(model, task)
    steps = check_int(steps, "steps", minimum=1, maximum=10**9)
    gen = task.rng if rng is None else as_generator(rng)
    x, y = task.sample(1, steps, rng=gen)
    _, out = model.run(x[0], n_threads=n_threads)
    return score(out, y[0])


def _check_pair(model: TanhRNN, task: FlipFlopTask) -> None:
    if not isinstance(model, TanhRNN):
        raise TypeError(f"model must be a TanhRNN, got {type(model).__name__}")
    if not isinstance(task, FlipFlopTask):
        raise TypeError(f"task must be a FlipFlopTask, got {type(task).__name__}")
    if model.n_in != task.bits or model.n_out != task.bits:
        raise ValueError(
            f"model has n_in = {model.n_in}, n_out = {model.n_out} but the task has {task.bits} bits"
        )


def train(
    model: TanhRNN,
    task: FlipFlopTask,
    steps: int = DEFAULT_STEPS,
    batch: int = DEFAULT_BATCH,
    unroll: int = 10,
    lr: float = DEFAULT_LR,
    clip: Optional[float] = DEFAULT_CLIP,
    target_accuracy: Optional[float] = DEFAULT_TARGET,
    check_every: int = DEFAULT_CHECK_EVERY,
    check_steps: int = DEFAULT_CHECK_STEPS,
    train_rate: Optional[float] = None,
    train_input: Optional[bool] = None,
    train_bias: bool = False,
    betas: tuple = (0.9, 0.999),
    eps: float = 1e-8,
    progress: bool = True,
    rng: RNGLike = None,
    n_threads: Optional[int] = None,
) -> TrainHistory:
    """Train ``model`` in place on ``task`` by truncated BPTT and Adam.

    Minimises the mean squared error of Y against the targets (mean over streams,
    window steps and channels), one Adam step per window of ``unroll`` steps of a
    batch of ``batch`` continuous streams, the hidden state carried across windows.

    Parameters
    ----------
    model : TanhRNN
        Updated in place (W and W_out by default); ``model.task_settings`` is set.
    task : FlipFlopTask
    steps : int
        Maximum number of Adam steps (windows).
    batch : int
        Streams trained in parallel (columns of the matrix products).
    unroll : int
        Window length: steps the gradient is propagated back (10 in the paper).
    lr : float
        Adam's step size.
    clip : float or None
        Rescale the gradient (of the trained parameters together) to this norm when
        it is larger, as ``torch.nn.utils.clip_grad_norm_`` (default 1.0; None: off).
    target_accuracy : float or None
        Stop as soon as a check reaches this accuracy (default 0.999; None: run all
        steps).
    check_every : int
        Adam steps between accuracy checks (only used with ``target_accuracy`` or
        to record the accuracy curve).
    check_steps : int
        Length of the held-out check stream (drawn once, from ``rng``).
    train_rate : float, optional
        Pulse rate (per channel per step) of the training streams. Default:
        ``max(task.rate, DEFAULT_TRAIN_RATE)`` = 1/30 for the paper's task. Denser
        pulses than the task's 1/150 give more switching events per Adam step; at
        the paper's rate training stalls for many thousands of steps with only one
        channel learned (see docs/flipflop_delay.md). The accuracy checks always use
        ``task`` itself (its own rate).
    train_input : bool, optional
        Also train W_in (default: ``model.train_input``, False as in the paper).
    train_bias : bool
        Also train b and b_out (the model must have biases).
    betas, eps : Adam's constants.
    progress : bool
        Show a tqdm progress bar with the current loss.
    rng : None, int or numpy.random.Generator
        Draws the training streams and the check stream (default: the task's
        generator). The same seed gives the same trained weights whatever the
        thread count.
    n_threads : int, optional
        Threads of the C++ kernel (default: the process setting).

    Returns
    -------
    TrainHistory
    """
    _check_pair(model, task)
    steps = check_int(steps, "steps", minimum=0, maximum=10**9)
    batch = check_int(batch, "batch", minimum=1, maximum=10**6)
    unroll = check_int(unroll, "unroll", minimum=1, maximum=10**6)
    lr = check_float(lr, "lr", minimum=0.0, min_inclusive=False)
    if clip is not None:
        clip = check_float(clip, "clip", minimum=0.0, min_inclusive=False)
    if target_accuracy is not None:
        target_accuracy = check_float(target_accuracy, "target_accuracy", minimum=0.0, maximum=1.0)
    check_every = check_int(check_every, "check_every", minimum=1)
    check_steps = check_int(check_steps, "check_steps", minimum=1)
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    beta1 = check_float(betas[0], "betas[0]", minimum=0.0, maximum=1.0, max_inclusive=False)
    beta2 = check_float(betas[1], "betas[1]", minimum=0.0, maximum=1.0, max_inclusive=False)
    eps = check_float(eps, "eps", minimum=0.0)
    threads = check_threads(n_threads)
    if train_rate is None:
        train_rate = max(task.rate, DEFAULT_TRAIN_RATE)
    train_rate = check_float(train_rate, "train_rate", minimum=0.0, maximum=1.0, min_inclusive=False)
    stream_task = FlipFlopTask(bits=task.bits, rate=train_rate, delay=task.delay)
    train_input = model.train_input if train_input is None else bool(train_input)
    if train_bias and not model.bias:
        raise ValueError("train_bias=True needs a model with biases (TanhRNN(bias=True))")

    gen = task.rng if rng is None else as_generator(rng)
    stream_gen, check_gen = (np.random.default_rng(s) for s in gen.integers(0, 2**63, size=2))
    w = model.weights()
    trainer = _core.BpttTrainer(
        w["W"], w["W_in"], w["W_out"], w["b"], w["b_out"], batch, unroll,
        train_W=True, train_W_in=train_input, train_W_out=True,
        train_b=train_bias, train_b_out=train_bias,
        lr=lr, beta1=beta1, beta2=beta2, eps=eps, clip=0.0 if clip is None else clip,
    )
    check_x = check_y = None
    if target_accuracy is not None:
        check_x, check_y = task.sample(1, check_steps, rng=check_gen)

    state = stream_task.new_state(batch)
    losses = np.zeros(steps)
    check_at, check_acc = [], []
    reached = False
    done = 0
    start = time.perf_counter()
    bar = _progress_bar(steps, progress)
    try:
        while done < steps:
            n = min(_BLOCK, steps - done, check_every - done % check_every)
            x = stream_task.pulses(batch, n * unroll, rng=stream_gen)
            y = stream_task.next_targets(x, state)
            losses[done : done + n] = trainer.train(x, y, n_threads=threads)
            done += n
            if not np.isfinite(losses[done - 1]):
                raise FloatingPointError(f"the loss became {losses[done - 1]} at step {done}; lower lr or set clip")
            bar.update(n)
            bar.set_postfix(loss=f"{losses[done - 1]:.4g}", refresh=False)
            if check_x is not None and (done % check_every == 0 or done == steps):
                model.set_weights(trainer.weights())
                _, out = model.run(check_x[0], n_threads=n_threads)
                acc = score(out, check_y[0]).accuracy
                check_at.append(done)
                check_acc.append(acc)
                bar.set_postfix(loss=f"{losses[done - 1]:.4g}", acc=f"{acc:.4f}", refresh=False)
                if acc >= target_accuracy:
                    reached = True
                    break
    finally:
        bar.close()
        model.set_weights(trainer.weights())
        model.task_settings = task.settings()
    return TrainHistory(
        loss=losses[:done].copy(),
        check_steps=np.array(check_at, dtype=np.int64),
        check_accuracy=np.array(check_acc, dtype=np.float64),
        steps=done,
        seconds=time.perf_counter() - start,
        reached_target=reached,
    )


def _progress_bar(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc="BPTT", unit="step", leave=False)
