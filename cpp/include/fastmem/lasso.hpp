// LASSO by FISTA for a batch of right-hand sides (Beck & Teboulle 2009), each column b:
//
//     minimise  F_b(x) = 0.5 ||y_b - A x||^2 + lam_b ||x||_1
//
// A is any operator with apply / adjoint on column batches (DenseOperator,
// NetworkOperator, BasisOperator<...>), so all columns advance together as matrix
// products. Per iteration, one apply and one adjoint:
//     g   = A^T (A z - y)                       gradient at the extrapolated point z
//     x+  = soft(z - g / Lip, lam / Lip)         proximal step, Lip >= ||A||^2
//     A z+ = A x+ + beta (A x+ - A x)            by linearity: A x+ is the one apply,
//                                                and F(x+) comes for free
// Restart (O'Donoghue & Candes 2015, function scheme, monotone variant): when
// F(x+) > F(x) (by more than rounding, 1e-13 relative) the step is rejected and
// momentum restarts from x, so F(x_k) never increases. Stopping: the duality gap F(x) - D(theta) <= tol * F(x), with the dual
// point theta = r * min(1, lam / ||A^T r||_inf) built from the residual r = y - A z
// that the gradient step already computed (D(theta) = 0.5||y||^2 - 0.5||y - theta||^2);
// the best dual value seen is kept. Converged columns leave the batch.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>
#include "fastmem/checks.hpp"
#include "fastmem/threads.hpp"
#include "fastmem/types.hpp"

namespace fastmem {

struct LassoOptions {
  double tol = 1e-6;          // relative duality gap
  Index max_iter = 10000;     // proximal steps per column
  double lipschitz = 0.0;     // ||A||^2; <= 0: estimate by power iteration
  int power_iter = 30;        // power-iteration steps for the estimate
  int threads = 0;
};

struct LassoOutput {
  Matrix coef;                     // P x B
  Vector objective, gap;           // B
  Eigen::VectorXi iterations;      // B
  std::vector<char> converged;     // B
  double lipschitz = 0.0;
  std::vector<char> capped;        // working-set drivers: columns stopped by WorkingSetOptions::max_size (B)
};

// soft(v, t) = sign(v) max(|v| - t, 0), the proximal map of t ||.||_1.
inline double soft_threshold(double v, double t) { return v > t ? v - t : (v < -t ? v + t : 0.0); }

// Estimate of ||A||_2^2 (largest eigenvalue of A^T A) by power iteration from a fixed,
// deterministic start. The estimate approaches from below; a 2% margin is added and the
// solver still guards every step with the descent condition.
template <class Op>
double operator_norm_squared(const Op& op, int iters, int threads) {
  const Index P = op.cols(), M = op.rows();
  Matrix v(P, 1), u(M, 1), w(P, 1);
  for (Index i = 0; i < P; ++i) v(i, 0) = 1.0 + 0.5 * std::sin(0.7 * double(i) + 0.3);
  v /= v.norm();
  double est = 0.0;
  for (int it = 0; it < std::max(iters, 1); ++it) {
    op.apply(v, u, threads);
    op.adjoint(u, w, threads);
    const double nrm = w.norm();
    if (!(nrm > 0.0)) return 0.0;
    const double prev = est;
    est = nrm;
    v = w / nrm;
    if (it > 3 && std::abs(est - prev) <= 1e-4 * est) break;
  }
  return est * 1.02;
}

namespace detail {
// Columns of src selected by idx, into a new matrix.
inline Matrix take_cols(const Matrix& src, const std::vector<Index>& idx) {
  Matrix out(src.rows(), Index(idx.size()));
  for (size_t j = 0; j < idx.size(); ++j) out.col(Index(j)) = src.col(idx[j]);
  return out;
}
}  // namespace detail

// FISTA for all columns of Y (M x B) with per-column lam (B). X0 (P x B) is the warm
// start, or empty for zero.
template <class Op>
LassoOutput lasso_fista(const Op& op, const ConstMatrixRef& Y, const ConstVectorRef& lam, const ConstMatrixRef& X0,
                        const LassoOptions& opt) {
  const Index M = op.rows(), P = op.cols(), B = Y.cols();
  require(Y.rows() == M, "y must have M rows");
  require(lam.size() == B, "lam must have one value per column of y");
  require((lam.array() >= 0.0).all(), "lam must be >= 0");
  require(X0.size() == 0 || (X0.rows() == P && X0.cols() == B), "warm start must have shape (P, B)");
  require(opt.tol >= 0.0 && opt.max_iter >= 0, "tol and max_iter must be >= 0");
  const int threads = opt.threads;

  LassoOutput out;
  out.coef = X0.size() ? Matrix(X0) : Matrix::Zero(P, B);
  out.objective.setZero(B);
  out.gap.setZero(B);
  out.iterations.setZero(B);
  out.converged.assign(size_t(B), 0);
  double Lip = opt.lipschitz > 0 ? opt.lipschitz : operator_norm_squared(op, opt.power_iter, threads);
  if (!(Lip > 0.0)) Lip = 1.0;  // A == 0: every x has the same gradient 0; one step solves it
  out.lipschitz = Lip;

  // Active columns: their global indices and their state, column-compacted.
  std::vector<Index> active(static_cast<size_t>(B));
  for (Index b = 0; b < B; ++b) active[size_t(b)] = b;
  Matrix x = out.coef, y = Y, Ax(M, B);
  op.apply(x, Ax, threads);
  Vector lam_a = lam, t = Vector::Ones(B), Fx(B), best_dual = Vector::Constant(B, -std::numeric_limits<double>::infinity());
  Vector ynorm2 = y.colwise().squaredNorm().transpose();
  for (Index j = 0; j < B; ++j) Fx(j) = 0.5 * (Ax.col(j) - y.col(j)).squaredNorm() + lam_a(j) * x.col(j).lpNorm<1>();
  Matrix z = x, Az = Ax, R(M, B), G(P, B), xn(P, B), Axn(M, B);
  Eigen::VectorXi iters = Eigen::VectorXi::Zero(B);

  auto finish = [&](Index j, bool conv) {
    const Index b = active[size_t(j)];
    out.coef.col(b) = x.col(j);
    out.objective(b) = Fx(j);
    out.gap(b) = std::max(0.0, Fx(j) - best_dual(j));
    out.iterations(b) = iters(j);
    out.converged[size_t(b)] = conv ? 1 : 0;
  };

  while (!active.empty()) {
    const Index nb = Index(active.size());
    // gradient at z and the dual point from its residual
    R = Az - y;
    op.adjoint(R, G, threads);
    std::vector<char> done(size_t(nb), 0);
    bool any_done = false;
    for (Index j = 0; j < nb; ++j) {
      const double cmax = G.col(j).lpNorm<Eigen::Infinity>();
      const double s = cmax > lam_a(j) ? lam_a(j) / cmax : 1.0;  // theta = -s R
      const double dual = 0.5 * ynorm2(j) - 0.5 * (y.col(j) + s * R.col(j)).squaredNorm();
      best_dual(j) = std::max(best_dual(j), dual);
      const double gap = Fx(j) - best_dual(j);
      if (gap <= opt.tol * Fx(j) || Fx(j) == 0.0) {
        done[size_t(j)] = 1;
        any_done = true;
      } else if (iters(j) >= opt.max_iter) {
        done[size_t(j)] = 2;
        any_done = true;
      }
    }
    if (any_done) {
      std::vector<Index> keep, keep_global;
      for (Index j = 0; j < nb; ++j) {
        if (done[size_t(j)])
          finish(j, done[size_t(j)] == 1);
        else {
          keep.push_back(j);
          keep_global.push_back(active[size_t(j)]);
        }
      }
      if (keep.empty()) break;
      x = detail::take_cols(x, keep);
      Ax = detail::take_cols(Ax, keep);
      z = detail::take_cols(z, keep);
      Az = detail::take_cols(Az, keep);
      R = detail::take_cols(R, keep);
      G = detail::take_cols(G, keep);
      y = detail::take_cols(y, keep);
      auto sub = [&](const Vector& v) {
        Vector o(Index(keep.size()));
        for (size_t j = 0; j < keep.size(); ++j) o(Index(j)) = v(keep[j]);
        return o;
      };
      lam_a = sub(lam_a);
      t = sub(t);
      Fx = sub(Fx);
      best_dual = sub(best_dual);
      ynorm2 = sub(ynorm2);
      Eigen::VectorXi it2(Index(keep.size()));
      for (size_t j = 0; j < keep.size(); ++j) it2(Index(j)) = iters(keep[j]);
      iters = it2;
      active = keep_global;
      xn.resize(P, Index(keep.size()));
      Axn.resize(M, Index(keep.size()));
    }
    const Index n = Index(active.size());

    // proximal step from z, then A x+ (the one apply), with the descent guard
    for (int attempt = 0;; ++attempt) {
      for (Index j = 0; j < n; ++j) {
        const double thr = lam_a(j) / Lip;
        for (Index i = 0; i < P; ++i) xn(i, j) = soft_threshold(z(i, j) - G(i, j) / Lip, thr);
      }
      op.apply(xn, Axn, threads);
      bool ok = true;
      for (Index j = 0; j < n && ok; ++j) {
        const double fz = 0.5 * R.col(j).squaredNorm();
        const double fxn = 0.5 * (Axn.col(j) - y.col(j)).squaredNorm();
        const auto d = xn.col(j) - z.col(j);
        const double bound = fz + G.col(j).dot(d) + 0.5 * Lip * d.squaredNorm();
        ok = fxn <= bound + 1e-12 * std::max(1.0, std::abs(fz));
      }
      if (ok || attempt >= 30) break;
      Lip *= 1.5;  // the power-iteration estimate was too low
    }
    out.lipschitz = Lip;

    for (Index j = 0; j < n; ++j) {
      ++iters(j);
      const double Fn = 0.5 * (Axn.col(j) - y.col(j)).squaredNorm() + lam_a(j) * xn.col(j).lpNorm<1>();
      if (Fn > Fx(j) + 1e-13 * std::abs(Fx(j))) {  // reject (beyond rounding) and restart momentum from x
        t(j) = 1.0;
        z.col(j) = x.col(j);
        Az.col(j) = Ax.col(j);
        continue;
      }
      const double tn = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t(j) * t(j)));
      const double beta = (t(j) - 1.0) / tn;
      z.col(j) = xn.col(j) + beta * (xn.col(j) - x.col(j));
      Az.col(j) = Axn.col(j) + beta * (Axn.col(j) - Ax.col(j));
      x.col(j) = xn.col(j);
      Ax.col(j) = Axn.col(j);
      Fx(j) = Fn;
      t(j) = tn;
    }
  }
  return out;
}

}  // namespace fastmem
