"""Training actually learns the (delayed) flip-flop, and the trained delay-0 network has the paper's cube.

Small networks (32 units) and 20-step BPTT windows keep this to a few seconds; the 100-unit
networks of ``fastmem reproduce flipflop --quick`` use the same settings (see reproduce/flipflop.py).
"""

import functools

import numpy as np
import pytest

from fastmem.dynamics import FlipFlopTask, TanhRNN, find_fixed_points, sample_states, train
from fastmem.dynamics.training import accuracy


@functools.lru_cache(maxsize=None)
def _trained(delay: int, seed: int = 0) -> TanhRNN:
    # one thread: a 32 x 32 step is too small to split (training is thread-count independent)
    model = TanhRNN(n_hidden=32, rng=seed)
    history = train(model, FlipFlopTask(delay=delay), steps=2500, unroll=20, lr=2e-3, check_steps=20_000,
                    target_accuracy=0.995, progress=False, rng=seed, n_threads=1)
    assert history.steps <= 2500
    return model


@pytest.mark.parametrize("delay", [0, 4])
def test_training_reaches_high_accuracy(delay):
    model = _trained(delay)
    result = accuracy(model, FlipFlopTask(delay=delay), steps=20_000, rng=99)
    # chance is 1/8 for all three bits, 1/2 per bit; an untrained network is near chance
    assert result.accuracy > 0.97
    assert result.channel_accuracy.min() > 0.98
    untrained = accuracy(TanhRNN(n_hidden=32, rng=0), FlipFlopTask(delay=delay), steps=20_000, rng=99)
    assert untrained.accuracy < 0.5


def test_trained_delay0_network_has_the_cube_of_fixed_points():
    model = _trained(0)
    x, _ = FlipFlopTask(delay=0).sample(1, 5000, rng=5)
    states, _ = model.run(x[0])
    S0 = np.vstack([sample_states(states, 150, noise=z, rng=i) for i, z in enumerate((0.2, 0.5, 1.0))])
    fp = find_fixed_points(model, S0)
    # 8 attractors (corners), 12 edge saddles, 6 face saddles, 1 centre saddle
    assert fp.census()["total"].tolist() == [8, 12, 6, 1, 0]
    assert fp.n_slow == 0
    # each attractor holds a different output state
    corners = fp.points[fp.n_unstable == 0]
    signs = {tuple(np.sign(np.tanh(model.W_out @ s))) for s in corners}
    assert len(signs) == 8
