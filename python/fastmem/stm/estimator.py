"""A scikit-learn compatible LASSO estimator backed by :func:`fastmem.stm.lasso`."""

from __future__ import annotations

from typing import Optional

import numpy as np

from .._validation import as_float_array, check_bool, check_float, check_int, check_norm
from .lasso import lasso


class Lasso:
    """Linear model with an l1 penalty, a drop-in for ``sklearn.linear_model.Lasso`` on dense data.

    Minimises scikit-learn's scaling of the objective,

        (1 / (2 n_samples)) ||y - X w - b||_2^2 + alpha ||w||_1,

    which is :func:`fastmem.stm.lasso` with ``lam = alpha * n_samples``. Multi-target y
    (n_samples, n_targets) is solved as one batch.

    Parameters
    ----------
    alpha : float
        l1 weight (>= 0).
    fit_intercept : bool
        Fit b by centering X and y first (as scikit-learn does).
    tol : float
        Stop when the duality gap is below ``tol`` times the objective (relative to
        the objective; scikit-learn's test is relative to ``||y||^2 / n_samples``,
        which is at least twice as loose).
    max_iter : int
        Maximum FISTA steps.
    warm_start : bool
        Start from the previous ``coef_``.
    n_threads : int, optional

    Attributes
    ----------
    coef_ : ndarray (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray (n_targets,)
    n_iter_ : int or list of int
    dual_gap_ : float or ndarray, in the estimator's (1 / n_samples) scaling
    n_features_in_ : int
    """

    def __init__(
        self,
        alpha: float = 1.0,
        fit_intercept: bool = True,
        tol: float = 1e-4,
        max_iter: int = 1000,
        warm_start: bool = False,
        n_threads: Optional[int] = None,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.n_threads = n_threads

    # scikit-learn's parameter protocol (clone, GridSearchCV, Pipeline)
    _PARAMS = ("alpha", "fit_intercept", "tol", "max_iter", "warm_start", "n_threads")

    def get_params(self, deep: bool = True) -> dict:
        return {k: getattr(self, k) for k in self._PARAMS}

    def set_params(self, **params) -> "Lasso":
        for k, v in params.items():
            if k not in self._PARAMS:
                raise ValueError(f"Invalid parameter {k!r} for Lasso; valid: {', '.join(self._PARAMS)}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        return "Lasso(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self._PARAMS) + ")"

    def fit(self, X, y) -> "Lasso":
        """Fit on X (n_samples, n_features) and y (n_samples,) or (n_samples, n_targets)."""
        alpha = check_float(self.alpha, "alpha", minimum=0.0)
        max_iter = check_int(self.max_iter, "max_iter", minimum=1)
        check_bool(self.fit_intercept, "fit_intercept")
        check_bool(self.warm_start, "warm_start")
        X = as_float_array(X, "X", ndim=2, allow_empty=False)
        y = as_float_array(y, "y", ndim=(1, 2), allow_empty=False)
        n, p = X.shape
        if y.shape[0] != n:
            raise ValueError(f"y must have n_samples = {n} rows (the rows of X), got shape {y.shape}")
        check_norm(X, "X")
        check_norm(y, "y")
        if self.fit_intercept:
            X_mean, y_mean = X.mean(axis=0), y.mean(axis=0)
            Xc, yc = X - X_mean, y - y_mean
        else:
            X_mean, y_mean = np.zeros(p), np.zeros(y.shape[1:])
            Xc, yc = X, y
        warm = None
        if self.warm_start and getattr(self, "coef_", None) is not None:
            prev = np.asarray(self.coef_)
            if prev.shape == ((p,) if y.ndim == 1 else (y.shape[1], p)):
                warm = prev if y.ndim == 1 else prev.T
        res = lasso(Xc, yc, alpha * n, tol=self.tol, max_iter=max_iter, warm_start=warm, n_threads=self.n_threads)
        if y.ndim == 1:
            self.coef_ = res.coef
            self.n_iter_ = int(res.iterations)
            self.dual_gap_ = float(res.gap) / n
            self.intercept_ = float(y_mean - X_mean @ res.coef) if self.fit_intercept else 0.0
        else:
            self.coef_ = np.ascontiguousarray(res.coef.T)
            self.n_iter_ = [int(i) for i in res.iterations]
            self.dual_gap_ = np.asarray(res.gap) / n
            self.intercept_ = y_mean - self.coef_ @ X_mean if self.fit_intercept else np.zeros(y.shape[1])
        self.n_features_in_ = p
        self.converged_ = res.converged
        return self

    def predict(self, X) -> np.ndarray:
        if not hasattr(self, "coef_"):
            raise RuntimeError("this Lasso is not fitted yet; call fit(X, y) first")
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X must have {self.n_features_in_} features, got {X.shape[1]}")
        with np.errstate(over="ignore", invalid="ignore"):
            pred = X @ np.asarray(self.coef_).T + self.intercept_
        if not np.all(np.isfinite(pred)):
            raise ValueError("X is too large for this model: the prediction X @ coef_ + intercept_ overflows float64")
        return pred

    def score(self, X, y, sample_weight=None) -> float:
        """Coefficient of determination R^2 (uniform average over targets)."""
        y = as_float_array(y, "y", ndim=(1, 2), allow_empty=False)
        pred = self.predict(X)
        if pred.shape != y.shape:
            raise ValueError(f"y must have shape {pred.shape} (one value per row of X), got {y.shape}")
        w = np.ones(y.shape[0]) if sample_weight is None else as_float_array(sample_weight, "sample_weight", ndim=1)
        if w.shape != (y.shape[0],):
            raise ValueError(f"sample_weight must have shape ({y.shape[0]},) (one weight per row of X), got {w.shape}")
        w_scale = np.max(np.abs(w)) if w.size else 0.0
        if not w_scale > 0 or np.sum(w / w_scale) == 0:
            raise ValueError("sample_weight must not sum to zero (the weighted mean of y is undefined)")
        # R^2 is invariant to scaling y, the prediction and the weights: work on scaled copies so
        # that squares of huge (or tiny) values neither overflow nor underflow.
        y_scale = max(np.max(np.abs(y)), np.max(np.abs(pred)))
        y_scale = y_scale if y_scale > 0 else 1.0
        y, pred, w = y / y_scale, pred / y_scale, w / w_scale
        w = w.reshape((-1,) + (1,) * (y.ndim - 1))
        mean = np.sum(w * y, axis=0) / np.sum(w)
        ss_res = np.sum(w * (y - pred) ** 2, axis=0)
        ss_tot = np.sum(w * (y - mean) ** 2, axis=0)
        r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), np.where(ss_res > 0, 0.0, 1.0))
        return float(np.mean(r2))
