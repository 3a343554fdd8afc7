"""The (delayed) flip-flop task: pulse statistics, target rules, streams, bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fastmem.dynamics import FlipFlopTask, hold_last_pulse


def targets_by_rule(x, delay):
    """Slow, obvious version of the rule: target[t] = sign of the last pulse at step <= t - delay, else 0."""
    T, K = x.shape
    y = np.zeros((T, K))
    for k in range(K):
        for t in range(T):
            for s in range(t - delay, -1, -1):
                if x[s, k] != 0:
                    y[t, k] = np.sign(x[s, k])
                    break
    return y


pulse_trains = arrays(
    np.float64,
    st.tuples(st.integers(1, 40), st.integers(1, 4)),
    elements=st.sampled_from([-1.0, 0.0, 0.0, 0.0, 1.0]),
)


@given(x=pulse_trains, delay=st.integers(0, 12))
def test_targets_follow_the_rule(x, delay):
    task = FlipFlopTask(bits=x.shape[1], delay=delay)
    y = task.targets_for(x)
    np.testing.assert_array_equal(y, targets_by_rule(x, delay))


@given(x=pulse_trains, delay=st.integers(0, 6), cut=st.integers(1, 9))
def test_stream_state_carries_across_chunks(x, delay, cut):
    task = FlipFlopTask(bits=x.shape[1], delay=delay)
    state = task.new_state(1)
    parts = [task.next_targets(x[None, i : i + cut], state)[0] for i in range(0, len(x), cut)]
    np.testing.assert_array_equal(np.concatenate(parts), targets_by_rule(x, delay))


@given(x=pulse_trains)
def test_delayed_targets_are_shifted_undelayed_targets(x):
    y0 = FlipFlopTask(bits=x.shape[1], delay=0).targets_for(x)
    y3 = FlipFlopTask(bits=x.shape[1], delay=3).targets_for(x)
    np.testing.assert_array_equal(y3[3:], y0[:-3])
    np.testing.assert_array_equal(y3[:3], 0)


def test_stream_equals_its_concatenation_and_is_seeded():
    task = FlipFlopTask(delay=5, rng=7)
    chunks = list(task.stream(2500, chunk=300))
    assert [len(c[0]) for c in chunks] == [300] * 8 + [100]
    X = np.concatenate([c[0] for c in chunks])
    Y = np.concatenate([c[1] for c in chunks])
    np.testing.assert_array_equal(Y, targets_by_rule(X, 5))
    X2 = np.concatenate([c[0] for c in FlipFlopTask(delay=5, rng=7).stream(2500, chunk=300)])
    np.testing.assert_array_equal(X, X2)
    xb, yb = next(FlipFlopTask(rng=1).stream(50, chunk=50, batch=4))
    assert xb.shape == yb.shape == (4, 50, 3)


def test_default_rate_gives_about_2000_pulses_per_100k_steps():
    x, y = FlipFlopTask(rng=3).sample(4, 100_000)
    counts = (x != 0).sum(axis=(1, 2))
    # Poisson: mean 2000, sd ~ 45
    assert np.all(np.abs(counts - 2000) < 250), counts
    assert set(np.unique(x)) == {-1.0, 0.0, 1.0}
    # signs balanced, channels independent of each other
    assert abs(x.sum()) < 5 * np.sqrt((x != 0).sum())
    assert y.shape == x.shape


def test_hold_with_initial_value():
    x = np.zeros((5, 2))
    x[2, 0] = -1
    h = hold_last_pulse(x, initial=np.array([1.0, 1.0]))
    np.testing.assert_array_equal(h[:, 0], [1, 1, -1, -1, -1])
    np.testing.assert_array_equal(h[:, 1], 1)


def test_sample_shapes_and_seed():
    a = FlipFlopTask(bits=2, rate=0.1, delay=1).sample(3, 20, rng=4)
    b = FlipFlopTask(bits=2, rate=0.1, delay=1).sample(3, 20, rng=4)
    assert a[0].shape == a[1].shape == (3, 20, 2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"delay": -1}, ValueError),
        ({"delay": 1.5}, TypeError),
        ({"rate": 0.0}, ValueError),
        ({"rate": 1.5}, ValueError),
        ({"rate": float("nan")}, ValueError),
        ({"bits": 0}, ValueError),
        ({"rng": "seed"}, TypeError),
    ],
)
def test_bad_task_settings(kwargs, exc):
    with pytest.raises(exc):
        FlipFlopTask(**kwargs)


def test_bad_sample_arguments():
    task = FlipFlopTask()
    with pytest.raises(ValueError, match="batch"):
        task.sample(0, 10)
    with pytest.raises(ValueError, match="steps"):
        task.sample(1, -1)
    with pytest.raises(ValueError, match="channels"):
        task.targets_for(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="NaN"):
        task.targets_for(np.full((10, 3), np.nan))
    with pytest.raises(ValueError, match="chunk"):
        list(task.stream(10, chunk=0))
