// LASSO on a dense A by working sets (as celer does), with FISTA as the inner solver:
//
//     minimise  F(x) = 0.5 ||y - A x||^2 + lam ||x||_1        (one column y at a time)
//
// Outer loop:  r = y - A x,  c = A^T r  (the only O(M P) work)
//              duality gap with theta = r min(1, lam / ||c||_inf); stop if gap <= tol F
//              working set W (only grows, so its Gram matrix is extended, never rebuilt):
//              first the p0 largest |c_j| / ||a_j||, then after each inner solve the KKT
//              violators |c_j| > lam outside W, largest first, at most max(p0, |W|/2) of them
// Inner solve: the same LASSO restricted to A_W, in Gram form (G = A_W^T A_W, q = A_W^T y):
//              FISTA with monotone restart (one G x product per step, over the non-zeros of x),
//              stopped at gap_W <= 0.01 gap; once the sign pattern of x has been stable for a
//              few steps, a support "polish": the minimiser x_S of the quadratic on that sign
//              pattern's face (G_SS x_S = q_S - lam sign_S, Cholesky), approached as far as the
//              signs allow (F decreases along the segment) and kept when F does not increase.
// Each column of a batch is independent: the batch loop is the parallel one.
#pragma once
#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>
#include "fastmem/lasso.hpp"
#include "fastmem/operators.hpp"

namespace fastmem {

struct WorkingSetOptions {
  Index p0 = 100;            // smallest working set
  int polish_after = 5;      // steps with an unchanged sign pattern before a polish
  double inner_ratio = 0.01; // inner gap target, relative to the outer gap
  double growth = 0.5;       // at most max(p0, growth |W|) columns join W per outer step
  int max_outer = 1000;
};

struct ColumnResult {
  Vector x;
  double objective = 0, gap = 0;
  Index iterations = 0, outer = 0;
  bool converged = false;
};

namespace detail {

// Dual objective 0.5||y||^2 - 0.5||y - s r||^2 with s = min(1, lam/cmax), from Gram-form
// quantities: ||y - s r||^2 = (1-s)^2 ||y||^2 + 2 s (1-s) y^T A x + s^2 ||A x||^2.
inline double dual_value(double yy, double yAx, double AxAx, double cmax, double lam) {
  const double s = cmax > lam ? lam / cmax : 1.0;
  return 0.5 * yy - 0.5 * ((1 - s) * (1 - s) * yy + 2 * s * (1 - s) * yAx + s * s * AxAx);
}

// G v over the non-zeros of v.
inline void gram_times_sparse(const Matrix& G, const Vector& v, Vector& out) {
  out.setZero();
  for (Index j = 0; j < v.size(); ++j)
    if (v[j] != 0.0) out.noalias() += v[j] * G.col(j);
}

// Inner LASSO on the Gram form, from x (warm). Returns the steps taken; x updated in place.
inline Index gram_fista(const Matrix& G, const Vector& q, double yy, double lam, double target_gap, Index max_steps,
                        int polish_after, Vector& x) {
  const Index p = G.rows();
  if (p == 0) return 0;
  // Gram-form objectives carry the constant 0.5||y||^2, so they are exact only to a few
  // ulps of it: a target below that is left to the outer loop's exact residuals.
  target_gap = std::max(target_gap, 64 * std::numeric_limits<double>::epsilon() * yy);
  const double slack = 16 * std::numeric_limits<double>::epsilon() * yy;
  // Lipschitz constant: power iteration on G (small), plus margin and the descent guard below.
  Vector v = Vector::Ones(p) / std::sqrt(double(p)), w(p);
  double Lip = 0;
  for (int it = 0; it < 50; ++it) {
    w.noalias() = G.selfadjointView<Eigen::Lower>() * v;
    const double n = w.norm();
    if (!(n > 0)) break;
    const double prev = Lip;
    Lip = n;
    v = w / n;
    if (it > 3 && std::abs(Lip - prev) <= 1e-3 * Lip) break;
  }
  Lip = Lip > 0 ? 1.02 * Lip : 1.0;

  Vector Gx(p), z = x, Gz(p), xn(p), Gxn(p), grad(p);
  gram_times_sparse(G, x, Gx);
  Gz = Gx;
  auto objective = [&](const Vector& u, const Vector& Gu) { return 0.5 * yy - q.dot(u) + 0.5 * u.dot(Gu) + lam * u.lpNorm<1>(); };
  double Fx = objective(x, Gx), t = 1.0;
  std::vector<signed char> sign(size_t(p), 0);
  int stable = 0;
  Index steps = 0;
  for (; steps < max_steps; ++steps) {
    // gap at x (dual point from x's residual)
    grad = Gx - q;  // = -A_W^T r
    const double dual = dual_value(yy, q.dot(x), x.dot(Gx), grad.lpNorm<Eigen::Infinity>(), lam);
    if (Fx - dual <= target_gap) break;

    // support polish once the sign pattern has settled
    if (stable >= polish_after) {
      stable = 0;
      polish_after *= 2;  // polishes cost O(|S|^3): space them out when the pattern keeps changing
      std::vector<Index> S;
      for (Index j = 0; j < p; ++j)
        if (x[j] != 0.0) S.push_back(j);
      const Index ns = Index(S.size());
      if (ns > 0) {
        Matrix Gss(ns, ns);
        Vector rhs(ns);
        for (Index a = 0; a < ns; ++a) {
          const Index ja = S[size_t(a)];
          rhs[a] = q[ja] - lam * (x[ja] > 0 ? 1.0 : -1.0);
          for (Index b = a; b < ns; ++b) Gss(b, a) = G(S[size_t(b)], ja);
        }
        Eigen::LLT<Matrix> llt(Gss.selfadjointView<Eigen::Lower>());
        if (llt.info() == Eigen::Success) {
          const Vector xs = llt.solve(rhs);
          // largest tau <= 1 keeping every sign of x_S: F decreases along x -> x + tau (xs - x_S),
          // a convex quadratic on this face whose minimiser is xs
          double tau = 1.0;
          for (Index a = 0; a < ns; ++a) {
            const double xa = x[S[size_t(a)]];
            if (xs[a] * xa <= 0) tau = std::min(tau, xa / (xa - xs[a]));
          }
          Vector xp = x;
          for (Index a = 0; a < ns; ++a) {
            const Index ja = S[size_t(a)];
            xp[ja] = x[ja] + tau * (xs[a] - x[ja]);
            if (tau < 1.0 && xp[ja] * x[ja] <= 0) xp[ja] = 0.0;
          }
          Vector Gxp(p);
          gram_times_sparse(G, xp, Gxp);
          const double Fp = objective(xp, Gxp);
          if (Fp <= Fx + slack) {
            x = xp;
            Gx = Gxp;
            Fx = Fp;
            z = x;
            Gz = Gx;
            t = 1.0;
            const Vector c = Gx - q;
            if (Fx - dual_value(yy, q.dot(x), x.dot(Gx), c.lpNorm<Eigen::Infinity>(), lam) <= target_gap) {
              ++steps;
              break;
            }
          }
        }
      }
    }

    // FISTA step from z
    grad = Gz - q;
    for (int attempt = 0;; ++attempt) {
      for (Index j = 0; j < p; ++j) xn[j] = soft_threshold(z[j] - grad[j] / Lip, lam / Lip);
      gram_times_sparse(G, xn, Gxn);
      const Vector d = xn - z;
      // f(xn) <= f(z) + grad.d + Lip/2 |d|^2, with f(u) = 0.5 u^T G u - q^T u:  f(xn) - f(z) = d^T Gz + 0.5 d^T G d - q^T d
      const double lhs = 0.5 * d.dot(Gxn - Gz);  // = 0.5 d^T G d
      if (lhs <= 0.5 * Lip * d.squaredNorm() * (1 + 1e-12) || attempt >= 30) break;
      Lip *= 1.5;
    }
    const double Fn = objective(xn, Gxn);
    if (Fn > Fx + 1e-13 * std::abs(Fx) + slack) {  // reject, restart momentum from x
      z = x;
      Gz = Gx;
      t = 1.0;
      continue;
    }
    const double tn = 0.5 * (1 + std::sqrt(1 + 4 * t * t));
    const double beta = (t - 1) / tn;
    z = xn + beta * (xn - x);
    Gz = Gxn + beta * (Gxn - Gx);
    bool same = true;
    for (Index j = 0; j < p; ++j) {
      const signed char sj = xn[j] > 0 ? 1 : (xn[j] < 0 ? -1 : 0);
      if (sj != sign[size_t(j)]) {
        same = false;
        sign[size_t(j)] = sj;
      }
    }
    stable = same ? stable + 1 : 0;
    x = xn;
    Gx = Gxn;
    Fx = Fn;
    t = tn;
  }
  return steps;
}

}  // namespace detail

// One column: A (M x P) row-major, y (M), warm start x0 (P).
inline ColumnResult lasso_working_set_column(const ConstRowMatrixRef& A, const Vector& colnorm,
                                             const Eigen::Ref<const Vector>& y, double lam, const Vector& x0,
                                             const LassoOptions& opt, const WorkingSetOptions& ws, int threads) {
  const Index M = A.rows(), P = A.cols();
  const DenseOperator op(A);
  ColumnResult res;
  res.x = x0;
  const double yy = y.squaredNorm();
  Matrix r(M, 1), c(P, 1), xm(P, 1);
  // The working set only grows, so its Gram matrix is extended, never rebuilt.
  std::vector<Index> W;
  std::vector<char> inW(size_t(P), 0);
  Matrix AW(M, 0), G(0, 0);
  Vector q(0);
  const int nthreads = resolve_threads(threads);
  int stalls = 0;
  for (int outer = 0;; ++outer) {
    xm.col(0) = res.x;
    op.apply(xm, r, threads);
    r.col(0) = y - r.col(0);
    op.adjoint(r, c, threads);
    const double cmax = c.col(0).lpNorm<Eigen::Infinity>();
    const double s = cmax > lam ? lam / cmax : 1.0;
    res.objective = 0.5 * r.col(0).squaredNorm() + lam * res.x.lpNorm<1>();
    const double dual = 0.5 * yy - 0.5 * (y - s * r.col(0)).squaredNorm();
    res.gap = std::max(0.0, res.objective - dual);
    res.outer = outer;
    if (res.gap <= opt.tol * res.objective || res.objective == 0.0) {
      res.converged = true;
      break;
    }
    if (res.iterations >= opt.max_iter || outer >= ws.max_outer) break;

    // new columns: the support of a warm start, then the largest violations |c_j| / ||a_j||
    // outside W (at most max(p0, |W|) of them: the set at most doubles)
    std::vector<Index> add;
    for (Index j = 0; j < P; ++j)
      if (!inW[size_t(j)] && res.x[j] != 0.0) add.push_back(j);
    // candidates: KKT violators |c_j| > lam (all columns at the start, to seed W)
    std::vector<Index> cand;
    const double floor = W.empty() ? -1.0 : lam;
    for (Index j = 0; j < P; ++j)
      if (!inW[size_t(j)] && res.x[j] == 0.0 && colnorm[j] > 0 && std::abs(c(j, 0)) > floor) cand.push_back(j);
    const Index room = std::max<Index>(ws.p0, Index(double(W.size()) * ws.growth));
    const Index k = std::min<Index>(Index(cand.size()), std::max<Index>(0, room - Index(add.size())));
    auto by_score = [&](Index a, Index b) {
      const double sa = std::abs(c(a, 0)) / colnorm[a], sb = std::abs(c(b, 0)) / colnorm[b];
      return sa > sb || (sa == sb && a < b);
    };
    if (k > 0) {
      std::nth_element(cand.begin(), cand.begin() + (k - 1), cand.end(), by_score);
      add.insert(add.end(), cand.begin(), cand.begin() + k);
    }
    bool tighten = add.empty();  // no violators outside W: the inner solve must go further
    stalls = tighten ? stalls + 1 : 0;
    if (stalls > 3) break;  // the inner solver cannot do better in floating point
    const Index p_old = Index(W.size()), n_new = Index(add.size()), p = p_old + n_new;
    for (Index j : add) {
      W.push_back(j);
      inW[size_t(j)] = 1;
    }
    if (n_new > 0) {
    AW.conservativeResize(M, p);
    for (Index i = 0; i < M; ++i)
      for (Index a = 0; a < n_new; ++a) AW(i, p_old + a) = A(i, add[size_t(a)]);
    // G's new columns (and, by symmetry, rows): A_W^T A_new, split by fixed row blocks
    G.conservativeResize(p, p);
    {
      const RowPartition parts(p);
      const auto Anew = AW.rightCols(n_new);
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && M * p * n_new >= (Index(1) << 22))
      for (Index blk = 0; blk < parts.count(); ++blk)
        G.block(parts.start(blk), p_old, parts.length(blk), n_new).noalias() =
            AW.middleCols(parts.start(blk), parts.length(blk)).transpose() * Anew;
    }
    G.block(p_old, 0, n_new, p_old) = G.block(0, p_old, p_old, n_new).transpose();
    q.conservativeResize(p);
    q.tail(n_new).noalias() = AW.rightCols(n_new).transpose() * y;
    }

    Vector xw(p);
    for (Index j = 0; j < p; ++j) xw[j] = res.x[W[size_t(j)]];
    const double target = tighten ? 0.1 * opt.tol * res.objective
                                  : std::max(ws.inner_ratio * res.gap, 0.5 * opt.tol * res.objective);
    res.iterations += detail::gram_fista(G, q, yy, lam, target, opt.max_iter - res.iterations, ws.polish_after, xw);
    res.x.setZero();
    for (Index j = 0; j < p; ++j) res.x[W[size_t(j)]] = xw[j];
  }
  return res;
}

// All columns of Y (M x B), per-column lam; X0 (P x B) or empty.
inline LassoOutput lasso_working_set(const ConstRowMatrixRef& A, const ConstMatrixRef& Y, const ConstVectorRef& lam,
                                     const ConstMatrixRef& X0, const LassoOptions& opt,
                                     const WorkingSetOptions& ws = WorkingSetOptions()) {
  const Index M = A.rows(), P = A.cols(), B = Y.cols();
  require(Y.rows() == M, "y must have M rows");
  require(lam.size() == B, "lam must have one value per column of y");
  require((lam.array() >= 0.0).all(), "lam must be >= 0");
  require(X0.size() == 0 || (X0.rows() == P && X0.cols() == B), "warm start must have shape (P, B)");
  LassoOutput out;
  out.coef.resize(P, B);
  out.objective.resize(B);
  out.gap.resize(B);
  out.iterations.resize(B);
  out.converged.assign(size_t(B), 0);
  Vector colnorm(P);
  for (Index j = 0; j < P; ++j) colnorm[j] = A.col(j).norm();
  const int nthreads = resolve_threads(opt.threads);
  const int inner_threads = B >= nthreads ? 1 : nthreads;  // one column: its products use the threads
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads) if (nthreads > 1 && B > 1)
  for (Index b = 0; b < B; ++b) {
    const Vector x0 = X0.size() ? Vector(X0.col(b)) : Vector::Zero(P);
    ColumnResult r = lasso_working_set_column(A, colnorm, Y.col(b), lam[b], x0, opt, ws, inner_threads);
    out.coef.col(b) = r.x;
    out.objective[b] = r.objective;
    out.gap[b] = r.gap;
    out.iterations[b] = int(r.iterations);
    out.converged[size_t(b)] = r.converged ? 1 : 0;
  }
  return out;
}

}  // namespace fastmem
