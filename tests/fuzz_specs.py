"""One valid, small call of every public entry point, for the hostile-input fuzz test.

Adding a public function, class or method (or a ``fastmem._core`` binding)? Register
it here, or ``tests/test_fuzz.py::test_every_entry_point_has_a_spec`` fails:

    register("fastmem.stm.phase.phase_diagram",           # entry_id: module.qualname
             lambda: dict(M=4, N=6, trials=1, rng=0),     # fresh valid kwargs, small
             skip=("progress",),                          # args not to mutate (say why)
             aliases={"model_or_W": ["W"]})               # other words messages use

Keys of the kwargs starting with ``_`` are passed to ``call`` but never mutated
(``call=lambda _self, **kw: _self.method(**kw)`` for a method). Each argument is then
replaced, one at a time, by hostile variants of its valid value (see
``tests/hostile.py``). Use ``exempt(id, reason)`` only for entry points that take
nothing a user can get wrong.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

import fastmem
from fastmem import _core
from fastmem import dynamics as dyn
from fastmem import stm
from hostile import exempt, known, register  # noqa: F401

R = lambda seed=0: np.random.default_rng(seed)  # noqa: E731


def net(M=6, L=2, seed=0):
    return stm.random_network(M, L, rng=seed)


def dense_net(M=6, L=2, seed=0):
    g = R(seed)
    W = g.standard_normal((M, M)) / (2 * np.sqrt(M))
    return W, g.standard_normal((M, L))


def stream(N=5, L=2, seed=1):
    return R(seed).standard_normal((N, L))


def rnn(seed=0):
    return dyn.TanhRNN(n_hidden=6, n_in=3, n_out=3, bias=True, rng=seed)


def task():
    return dyn.FlipFlopTask(bits=3, rate=0.2, rng=0)


def states(seed=2):
    return np.tanh(R(seed).standard_normal((20, 6)))


def flipflop_outputs():
    x, y = task().sample(1, 40, rng=3)
    return y[0]


def lasso_problem(M=8, P=12):
    g = R(4)
    A = g.standard_normal((M, P)) / np.sqrt(M)
    x = np.zeros(P)
    x[[1, 5]] = [1.0, -2.0]
    return A, A @ x


def tmpfile(suffix):
    d = tempfile.mkdtemp(prefix="fastmem-fuzz-")
    return os.path.join(d, "f" + suffix)


def saved_model():
    path = tmpfile(".npz")
    rnn().save(path)
    return path


# --------------------------------------------------------------------------- fastmem

register("fastmem._config.get_num_threads", lambda: {})
register("fastmem._config.set_num_threads", lambda: dict(n=fastmem.get_num_threads()), exact=False)
register("fastmem._config.show_config", lambda: dict(file=open(os.devnull, "w")), finite=False)


def _threads(n):
    with fastmem.threads(n):
        return fastmem.get_num_threads()


register("fastmem._config.threads", lambda: dict(n=1), call=_threads)

# --------------------------------------------------------------------------- stm

register("fastmem.stm.network.random_network", lambda: dict(M=6, L=2, kind="circle", radius=0.9, rotate=False, rng=0))
register(
    "fastmem.stm.network.propagate",
    lambda: dict(W=net()[0], Z=net()[1], S=stream(), x0=None, noise=0.0, nonlinearity="linear", rng=0,
                 return_states=False, structure="auto", n_threads=None),
)
register("fastmem.stm.network.measurement_operator",
         lambda: dict(W=dense_net()[0], Z=dense_net()[1], N=5, structure="auto", n_threads=None))
register("fastmem.stm.network.NetworkOperator", lambda: dict(W=net()[0], Z=net()[1], N=5, structure="auto"))
register("fastmem.stm.network.NetworkOperator.matvec",
         lambda: dict(_self=stm.NetworkOperator(*net(), 5), V=R(5).standard_normal(10), n_threads=None),
         call=lambda _self, **kw: _self.matvec(**kw))
register("fastmem.stm.network.NetworkOperator.rmatvec",
         lambda: dict(_self=stm.NetworkOperator(*net(), 5), Y=R(5).standard_normal((6, 2)), n_threads=None),
         call=lambda _self, **kw: _self.rmatvec(**kw))
register("fastmem.stm.network.NetworkOperator.todense", lambda: dict(_self=stm.NetworkOperator(*net(), 5)),
         call=lambda _self: _self.todense())
register("fastmem.stm.network.is_block_diagonal", lambda: dict(W=net()[0]))
register("fastmem.stm.signals.sparse_signal", lambda: dict(N=8, L=2, K=3, basis="identity", rng=0))
register("fastmem.stm.signals.joint_sparse_signal",
         lambda: dict(N=8, L=3, F=2, K=2, Phi=None, support="shared", rng=0))
register("fastmem.stm.signals.dct_basis", lambda: dict(N=8))
register("fastmem.stm.signals.basis_matrix", lambda: dict(N=4, L=2, basis="dct"))
register("fastmem.stm.coherence.coherence",
         lambda: dict(Psi_or_atoms=np.linalg.qr(R(6).standard_normal((8, 3)))[0], N=None, oversample=4, normalize=True),
         aliases={"Psi_or_atoms": ["basis", "Psi", "atoms"]})
register("fastmem.stm.metrics.rmse", lambda: dict(S_true=stream(), S_hat=stream(seed=2)))
register(
    "fastmem.stm.lasso.lasso",
    lambda: dict(A=lasso_problem()[0], y=lasso_problem()[1], lam=0.05, basis=None, noise=None, tol=1e-6,
                 max_iter=500, warm_start=None, signal_shape=None, algorithm="auto", n_threads=None),
)
# scikit-learn convention: the constructor stores, fit() validates -> fuzz the pair
register("fastmem.stm.estimator.Lasso",
         lambda: dict(alpha=0.1, fit_intercept=True, tol=1e-4, max_iter=100, warm_start=False, n_threads=None),
         call=lambda **kw: stm.Lasso(**kw).fit(*lasso_problem()).coef_)
register("fastmem.stm.estimator.Lasso.fit",
         lambda: dict(_self=stm.Lasso(alpha=0.05), X=lasso_problem()[0], y=lasso_problem()[1]),
         call=lambda _self, **kw: _self.fit(**kw).coef_)


def _fitted():
    A, y = lasso_problem()
    return stm.Lasso(alpha=0.05).fit(A, y)


register("fastmem.stm.estimator.Lasso.predict", lambda: dict(_self=_fitted(), X=lasso_problem()[0]),
         call=lambda _self, **kw: _self.predict(**kw))
register("fastmem.stm.estimator.Lasso.score",
         lambda: dict(_self=_fitted(), X=lasso_problem()[0], y=lasso_problem()[1], sample_weight=None),
         call=lambda _self, **kw: _self.score(**kw))
register("fastmem.stm.estimator.Lasso.get_params", lambda: dict(_self=stm.Lasso(), deep=True),
         call=lambda _self, **kw: _self.get_params(**kw), finite=False)
register("fastmem.stm.estimator.Lasso.set_params", lambda: dict(_self=stm.Lasso(), alpha=0.5),
         call=lambda _self, **kw: _self.set_params(**kw).get_params(), finite=False)

register("fastmem.stm.theory.sparse_nodes_needed",
         lambda: dict(K=3, N=50, L=1, basis="identity", C=1.0, gamma=1.0, mu=None),
         aliases={"basis": ["Psi_or_atoms"]})
register("fastmem.stm.theory.lowrank_nodes_needed",
         lambda: dict(R=2, N=20, L=4, V=None, C=1.0, lam=1.0, mu=None))
register("fastmem.stm.theory.sparse_capacity_bound",
         lambda: dict(M=50, rate=0.05, L=1, basis="identity", C=1.0, gamma=1.0, n_max=10_000),
         aliases={"basis": ["Psi_or_atoms"]})
register("fastmem.stm.theory.lowrank_capacity_bound", lambda: dict(M=50, R=2, L=4, C=1.0, lam=1.0, n_max=10_000))
register(
    "fastmem.stm.theory.memory_capacity",
    lambda: dict(W=0.9 * net()[0], Z=net()[1], max_delay=10, noise=0.01, input_variance=1.0, method="exact",
                 nonlinearity="linear", steps=None, washout=None, test_fraction=0.2, ridge=1e-10, inputs=None,
                 rtol=None, rng=0, n_threads=None),
)
register("fastmem.stm.theory.state_covariance",
         lambda: dict(W=0.9 * net()[0], Z=net()[1], noise=0.01, input_variance=1.0))

# recall (stm.recall): tiny curves
def _curve():
    from fastmem.stm import recall

    # dense enough (rate 0.3) that no window is all zero (rmse would be NaN and measured_optimum refuses)
    return recall.recall_curve(20, 2, 0.7, lengths=[1, 2, 4], trials=3, rate=0.3, rng=0, progress=False, max_iter=100)


register("fastmem.stm.recall.burn_in_length", lambda: dict(q=0.8, tol=1e-6))
register("fastmem.stm.recall.infinite_stream", lambda: dict(T=10, L=3, model="sparse", rate=0.2, rank=2, rng=0))
register(
    "fastmem.stm.recall.recall_curve",
    lambda: dict(M=8, L=2, q=0.5, model="sparse", lengths=[1, 2], trials=1, rate=0.2, rank=1, noise=0.0,
                 kind="circle", burn_in=None, lam_scale=1.0, noise_floor=1e-3, debias=True, tol=1e-3, max_iter=50,
                 rng=0, store=None, executor=None, progress=False, n_threads=None),
    finite=False,  # documented: rmse is NaN for a window that happens to be all zero
)
register("fastmem.stm.recall.summarize_curve", lambda: dict(table=_curve()), finite=False)  # NaN as above
register("fastmem.stm.recall.optimal_recall_length",
         lambda: dict(M=50, L=4, q=0.9, model="sparse", rate=0.1, rank=2, noise=0.0, C=1.0, exponent=1.0,
                      lengths=None),
         finite=False, aliases={"exponent": ["gamma"]})  # its error curve holds inf beyond capacity
register("fastmem.stm.recall.measured_optimum", lambda: dict(table=_curve(), flat=0.25), finite=False)
register("fastmem.stm.recall.storage_capacity",
         lambda: dict(M=8, L=2, model="sparse", rate=0.2, rank=1, threshold=0.05, trials=1, radius=1.0, growth=1.5,
                      n_max=4, tol=1e-3, max_iter=50, rng=0, n_threads=None))

# --------------------------------------------------------------------------- dynamics


def _fp_result():
    m = rnn()
    return dyn.find_fixed_points(m, states()[:4], max_iter=20)


register(
    "fastmem.dynamics.fixed_points.find_fixed_points",
    lambda: dict(model_or_W=rnn(), initial_states=states()[:4], input=None, tol_q=1e-12, tol_grad=1e-10,
                 max_iter=50, fixed_q=None, max_q=None, unique_tol=1e-3, outlier_scale=10.0, rcond_min=1e-8,
                 n_threads=None),
    aliases={"model_or_W": ["W", "model"]},
)
register("fastmem.dynamics.fixed_points.FixedPointResult.census", lambda: dict(_self=_fp_result()),
         call=lambda _self: _self.census())
register("fastmem.dynamics.fixed_points.sample_states", lambda: dict(states=states(), n=5, noise=0.01, rng=0))
register("fastmem.dynamics.fixed_points.deduplicate",
         lambda: dict(points=states()[:5], q=np.linspace(0, 1e-3, 5), tol=1e-3))
register("fastmem.dynamics.fixed_points.jacobian_eigenvalues",
         lambda: dict(model_or_W=rnn().W, points=states()[:3], n_threads=None),
         aliases={"model_or_W": ["W", "model"]})
register("fastmem.dynamics.analysis.pca", lambda: dict(states=states(), n_components=2))
register("fastmem.dynamics.analysis.PCA.transform", lambda: dict(_self=dyn.pca(states(), 2), states=states(5)),
         call=lambda _self, **kw: _self.transform(**kw))
register("fastmem.dynamics.analysis.PCA.inverse_transform",
         lambda: dict(_self=dyn.pca(states(), 2), scores=R(3).standard_normal((4, 2))),
         call=lambda _self, **kw: _self.inverse_transform(**kw))
register(
    "fastmem.dynamics.analysis.triggered_average",
    lambda: dict(states=np.tanh(R(7).standard_normal((40, 6))), outputs=flipflop_outputs(), source=(-1, -1, -1),
                 target=(-1, -1, 1), before=2, after=3),
    finite=False,  # no event -> an empty mean is allowed to be NaN-free but empty; see test
)
register("fastmem.dynamics.analysis.switch_times",
         lambda: dict(outputs=flipflop_outputs(), source=(-1, -1, -1), target=(-1, -1, 1)))
register("fastmem.dynamics.analysis.eigenspectrum", lambda: dict(W=rnn().W))

register("fastmem.dynamics.task.FlipFlopTask", lambda: dict(bits=3, rate=0.1, delay=0, rng=0))
register("fastmem.dynamics.task.FlipFlopTask.settings", lambda: dict(_self=task()), call=lambda _self: _self.settings())
register("fastmem.dynamics.task.FlipFlopTask.pulses", lambda: dict(_self=task(), batch=2, steps=10, rng=0),
         call=lambda _self, **kw: _self.pulses(**kw))
register("fastmem.dynamics.task.FlipFlopTask.targets_for",
         lambda: dict(_self=task(), inputs=task().pulses(2, 10, rng=1), held=None, pending=None),
         call=lambda _self, **kw: _self.targets_for(**kw))
register("fastmem.dynamics.task.FlipFlopTask.sample", lambda: dict(_self=task(), batch=2, steps=10, rng=0),
         call=lambda _self, **kw: _self.sample(**kw))
register("fastmem.dynamics.task.FlipFlopTask.stream",  # a lazy generator: take its first chunk
         lambda: dict(_self=task(), steps=30, chunk=10, batch=None, rng=0),
         call=lambda _self, **kw: next(iter(_self.stream(**kw)), None))
register("fastmem.dynamics.task.FlipFlopTask.next_targets",
         lambda: dict(_self=task(), x=task().pulses(2, 10, rng=1), state=task().new_state(2)),
         call=lambda _self, **kw: _self.next_targets(**kw), exact=False)
register("fastmem.dynamics.task.FlipFlopTask.new_state", lambda: dict(_self=task(), batch=2),
         call=lambda _self, **kw: vars(_self.new_state(**kw)))
register("fastmem.dynamics.task.hold_last_pulse",
         lambda: dict(inputs=task().pulses(2, 10, rng=1), initial=None))

register("fastmem.dynamics.model.TanhRNN",
         lambda: dict(n_hidden=6, n_in=3, n_out=3, bias=False, train_input=False, rng=0))
register("fastmem.dynamics.model.TanhRNN.weights", lambda: dict(_self=rnn()), call=lambda _self: _self.weights())
register("fastmem.dynamics.model.TanhRNN.set_weights",
         lambda: dict(_self=rnn(), weights=rnn(1).weights()),
         call=lambda _self, **kw: (_self.set_weights(**kw), _self.weights())[1])
register("fastmem.dynamics.model.TanhRNN.copy", lambda: dict(_self=rnn()), call=lambda _self: _self.copy().weights())
register("fastmem.dynamics.model.TanhRNN.run",
         lambda: dict(_self=rnn(), X=task().pulses(2, 10, rng=1), S0=None, n_threads=None),
         call=lambda _self, **kw: _self.run(**kw))
register("fastmem.dynamics.model.TanhRNN.save", lambda: dict(_self=rnn(), path=tmpfile(".npz"), task=None),
         call=lambda _self, **kw: _self.save(**kw), exact=False, errors=(OSError,))
register("fastmem.dynamics.model.TanhRNN.load", lambda: dict(path=saved_model()),
         call=lambda **kw: dyn.TanhRNN.load(**kw).weights(), errors=(OSError,))


def _torch_pair():
    return rnn().to_torch()


register("fastmem.dynamics.model.TanhRNN.from_torch",
         lambda: dict(rnn=_torch_pair()[0], linear=_torch_pair()[1]),
         call=lambda **kw: dyn.TanhRNN.from_torch(**kw).weights())
register("fastmem.dynamics.model.TanhRNN.to_torch", lambda: dict(_self=rnn(), batch_first=True, dtype=None),
         call=lambda _self, **kw: [p.detach().numpy() for m in _self.to_torch(**kw) for p in m.parameters()])

register("fastmem.dynamics.training.train",
         lambda: dict(model=rnn(), task=task(), steps=4, batch=2, unroll=2, lr=1e-3, clip=1.0,
                      target_accuracy=0.5, check_every=2, check_steps=30, rng=0, progress=False),
         call=lambda **kw: dyn.train(**kw).loss, skip=("progress",))
register("fastmem.dynamics.training.accuracy",
         lambda: dict(model=rnn(), task=task(), steps=50, rng=0, n_threads=None),
         call=lambda **kw: dyn.accuracy(**kw).accuracy)
register("fastmem.dynamics.training.score",
         lambda: dict(outputs=R(3).standard_normal((20, 3)), targets=task().sample(1, 20, rng=2)[1][0]),
         call=lambda **kw: dyn.score(**kw).accuracy)

# --------------------------------------------------------------------------- sweep


def _square(task):
    (i,) = task
    return [{"value": float(i * i)}]


register("fastmem.sweep.run_sweep",
         lambda: dict(worker=_square, tasks=[(0,), (1,), (2,)], key=("i",), store=None, meta=None, executor=None,
                      progress=False, desc="sweep"))


def _store_path():
    path = tmpfile(".csv")
    fastmem.sweep.run_sweep(_square, [(0,), (1,)], ("i",), store=path, meta={"a": 1}, progress=False)
    return path


register("fastmem.sweep.read_store", lambda: dict(path=_store_path(), key=("i",)), errors=(OSError,),
         aliases={"path": ["store"]})
register("fastmem.sweep.process_pool", lambda: dict(max_workers=1, method="spawn"),
         call=lambda **kw: kw and fastmem.sweep.process_pool(**kw).shutdown(), finite=False, exact=False)
register("fastmem.sweep.SweepStore", lambda: dict(path=_store_path(), meta={"a": 1}, key=("i",)),
         call=lambda **kw: fastmem.sweep.SweepStore(**kw).existing(), errors=(OSError,), aliases={"path": ["store"]})
register("fastmem.sweep.SweepStore.finished",
         lambda: dict(_self=fastmem.sweep.SweepStore(_store_path(), {"a": 1}, ("i",))),
         call=lambda _self: sorted(_self.finished()))
register("fastmem.sweep.SweepStore.existing",
         lambda: dict(_self=fastmem.sweep.SweepStore(_store_path(), {"a": 1}, ("i",))),
         call=lambda _self: _self.existing())
register("fastmem.sweep.SweepStore.append",
         lambda: dict(_self=fastmem.sweep.SweepStore(_store_path(), {"a": 1}, ("i",)),
                      rows=[{"i": 7, "value": 1.0, "_task_rows": 1}]),
         call=lambda _self, **kw: _self.append(**kw), exact=False)

# --------------------------------------------------------------------------- _core (direct, no Python validation)

register("fastmem._core.get_num_threads", lambda: {})
register("fastmem._core.set_num_threads", lambda: dict(n=_core.get_num_threads()), exact=False)
register("fastmem._core.hardware_threads", lambda: {})
register("fastmem._core.build_info", lambda: {}, finite=False)
register(
    "fastmem._core.propagate",
    lambda: dict(W=dense_net()[0], Z=dense_net()[1], S=stream()[None], x0=None, noise=None, nonlinearity="linear",
                 return_states=True, structure="dense", n_threads=0),
)
register("fastmem._core.measurement_operator",
         lambda: dict(W=dense_net()[0], Z=dense_net()[1], N=5, structure="dense", n_threads=0))
register("fastmem._core.NetworkOperator", lambda: dict(W=dense_net()[0], Z=dense_net()[1], N=5, structure="dense"),
         call=lambda **kw: _core.NetworkOperator(**kw).to_dense())


def core_op():
    return _core.NetworkOperator(*dense_net(), 5, "dense")


register("fastmem._core.NetworkOperator.apply",
         lambda: dict(_self=core_op(), V=R(5).standard_normal((10, 2)), n_threads=0),
         call=lambda _self, **kw: _self.apply(**kw))
register("fastmem._core.NetworkOperator.adjoint", lambda: dict(_self=core_op(), Y=R(5).standard_normal(6), n_threads=0),
         call=lambda _self, **kw: _self.adjoint(**kw))
register("fastmem._core.NetworkOperator.to_dense", lambda: dict(_self=core_op()), call=lambda _self: _self.to_dense())
# the binding's messages use the public names
LASSO_ALIASES = {"Yt": ["y"], "X0t": ["warm_start"], "basis_kind": ["basis"]}
register(
    "fastmem._core.lasso_dense",
    lambda: dict(A=lasso_problem()[0], Yt=lasso_problem()[1][None], lam=np.array([0.05]), X0t=None,
                 basis_kind="identity", basis=None, L=1, tol=1e-6, max_iter=500, lipschitz=0.0, n_threads=0),
    aliases=LASSO_ALIASES,
)
register(
    "fastmem._core.lasso_working_set",
    lambda: dict(A=lasso_problem()[0], Yt=lasso_problem()[1][None], lam=np.array([0.05]), X0t=None, tol=1e-6,
                 max_iter=500, p0=4, n_threads=0),
    aliases=LASSO_ALIASES,
)
register(
    "fastmem._core.lasso_network",
    lambda: dict(op=core_op(), Yt=R(8).standard_normal((2, 6)), lam=np.array([0.05, 0.1]), X0t=None,
                 basis_kind="identity", basis=None, L=2, tol=1e-6, max_iter=500, lipschitz=0.0, n_threads=0),
    aliases=LASSO_ALIASES,
)



# nuclear norm (branch nuclear)
def nn_problem(M=10, N=4, L=3, seed=9):
    g = R(seed)
    return g.standard_normal((M, N * L)) / np.sqrt(M), g.standard_normal(M)


register("fastmem.stm.lowrank.lowrank_signal", lambda: dict(N=8, L=3, R=2, coherence="low", rng=0))
register(
    "fastmem.stm.nuclear_norm.nuclear_norm",
    lambda: dict(A=nn_problem()[0], y=nn_problem()[1], shape=(4, 3), lam=0.05, noise=None, warm_start=None,
                 tol=1e-6, max_iter=300, lipschitz=None, svd="gram", restart=True, n_threads=None),
)
register(
    "fastmem.stm.nuclear_norm.nuclear_norm_constrained",
    lambda: dict(A=nn_problem()[0], y=nn_problem()[1], shape=(4, 3), eps=0.5, rtol=1e-2, max_rounds=10, tol=1e-6,
                 max_iter=300, lipschitz=None, svd="gram", n_threads=None),
)
NN_ALIASES = {"S0": ["warm_start"]}
register(
    "fastmem._core.nuclear_norm_fista",
    lambda: dict(A=nn_problem()[0], y=nn_problem()[1][:, None], lam=np.array([0.05]), N=4, L=3, S0=None, tol=1e-6,
                 max_iter=300, lipschitz=0.0, svd="gram", restart=True, n_threads=0),
    aliases=NN_ALIASES,
)
register("fastmem._core.operator_norm_squared", lambda: dict(A=nn_problem()[0], n_threads=0))
register(
    "fastmem._core.nuclear_norm_dr",
    lambda: dict(A=nn_problem()[0], y=nn_problem()[1][:, None], lam=np.array([0.05]), N=4, L=3,
                 K=nn_problem()[0] @ nn_problem()[0].T, S0=None, tol=1e-6, max_iter=300, svd="gram", memory=10,
                 n_threads=0),
    aliases=NN_ALIASES,
)
register("fastmem._core.network_outer_gram", lambda: dict(op=stm.NetworkOperator(*stm.random_network(6, 2, rng=0), 4)._op))
register("fastmem._core.singular_value_threshold",
         lambda: dict(S=R(3).standard_normal((2, 4, 3)), tau=np.array([0.1, 1.0]), svd="gram", n_threads=0))


def core_rnn():
    w = rnn().weights()
    return dict(W=w["W"], W_in=w["W_in"], W_out=w["W_out"], b=w["b"], b_out=w["b_out"])


register("fastmem._core.rnn_run", lambda: dict(**core_rnn(), X=task().pulses(2, 10, rng=1), S0=None, n_threads=0))
register("fastmem._core.BpttTrainer", lambda: dict(**core_rnn(), batch=2, unroll=5, lr=1e-3, clip=0.0),
         call=lambda **kw: _core.BpttTrainer(**kw).weights())


def trainer():
    return _core.BpttTrainer(**core_rnn(), batch=2, unroll=5)


def xy(T=10):
    x, y = task().sample(2, T, rng=1)
    return x, y


register("fastmem._core.BpttTrainer.weights", lambda: dict(_self=trainer()), call=lambda _self: _self.weights())
register("fastmem._core.BpttTrainer.train", lambda: dict(_self=trainer(), X=xy()[0], Y=xy()[1], n_threads=0),
         call=lambda _self, **kw: _self.train(**kw))
register("fastmem._core.BpttTrainer.gradient", lambda: dict(_self=trainer(), X=xy(5)[0], Y=xy(5)[1], n_threads=0),
         call=lambda _self, **kw: _self.gradient(**kw))
register("fastmem._core.BpttTrainer.apply_update", lambda: dict(_self=trainer()),
         call=lambda _self: (_self.apply_update(), _self.weights())[1])
register(
    "fastmem._core.find_fixed_points",
    lambda: dict(W=rnn().W, c=np.zeros(6), initial_states=states()[:3], tol_q=1e-12, tol_grad=1e-10, tol_step=1e-12,
                 max_iter=50, rcond_min=1e-8, max_halvings=4, polish=True, n_threads=0),
)
register("fastmem._core.map_jacobian_eigenvalues", lambda: dict(W=rnn().W, points=states()[:3], n_threads=0))


# --------------------------------------------------------------------------- phase diagrams (stm.phase)

_PHASE = dict(model="sparse", coherence="low", L=2, N=3, gammas=(0.5,), rhos=(0.5,), trials=1, noise=0.01,
              network="circle", radius=1.0, rng=0, store=None, executor=None, progress=False, n_threads=None,
              lam_scale=1.0, tol=1e-3, max_iter=50, operator="auto", dense_limit=1000, settle=1e-3)


def _phase_result():
    return stm.phase_diagram(**_PHASE)


register("fastmem.stm.phase.phase_diagram", lambda: dict(_PHASE),
         call=lambda **kw: stm.phase_diagram(**kw).table[["M", "K", "rmse"]].to_numpy(), exact=False)
register("fastmem.stm.phase.phase_trial",
         lambda: dict(config=_phase_result().config, gamma_index=0, rho_index=0, trial=0, n_threads=None),
         call=lambda **kw: stm.phase_trial(**kw)["rmse"], exact=False)
register("fastmem.stm.phase.theory_rho", lambda: dict(model="sparse", gammas=np.array([0.2, 0.5]), N=10, L=4, C=1.0))
register("fastmem.stm.phase.fit_theory_constant",
         lambda: dict(summary=_phase_result().summary, model="sparse", N=3, L=2, threshold=0.1), finite=False)
register("fastmem.stm.phase.PhaseDiagram.theory_constant", lambda: dict(_self=_phase_result(), threshold=0.1),
         call=lambda _self, **kw: _self.theory_constant(**kw), finite=False)


# --------------------------------------------------------------------------- Gram form (stm.gram)


def gram_problem(M=8, L=2, N=3, seed=4):
    W, Z = stm.random_network(M, L, radius=0.9, rng=seed)
    y = R(seed).standard_normal((M, 2))
    return W, Z, N, y


def toeplitz(basis="identity"):
    W, Z, N, _ = gram_problem()
    return stm.ToeplitzGram(W, Z, N, basis=basis)


register("fastmem.stm.gram.ToeplitzGram", lambda: dict(W=gram_problem()[0], Z=gram_problem()[1], N=3,
                                                       basis="identity", n_threads=None),
         call=lambda **kw: stm.ToeplitzGram(**kw).todense())
register("fastmem.stm.gram.ToeplitzGram.from_operator",
         lambda: dict(op=stm.NetworkOperator(*gram_problem()[:3]), basis="dct", n_threads=None),
         call=lambda **kw: stm.ToeplitzGram.from_operator(**kw).todense())
register("fastmem.stm.gram.ToeplitzGram.apply", lambda: dict(_self=toeplitz(), X=R(1).standard_normal((6, 2)),
                                                             n_threads=None),
         call=lambda _self, **kw: _self.apply(**kw))
register("fastmem.stm.gram.ToeplitzGram.adjoint_measurements",
         lambda: dict(_self=toeplitz("dct"), Y=gram_problem()[3], n_threads=None),
         call=lambda _self, **kw: _self.adjoint_measurements(**kw), aliases={"Y": ["y"]})
register("fastmem.stm.gram.ToeplitzGram.todense", lambda: dict(_self=toeplitz()), call=lambda _self: _self.todense())
register("fastmem.stm.gram.lasso_gram",
         lambda: dict(G=toeplitz(), y=gram_problem()[3], lam=np.array([0.05, 0.1]), warm_start=None,
                      reference=np.zeros((6, 2)), tol=1e-6, max_iter=200, settle_tol=1e-3, n_threads=None),
         call=lambda **kw: stm.lasso_gram(**kw).coef)
register("fastmem.stm.gram.nuclear_norm_gram",
         lambda: dict(G=toeplitz(), y=gram_problem()[3], lam=0.05, warm_start=None, reference=None, tol=1e-6,
                      max_iter=200, settle_tol=0.0, method="greedy", continuation=True, n_threads=None),
         call=lambda **kw: stm.nuclear_norm_gram(**kw).coef)


def core_gram():
    W, Z, N, _ = gram_problem()
    return _core.ToeplitzGram(_core.NetworkOperator(W, Z, N, "block_diagonal"), None, 0)


def core_gram_args():
    g = R(5)
    return dict(G=core_gram(), AtY=g.standard_normal((2, 6)), yy=np.array([3.0, 4.0]), lam=np.array([0.05, 0.1]),
                X0=None, tol=1e-6, max_iter=100, lipschitz=0.0, reference=None, settle_tol=0.0, settle_every=10,
                n_threads=0)


register("fastmem._core.orthogonal_scale",
         lambda: dict(op=_core.NetworkOperator(*gram_problem()[:3], "block_diagonal")))
register("fastmem._core.ToeplitzGram",
         lambda: dict(op=_core.NetworkOperator(*gram_problem()[:3], "block_diagonal"), basis=None, n_threads=0),
         call=lambda **kw: _core.ToeplitzGram(**kw).to_dense())
register("fastmem._core.ToeplitzGram.apply", lambda: dict(_self=core_gram(), X=R(2).standard_normal((2, 6)),
                                                          n_threads=0),
         call=lambda _self, **kw: _self.apply(**kw))
register("fastmem._core.ToeplitzGram.to_dense", lambda: dict(_self=core_gram()), call=lambda _self: _self.to_dense())
register("fastmem._core.lasso_gram", core_gram_args, call=lambda **kw: _core.lasso_gram(**kw)["coef"])
register("fastmem._core.lasso_working_set_gram",
         lambda: {k: v for k, v in core_gram_args().items() if k not in ("lipschitz", "reference", "settle_tol",
                                                                          "settle_every")} | dict(p0=100),
         call=lambda **kw: _core.lasso_working_set_gram(**kw)["coef"])
register("fastmem._core.nuclear_norm_gram", lambda: {k: v for k, v in core_gram_args().items()} | dict(restart=True),
         call=lambda **kw: _core.nuclear_norm_gram(**kw)["coef"])
