"""The discrete-time tanh RNN of the flip-flop paper (eq. 1).

    S(t) = tanh(W S(t-1) + W_in X(t) (+ b))
    Y(t) = tanh(W_out S(t) (+ b_out))

Weights keep the math's shapes: W (N, N), W_in (N, n_in), W_out (n_out, N).
"""

from __future__ import annotations

import os
import zipfile
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np

from .. import _core
from .._rng import RNGLike, as_generator
from .._validation import as_float_array, check_bool, check_int, check_threads

FORMAT_NAME = "fastmem.TanhRNN"
FORMAT_VERSION = 1

PathLike = Union[str, "os.PathLike[str]"]


def _check_path(path) -> None:
    """A file name (str or path-like): an int would be taken as an open file descriptor."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike file name, got {type(path).__name__}")
    if "\x00" in os.fspath(path):
        raise ValueError("path must not contain NUL characters")


class TanhRNN:
    """A single-layer tanh RNN with a tanh readout.

    Parameters
    ----------
    n_hidden : int
        Number of recurrent units N (100 in the paper).
    n_in, n_out : int
        Input and output channels (3 for the 3-bit flip-flop).
    bias : bool
        Add biases b (N,) and b_out (n_out,) (initialised to 0). The paper has none.
    train_input : bool
        Whether :func:`fastmem.dynamics.train` also trains W_in by default (the paper
        trains only W and W_out).
    rng : None, int or numpy.random.Generator
        Draws the initial weights, uniform as in the paper's appendix: W_in in
        +-1/sqrt(3) (+-1/sqrt(n_in) in general), W and W_out in +-1/sqrt(N).

    Attributes
    ----------
    W, W_in, W_out : ndarray
    b, b_out : ndarray or None
    task_settings : dict or None
        The settings of the task the model was trained on (set by ``train``; saved
        with the model).
    """

    def __init__(
        self,
        n_hidden: int = 100,
        n_in: int = 3,
        n_out: int = 3,
        bias: bool = False,
        train_input: bool = False,
        rng: RNGLike = None,
    ) -> None:
        check_bool(bias, "bias")
        check_bool(train_input, "train_input")
        N = check_int(n_hidden, "n_hidden", minimum=1, maximum=100_000)
        n_in = check_int(n_in, "n_in", minimum=1, maximum=100_000)
        n_out = check_int(n_out, "n_out", minimum=1, maximum=100_000)
        gen = as_generator(rng)
        self.W_in = gen.uniform(-1.0, 1.0, (N, n_in)) / np.sqrt(n_in)
        self.W = gen.uniform(-1.0, 1.0, (N, N)) / np.sqrt(N)
        self.W_out = gen.uniform(-1.0, 1.0, (n_out, N)) / np.sqrt(N)
        self.b: Optional[np.ndarray] = np.zeros(N) if bias else None
        self.b_out: Optional[np.ndarray] = np.zeros(n_out) if bias else None
        self.train_input = bool(train_input)
        self.task_settings: Optional[Dict[str, Any]] = None

    # -- shapes ---------------------------------------------------------------
    @property
    def n_hidden(self) -> int:
        return int(self.W.shape[0])

    @property
    def n_in(self) -> int:
        return int(self.W_in.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.W_out.shape[0])

    @property
    def bias(self) -> bool:
        return self.b is not None

    def __repr__(self) -> str:
        return f"TanhRNN(n_hidden={self.n_hidden}, n_in={self.n_in}, n_out={self.n_out}, bias={self.bias})"

    def weights(self) -> Dict[str, Optional[np.ndarray]]:
        """The weights, checked (shapes consistent, finite) and as C-contiguous float64."""
        N = self.W.shape[0] if np.ndim(self.W) == 2 else None
        W = as_float_array(self.W, "W", shape=(N, N), allow_empty=False)
        N = W.shape[0]
        W_in = as_float_array(self.W_in, "W_in", shape=(N, None), allow_empty=False)
        W_out = as_float_array(self.W_out, "W_out", shape=(None, N), allow_empty=False)
        b = None if self.b is None else as_float_array(self.b, "b", shape=(N,))
        b_out = None if self.b_out is None else as_float_array(self.b_out, "b_out", shape=(W_out.shape[0],))
        return {"W": W, "W_in": W_in, "W_out": W_out, "b": b, "b_out": b_out}

    def set_weights(self, weights: Dict[str, Optional[np.ndarray]]) -> None:
        if not isinstance(weights, dict):
            raise TypeError(f"weights must be a dict with W, W_in, W_out, b, b_out, got {type(weights).__name__}")
        missing = [k for k in ("W", "W_in", "W_out", "b", "b_out") if k not in weights]
        if missing:
            raise ValueError(f"weights lacks {missing} (b and b_out may be None)")
        W = as_float_array(weights["W"], "W", ndim=2, allow_empty=False)
        N = W.shape[0]
        if W.shape != (N, N):
            raise ValueError(f"W must be square (N, N), got {W.shape}")
        W_in = as_float_array(weights["W_in"], "W_in", shape=(N, None), allow_empty=False)
        W_out = as_float_array(weights["W_out"], "W_out", shape=(None, N), allow_empty=False)
        b, b_out = weights["b"], weights["b_out"]
        if (b is None) != (b_out is None):
            raise ValueError("b and b_out must both be arrays or both be None")
        if b is not None:
            b = as_float_array(b, "b", shape=(N,))
            b_out = as_float_array(b_out, "b_out", shape=(W_out.shape[0],))
        checked = {"W": W, "W_in": W_in, "W_out": W_out, "b": b, "b_out": b_out}
        for key, value in checked.items():
            setattr(self, key, None if value is None else np.array(value, dtype=np.float64))

    def copy(self) -> "TanhRNN":
        other = TanhRNN.__new__(TanhRNN)
        other.set_weights(self.weights())
        other.train_input = self.train_input
        other.task_settings = None if self.task_settings is None else dict(self.task_settings)
        return other

    # -- running --------------------------------------------------------------
    def run(self, X, S0=None, n_threads: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Run the network over input streams (in C++).

        Parameters
        ----------
        X : array_like, shape (T, n_in) or (B, T, n_in)
            Inputs X(t), time first.
        S0 : array_like, shape (N,) or (B, N), optional
            The state S(-1) before the first step (default 0).
        n_threads : int, optional
            Threads over the B streams (default: the process setting).

        Returns
        -------
        states : ndarray, shape (T, N) or (B, T, N)
            S(t) for t = 0..T-1.
        outputs : ndarray, shape (T, n_out) or (B, T, n_out)
            Y(t).
        """
        w = self.weights()
        x = as_float_array(X, "X", ndim=(2, 3))
        if x.shape[-1] != self.n_in:
            raise ValueError(f"X must have shape (T, n_in) or (B, T, n_in) with n_in = {self.n_in}, got {x.shape}")
        single = x.ndim == 2
        if single:
            x = x[None]
        s0 = None
        if S0 is not None:
            s0 = as_float_array(S0, "S0", ndim=1 if single else 2)
            want = (self.n_hidden,) if single else (x.shape[0], self.n_hidden)
            if s0.shape != want:
                raise ValueError(f"S0 must have shape {want}, got {s0.shape}")
            s0 = s0.reshape(x.shape[0], self.n_hidden)
        states, outputs = _core.rnn_run(
            w["W"], w["W_in"], w["W_out"], w["b"], w["b_out"], x, s0, n_threads=check_threads(n_threads)
        )
        if single:
            return states[0], outputs[0]
        return states, outputs

    # -- files ------------------------------------------------------------------
    def save(self, path: PathLike, task=None) -> None:
        """Save weights, task settings and a format version to an npz file (no pickle).

        Parameters
        ----------
        path : str or path-like
        task : FlipFlopTask, optional
            Its settings are stored (default: ``self.task_settings``, if any).
        """
        _check_path(path)
        if task is not None and not callable(getattr(task, "settings", None)):
            raise TypeError(f"task must be a FlipFlopTask or None, got {type(task).__name__}")
        w = self.weights()
        arrays: Dict[str, np.ndarray] = {
            "format": np.array(FORMAT_NAME),
            "format_version": np.array(FORMAT_VERSION),
            "W": w["W"],
            "W_in": w["W_in"],
            "W_out": w["W_out"],
            "train_input": np.array(self.train_input),
        }
        if w["b"] is not None:
            arrays["b"] = w["b"]
        if w["b_out"] is not None:
            arrays["b_out"] = w["b_out"]
        settings = task.settings() if task is not None else self.task_settings
        if settings is not None:
            arrays["task_bits"] = np.array(int(settings["bits"]))
            arrays["task_rate"] = np.array(float(settings["rate"]))
            arrays["task_delay"] = np.array(int(settings["delay"]))
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: PathLike) -> "TanhRNN":
        """Load a model written by :meth:`save`, checking format, version, shapes and values.

        Raises
        ------
        ValueError
            If the file is not a fastmem TanhRNN file of a known version, or its
            arrays are missing, mis-shaped, non-finite or of the wrong type.
        """
        _check_path(path)
        try:
            data = np.load(path, allow_pickle=False)
        except (ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{path} is not a readable TanhRNN npz file: {exc}") from None
        if not hasattr(data, "files"):
            raise ValueError(f"{path} is not an npz archive (a single array?)")
        try:
            arrays = {}
            for key in data.files:
                try:
                    arrays[key] = data[key]
                except ValueError as exc:  # object arrays need pickle
                    raise ValueError(f"{path}: array {key!r} cannot be read without pickle: {exc}") from None
                except (zipfile.BadZipFile, EOFError, OSError) as exc:  # damaged: CRC, truncated member
                    raise ValueError(f"{path}: array {key!r} is damaged ({exc})") from None
        finally:
            data.close()
        return cls._from_arrays(arrays, str(path))

    @classmethod
    def _from_arrays(cls, arrays: Dict[str, np.ndarray], where: str) -> "TanhRNN":
        def scalar(key, kind):
            if key not in arrays:
                raise ValueError(f"{where}: missing {key!r}")
            a = arrays[key]
            if a.shape != () or a.dtype.kind not in kind:
                raise ValueError(f"{where}: {key!r} must be a scalar of kind {kind!r}, got {a.dtype} {a.shape}")
            return a.item()

        if scalar("format", "U") != FORMAT_NAME:
            raise ValueError(f"{where}: not a {FORMAT_NAME} file (format {arrays['format']!r})")
        version = scalar("format_version", "iu")
        if version != FORMAT_VERSION:
            raise ValueError(f"{where}: unsupported format_version {version} (this fastmem reads {FORMAT_VERSION})")
        known = {"format", "format_version", "W", "W_in", "W_out", "b", "b_out", "train_input",
                 "task_bits", "task_rate", "task_delay"}
        unknown = sorted(set(arrays) - known)
        if unknown:
            raise ValueError(f"{where}: unexpected arrays {unknown}")
        for key in ("W", "W_in", "W_out"):
            if key not in arrays:
                raise ValueError(f"{where}: missing {key!r}")
            if arrays[key].dtype.kind != "f":
                raise ValueError(f"{where}: {key!r} must be floating point, got {arrays[key].dtype}")
        model = cls.__new__(cls)
        try:
            W = as_float_array(arrays["W"], "W", ndim=2, allow_empty=False)
            N = W.shape[0]
            if W.shape != (N, N):
                raise ValueError(f"W must be square, got {W.shape}")
            W_in = as_float_array(arrays["W_in"], "W_in", shape=(N, None), allow_empty=False)
            W_out = as_float_array(arrays["W_out"], "W_out", shape=(None, N), allow_empty=False)
            b = as_float_array(arrays["b"], "b", shape=(N,)) if "b" in arrays else None
            b_out = as_float_array(arrays["b_out"], "b_out", shape=(W_out.shape[0],)) if "b_out" in arrays else None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        if (b is None) != (b_out is None):
            raise ValueError(f"{where}: b and b_out must both be present or both absent")
        model.set_weights({"W": W, "W_in": W_in, "W_out": W_out, "b": b, "b_out": b_out})
        model.train_input = bool(scalar("train_input", "b")) if "train_input" in arrays else False
        task_keys = [k for k in ("task_bits", "task_rate", "task_delay") if k in arrays]
        if task_keys and len(task_keys) != 3:
            raise ValueError(f"{where}: incomplete task settings {task_keys}")
        if task_keys:
            settings = {
                "bits": int(scalar("task_bits", "iu")),
                "rate": float(scalar("task_rate", "f")),
                "delay": int(scalar("task_delay", "iu")),
            }
            if settings["bits"] != model.n_in or not (0 < settings["rate"] <= 1) or settings["delay"] < 0:
                raise ValueError(f"{where}: inconsistent task settings {settings} for a model with n_in = {model.n_in}")
            model.task_settings = settings
        else:
            model.task_settings = None
        return model

    # -- torch ------------------------------------------------------------------
    @classmethod
    def from_torch(cls, rnn, linear) -> "TanhRNN":
        """Build from ``torch.nn.RNN(nonlinearity="tanh")`` (one layer, batch_first or not) and ``nn.Linear``.

        The readout tanh is not part of ``nn.Linear``: Y = tanh(linear(S)). The two
        torch biases b_ih + b_hh become ``b``.
        """
        import torch

        if not isinstance(rnn, torch.nn.RNN) or rnn.nonlinearity != "tanh":
            raise TypeError("rnn must be a torch.nn.RNN with nonlinearity='tanh'")
        if rnn.num_layers != 1 or rnn.bidirectional or getattr(rnn, "proj_size", 0):
            raise ValueError("rnn must be a single-layer, unidirectional RNN")
        if not isinstance(linear, torch.nn.Linear) or linear.in_features != rnn.hidden_size:
            raise ValueError("linear must be a torch.nn.Linear with in_features = rnn.hidden_size")
        if rnn.bias != (linear.bias is not None):
            raise ValueError("rnn and linear must both have biases or both have none")
        get = lambda t: t.detach().cpu().double().numpy().copy()  # noqa: E731
        model = cls.__new__(cls)
        weights = {
            "W": get(rnn.weight_hh_l0),
            "W_in": get(rnn.weight_ih_l0),
            "W_out": get(linear.weight),
            "b": get(rnn.bias_ih_l0) + get(rnn.bias_hh_l0) if rnn.bias else None,
            "b_out": get(linear.bias) if linear.bias is not None else None,
        }
        model.set_weights(weights)
        model.train_input = False
        model.task_settings = None
        model.weights()  # validate
        return model

    def to_torch(self, batch_first: bool = True, dtype=None):
        """Return ``(nn.RNN(nonlinearity="tanh"), nn.Linear)`` with these weights (float64 by default).

        The readout is Y = tanh(linear(S)); with biases, ``b`` goes to ``bias_ih_l0`` and
        ``bias_hh_l0`` is 0.
        """
        import torch

        batch_first = check_bool(batch_first, "batch_first")
        dtype = torch.float64 if dtype is None else dtype
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating torch.dtype or None, got {dtype!r}")
        w = self.weights()
        rnn = torch.nn.RNN(self.n_in, self.n_hidden, nonlinearity="tanh", bias=self.bias, batch_first=batch_first)
        linear = torch.nn.Linear(self.n_hidden, self.n_out, bias=self.bias)
        rnn = rnn.to(dtype)
        linear = linear.to(dtype)
        with torch.no_grad():
            rnn.weight_hh_l0.copy_(torch.from_numpy(w["W"]))
            rnn.weight_ih_l0.copy_(torch.from_numpy(w["W_in"]))
            linear.weight.copy_(torch.from_numpy(w["W_out"]))
            if self.bias:
                rnn.bias_ih_l0.copy_(torch.from_numpy(w["b"]))
                rnn.bias_hh_l0.zero_()
                linear.bias.copy_(torch.from_numpy(w["b_out"]))
        return rnn, linear
