"""Fixed/slow-point finder: known fixed points, Newton's quadratic convergence, numpy reference, bad input."""

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, strategies as st

from fastmem import _core
from fastmem.dynamics import deduplicate, find_fixed_points, jacobian_eigenvalues, sample_states
from fastmem.reference import fixed_points as ref


def positive_root(w: float) -> float:
    """The positive solution of x = tanh(w x), w > 1."""
    return scipy.optimize.brentq(lambda x: np.tanh(w * x) - x, 1e-6, 1.0)


def decoupled_truth(ws):
    """All 3^N fixed points of S = tanh(diag(ws) S) and their unstable dimensions (one per 0 coordinate)."""
    roots = [(-positive_root(w), 0.0, positive_root(w)) for w in ws]
    pts = np.array(list(itertools.product(*roots)))
    return pts, (pts == 0).sum(axis=1)


def match(found: np.ndarray, truth: np.ndarray, tol: float) -> np.ndarray:
    """Index of the found point nearest each true point (asserting it is within tol)."""
    d = np.linalg.norm(found[None, :, :] - truth[:, None, :], axis=2)
    idx = d.argmin(axis=1)
    assert d[np.arange(len(truth)), idx].max() < tol
    return idx


@given(ws=st.lists(st.floats(1.2, 4.0), min_size=1, max_size=3), seed=st.integers(0, 2**32 - 1))
def test_decoupled_units_all_fixed_points_with_their_stability(ws, seed):
    rng = np.random.default_rng(seed)
    truth, unstable = decoupled_truth(ws)
    W = np.diag(ws)
    starts = np.repeat(truth, 4, axis=0) + 0.05 * rng.standard_normal((4 * len(truth), len(ws)))
    res = find_fixed_points(W, starts)
    assert len(res) == len(truth)
    idx = match(res.points, truth, 1e-9)
    assert len(set(idx.tolist())) == len(truth)
    np.testing.assert_array_equal(res.n_unstable[idx], unstable)
    assert res.is_fixed.all() and (res.q < 1e-20).all()
    assert res.count.sum() == len(starts)


def test_decoupled_cube_census_from_random_starts(rng):
    """Three self-coupled units: the flip-flop's cube, 8 stable corners, 12 edges, 6 faces, 1 centre."""
    W = np.diag([2.0, 2.5, 3.0])
    res = find_fixed_points(W, rng.uniform(-1.1, 1.1, (400, 3)))
    census = res.census()
    assert census["fixed"].tolist() == [8, 12, 6, 1, 0]
    assert census["slow"].sum() == 0
    assert census["total"].sum() == len(res) == 27
    assert set(res.timings_ns) == {"search", "deduplicate", "eigenvalues"}
    assert all(isinstance(t, int) and t >= 0 for t in res.timings_ns.values())


def test_origin_found_for_bias_free_network(rng):
    N = 40
    W = 1.5 * rng.standard_normal((N, N)) / np.sqrt(N)
    res = find_fixed_points(W, 0.01 * rng.standard_normal((16, N)))
    i = int(np.argmin(np.linalg.norm(res.points, axis=1)))
    assert np.linalg.norm(res.points[i]) < 1e-12
    assert res.is_fixed[i]
    assert res.n_unstable[i] == (np.abs(np.linalg.eigvals(W)) > 1).sum() > 0


def test_newton_converges_quadratically(rng):
    N = 20
    W = np.diag(np.full(N, 2.0)) + 0.2 * rng.standard_normal((N, N)) / np.sqrt(N)
    star = find_fixed_points(W, np.ones((1, N))).points[0]
    assert np.isfinite(star).all()
    s0 = star + 0.02 * rng.standard_normal(N)
    errors = []
    for k in range(5):
        out = _core.find_fixed_points(
            W, np.zeros(N), s0[None], tol_q=0.0, tol_grad=0.0, max_iter=k, chord_steps=0, polish=False
        )
        errors.append(np.linalg.norm(out["points"][0] - star))
    e = np.array(errors)
    assert e[0] > 1e-2
    big = e[:-1] > 1e-7  # above rounding
    ratios = e[1:][big] / e[:-1][big] ** 2
    assert big.sum() >= 2 and ratios.max() < 50
    assert e[-1] < 1e-12


@given(N=st.integers(1, 8), gain=st.floats(0.5, 2.5), seed=st.integers(0, 2**32 - 1))
def test_kernel_agrees_with_numpy_reference(N, gain, seed):
    rng = np.random.default_rng(seed)
    W = gain * rng.standard_normal((N, N)) / np.sqrt(N)
    c = 0.2 * rng.standard_normal(N)
    S0 = rng.uniform(-1, 1, (6, N))
    a = _core.find_fixed_points(W, c, S0)
    b = ref.find_fixed_points(W, c, S0)
    both = (a["status"] == 0) & (b["status"] == 0)
    np.testing.assert_allclose(a["points"][both], b["points"][both], atol=1e-9)
    for s, q in zip(a["points"], a["q"]):
        assert q == pytest.approx(ref.speed(W, c, s), rel=1e-9, abs=1e-15)
    # the stopping rule holds at every returned point
    fixed = a["status"] == 0
    assert (a["q"][fixed] < 1e-12).all()
    assert (a["status"] <= 3).all() and (a["iterations"] <= 200).all()


def test_reference_jacobians_match_finite_differences(rng):
    N = 6
    W = rng.standard_normal((N, N))
    c = rng.standard_normal(N)
    s = rng.uniform(-1, 1, N)
    h = 1e-6
    fd = np.column_stack(
        [(ref.tanh_map(W, c, s + h * e) - ref.tanh_map(W, c, s - h * e)) / (2 * h) for e in np.eye(N)]
    )
    np.testing.assert_allclose(ref.residual_jacobian(W, c, s), fd - np.eye(N), atol=1e-8)
    f = ref.tanh_map(W, c, s)
    np.testing.assert_allclose(ref.map_jacobian(W, f), fd, atol=1e-8)


def test_slow_point_past_a_saddle_node(rng):
    """tanh(2 s + c) just past the fold (c > c*): no fixed point on the lower branch, a slow point instead."""
    w = 2.0
    x_fold = -np.sqrt(1 - 1 / w)
    c_fold = np.arctanh(x_fold) - w * x_fold
    W, c = np.array([[w]]), np.array([c_fold + 0.01])
    res = find_fixed_points(W, np.array([[-0.7], [-0.6], [-0.8], [0.9]]), b=c)
    slow = res.points[~res.is_fixed]
    assert len(slow) == 1 and abs(slow[0, 0] - x_fold) < 0.05
    assert 0 < res.q[~res.is_fixed][0] < 1e-3
    assert res.status[~res.is_fixed][0] in (1, 2)
    assert res.n_fixed == 1 and res.fixed_points[0, 0] > 0.9
    # the slow point is a stationary point of q: the reference agrees
    r = ref.newton(W, c, np.array([-0.7]))
    assert abs(r["point"][0] - slow[0, 0]) < 1e-5


def test_eigenvalues_and_unstable_count_against_numpy(rng):
    N = 12
    W = 1.8 * rng.standard_normal((N, N)) / np.sqrt(N)
    pts = rng.uniform(-0.9, 0.9, (5, N))
    eig = jacobian_eigenvalues(W, pts)
    for s, e in zip(pts, eig):
        want = np.linalg.eigvals(ref.map_jacobian(W, s))
        np.testing.assert_allclose(np.sort_complex(e), np.sort_complex(want), atol=1e-10)
        assert np.all(np.diff(np.abs(e)) <= 1e-12)
    res = find_fixed_points(W, rng.uniform(-1, 1, (32, N)))
    for s, n in zip(res.points, res.n_unstable):
        assert n == ref.n_unstable(W, s)


def test_model_object_and_input(rng):
    N, n_in = 10, 3
    model = SimpleNamespace(W=np.diag(np.full(N, 2.0)), W_in=rng.standard_normal((N, n_in)), b=None)
    u = np.array([0.5, -0.2, 0.1])
    res = find_fixed_points(model, rng.uniform(-1, 1, (20, N)), input=u)
    c = model.W_in @ u
    for s in res.fixed_points:
        assert ref.speed(model.W, c, s) < 1e-20
    # the same with W and W_in passed explicitly
    res2 = find_fixed_points(model.W, rng.uniform(-1, 1, (20, N)), input=u, W_in=model.W_in)
    assert res2.n_fixed >= 1


def test_thread_count_does_not_change_results(rng):
    N = 25
    W = 1.6 * rng.standard_normal((N, N)) / np.sqrt(N)
    S0 = rng.uniform(-1, 1, (40, N))
    a = _core.find_fixed_points(W, np.zeros(N), S0, n_threads=1)
    b = _core.find_fixed_points(W, np.zeros(N), S0, n_threads=2)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_outliers_and_max_q_are_dropped(rng):
    W = np.diag([2.0, 2.0])
    starts = np.array([0.5, 0.5]) + 0.001 * rng.standard_normal((10, 2))
    # all go to the corner (x*, x*), 0.65 from the starts' centroid; the data's radius is ~0.71 (median norm)
    res = find_fixed_points(W, starts, outlier_scale=10.0)
    assert res.n_outliers == 0 and len(res) == 1 and res.count[0] == 10
    res = find_fixed_points(W, starts, outlier_scale=0.5)
    assert res.n_outliers == 10 and len(res) == 0
    assert res.census()["total"].sum() == 0
    # max_q drops the slow point past a saddle-node
    w = 2.0
    x_fold = -np.sqrt(1 - 1 / w)
    c = np.array([np.arctanh(x_fold) - w * x_fold + 0.01])
    starts = np.array([[-0.7], [0.9]])
    assert len(find_fixed_points(np.array([[w]]), starts, b=c)) == 2
    assert len(find_fixed_points(np.array([[w]]), starts, b=c, max_q=1e-8)) == 1


@given(K=st.integers(1, 40), tol=st.floats(0.0, 0.5), seed=st.integers(0, 2**32 - 1))
def test_deduplicate_keeps_separated_lowest_q_points(K, tol, seed):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-1, 1, (K, 2))
    q = rng.uniform(0, 1, K)
    kept, counts = deduplicate(pts, q, tol)
    assert counts.sum() == K
    d = np.linalg.norm(pts[kept][:, None] - pts[kept][None], axis=2)
    assert (d[~np.eye(len(kept), dtype=bool)] > tol).all()
    assert kept[0] == int(np.argmin(q))


@given(K=st.integers(1, 60), N=st.integers(1, 4), clusters=st.integers(1, 8), spread=st.sampled_from([0.0, 0.01, 0.3, 1.0]),
       scale=st.sampled_from([1.0, 100.0]), tol=st.sampled_from([0.0, 0.05, 0.3, 2.0]), ties=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_deduplicate_matches_the_one_by_one_reference(K, N, clusters, spread, scale, tol, ties, seed):
    rng = np.random.default_rng(seed)
    centres = scale * rng.standard_normal((clusters, N))
    pts = centres[rng.integers(0, clusters, K)] + spread * rng.standard_normal((K, N))
    q = rng.integers(0, 3, K).astype(float) if ties else rng.uniform(0, 1, K)
    kept, counts = deduplicate(pts, q, tol)
    ref_kept, ref_counts = ref.deduplicate(pts, q, tol)
    np.testing.assert_array_equal(kept, ref_kept)
    np.testing.assert_array_equal(counts, ref_counts)


def test_sample_states(rng):
    states = rng.standard_normal((50, 4))
    a = sample_states(states, 20, noise=0.0, rng=3)
    assert a.shape == (20, 4)
    assert all((np.abs(states - row).sum(axis=1) == 0).any() for row in a)
    np.testing.assert_array_equal(a, sample_states(states, 20, noise=0.0, rng=3))
    b = sample_states(states[None], 80, noise=0.1, rng=3)  # batch input; more than T: with replacement
    assert b.shape == (80, 4) and np.isfinite(b).all()


def test_bad_input_gives_clear_errors(rng):
    W = np.eye(3) * 2
    S0 = rng.uniform(-1, 1, (5, 3))
    with pytest.raises(ValueError, match="W must be square"):
        find_fixed_points(np.ones((3, 4)), S0)
    with pytest.raises(ValueError, match=r"initial_states must have shape \(K, 3\)"):
        find_fixed_points(W, S0[:, :2])
    with pytest.raises(ValueError, match="initial_states contains NaN"):
        find_fixed_points(W, np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="initial_states must not be empty"):
        find_fixed_points(W, np.empty((0, 3)))
    with pytest.raises(TypeError, match="W must be real"):
        find_fixed_points(W.astype(complex), S0)
    with pytest.raises(ValueError, match="input was given but the model has no W_in"):
        find_fixed_points(W, S0, input=[1.0])
    with pytest.raises(ValueError, match="input must have shape"):
        find_fixed_points(W, S0, input=[1.0, 2.0], W_in=np.ones((3, 1)))
    with pytest.raises(ValueError, match="b must have shape"):
        find_fixed_points(W, S0, b=np.zeros(4))
    with pytest.raises(ValueError, match="tol_q must be >= 0"):
        find_fixed_points(W, S0, tol_q=-1.0)
    with pytest.raises(TypeError, match="max_iter must be an integer"):
        find_fixed_points(W, S0, max_iter=1.5)
    with pytest.raises(ValueError, match="n_threads must be >= 1"):
        find_fixed_points(W, S0, n_threads=0)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        sample_states(S0, 3, noise=-1.0)
    # the C++ layer checks too
    with pytest.raises(ValueError, match="c must have length 3"):
        _core.find_fixed_points(W, np.zeros(2), S0)
    with pytest.raises(ValueError, match="W must be square"):
        _core.map_jacobian_eigenvalues(np.ones((2, 3)), S0)


def test_shared_jacobians_same_points_fewer_factorisations(rng):
    W = np.diag([2.0, 2.5, 3.0]) + 0.05 * rng.standard_normal((3, 3))
    S0 = rng.uniform(-1.1, 1.1, (600, 3))
    shared = find_fixed_points(W, S0, share_jacobians=True)
    alone = find_fixed_points(W, S0, share_jacobians=False)
    assert len(shared) == len(alone) == 27
    idx = match(shared.points, alone.points, 1e-9)
    np.testing.assert_array_equal(shared.n_unstable[idx], alone.n_unstable)
    assert shared.factorisations < alone.factorisations / 2


def test_shared_jacobians_do_not_depend_on_threads(rng):
    N = 20
    W = np.diag(np.full(N, 1.8)) + 0.3 * rng.standard_normal((N, N)) / np.sqrt(N)
    S0 = rng.uniform(-1, 1, (200, N))
    a = _core.find_fixed_points(W, np.zeros(N), S0, share_batch=16, n_threads=1)
    b = _core.find_fixed_points(W, np.zeros(N), S0, share_batch=16, n_threads=2)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert (a["status"] == 0).sum() >= 10


def _trained_like(rng, N):
    """Like a trained 3-bit flip-flop: three strong modes (a cube of ~20-27 fixed points) in weak random coupling."""
    U = np.linalg.qr(rng.standard_normal((N, 3)))[0]
    return U @ np.diag([2.0, 2.5, 3.0]) @ U.T + 0.3 * rng.standard_normal((N, N)) / np.sqrt(N)


@pytest.mark.parametrize("N, K", [(3, 600), (20, 400)])
def test_early_merging_gives_the_same_points_and_counts(rng, N, K):
    W = np.diag([2.0, 2.5, 3.0]) + 0.05 * rng.standard_normal((3, 3)) if N == 3 else _trained_like(rng, N)
    S0 = rng.uniform(-1.1, 1.1, (K, N))
    merged = find_fixed_points(W, S0, merge=True)
    full = find_fixed_points(W, S0, merge=False)
    assert merged.merged > K // 2 and full.merged == 0
    assert len(merged) == len(full)
    idx = match(merged.points, full.points, 1e-9)
    assert len(set(idx.tolist())) == len(full)
    np.testing.assert_array_equal(merged.n_unstable[idx], full.n_unstable)
    np.testing.assert_array_equal(merged.count[idx], full.count)  # every merged search ends where it would have
    assert (merged.q[merged.is_fixed] < 1e-20).all()
    np.testing.assert_allclose(merged.eigenvalues[idx], full.eigenvalues, atol=1e-9)
    raw_m = _core.find_fixed_points(W, np.zeros(N), S0, share_batch=64, share_decrease=0.05, merge=True)
    raw_f = _core.find_fixed_points(W, np.zeros(N), S0, share_batch=64, share_decrease=0.05, merge=False)
    assert raw_m["iterations"].sum() < raw_f["iterations"].sum()
    m = raw_m["merged"] >= 0
    # a merged search returns the library point itself: bit-identical to an earlier search's point
    # and to where the same search without merging ends (to rounding)
    np.testing.assert_allclose(raw_m["points"][m], raw_f["points"][m], atol=1e-9)
    assert (raw_m["status"][m] == 0).all() and (raw_f["status"][m] == 0).all()
    assert (raw_f["merged"] == -1).all()
    # ... namely the point (and q) of the search that found it first
    src = raw_m["merged"][m]
    assert (src < np.flatnonzero(m)).all() and (raw_m["merged"][src] == -1).all()
    np.testing.assert_array_equal(raw_m["points"][m], raw_m["points"][src])
    np.testing.assert_array_equal(raw_m["q"][m], raw_m["q"][src])
    # with c = 0 the map is odd: searches merged into the mirror -p of a point p found end exactly at -p
    mirror = raw_m["merged"] <= -2
    assert mirror.any()
    found = raw_m["points"][raw_m["merged"] == -1]
    for s, qs in zip(raw_m["points"][mirror], raw_m["q"][mirror]):
        hit = np.flatnonzero((found == -s).all(axis=1))
        assert hit.size and (raw_m["q"][raw_m["merged"] == -1][hit] == qs).all()
    # without shared Jacobians there is nothing to merge into
    alone = _core.find_fixed_points(W, np.zeros(N), S0[:50], share_batch=0, merge=True)
    assert (alone["merged"] == -1).all()


def test_merging_does_not_depend_on_threads(rng):
    N = 20
    W = _trained_like(rng, N)
    S0 = rng.uniform(-1, 1, (300, N))
    a = _core.find_fixed_points(W, np.zeros(N), S0, share_batch=16, merge=True, n_threads=1)
    b = _core.find_fixed_points(W, np.zeros(N), S0, share_batch=16, merge=True, n_threads=2)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert (a["merged"] >= 0).sum() > 100


def eig_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Largest distance between two multisets of eigenvalues under the best one-to-one matching."""
    d = np.abs(a[:, None] - b[None, :])
    i, j = scipy.optimize.linear_sum_assignment(d)
    return float(d[i, j].max()) if len(a) else 0.0


def _special_matrices(rng):
    yield np.zeros((1, 1))
    yield np.array([[0.7]])
    yield np.array([[0.0, -1.0], [1.0, 0.0]])  # +-i
    yield np.array([[1.0, 1.0], [0.0, 1.0]])  # a Jordan block
    yield np.eye(5)
    yield np.zeros((6, 6))
    yield np.triu(rng.standard_normal((7, 7)))
    yield np.diag(np.ones(9), 1)  # nilpotent shift: all eigenvalues 0 (ill conditioned; the only nilpotent one)
    R = np.linalg.qr(rng.standard_normal((30, 30)))[0]
    yield R  # orthogonal: |lambda| = 1
    yield rng.standard_normal((100, 100)) / 10
    A = rng.standard_normal((40, 40))
    yield A + A.T  # symmetric: real eigenvalues
    yield 1e-200 * rng.standard_normal((4, 4))
    yield 1e200 * rng.standard_normal((4, 4))


def test_eigenvalue_solver_on_special_matrices(rng):
    """map_jacobian_eigenvalues at S = 0 gives the eigenvalues of W itself (Hessenberg + Francis QR, no vectors)."""
    for W in _special_matrices(rng):
        N = W.shape[0]
        e = _core.map_jacobian_eigenvalues(W, np.zeros((1, N)))[0]
        want = np.linalg.eigvals(W)
        scale = max(np.abs(W).max(), 1e-300)
        nilpotent = N == 10 and np.array_equal(W, np.diag(np.ones(9), 1))
        tol = 1e-6 if nilpotent else 1e-11  # eps^(1/N) sensitivity of a nilpotent Jordan block: both sides
        if nilpotent:
            assert np.abs(e).max() < tol and np.abs(want).max() < tol
        else:
            assert eig_distance(e, want) <= tol * scale * N
        assert np.all(np.diff(np.abs(e)) <= 1e-12 * scale)
        # complex eigenvalues come in exact conjugate pairs
        assert eig_distance(e, e.conj()) == 0.0


@given(N=st.integers(1, 60), gain=st.floats(0.1, 3.0), seed=st.integers(0, 2**32 - 1))
def test_eigenvalues_of_map_jacobian_match_numpy(N, gain, seed):
    rng = np.random.default_rng(seed)
    W = gain * rng.standard_normal((N, N)) / np.sqrt(N)
    pts = rng.uniform(-0.99, 0.99, (3, N))
    eig = _core.map_jacobian_eigenvalues(W, pts)
    for s, e in zip(pts, eig):
        want = np.linalg.eigvals(ref.map_jacobian(W, s))
        assert eig_distance(e, want) <= 1e-9 * (1 + gain)


def test_merged_searches_skip_deduplication_with_the_same_result(rng):
    """find_fixed_points deduplicates only the searches that were not merged; the kept points and
    counts are those of deduplicating every end point."""
    from fastmem.dynamics import fixed_points as fp

    N = 20
    W = _trained_like(rng, N)
    S0 = rng.uniform(-1.1, 1.1, (500, N))
    res = find_fixed_points(W, S0, outlier_scale=None)
    raw = _core.find_fixed_points(W, np.zeros(N), S0, share_batch=fp.SHARE_BATCH, share_tol=1e-6,
                                  share_decrease=fp.SHARE_DECREASE, merge=True)
    assert (raw["merged"] >= 0).sum() > 250
    kept, counts = deduplicate(raw["points"], raw["q"], 1e-3)
    np.testing.assert_array_equal(res.points, raw["points"][kept])
    np.testing.assert_array_equal(res.count, counts)
    assert res.count.sum() == len(S0)


def test_eigenvalues_shared_by_rows_with_the_same_jacobian(rng):
    """Rows S and -S (and repeats) have the same diag(1 - S^2) W: computed once, the same eigenvalues."""
    N = 15
    W = 1.5 * rng.standard_normal((N, N)) / np.sqrt(N)
    s1, s2 = rng.uniform(-0.9, 0.9, (2, N))
    together = _core.map_jacobian_eigenvalues(W, np.array([s1, -s1, s2, s1, -s2]))
    alone = [_core.map_jacobian_eigenvalues(W, s[None])[0] for s in (s1, s2)]
    np.testing.assert_array_equal(together[[0, 1, 3]], np.array([alone[0]] * 3))
    np.testing.assert_array_equal(together[[2, 4]], np.array([alone[1]] * 2))
    s3 = s1.copy()
    s3[0] = np.nextafter(s3[0], 1.0)  # one ulp apart: computed for itself
    e3 = _core.map_jacobian_eigenvalues(W, np.array([s1, s3]))
    assert eig_distance(e3[1], _core.map_jacobian_eigenvalues(W, s3[None])[0]) == 0.0


@given(K=st.integers(0, 64), N=st.integers(1, 4), tol=st.sampled_from([0.0, 0.05, 0.3, 1.0, np.inf]),
       seed=st.integers(0, 2**32 - 1))
def test_small_deduplication_matches_the_vectorised_one(K, N, tol, seed):
    """Up to 64 points _deduplicate takes a plain loop over all distances: the same kept points,
    counts and owners as the vectorised path (clustered points, repeated points and ties in q)."""
    from fastmem.dynamics import fixed_points as fp

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3, N))
    pts = centres[rng.integers(0, 3, K)] + 0.1 * rng.standard_normal((K, N)) * rng.integers(0, 2, (K, 1))
    q = rng.integers(0, 4, K).astype(float)  # many ties
    small = fp._deduplicate(pts, q, tol)
    saved = fp._SMALL_DEDUP
    try:
        fp._SMALL_DEDUP = -1
        big = fp._deduplicate(pts, q, tol)
    finally:
        fp._SMALL_DEDUP = saved
    for a, b in zip(small, big):
        np.testing.assert_array_equal(a, b)


def test_newton_is_refused_on_a_singular_jacobian_and_used_on_a_regular_one():
    """The conditioning test before Newton's step (a cheap lower bound of rcond, Eigen's estimate
    where that bound does not decide): W = I makes J = diag(1 - F^2) - I singular at S = 0 (LM
    steps only, no factorisation used for Newton: q still decreases to the fixed point 0); a
    contracting W keeps J regular and Newton converges in a few iterations."""
    N = 6
    S0 = np.full((1, N), 0.3)
    lm = _core.find_fixed_points(np.eye(N), np.zeros(N), S0 * 1e-3, max_iter=50, n_threads=1)
    assert lm["q"][0] < 1e-12 or lm["status"][0] in (1, 2, 3)
    W = 0.5 * np.eye(N) + 0.1 * np.ones((N, N)) / N
    nt = _core.find_fixed_points(W, np.zeros(N), S0, n_threads=1)
    assert nt["status"][0] == 0 and nt["iterations"][0] <= 8 and np.abs(nt["points"][0]).max() < 1e-6
