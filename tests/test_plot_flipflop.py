"""Flip-flop figures (fastmem.plot.flipflop) build from small synthetic runs and save."""

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from fastmem.dynamics import find_fixed_points, pca, triggered_average
from fastmem.plot import fig2_trajectories, fig3_triggered_average, fig4_eigenvalues, fig6_slow_points
from fastmem.plot.flipflop import output_codes


def cube_run(rng, T=300, N=6):
    """States hopping between the corners of a cube embedded in N dimensions, outputs = the corner's signs."""
    corners = np.sign(rng.standard_normal((T // 30 + 1, 3)))
    Y = np.repeat(corners, 30, axis=0)[:T]
    E = np.linalg.qr(rng.standard_normal((N, 3)))[0]
    S = Y @ E.T * 0.9 + 0.05 * rng.standard_normal((T, N))
    return S, Y


def saved(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    return buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_output_codes():
    Y = np.array([[-1, -1, -1], [-1, -1, 1], [1, 1, 1], [0.3, -0.2, 0.9]])
    np.testing.assert_array_equal(output_codes(Y), [0, 1, 7, 5])


def test_fig2_fig6(rng):
    S, Y = cube_run(rng)
    runs = {"delay 0": (S, Y), "delay 8": (S[::-1].copy(), Y[::-1].copy())}
    fig = fig2_trajectories(runs, steps=200)
    assert isinstance(fig, Figure) and len(fig.axes) == 2 and saved(fig)
    fp = find_fixed_points(np.diag([2.0] * 6), rng.uniform(-1, 1, (50, 6)))
    fig = fig6_slow_points(runs, {"delay 0": fp}, pcas={"delay 8": pca(S, 3)})
    assert len(fig.axes) == 2 and saved(fig)
    with pytest.raises(ValueError, match="must share T"):
        fig2_trajectories({"x": (S, Y[:10])})
    with pytest.raises(ValueError, match="at least one"):
        fig2_trajectories({})


def test_fig3(rng):
    S, Y = cube_run(rng)
    ta = triggered_average(S, Y, source=(-1, -1, -1), target=(-1, -1, 1), before=3, after=5)
    p = pca(S, 5)
    fig = fig3_triggered_average(ta, p, background=S)
    assert len(fig.axes) >= 1 + 5 and saved(fig)
    with pytest.raises(ValueError, match="at least 3 components"):
        fig3_triggered_average(ta, pca(S, 2))


def test_fig4(rng):
    W = rng.standard_normal((20, 20)) / np.sqrt(20)
    fig = fig4_eigenvalues({"delay 0": W, "delay 8": 1.3 * W})
    assert len(fig.axes) == 2 and saved(fig)
    assert "outside the unit circle" in fig.axes[1].get_title()
