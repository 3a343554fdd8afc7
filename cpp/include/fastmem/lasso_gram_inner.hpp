// Inner solvers of the working-set LASSO, on the Gram form of a subproblem
// (G = A_W^T A_W, q = A_W^T y, yy = ||y||^2):
//
//     minimise  F(x) = 0.5 yy - q^T x + 0.5 x^T G x + lam ||x||_1
//
// gram_cd (coordinate descent + Anderson extrapolation + semismooth Newton steps, the default)
// and gram_fista (FISTA with monotone restart and a support polish).
#pragma once
#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>
#include "fastmem/active_cholesky.hpp"
#include "fastmem/lasso.hpp"

namespace fastmem {

namespace detail {

// Dual objective 0.5||y||^2 - 0.5||y - s r||^2 with s = min(1, lam/cmax), from Gram-form
// quantities: ||y - s r||^2 = (1-s)^2 ||y||^2 + 2 s (1-s) y^T A x + s^2 ||A x||^2.
inline double dual_value(double yy, double yAx, double AxAx, double cmax, double lam) {
  const double s = cmax > lam ? lam / cmax : 1.0;
  return 0.5 * yy - 0.5 * ((1 - s) * (1 - s) * yy + 2 * s * (1 - s) * yAx + s * s * AxAx);
}

// The subproblem's objective F(u) = 0.5 yy - q^T u + 0.5 u^T G u + lam ||u||_1, with Gu = G u given.
inline double gram_objective(double yy, const Vector& q, double lam, const Vector& u, const Vector& Gu) {
  return 0.5 * yy - q.dot(u) + 0.5 * u.dot(Gu) + lam * u.lpNorm<1>();
}

// G v over the non-zeros of v.
inline void gram_times_sparse(const Matrix& G, const Vector& v, Vector& out) {
  out.setZero();
  for (Index j = 0; j < v.size(); ++j)
    if (v[j] != 0.0) out.noalias() += v[j] * G.col(j);
}

// The support polish: the minimiser x_S of the quadratic on x's sign pattern's face
// (G_SS x_S = q_S - lam sign_S, Cholesky), approached as far as the signs allow (F decreases
// along the segment, a convex quadratic on this face) and kept when F does not increase.
// On success x, Gx and Fx are replaced and true is returned.
inline bool support_polish(const Matrix& G, const Vector& q, double yy, double lam, double slack, Vector& x, Vector& Gx,
                           double& Fx) {
  const Index p = G.rows();
  std::vector<Index> S;
  for (Index j = 0; j < p; ++j)
    if (x[j] != 0.0) S.push_back(j);
  const Index ns = Index(S.size());
  if (ns == 0) return false;
  Matrix Gss(ns, ns);
  Vector rhs(ns);
  for (Index a = 0; a < ns; ++a) {
    const Index ja = S[size_t(a)];
    rhs[a] = q[ja] - lam * (x[ja] > 0 ? 1.0 : -1.0);
    for (Index b = a; b < ns; ++b) Gss(b, a) = G(S[size_t(b)], ja);
  }
  Eigen::LLT<Matrix> llt(Gss.selfadjointView<Eigen::Lower>());
  if (llt.info() != Eigen::Success) return false;
  const Vector xs = llt.solve(rhs);
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
  const double Fp = gram_objective(yy, q, lam, xp, Gxp);
  if (!(Fp <= Fx + slack)) return false;
  x = std::move(xp);
  Gx = std::move(Gxp);
  Fx = Fp;
  return true;
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
  auto objective = [&](const Vector& u, const Vector& Gu) { return gram_objective(yy, q, lam, u, Gu); };
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
      if (support_polish(G, q, yy, lam, slack, x, Gx, Fx)) {
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

// A semismooth Newton step (the active-set Newton of the prox equation x = soft(x - g / G_jj,
// lam / G_jj)): the support S and signs s predicted by one coordinate step from x,
//     S = { j : |G_jj x_j - g_j| > lam },   s_j = sign(G_jj x_j - g_j),
// and the minimiser of the quadratic on that face, G_SS x_S = q_S - lam s_S, x = 0 off S.
// Near the solution S is the optimal support and one step lands on the optimum. The trial
// points are that minimiser projected on the predicted orthant (coordinates whose sign
// disagrees with s set to 0, as OWL-QN does), then shorter steps x + tau (x_N - x) projected
// the same way, kept at the first that lowers F. Successive steps change S by a few indices,
// so the factor of G_SS is updated (active_cholesky.hpp), not rebuilt. true when x moved.
inline bool newton_step(const Matrix& G, const Vector& q, double yy, double lam, double slack, ActiveCholesky& chol,
                        Vector& x, Vector& Gx, double& Fx, bool& singular) {
  const Index p = G.rows();
  std::vector<signed char> want(size_t(p), 0);
  std::vector<Index> S;
  for (Index j = 0; j < p; ++j) {
    const double v = G(j, j) * x[j] - (Gx[j] - q[j]);
    if (G(j, j) > 0.0 && std::abs(v) > lam) {
      want[size_t(j)] = v > 0 ? 1 : -1;
      S.push_back(j);
    }
  }
  if (S.empty()) return false;
  // update the factor when S changed by a few indices, else refactor
  std::vector<char> have(size_t(p), 0);
  for (Index j : chol.indices()) have[size_t(j)] = 1;
  std::vector<Index> drop_pos, add;
  for (Index k = 0; k < chol.size(); ++k)
    if (!want[size_t(chol.indices()[size_t(k)])]) drop_pos.push_back(k);
  for (Index j : S)
    if (!have[size_t(j)]) add.push_back(j);
  const Index s = Index(S.size());
  if (chol.size() == 0 || 8 * Index(drop_pos.size()) > s || chol.updates() > 4 * s) {
    if (!chol.reset(G, S)) {
      // G_SS singular (|S| > rank, e.g. more columns than measurements with a tiny lam): a
      // maximal independent subset, by appends in S's order; the rest stay at 0
      singular = true;
      for (Index j : S)
        if (!chol.append(G, j)) want[size_t(j)] = 0;
    }
  } else {
    for (auto it = drop_pos.rbegin(); it != drop_pos.rend(); ++it) chol.remove(*it);
    const std::vector<Index> added = chol.append_block(G, add);
    if (added.size() < add.size()) {  // those dependent on the rest stay at 0
      singular = true;
      std::vector<char> in(size_t(p), 0);
      for (Index j : added) in[size_t(j)] = 1;
      for (Index j : add)
        if (!in[size_t(j)]) want[size_t(j)] = 0;
    }
  }
  const std::vector<Index>& act = chol.indices();
  const Index ns = chol.size();
  if (ns == 0) return false;
  Vector rhs(ns);
  for (Index a = 0; a < ns; ++a) rhs[a] = q[act[size_t(a)]] - lam * double(want[size_t(act[size_t(a)])]);
  const Vector xs = chol.solve(rhs);
  if (!xs.allFinite()) return false;
  Vector xt(p), Gxt(p);
  for (double tau = 1.0; tau > 0.05; tau *= 0.25) {
    xt = (1.0 - tau) * x;
    for (Index a = 0; a < ns; ++a) {
      const Index ja = act[size_t(a)];
      const double v = xt[ja] + tau * xs[a];
      xt[ja] = v * double(want[size_t(ja)]) > 0.0 ? v : 0.0;
    }
    gram_times_sparse(G, xt, Gxt);
    const double Ft = gram_objective(yy, q, lam, xt, Gxt);
    if (Ft < Fx - slack) {
      x = xt;
      Gx = Gxt;
      Fx = Ft;
      return true;
    }
  }
  return false;
}

// Inner LASSO on the Gram form by cyclic coordinate descent, from x (warm):
//     minimise  0.5 x^T G x - q^T x + lam ||x||_1      (+ 0.5 ||y||^2, for the gap)
// One epoch visits every coordinate j:  x_j <- soft(x_j - g_j / G_jj, lam / G_jj), and when x_j
// moves by d the gradient g = G x - q gains d G_:j (O(p) per move, nothing per idle coordinate).
// Every `window` epochs the exact gradient is recomputed (no drift from the rank-one updates)
// and Anderson extrapolation of the last iterates (Bertrand & Massias 2021, as celer does) is
// kept when it lowers F. Semismooth Newton steps (above) when they are cheaper than the epochs
// CD still needs at its observed rate: on the ill-conditioned problems next to the phase
// transition (supports of ~0.9 M, cond(G_SS) ~ 1e3-1e4) CD alone needs hundreds of epochs, one
// Newton step a Cholesky; on well-conditioned ones CD finishes in a few epochs and no factor is paid.
// Returns the epochs plus Newton steps taken; x updated in place.
inline Index gram_cd(const Matrix& G, const Vector& q, double yy, double lam, double target_gap, Index max_epochs,
                     ActiveCholesky& chol, Vector& x) {
  const Index p = G.rows();
  if (p == 0) return 0;
  target_gap = std::max(target_gap, 64 * std::numeric_limits<double>::epsilon() * yy);
  const double slack = 16 * std::numeric_limits<double>::epsilon() * yy;
  constexpr int window = 5;
  Vector Gx(p), g(p);
  gram_times_sparse(G, x, Gx);
  g = Gx - q;
  auto objective = [&](const Vector& u, const Vector& Gu) { return gram_objective(yy, q, lam, u, Gu); };
  Matrix history(p, window + 1);
  int filled = 0;
  int singular_fails = 0;
  Index newton_blocked_until = 2, backoff = 2;
  double best_dual = -std::numeric_limits<double>::infinity();
  std::vector<double> gaps;  // F - best dual after each epoch: non-increasing up to rounding
  Index moves = p;           // coordinates moved in the last epoch
  Index epochs = 0;
  for (; epochs < max_epochs; ++epochs) {
    Gx = g + q;
    double Fx = objective(x, Gx);
    best_dual = std::max(best_dual, dual_value(yy, q.dot(x), x.dot(Gx), g.lpNorm<Eigen::Infinity>(), lam));
    const double gap = Fx - best_dual;
    if (gap <= target_gap) break;
    gaps.push_back(gap);
    // A Newton step when it costs less than the CD epochs still needed at the observed rate:
    // an epoch costs p (moves + 1), a step s^3/3 for a new factor of G_SS (s ~ nnz(x)) or
    // ~ 16 s^2 for an updated one, plus one G x. Well-conditioned problems never pay for a
    // factor; next to the phase transition (rate ~ 1) Newton runs at every chance.
    bool newton = false;
    if (epochs >= newton_blocked_until && gaps.size() >= 3) {
      const double rate = std::sqrt(gap / gaps[gaps.size() - 3]);
      const double need = rate < 1.0 ? std::log(target_gap / gap) / std::log(rate) : 1e30;
      Index nnz = 0;
      for (Index j = 0; j < p; ++j) nnz += x[j] != 0.0;
      const double sn = double(std::max<Index>(nnz, 1));
      const double step_cost = (chol.size() ? 16.0 * sn * sn : sn * sn * sn / 3.0) + double(p) * sn;
      newton = need * double(p) * double(moves + 1) > step_cost;
    }
    if (newton) {
      gram_times_sparse(G, x, Gx);
      Fx = objective(x, Gx);
      bool singular = false;
      const bool moved = newton_step(G, q, yy, lam, slack, chol, x, Gx, Fx, singular);
      singular_fails = !moved && singular ? singular_fails + 1 : 0;
      if (singular_fails >= 3)  // predicted faces with more columns than G has rank, again and again
        // (a tiny lam with more unknowns than measurements): CD crawls there, FISTA with its polish does not
        return epochs + gram_fista(G, q, yy, lam, target_gap, max_epochs - epochs, 5, x);
      g = Gx - q;
      backoff = moved ? 2 : 2 * backoff;  // a failed step waits 2, 4, 8, ... epochs
      newton_blocked_until = moved ? epochs + 1 : epochs + backoff;
      filled = 0;
      if (moved) continue;  // gap check first
    }
    moves = 0;
    for (Index j = 0; j < p; ++j) {
      const double gjj = G(j, j);
      if (!(gjj > 0.0)) continue;
      const double xj = soft_threshold(x[j] - g[j] / gjj, lam / gjj);
      const double d = xj - x[j];
      if (d != 0.0) {
        g.noalias() += d * G.col(j);
        x[j] = xj;
        ++moves;
      }
    }
    history.col(filled++) = x;
    if (filled == window + 1) {
      filled = 0;
      gram_times_sparse(G, x, Gx);
      g = Gx - q;
      Fx = objective(x, Gx);
      // Anderson: the affine combination of the last iterates with the smallest combined step
      Matrix U = history.rightCols(window) - history.leftCols(window);
      Matrix C = U.transpose() * U;
      const double scale = C.diagonal().maxCoeff();
      if (scale > 0.0) {
        C.diagonal().array() += 1e-10 * scale;
        const Vector z = C.ldlt().solve(Vector::Ones(window));
        const double sz = z.sum();
        if (std::isfinite(sz) && sz != 0.0) {
          const Vector xa = history.rightCols(window) * (z / sz);
          Vector Gxa(p);
          gram_times_sparse(G, xa, Gxa);
          if (objective(xa, Gxa) < Fx) {
            x = xa;
            g = Gxa - q;
          }
        }
      }
    }
  }
  return epochs;
}

}  // namespace detail

}  // namespace fastmem
