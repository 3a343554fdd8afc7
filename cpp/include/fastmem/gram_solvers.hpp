// LASSO and nuclear-norm recovery in Gram form: the solvers of lasso.hpp and nuclear_norm.hpp
// rewritten on G = A^T A, q_b = A^T y_b and ||y_b||^2 alone, for operators whose Gram matrix is
// cheaper to apply than A and A^T (ToeplitzGram: O(N L (N + L)) per column instead of O(M N L)).
//
//     f_b(x) = 0.5 ||y_b - A x||^2 = 0.5 ||y_b||^2 - x^T q_b + 0.5 x^T G x,   grad f_b = G x - q_b
//
//   lasso_gram:         minimise f_b(x) + lam_b ||x||_1          (FISTA, soft threshold)
//   nuclear_norm_gram:  minimise f_b(vec S) + lam_b ||S||_*     (FISTA, singular value threshold)
//
// One G product per step: G x+ is computed, G z+ = G x+ + beta (G x+ - G x) by linearity. Both
// keep the step guard of their A-form versions (f(x+) <= f(z) + grad.d + Lip/2 |d|^2, i.e.
// d^T G d <= Lip |d|^2) and the monotone / gradient restarts. Stopping: LASSO on the relative
// duality gap (the dual point of lasso.hpp, evaluated from Gram quantities), the nuclear norm on
// the relative step, as their A-form versions. Objectives in Gram form carry the constant
// 0.5 ||y||^2 and are accurate to a few ulps of it; tolerances below that are not meaningful.
//
// Settling against a known reference (simulation studies, where the true signal is known and
// only the recovery error matters): with a reference X_ref, every `every` steps the error
// e = ||x - x_ref||^2 is compared with its value `every` steps before; a column also stops
// ("settled") once |e - e_prev| <= settle_tol * e at two checks in a row. The iterates are
// those of the plain solver; only where they stop changes.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>
#include "fastmem/lasso.hpp"
#include "fastmem/lasso_working_set.hpp"
#include "fastmem/nuclear_norm.hpp"

namespace fastmem {

// ||G||_2 by power iteration from a fixed start (G symmetric positive semidefinite), +2%.
template <class GramOp>
double gram_norm(const GramOp& G, int threads, int iters = 40) {
  const Index P = G.rows();
  Matrix v(P, 1), w(P, 1);
  for (Index i = 0; i < P; ++i) v(i, 0) = 1.0 + 0.5 * std::sin(0.7 * double(i) + 0.3);
  v /= v.norm();
  double est = 0.0;
  for (int it = 0; it < iters; ++it) {
    G.apply(v, w, threads);
    const double nrm = w.norm();
    if (!(nrm > 0.0)) return 0.0;
    const double prev = est;
    est = nrm;
    v = w / nrm;
    if (it > 3 && std::abs(est - prev) <= 1e-4 * est) break;
  }
  return 1.02 * est;
}

namespace detail {
// G seen as an operator A with A^T A = G (apply: G, adjoint: identity), for the Lanczos
// estimate of operator_norm_squared: ||G||_2 to 1% in ~10-20 products where the power
// iteration of gram_norm often runs its 40.
template <class GramOp>
struct GramAsNormalOperator {
  const GramOp& G;
  Index rows() const { return G.rows(); }
  Index cols() const { return G.cols(); }
  void apply(const ConstMatrixRef& V, MatrixRef out, int threads) const { G.apply(V, out, threads); }
  void adjoint(const ConstMatrixRef& Y, MatrixRef out, int) const { out = Y; }
};
}  // namespace detail

// Support polish (as in the working-set solver): once a column's sign pattern has been the
// same for `after` steps and has at most `max_support` non-zeros, the minimiser of the
// objective on that face, G_SS x_S = q_S - lam sign_S (Cholesky), is tried; it is kept when its
// signs agree and F does not increase, and the momentum restarts from it. The Gram operator
// must provide submatrix(idx, out) (returning false where it cannot: no polish then).
struct GramPolish {
  bool enabled = true;
  int after = 5;
  Index max_support = 400;
};

struct SettleRule {
  const Matrix* reference = nullptr;  // P x B, or nullptr: never settle
  double tol = 0.0;
  Index every = 10;
};

namespace detail {
// Tracks the settling test for the active columns (compacted like the solver's state).
struct SettleTracker {
  // The rule, checked against a P x B problem.
  SettleTracker(const SettleRule& rule, Index P, Index B)
      : rule(rule), ref(rule.reference ? *rule.reference : Matrix()), prev(Vector::Constant(B, -1.0)),
        calm(Eigen::VectorXi::Zero(B)) {
    require(!rule.reference || (rule.reference->rows() == P && rule.reference->cols() == B),
            "the reference must have shape (P, B)");
    require(rule.every >= 1 && rule.tol >= 0.0, "settle: every >= 1 and tol >= 0");
  }
  bool enabled() const { return rule.reference != nullptr && rule.tol > 0.0; }
  // After step `iters` of active column j with iterate x: true when the column has settled.
  template <class V>
  bool settled(Index j, Index iters, const V& x) {
    if (!enabled() || iters % rule.every != 0) return false;
    const double e = (x - ref.col(j)).squaredNorm();
    const bool quiet = prev[j] >= 0.0 && std::abs(e - prev[j]) <= rule.tol * e;
    calm[j] = quiet ? calm[j] + 1 : 0;
    prev[j] = e;
    return calm[j] >= 2;
  }
  void compact(const std::vector<Index>& keep) {
    if (!enabled()) return;
    compact_columns(ref, keep);
    compact_entries(prev, keep);
    compact_entries(calm, keep);
  }
  SettleRule rule;
  Matrix ref;
  Vector prev;
  Eigen::VectorXi calm;
};

inline void check_gram_inputs(Index P, const ConstMatrixRef& Q, const ConstVectorRef& yy, const ConstVectorRef& lam,
                              const ConstMatrixRef& X0, double tol, Index max_iter) {
  const Index B = Q.cols();
  require(Q.rows() == P, "A^T y must have P rows");
  require(yy.size() == B && lam.size() == B, "||y||^2 and lam need one value per right-hand side");
  require((lam.array() >= 0.0).all() && lam.allFinite(), "lam must be finite and >= 0");
  require((yy.array() >= 0.0).all() && yy.allFinite(), "||y||^2 must be finite and >= 0");
  require(X0.size() == 0 || (X0.rows() == P && X0.cols() == B), "warm start must have shape (P, B)");
  require(tol >= 0.0 && max_iter >= 0, "tol and max_iter must be >= 0");
}
}  // namespace detail

template <class GramOp>
LassoOutput lasso_gram(const GramOp& G, const ConstMatrixRef& Q, const ConstVectorRef& yy, const ConstVectorRef& lam,
                       const ConstMatrixRef& X0, const LassoOptions& opt, const SettleRule& settle = {},
                       std::vector<char>* settled = nullptr, const GramPolish& polish = {}) {
  const Index P = G.rows(), B = Q.cols();
  detail::check_gram_inputs(P, Q, yy, lam, X0, opt.tol, opt.max_iter);
  detail::SettleTracker tracker(settle, P, B);
  if (settled) settled->assign(size_t(B), 0);
  const int threads = opt.threads;
  LassoOutput out;
  out.coef = X0.size() ? Matrix(X0) : Matrix::Zero(P, B);
  out.objective.setZero(B);
  out.gap.setZero(B);
  out.iterations.setZero(B);
  out.converged.assign(size_t(B), 0);
  if (B == 0) return out;
  double Lip = opt.lipschitz > 0 ? opt.lipschitz : gram_norm(G, threads);
  if (!(Lip > 0.0)) Lip = 1.0;
  out.lipschitz = Lip;

  std::vector<Index> idx(static_cast<size_t>(B));
  for (Index b = 0; b < B; ++b) idx[size_t(b)] = b;
  Matrix x = out.coef, q = Q, Gx(P, B), z(P, B), Gz(P, B), xn(P, B), Gxn(P, B), grad(P, B);
  G.apply(x, Gx, threads);
  Vector lamv = lam, yyv = yy, t = Vector::Ones(B), Fx(B), best_dual = Vector::Constant(B, -std::numeric_limits<double>::infinity());
  auto smooth = [&](const auto& v, const auto& Gv, Index j) { return 0.5 * yyv(j) - v.dot(q.col(j)) + 0.5 * v.dot(Gv); };
  for (Index j = 0; j < B; ++j) Fx(j) = smooth(x.col(j), Gx.col(j), j) + lamv(j) * x.col(j).lpNorm<1>();
  z = x;
  Gz = Gx;
  Eigen::VectorXi iters = Eigen::VectorXi::Zero(B);
  std::vector<char> conv(size_t(B), 0);
  std::vector<char> calm(size_t(B), 0);
  Matrix signs = Matrix::Zero(P, B);
  Vector stable = Vector::Zero(B);
  // Tries the polish of column j; true when it was accepted.
  auto try_polish = [&](Index j) {
    std::vector<Index> S;
    for (Index i = 0; i < P; ++i)
      if (x(i, j) != 0.0) S.push_back(i);
    const Index s = Index(S.size());
    Matrix GSS;
    if (s == 0 || s > polish.max_support || !G.submatrix(S, GSS)) return false;
    Vector rhs(s);
    for (Index a = 0; a < s; ++a) rhs(a) = q(S[size_t(a)], j) - lamv(j) * (x(S[size_t(a)], j) > 0 ? 1.0 : -1.0);
    const Eigen::LLT<Matrix> llt(GSS);
    if (llt.info() != Eigen::Success) return false;
    const Vector u = llt.solve(rhs);
    if (!u.allFinite()) return false;
    Matrix xc = Matrix::Zero(P, 1), Gxc(P, 1);
    for (Index a = 0; a < s; ++a) {
      if (u(a) * x(S[size_t(a)], j) <= 0.0) return false;  // the sign pattern must hold
      xc(S[size_t(a)], 0) = u(a);
    }
    G.apply(xc, Gxc, threads);
    const double Fc = smooth(xc.col(0), Gxc.col(0), j) + lamv(j) * xc.col(0).lpNorm<1>();
    if (!(Fc <= Fx(j))) return false;
    x.col(j) = xc.col(0);
    Gx.col(j) = Gxc.col(0);
    z.col(j) = xc.col(0);
    Gz.col(j) = Gxc.col(0);
    Fx(j) = Fc;
    t(j) = 1.0;
    return true;
  };
  auto finish = [&](Index j) {
    const Index b = idx[size_t(j)];
    if (settled) (*settled)[size_t(b)] = calm[size_t(j)];
    out.coef.col(b) = x.col(j);
    out.objective(b) = Fx(j);
    out.gap(b) = std::max(0.0, Fx(j) - best_dual(j));
    out.iterations(b) = iters(j);
    out.converged[size_t(b)] = conv[size_t(j)];
  };

  Index n = B;
  while (n > 0) {
    // gradient at z; dual point theta = s (y - A z) with s = min(1, lam / ||A^T (y - A z)||_inf)
    std::vector<Index> keep;
    for (Index j = 0; j < n; ++j) {
      grad.col(j) = Gz.col(j) - q.col(j);
      const double cmax = grad.col(j).lpNorm<Eigen::Infinity>();
      const double dual = detail::dual_value(yyv(j), z.col(j).dot(q.col(j)), z.col(j).dot(Gz.col(j)), cmax, lamv(j));
      best_dual(j) = std::max(best_dual(j), dual);
      const double slack = 16 * std::numeric_limits<double>::epsilon() * yyv(j);
      if (Fx(j) - best_dual(j) <= opt.tol * Fx(j) + slack || Fx(j) == 0.0) {
        conv[size_t(j)] = 1;
        finish(j);
      } else if (iters(j) >= opt.max_iter || calm[size_t(j)]) {
        finish(j);
      } else {
        keep.push_back(j);
      }
    }
    if (Index(keep.size()) != n) {
      for (Matrix* m : {&x, &q, &Gx, &z, &Gz, &grad, &signs}) detail::compact_columns(*m, keep);
      tracker.compact(keep);
      detail::compact_entries(calm, keep);
      detail::compact_entries(stable, keep);
      detail::compact_entries(lamv, keep);
      detail::compact_entries(yyv, keep);
      detail::compact_entries(t, keep);
      detail::compact_entries(Fx, keep);
      detail::compact_entries(best_dual, keep);
      detail::compact_entries(iters, keep);
      detail::compact_entries(conv, keep);
      detail::compact_entries(idx, keep);
      n = Index(keep.size());
      if (n == 0) break;
    }

    // proximal step from z, G x+ (the one product), with the descent guard
    for (int attempt = 0;; ++attempt) {
      for (Index j = 0; j < n; ++j) {
        const double thr = lamv(j) / Lip;
        for (Index i = 0; i < P; ++i) xn(i, j) = soft_threshold(z(i, j) - grad(i, j) / Lip, thr);
      }
      G.apply(xn.leftCols(n), Gxn.leftCols(n), threads);
      bool ok = true;
      for (Index j = 0; j < n && ok; ++j) {
        const auto d = xn.col(j) - z.col(j);
        const double dGd = d.dot(Gxn.col(j) - Gz.col(j)), dd = d.squaredNorm();
        ok = dGd <= Lip * dd * (1.0 + 1e-10) + 1e-14 * yyv(j);
      }
      if (ok || attempt >= 30) break;
      Lip *= 1.5;
    }
    out.lipschitz = Lip;

    for (Index j = 0; j < n; ++j) {
      ++iters(j);
      const double Fn = smooth(xn.col(j), Gxn.col(j), j) + lamv(j) * xn.col(j).lpNorm<1>();
      const double slack = 16 * std::numeric_limits<double>::epsilon() * yyv(j);
      if (Fn > Fx(j) + 1e-13 * std::abs(Fx(j)) + slack) {  // reject and restart momentum from x
        t(j) = 1.0;
        z.col(j) = x.col(j);
        Gz.col(j) = Gx.col(j);
        continue;
      }
      const double tn = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t(j) * t(j)));
      const double beta = (t(j) - 1.0) / tn;
      z.col(j) = xn.col(j) + beta * (xn.col(j) - x.col(j));
      Gz.col(j) = Gxn.col(j) + beta * (Gxn.col(j) - Gx.col(j));
      x.col(j) = xn.col(j);
      Gx.col(j) = Gxn.col(j);
      Fx(j) = Fn;
      t(j) = tn;
      if (polish.enabled) {
        bool same = true;
        for (Index i = 0; i < P; ++i) {
          const double sg = x(i, j) > 0 ? 1.0 : (x(i, j) < 0 ? -1.0 : 0.0);
          same = same && sg == signs(i, j);
          signs(i, j) = sg;
        }
        stable(j) = same ? stable(j) + 1 : 0;
        if (stable(j) >= polish.after) stable(j) = try_polish(j) ? 0 : -4.0 * polish.after;  // back off on failure
      }
      if (tracker.settled(j, iters(j), x.col(j))) calm[size_t(j)] = 1;
    }
  }
  return out;
}

template <class GramOp>
NuclearNormResult nuclear_norm_gram(const GramOp& G, const ConstMatrixRef& Q, const ConstVectorRef& yy,
                                    const ConstVectorRef& lam, Index N, Index L, const ConstMatrixRef& X0,
                                    const NuclearNormOptions& opt, const SettleRule& settle = {},
                                    std::vector<char>* settled = nullptr) {
  const Index P = G.rows(), B = Q.cols();
  require(P == N * L, "the Gram operator must have N*L columns");
  detail::check_gram_inputs(P, Q, yy, lam, X0, opt.tol, opt.max_iter);
  detail::SettleTracker tracker(settle, P, B);
  if (settled) settled->assign(size_t(B), 0);
  std::vector<char> calm(size_t(B), 0);
  const int threads = resolve_threads(opt.threads);
  NuclearNormResult res;
  res.X = Matrix::Zero(P, B);
  res.objective = res.residual_norm = res.nuclear_norm = Vector::Zero(B);
  res.rank = res.iterations = res.converged = Eigen::VectorXi::Zero(B);
  if (B == 0) return res;
  res.lipschitz = opt.lipschitz > 0.0
                      ? opt.lipschitz
                      : 1.02 * operator_norm_squared(detail::GramAsNormalOperator<GramOp>{G}, opt.threads, 60, 1e-2);
  const double lip0 = res.lipschitz > 0.0 ? res.lipschitz : 1.0;

  std::vector<Index> idx(B);
  for (Index b = 0; b < B; ++b) idx[b] = b;
  Matrix X = X0.size() ? Matrix(X0) : Matrix::Zero(P, B), Xp(P, B), Yp(P, B), Xn(P, B), grad(P, B), q = Q;
  Matrix GX(P, B), GXp(P, B), GY(P, B), GXn(P, B);
  G.apply(X, GX, opt.threads);
  Vector lamv = lam, yyv = yy, t = Vector::Ones(B), lip = Vector::Constant(B, lip0), F(B), Fn(B), nuc(B), nucn(B);
  Eigen::VectorXi rank = Eigen::VectorXi::Zero(B), rankn(B), iters = Eigen::VectorXi::Zero(B), conv = Eigen::VectorXi::Zero(B);
  auto smooth = [&](const auto& v, const auto& Gv, Index j) { return 0.5 * yyv(j) - v.dot(q.col(j)) + 0.5 * v.dot(Gv); };
  detail::NuclearSchedule sched(opt, lamv,
                                opt.continuation > 0.0 && X0.size() == 0 ? detail::spectral_norms(Q, N, L) : Vector());
  {
    SingularValueThreshold svt(opt.svd);
    for (Index j = 0; j < B; ++j) {
      nuc[j] = X0.size() ? svt.nuclear_norm(Eigen::Map<const Matrix>(X.col(j).data(), L, N)) : 0.0;
      F[j] = smooth(X.col(j), GX.col(j), j) + sched.lam_now(j) * nuc[j];
    }
  }
  Xp = X;
  GXp = GX;
  auto finish = [&](Index j) {
    const Index b = idx[j];
    if (settled) (*settled)[size_t(b)] = calm[size_t(j)];
    res.X.col(b) = X.col(j);
    const double fx = smooth(X.col(j), GX.col(j), j);
    res.objective[b] = fx + lamv[j] * nuc[j];
    res.residual_norm[b] = std::sqrt(std::max(0.0, 2.0 * fx));
    res.nuclear_norm[b] = nuc[j];
    res.rank[b] = rank[j];
    res.iterations[b] = iters[j];
    res.converged[b] = conv[j];
  };
  Index n = B;
  if (opt.max_iter == 0) {
    for (Index j = 0; j < n; ++j) finish(j);
    n = 0;
  }
  while (n > 0) {
    for (Index j = 0; j < n; ++j) {
      const double tn = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t[j] * t[j]));
      const double beta = sched.greedy() ? 1.0 : (t[j] - 1.0) / tn;  // greedy: Xp = X after a restart
      Yp.col(j) = X.col(j) + beta * (X.col(j) - Xp.col(j));
      GY.col(j) = GX.col(j) + beta * (GX.col(j) - GXp.col(j));
      grad.col(j) = GY.col(j) - q.col(j);
    }
#pragma omp parallel num_threads(threads) if (threads > 1 && n > 1)
    {
      SingularValueThreshold svt(opt.svd);
      Matrix Zj(L, N);
#pragma omp for schedule(static)
      for (Index j = 0; j < n; ++j) {
        const double h = sched.step(j) / lip[j];
        Eigen::Map<Matrix>(Zj.data(), P, 1) = Yp.col(j) - h * grad.col(j);
        Eigen::Map<Matrix> o(Xn.col(j).data(), L, N);
        const SvtStats s = svt(Zj, sched.lam_now(j) * h, o);
        nucn[j] = s.nuclear;
        rankn[j] = int(s.rank);
      }
    }
    G.apply(Xn.leftCols(n), GXn.leftCols(n), opt.threads);
    std::vector<Index> keep;
    keep.reserve(n);
    for (Index j = 0; j < n; ++j) {
      ++iters[j];
      const auto d = Xn.col(j) - Yp.col(j);
      const double d2 = d.squaredNorm(), dGd = d.dot(GXn.col(j) - GY.col(j));
      Fn[j] = smooth(Xn.col(j), GXn.col(j), j) + sched.lam_now(j) * nucn[j];
      const double tn = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t[j] * t[j]));
      const bool too_long = dGd > lip[j] * d2 * (1.0 + 1e-10) && dGd > 1e-20 * Xn.col(j).dot(GXn.col(j));
      if (too_long) {
        lip[j] = std::max(1.25 * lip[j], 1.05 * dGd / std::max(d2, 1e-300));
        if (Fn[j] > F[j]) {
          Xp.col(j) = X.col(j);
          GXp.col(j) = GX.col(j);
          t[j] = 1.0;
          if (iters[j] >= opt.max_iter) {
            finish(j);
            continue;
          }
          keep.push_back(j);
          continue;
        }
      }
      const bool restart = (opt.restart || sched.greedy()) && (Yp.col(j) - Xn.col(j)).dot(Xn.col(j) - X.col(j)) > 0.0;
      const double h = sched.step(j);  // the step taken was h / Lip
      sched.accepted(j, (Xn.col(j) - X.col(j)).norm());
      t[j] = restart ? 1.0 : tn;
      const bool zero_momentum = sched.greedy() && restart;  // greedy: the next momentum is X - Xp
      Xp.col(j) = zero_momentum ? Xn.col(j) : X.col(j);
      GXp.col(j) = zero_momentum ? GXn.col(j) : GX.col(j);
      X.col(j) = Xn.col(j);
      GX.col(j) = GXn.col(j);
      F[j] = Fn[j];
      nuc[j] = nucn[j];
      rank[j] = rankn[j];
      const auto outcome = sched.after_step(j, d2, h, Xn.col(j).squaredNorm(), opt);
      if (outcome == detail::NuclearSchedule::Step::new_stage) {
        F[j] = smooth(X.col(j), GX.col(j), j) + sched.lam_now(j) * nuc[j];
        Xp.col(j) = X.col(j);
        GXp.col(j) = GX.col(j);
        t[j] = 1.0;
      }
      conv[j] = outcome == detail::NuclearSchedule::Step::converged;
      if (!conv[j] && sched.last_stage(j) && tracker.settled(j, iters[j], X.col(j))) calm[size_t(j)] = 1;
      if (conv[j] || calm[size_t(j)] || iters[j] >= opt.max_iter) {
        finish(j);
        continue;
      }
      keep.push_back(j);
    }
    if (Index(keep.size()) != n) {
      for (Matrix* m : {&X, &Xp, &GX, &GXp, &q}) detail::compact_columns(*m, keep);
      tracker.compact(keep);
      detail::compact_entries(calm, keep);
      detail::compact_entries(lamv, keep);
      detail::compact_entries(yyv, keep);
      detail::compact_entries(t, keep);
      detail::compact_entries(lip, keep);
      detail::compact_entries(F, keep);
      detail::compact_entries(nuc, keep);
      detail::compact_entries(rank, keep);
      detail::compact_entries(iters, keep);
      detail::compact_entries(conv, keep);
      detail::compact_entries(idx, keep);
      sched.compact(keep);
      n = Index(keep.size());
    }
  }
  return res;
}

}  // namespace fastmem
