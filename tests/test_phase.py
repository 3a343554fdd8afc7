"""Phase diagrams (Fig. 2 of the compressive-memory paper): reproducibility, resume, regimes, plots, CLI."""

import os
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import fastmem
from fastmem.stm import phase as phase_mod
from fastmem.stm.phase import cell_size, fit_theory_constant, phase_diagram, phase_trial, theory_rho

# A tiny problem: N*L = 120 unknowns, a few trials; big enough to show both regimes.
TINY = dict(L=6, N=20, gammas=(0.25, 0.5, 0.9), rhos=(0.1, 0.4, 0.9), trials=3, noise=0.01, rng=7,
            progress=False, tol=1e-6, max_iter=3000)


# --------------------------------------------------------------------------- stand-ins until the solvers land
def _standin_lasso(A, Y, lam, basis="identity", tol=1e-6, max_iter=1000, signal_shape=None, n_threads=None):
    """Plain FISTA per column (test stand-in for fastmem.stm.lasso)."""
    A = A.todense() if hasattr(A, "todense") else np.asarray(A)
    P = A.shape[1]
    L = TINY["L"]
    N = P // L
    if basis == "dct":
        from fastmem.stm import dct_basis

        A = A @ np.kron(dct_basis(N), np.eye(L))
    step = 1.0 / np.linalg.norm(A, 2) ** 2
    lam = np.broadcast_to(np.asarray(lam, float), (Y.shape[1],))
    X = np.zeros((P, Y.shape[1]))
    Zm, t = X.copy(), 1.0
    for _ in range(max_iter):
        V = Zm - step * A.T @ (A @ Zm - Y)
        Xn = np.sign(V) * np.maximum(np.abs(V) - step * lam, 0)
        tn = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        Zm, X, t = Xn + (t - 1) / tn * (Xn - X), Xn, tn
    S = X if basis == "identity" else np.kron(dct_basis(N), np.eye(L)) @ X
    B = Y.shape[1]
    return SimpleNamespace(S=S.T.reshape(B, N, L), iterations=np.full(B, max_iter), converged=np.ones(B, bool))


def _standin_lowrank_signal(N, L, R, coherence="low", rng=None):
    gen = np.random.default_rng(rng)
    if coherence == "low":
        V = gen.standard_normal((N, R))
    else:
        from fastmem.stm import dct_basis

        V = dct_basis(N)[:, gen.choice(N, R, replace=False)] * np.sqrt(N)
    return V @ gen.standard_normal((R, L))


def _standin_nuclear(A, Y, shape, lam, tol=1e-6, max_iter=1000, n_threads=None):
    A = A.todense() if hasattr(A, "todense") else np.asarray(A)
    N, L = shape
    step = 1.0 / np.linalg.norm(A, 2) ** 2
    out = []
    for b in range(Y.shape[1]):
        lb = np.broadcast_to(np.asarray(lam, float), (Y.shape[1],))[b]
        X = np.zeros(N * L)
        for _ in range(max_iter):
            G = (X - step * A.T @ (A @ X - Y[:, b])).reshape(N, L)
            U, s, Vt = np.linalg.svd(G, full_matrices=False)
            X = (U * np.maximum(s - step * lb, 0)) @ Vt
            X = X.reshape(-1)
        out.append(X.reshape(N, L))
    B = Y.shape[1]
    return SimpleNamespace(S_hat=np.array(out), iterations=np.full(B, max_iter), converged=np.ones(B, bool))


@pytest.fixture(autouse=True)
def solvers(monkeypatch):
    """Use the real solvers once they are on main; a tiny numpy stand-in until then."""
    if not hasattr(fastmem.stm, "lasso"):
        monkeypatch.setattr(fastmem.stm, "lasso", _standin_lasso, raising=False)
    if not hasattr(fastmem.stm, "nuclear_norm"):
        monkeypatch.setattr(fastmem.stm, "nuclear_norm", _standin_nuclear, raising=False)
    if not hasattr(fastmem.stm, "lowrank_signal"):
        monkeypatch.setattr(fastmem.stm, "lowrank_signal", _standin_lowrank_signal, raising=False)


# --------------------------------------------------------------------------- results


@pytest.fixture(scope="module")
def sparse_low():
    mp = pytest.MonkeyPatch()
    if not hasattr(fastmem.stm, "lasso"):
        mp.setattr(fastmem.stm, "lasso", _standin_lasso, raising=False)
    try:
        return phase_diagram("sparse", "low", **TINY)
    finally:
        mp.undo()


def _cell(summary, g, r):
    return summary[(summary.gamma_index == g) & (summary.rho_index == r)].iloc[0]


def test_table_is_tidy_and_complete(sparse_low):
    t = sparse_low.table
    for col in ("gamma", "rho", "M", "K", "trial", "seed", "rmse", "iterations", "converged", "time"):
        assert col in t.columns
    assert len(t) == 3 * 3 * 3
    assert not t.duplicated(["gamma_index", "rho_index", "trial"]).any()
    assert t["M"].tolist()[0] == round(0.25 * 120)
    assert (t["K"] == [cell_size("sparse", g, r, 20, 6)[1] for g, r in zip(t.gamma, t.rho)]).all()
    s = sparse_low.summary
    assert len(s) == 9 and {"mean_rmse", "median_rmse"} <= set(s.columns)
    assert np.allclose(s["mean_rmse"], t.groupby(["gamma_index", "rho_index"])["rmse"].mean().to_numpy())


def test_two_regimes(sparse_low):
    s = sparse_low.summary
    assert _cell(s, 2, 0).median_rmse < 0.05  # many measurements, few non-zeros: recovered
    assert _cell(s, 0, 2).median_rmse > 0.3  # few measurements, many non-zeros: lost
    # error grows with complexity at fixed compression (on average)
    assert _cell(s, 1, 0).mean_rmse < _cell(s, 1, 2).mean_rmse


def test_any_trial_alone_matches_the_sweep(sparse_low):
    t = sparse_low.table
    for g, r, k in [(2, 0, 1), (0, 2, 2), (1, 1, 0)]:
        row = phase_trial(sparse_low.config, g, r, k)
        ref = t[(t.gamma_index == g) & (t.rho_index == r) & (t.trial == k)].iloc[0]
        assert row["seed"] == ref["seed"] and row["K"] == ref["K"] and row["M"] == ref["M"]
        assert row["rmse"] == pytest.approx(ref["rmse"], rel=1e-6, abs=1e-9)


def test_same_seed_same_table_other_seed_other_table(sparse_low):
    cfg = dict(TINY, gammas=(0.5,), trials=2)
    a = phase_diagram("sparse", "low", **cfg).table
    b = phase_diagram("sparse", "low", **cfg).table
    pd.testing.assert_frame_equal(a.drop(columns="time"), b.drop(columns="time"))
    c = phase_diagram("sparse", "low", **dict(cfg, rng=8)).table
    assert not np.allclose(a["rmse"], c["rmse"])


def test_store_resume_and_thread_executor(tmp_path, sparse_low):
    store = tmp_path / "phase.csv"
    cfg = dict(TINY, gammas=(0.25, 0.5), trials=2)
    ref = phase_diagram("sparse", "low", **cfg).table.drop(columns="time")
    first = phase_diagram("sparse", "low", **dict(cfg, trials=2), store=store)
    # cut the store inside its last line, as a killed writer would
    data = store.read_bytes()
    store.write_bytes(data[:-7])
    with ThreadPoolExecutor(2) as ex, pytest.warns(RuntimeWarning):
        again = phase_diagram("sparse", "low", **cfg, store=store, executor=ex)
    pd.testing.assert_frame_equal(again.table.drop(columns="time"), ref, check_exact=False, rtol=1e-9)
    assert len(first.table) == len(again.table)
    with pytest.raises(ValueError, match="other settings"):
        phase_diagram("sparse", "low", **dict(cfg, noise=0.02), store=store)


def test_high_coherence_is_worse():
    cfg = dict(TINY, gammas=(0.5,), rhos=(0.1,), trials=3)
    low = phase_diagram("sparse", "low", **cfg).summary.mean_rmse.iloc[0]
    high = phase_diagram("sparse", "high", **cfg).summary.mean_rmse.iloc[0]
    assert high > low + 0.1


def test_lowrank_diagram_and_unrealisable_cells():
    res = phase_diagram("lowrank", "low", **dict(TINY, gammas=(0.3, 0.9), rhos=(0.05, 0.5, 0.95), trials=2))
    t = res.table
    assert "R" in t.columns and (t["R"] >= 1).all()
    # rho M < L + N - 1 cannot hold a rank-1 stream: those cells are not run
    M = round(0.3 * 120)
    assert cell_size("lowrank", 0.3, 0.05, 20, 6)[1] == 0
    assert not ((t.gamma == 0.3) & (t.rho == 0.05)).any()
    s = res.summary
    easy = s[(s.gamma == 0.9)].sort_values("rho")
    assert easy.iloc[0].median_rmse < 0.1
    assert np.allclose(t["rho_actual"], t["R"] * (6 + 20 - t["R"]) / t["M"])


def test_theory_line_and_fit():
    logp = np.log(4000)
    assert np.allclose(theory_rho("sparse", [0.2, 0.9], 100, 40, 2.0), 1 / (2 * logp))
    r = theory_rho("lowrank", [0.5], 100, 40, 1.0)
    R = 2000 / (140 * logp)
    assert np.allclose(r, R * (140 - R) / 2000)
    # a synthetic diagram with a step at rho = 0.25 gives C = 1 / (rho_c log NL)
    rows = [dict(gamma=g, rho=r, median_rmse=(0.0 if r < 0.25 else 1.0)) for g in (0.3, 0.6) for r in (0.2, 0.3)]
    C = fit_theory_constant(pd.DataFrame(rows), "sparse", 100, 40, threshold=0.5)
    assert C == pytest.approx(1 / (0.25 * logp))


def test_bad_input():
    with pytest.raises(ValueError, match="model"):
        phase_diagram("dense", **TINY)
    with pytest.raises(ValueError, match="coherence"):
        phase_diagram("sparse", "medium", **TINY)
    with pytest.raises(ValueError, match="gammas"):
        phase_diagram("sparse", **dict(TINY, gammas=(0.0, 0.5)))
    with pytest.raises(ValueError, match="rhos"):
        phase_diagram("sparse", **dict(TINY, rhos=(0.5, 1.5)))
    with pytest.raises(ValueError, match="rhos"):
        phase_diagram("sparse", **dict(TINY, rhos=(0.5, 0.5)))
    with pytest.raises(ValueError, match="trials"):
        phase_diagram("sparse", **dict(TINY, trials=0))
    with pytest.raises(TypeError, match="trials"):
        phase_diagram("sparse", **dict(TINY, trials=2.5))
    with pytest.raises(ValueError, match="noise"):
        phase_diagram("sparse", **dict(TINY, noise=-1.0))
    with pytest.raises(ValueError, match="network"):
        phase_diagram("sparse", **dict(TINY, network="ring"))
    with pytest.raises(ValueError, match="gammas"):
        phase_diagram("sparse", **dict(TINY, gammas=[[0.5]]))
    with pytest.raises(ValueError, match="n_threads"):
        phase_diagram("sparse", **TINY, n_threads=0)


# --------------------------------------------------------------------------- plots and the command line


def test_plots(sparse_low):
    from fastmem.plot import figure2
    from fastmem.plot import phase_diagram as draw

    ax, mesh = draw(sparse_low)
    assert mesh.get_array().size == 9
    assert "gamma" in ax.get_xlabel() and "rho" in ax.get_ylabel()
    ax2, _ = draw(sparse_low.table, theory=False)
    fig, axes = figure2({("sparse", "low"): sparse_low})
    assert axes.shape == (2, 2) and len(fig.axes) >= 5  # four panels (one drawn) + its colour bar
    with pytest.raises(ValueError, match="empty"):
        draw(sparse_low.table.iloc[:0])
    with pytest.raises(TypeError):
        draw([1, 2, 3])
    with pytest.raises(ValueError, match="keys"):
        figure2({("sparse", "mid"): sparse_low})
    import matplotlib.pyplot as plt

    plt.close("all")


def test_reproduce_command_quick(tmp_path, monkeypatch):
    from fastmem import cli
    from fastmem.reproduce import stm_fig2

    # the CLI's quick grid, made tinier still for the test
    monkeypatch.setattr(stm_fig2, "QUICK", dict(L=6, N=20, gammas=(0.3, 0.9), rhos=(0.1, 0.9), trials=1))
    out = tmp_path / "figs"
    store = tmp_path / "fig2.csv"
    assert cli.main(["reproduce", "stm-fig2", "--quick", "--out", str(out), "--store", str(store)]) == 0
    for name in ("stm-fig2.png", "stm-fig2.pdf", "stm-fig2.csv"):
        assert (out / name).stat().st_size > 0
    table = pd.read_csv(out / "stm-fig2.csv")
    assert set(table["model"]) == {"sparse", "lowrank"} and set(table["coherence"]) == {"low", "high"}
    for model, coherence in stm_fig2.PANELS:
        assert (tmp_path / f"fig2-{model}-{coherence}.csv").exists()
