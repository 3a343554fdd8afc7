// LASSO by working sets (as celer does), with a Gram-form inner solver:
//
//     minimise  F(x) = 0.5 ||y - A x||^2 + lam ||x||_1        (one column y at a time)
//
// Outer loop:  c = A^T (y - A x)  (the only work on all P columns)
//              duality gap with theta = r min(1, lam / ||c||_inf); stop if gap <= tol F
//              working set W (only grows, so its Gram matrix is extended, never rebuilt):
//              first the p0 largest |c_j| / ||a_j||, then after each inner solve the KKT
//              violators |c_j| > lam outside W, largest first, at most max(p0, |W|/10) of them
// Inner solve: the same LASSO restricted to W, in Gram form (G = A_W^T A_W, q = A_W^T y), by
//              coordinate descent with Anderson extrapolation and semismooth Newton steps
//              (lasso_gram_inner.hpp), stopped at gap_W <= 0.3 gap.
// Where the columns come from is a template parameter:
//   DenseColumns     a dense A (M x P): c by two GEMVs, new Gram columns A_W^T A_new (O(M p) each)
//   ToeplitzColumns  the network with W^T W = q^2 I (toeplitz_gram.hpp): c = A^T y - G x by the
//                    block-Toeplitz product, Gram entries looked up from the blocks T_j (O(1)
//                    each): nothing depends on the number of nodes M after the build.
// Each column of a batch is independent: the batch loop is the parallel one.
#pragma once
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>
#include "fastmem/lasso.hpp"
#include "fastmem/lasso_gram_inner.hpp"
#include "fastmem/operators.hpp"
#include "fastmem/toeplitz_gram.hpp"

namespace fastmem {

struct WorkingSetOptions {
  Index p0 = 100;            // smallest working set
  int polish_after = 5;      // FISTA inner solver: steps with an unchanged sign pattern before a polish
  bool coordinate_descent = true;  // inner solver: Gram-form CD + Newton (else FISTA + polish)
  double inner_ratio = 0.3;  // inner gap target, relative to the outer gap (celer's 0.3)
  double growth = 0.1;       // at most max(p0, growth |W|) columns join W per outer step (0.5 made W ~2x the support: G_WW costs M p^2 dense, and CD epochs p per move)
  int max_outer = 1000;
  Index max_size = 0;        // > 0: a column whose iterate has more non-zeros than this stops unconverged, marked capped
};

struct ColumnResult {
  Vector x;
  double objective = 0, gap = 0;
  Index iterations = 0, outer = 0;
  bool capped = false;  // stopped because the support passed WorkingSetOptions::max_size
  bool converged = false;
};

// A dense A (row-major M x P) and one right-hand side y.
class DenseColumns {
 public:
  DenseColumns(const ConstRowMatrixRef& A, const Vector& colnorm, const Eigen::Ref<const Vector>& y, int threads)
      : A_(A), colnorm_(colnorm), y_(y), yy_(y.squaredNorm()), threads_(threads), AW_(A.rows(), 0) {}
  Index cols() const { return A_.cols(); }
  double colnorm(Index j) const { return colnorm_[j]; }
  double yy() const { return yy_; }

  // c = A^T (y - A x); F(x) and the dual value at theta = r min(1, lam / ||c||_inf), from the residual.
  void correlate(const Vector& x, double lam, Vector& c, double& F, double& D) const {
    const DenseOperator op(A_);
    Matrix xm = x, r(A_.rows(), 1), cm(A_.cols(), 1);
    op.apply(xm, r, threads_);
    r.col(0) = y_ - r.col(0);
    op.adjoint(r, cm, threads_);
    c = cm.col(0);
    const double cmax = c.lpNorm<Eigen::Infinity>(), s = cmax > lam ? lam / cmax : 1.0;
    F = 0.5 * r.col(0).squaredNorm() + lam * x.lpNorm<1>();
    D = 0.5 * yy_ - 0.5 * (y_ - s * r.col(0)).squaredNorm();
  }

  // Numbers stored per working-set column besides G_WW and its factor: the column A_w.
  double stored_rows_per_column() const { return double(A_.rows()); }

  // G (p x p) and q (p) gain the rows and columns of the last n_new indices of W.
  void extend(const std::vector<Index>& W, Index n_new, Matrix& G, Vector& q) {
    const Index M = A_.rows(), p = Index(W.size()), p_old = p - n_new;
    const int nthreads = resolve_threads(threads_);
    AW_.conservativeResize(M, p);
    for (Index i = 0; i < M; ++i)
      for (Index a = 0; a < n_new; ++a) AW_(i, p_old + a) = A_(i, W[size_t(p_old + a)]);
    G.conservativeResize(p, p);
    const RowPartition parts(p);
    const auto Anew = AW_.rightCols(n_new);
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && M * p * n_new >= (Index(1) << 22))
    for (Index blk = 0; blk < parts.count(); ++blk)
      G.block(parts.start(blk), p_old, parts.length(blk), n_new).noalias() =
          AW_.middleCols(parts.start(blk), parts.length(blk)).transpose() * Anew;
    G.block(p_old, 0, n_new, p_old) = G.block(0, p_old, p_old, n_new).transpose();
    q.conservativeResize(p);
    q.tail(n_new).noalias() = Anew.transpose() * y_;
  }

 private:
  ConstRowMatrixRef A_;
  const Vector& colnorm_;
  Eigen::Ref<const Vector> y_;
  double yy_;
  int threads_;
  Matrix AW_;
};

// The network's block-Toeplitz Gram G = A^T A (identity basis), b = A^T y and yy = ||y||^2.
class ToeplitzColumns {
 public:
  ToeplitzColumns(const ToeplitzGram& G, const Eigen::Ref<const Vector>& b, double yy, int threads)
      : G_(G), b_(b), yy_(yy), threads_(threads) {}
  Index cols() const { return G_.cols(); }
  double colnorm(Index j) const { return std::sqrt(std::max(G_.entry(j, j), 0.0)); }
  double yy() const { return yy_; }

  // c = b - G x (column by column from the blocks while x is sparse enough, else the
  // convolution); F and the dual value in Gram form (exact to a few ulps of yy).
  void correlate(const Vector& x, double lam, Vector& c, double& F, double& D) const {
    Index nnz = 0;
    for (Index j = 0; j < x.size(); ++j) nnz += x[j] != 0.0;
    Vector Gx = Vector::Zero(x.size());
    if (2.0 * double(nnz) * double(x.size()) < G_.apply_cost()) {
      G_.add_columns(x, Gx);
    } else {
      Matrix out(x.size(), 1);
      G_.apply(x, out, threads_);
      Gx = out.col(0);
    }
    c = b_ - Gx;
    const double bx = b_.dot(x), xGx = x.dot(Gx);
    F = std::max(0.0, 0.5 * yy_ - bx + 0.5 * xGx) + lam * x.lpNorm<1>();
    D = detail::dual_value(yy_, bx, xGx, c.lpNorm<Eigen::Infinity>(), lam);
  }

  // Numbers stored per working-set column besides G_WW and its factor: none (entries come from the blocks).
  double stored_rows_per_column() const { return 0.0; }

  void extend(const std::vector<Index>& W, Index n_new, Matrix& G, Vector& q) const {
    const Index p = Index(W.size()), p_old = p - n_new;
    G.conservativeResize(p, p);
    for (Index b = p_old; b < p; ++b)
      for (Index a = 0; a <= b; ++a) G(a, b) = G(b, a) = G_.entry(W[size_t(a)], W[size_t(b)]);
    q.conservativeResize(p);
    for (Index b = p_old; b < p; ++b) q[b] = b_[W[size_t(b)]];
  }

 private:
  const ToeplitzGram& G_;
  Eigen::Ref<const Vector> b_;
  double yy_;
  int threads_;
};

// One column, from the warm start x0 (P).
template <class Columns>
ColumnResult lasso_working_set_column(Columns& src, double lam, const Vector& x0, const LassoOptions& opt,
                                      const WorkingSetOptions& ws, Index in_flight = 1) {
  const Index P = src.cols();
  const double yy = src.yy();
  ColumnResult res;
  res.x = x0;
  Vector c(P);
  // The working set only grows, so its Gram matrix is extended, never rebuilt.
  std::vector<Index> W;
  std::vector<char> inW(size_t(P), 0);
  Matrix G(0, 0);
  Vector q(0);
  ActiveCholesky chol;  // the Newton steps' factor, kept across inner solves (W only grows)
  int stalls = 0;
  for (int outer = 0;; ++outer) {
    double dual = 0.0;
    src.correlate(res.x, lam, c, res.objective, dual);
    res.gap = std::max(0.0, res.objective - dual);
    res.outer = outer;
    if (res.gap <= opt.tol * res.objective || res.objective == 0.0) {
      res.converged = true;
      break;
    }
    if (res.iterations >= opt.max_iter || outer >= ws.max_outer) break;
    if (ws.max_size > 0 && (res.x.array() != 0.0).count() > ws.max_size) {
      res.capped = true;  // the support outgrew the working sets: the caller finishes this column another way
      break;
    }

    // new columns: the support of a warm start, then the largest violations |c_j| / ||a_j||
    // outside W (at most max(p0, growth |W|) of them)
    std::vector<Index> add;
    for (Index j = 0; j < P; ++j)
      if (!inW[size_t(j)] && res.x[j] != 0.0) add.push_back(j);
    // candidates: KKT violators |c_j| > lam (all columns at the start, to seed W)
    std::vector<Index> cand;
    const double floor = W.empty() ? -1.0 : lam;
    for (Index j = 0; j < P; ++j)
      if (!inW[size_t(j)] && res.x[j] == 0.0 && src.colnorm(j) > 0 && std::abs(c[j]) > floor) cand.push_back(j);
    const Index room = std::max<Index>(ws.p0, Index(double(W.size()) * ws.growth));
    const Index k = std::min<Index>(Index(cand.size()), std::max<Index>(0, room - Index(add.size())));
    auto by_score = [&](Index a, Index b) {
      const double sa = std::abs(c[a]) / src.colnorm(a), sb = std::abs(c[b]) / src.colnorm(b);
      return sa > sb || (sa == sb && a < b);
    };
    if (k > 0) {
      std::nth_element(cand.begin(), cand.begin() + (k - 1), cand.end(), by_score);
      add.insert(add.end(), cand.begin(), cand.begin() + k);
    }
    const bool tighten = add.empty();  // no violators outside W: the inner solve must go further
    stalls = tighten ? stalls + 1 : 0;
    if (stalls > 3) break;  // the inner solver cannot do better in floating point
    for (Index j : add) {
      W.push_back(j);
      inW[size_t(j)] = 1;
    }
    if (!add.empty()) {
      // G_WW, its Cholesky factor (and, for a dense A, A_W) grow with W: refuse, with a
      // MemoryError, a working set that the columns solved at once cannot hold.
      const double p_new = double(W.size());
      require_allocation(double(in_flight) * p_new * (2.0 * p_new + src.stored_rows_per_column()),
                         "the LASSO working set (" + std::to_string(W.size()) + " columns: its Gram matrix and factor)");
      src.extend(W, Index(add.size()), G, q);
    }

    const Index p = Index(W.size());
    Vector xw(p);
    for (Index j = 0; j < p; ++j) xw[j] = res.x[W[size_t(j)]];
    const double target = tighten ? 0.1 * opt.tol * res.objective
                                  : std::max(ws.inner_ratio * res.gap, 0.5 * opt.tol * res.objective);
    const Index budget = opt.max_iter - res.iterations;
    res.iterations += ws.coordinate_descent ? detail::gram_cd(G, q, yy, lam, target, budget, chol, xw)
                                            : detail::gram_fista(G, q, yy, lam, target, budget, ws.polish_after, xw);
    res.x.setZero();
    for (Index j = 0; j < p; ++j) res.x[W[size_t(j)]] = xw[j];
  }
  return res;
}

namespace detail {
inline void check_working_set_inputs(Index M, Index P, const ConstMatrixRef& Y, const ConstVectorRef& lam,
                                     const ConstMatrixRef& X0) {
  const Index B = Y.cols();
  require(Y.rows() == M, "y must have M rows");
  require(lam.size() == B, "lam must have one value per column of y");
  require((lam.array() >= 0.0).all(), "lam must be >= 0");
  require(X0.size() == 0 || (X0.rows() == P && X0.cols() == B), "warm start must have shape (P, B)");
}

// The columns b = 0..B-1 of a batch, each solved on make_columns(b, inner_threads) from X0's
// column (or 0), in parallel over the batch; one column alone gets the threads for its products.
template <class MakeColumns>
LassoOutput working_set_batch(Index P, Index B, const ConstVectorRef& lam, const ConstMatrixRef& X0,
                              const LassoOptions& opt, const WorkingSetOptions& ws, MakeColumns make_columns) {
  LassoOutput out;
  out.coef.resize(P, B);
  out.objective.resize(B);
  out.gap.resize(B);
  out.iterations.resize(B);
  out.converged.assign(size_t(B), 0);
  out.capped.assign(size_t(B), 0);
  const int nthreads = resolve_threads(opt.threads);
  const int inner_threads = B >= nthreads ? 1 : nthreads;
  const Index in_flight = (nthreads > 1 && B > 1) ? std::min<Index>(nthreads, B) : 1;  // columns solved at once
  RegionErrors errors;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads) if (nthreads > 1 && B > 1)
  for (Index b = 0; b < B; ++b) {
    errors.run([&] {
      const Vector x0 = X0.size() ? Vector(X0.col(b)) : Vector::Zero(P);
      auto src = make_columns(b, inner_threads);
      const ColumnResult r = lasso_working_set_column(src, lam[b], x0, opt, ws, in_flight);
      out.coef.col(b) = r.x;
      out.objective[b] = r.objective;
      out.gap[b] = r.gap;
      out.iterations[b] = int(r.iterations);
      out.converged[size_t(b)] = r.converged ? 1 : 0;
      out.capped[size_t(b)] = r.capped ? 1 : 0;
    });
  }
  errors.rethrow();  // a refused working-set allocation, outside the parallel region
  return out;
}
}  // namespace detail

// All columns of Y (M x B) on a dense A, per-column lam; X0 (P x B) or empty.
inline LassoOutput lasso_working_set(const ConstRowMatrixRef& A, const ConstMatrixRef& Y, const ConstVectorRef& lam,
                                     const ConstMatrixRef& X0, const LassoOptions& opt,
                                     const WorkingSetOptions& ws = WorkingSetOptions()) {
  const Index M = A.rows(), P = A.cols();
  detail::check_working_set_inputs(M, P, Y, lam, X0);
  Vector colnorm(P);
  for (Index j = 0; j < P; ++j) colnorm[j] = A.col(j).norm();
  return detail::working_set_batch(P, Y.cols(), lam, X0, opt, ws, [&](Index b, int threads) {
    return DenseColumns(A, colnorm, Y.col(b), threads);
  });
}

// All columns on the network's Toeplitz Gram (identity basis): AtY (P x B) = A^T Y, yy (B) = ||y_b||^2.
inline LassoOutput lasso_working_set_gram(const ToeplitzGram& G, const ConstMatrixRef& AtY, const ConstVectorRef& yy,
                                          const ConstVectorRef& lam, const ConstMatrixRef& X0, const LassoOptions& opt,
                                          const WorkingSetOptions& ws = WorkingSetOptions()) {
  const Index P = G.cols();
  require(G.has_entries(), "the working-set Gram solver needs the identity basis");
  detail::check_working_set_inputs(P, P, AtY, lam, X0);
  require(yy.size() == AtY.cols(), "yy must have one value per column");
  return detail::working_set_batch(P, AtY.cols(), lam, X0, opt, ws, [&](Index b, int threads) {
    return ToeplitzColumns(G, AtY.col(b), yy[b], threads);
  });
}

}  // namespace fastmem
