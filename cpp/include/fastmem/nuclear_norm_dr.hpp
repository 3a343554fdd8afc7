// Nuclear-norm recovery by Douglas-Rachford splitting with Anderson acceleration, for problems
// with few measurements (M well below N L), where greedy FISTA needs hundreds of steps.
//
//     minimise F(x) = f(x) + g(x),   f(x) = 0.5 ||y - A x||^2,   g(x) = lam ||mat(x)||_*
//
// Douglas-Rachford on the point z (step t > 0):
//
//     x = prox_{t f}(z) = (I + t A^T A)^{-1} (z + t A^T y)
//       = b - t A^T (I + t A A^T)^{-1} A b,      b = z + t A^T y     (Woodbury: an M x M solve)
//     w = prox_{t g}(2 x - z) = D_{t lam}(2 x - z)                      (singular value threshold)
//     T(z) = z + w - x,                                                 x, w -> the minimiser
//
// with K = A A^T formed once (network_outer_gram: O(M^2 log N) for a block-diagonal network) and
// (I + t K) Cholesky-factored once per step size. Each iteration costs one product with A, one
// with A^T, two triangular M x M solves and one SVT.
//
// Anderson acceleration (type II, memory m; Walker & Ni 2011, with the safeguard of Zhang,
// O'Donoghue & Boyd 2020 in its simplest form): with residuals f_i = T(z_i) - z_i of the last
// m + 1 iterates, the next point is T(z_k) - sum_i gamma_i (T(z_{i+1}) - T(z_i)), gamma the
// least-squares fit of f_k by the residual differences (Tikhonov 1e-9 tr; the differences kept in
// a ring of m columns with their Gram matrix updated one row per step). It is kept while
// ||f|| does not grow (by more than 1e-4 relative) above the best seen; otherwise the history is
// cleared and the iteration restarts from the best plain step T(z_best) (whose own residual then
// starts the new best).
//
// Step size: t = t_unit 2^k with t_unit = P / ||A||_F^2 (= P / tr K) and k starting at
// round(log2(0.1 lam_max / lam)), lam_max = ||mat(A^T y)||_2 (the smallest lam whose solution
// is 0); every 10 iterations the relative primal residual ||w - x|| / ||w|| and dual residual
// ||w - w_prev|| / (t ||grad f(x)||) are balanced (Boyd et al. 2011, 3.4.1): k decreases when
// the first exceeds 3 times the second, increases in the opposite case, at most 10 times, with
// z rescaled to w + t' grad f(x) and the Anderson history cleared. Factors are cached per k.
//
// A warm start x0 enters as z = x0 + t grad f(x0) (prox_{t f}(z) = x0; the fixed point when x0
// is the answer). Stopping: ||w - x||_F <= tol ||w||_F + 256 eps ||b|| (the rounding floor of x; or
// ||w - x|| <= tol ||z - x|| where w = 0), or max_iter
// iterations; the answer is w (low rank), its objective from one more product with A.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <vector>
#include "fastmem/nuclear_norm.hpp"
#include "fastmem/recurrence.hpp"

namespace fastmem {

struct DouglasRachfordOptions {
  int memory = 10;            // Anderson memory m (0 = plain Douglas-Rachford)
  double balance = 3.0;       // residual ratio that changes the step
  int balance_every = 10;     // iterations between checks
  int max_step_changes = 10;  // step changes per column
  double start = 0.1;         // t lam ~ start * lam_max / (||A||_F^2 / P) at the start
};

namespace detail {
// Powers of a block-diagonal W, one 2x2 block per even row (the last 1x1 for odd M, kept in a
// 2x2 with zeros), or of a dense W.
struct RecurrencePower {
  bool dense = false;
  Index m = 0;
  std::vector<Eigen::Matrix2d> blocks;
  Matrix full;

  static RecurrencePower identity(const Recurrence& W) {
    RecurrencePower p;
    p.m = W.size();
    p.dense = W.is_dense();
    if (p.dense) {
      p.full = Matrix::Identity(p.m, p.m);
    } else {
      p.blocks.assign(size_t((p.m + 1) / 2), Eigen::Matrix2d::Identity());
    }
    return p;
  }
  static RecurrencePower of(const Recurrence& W) {
    RecurrencePower p = identity(W);
    if (p.dense) {
      p.full = W.dense_matrix();
    } else {
      for (Index i = 0; i < p.m; i += 2) {
        const RowMatrix b = W.diagonal_block(i);
        Eigen::Matrix2d& o = p.blocks[size_t(i / 2)];
        o.setZero();
        o.topLeftCorner(b.rows(), b.cols()) = b;
      }
    }
    return p;
  }
  RecurrencePower times(const RecurrencePower& o) const {
    RecurrencePower p = *this;
    if (dense) {
      p.full = full * o.full;
    } else {
      for (size_t i = 0; i < blocks.size(); ++i) p.blocks[i] = blocks[i] * o.blocks[i];
    }
    return p;
  }
  // S <- W^n S (W^n)^T: S <- S B^T (column pairs), then S <- B S (row pairs, column by column)
  void sandwich(Matrix& S) const {
    if (dense) {
      const Matrix t = full * S;
      S.noalias() = t * full.transpose();
      return;
    }
    times_transpose(S);
    for (Index c = 0; c < m; ++c) {
      double* v = S.col(c).data();
      for (Index i = 0; i + 1 < m; i += 2) {
        const Eigen::Matrix2d& b = blocks[size_t(i / 2)];
        const double x0 = v[i], x1 = v[i + 1];
        v[i] = b(0, 0) * x0 + b(0, 1) * x1;
        v[i + 1] = b(1, 0) * x0 + b(1, 1) * x1;
      }
      if (m % 2) v[m - 1] *= blocks.back()(0, 0);
    }
  }
  // S <- S B^T
  void times_transpose(Matrix& S) const {
    for (Index i = 0; i < m; i += 2) {
      const Eigen::Matrix2d& b = blocks[size_t(i / 2)];
      if (i + 1 < m) {
        for (Index r = 0; r < m; ++r) {
          const double s0 = S(r, i), s1 = S(r, i + 1);
          S(r, i) = b(0, 0) * s0 + b(0, 1) * s1;
          S(r, i + 1) = b(1, 0) * s0 + b(1, 1) * s1;
        }
      } else {
        S.col(i) *= b(0, 0);
      }
    }
  }
};
}  // namespace detail

// K = A A^T (M x M) for the network operator A vec(S) = sum_k W^(N-1-k) Z s_k:
// K = sum_{k<N} W^k Z Z^T (W^k)^T, by doubling over the bits of N:
// S(2n) = S(n) + W^n S(n) (W^n)^T and S(n+1) = Z Z^T + W S(n) W^T.
inline Matrix network_outer_gram(const Recurrence& W, const ConstRowMatrixRef& Z, Index N) {
  require(N >= 1, "N must be >= 1");
  require(Z.rows() == W.size(), "Z must have as many rows as W");
  const Index M = W.size();
  Matrix C(M, M);
  C.setZero();
  C.selfadjointView<Eigen::Lower>().rankUpdate(Matrix(Z));
  C.triangularView<Eigen::StrictlyUpper>() = C.transpose();
  const detail::RecurrencePower W1 = detail::RecurrencePower::of(W);
  detail::RecurrencePower Wn = detail::RecurrencePower::identity(W);
  Matrix S = Matrix::Zero(M, M), T(M, M);
  int top = 0;
  while ((Index(1) << (top + 1)) <= N) ++top;
  for (int bit = top; bit >= 0; --bit) {
    T = S;  // doubling: S <- S + W^n S (W^n)^T, W^n <- W^2n
    Wn.sandwich(T);
    S += T;
    Wn = Wn.times(Wn);
    if ((N >> bit) & 1) {  // S <- Z Z^T + W S W^T, W^n <- W^(n+1)
      W1.sandwich(S);
      S += C;
      Wn = W1.times(Wn);
    }
  }
  return 0.5 * (S + S.transpose());
}

// The network operator A vec(S) = sum_n W^(N-1-n) Z s_n of a block-diagonal W, with the
// products arranged for one column at a time: U = Z S^T (one GEMM, M x N) then N steps of
// x <- W x + u_n on the 2x2 blocks (O(M) each), and for A^T v the backward powers
// R_n = (W^T)^(N-1-n) v (O(M) each) then S^T = Z^T R (one GEMM). The same products as
// NetworkOperator (whose per-step GEMVs suit batches), about twice as fast for one column.
class BlockNetworkColumns {
 public:
  BlockNetworkColumns(const Recurrence& W, const ConstRowMatrixRef& Z, Index N) : Z_(Z), N_(N), M_(W.size()) {
    require(!W.is_dense(), "BlockNetworkColumns needs a block-diagonal W");
    const Index pairs = (M_ + 1) / 2;
    a_.resize(pairs);
    b_.resize(pairs);
    c_.resize(pairs);
    d_.resize(pairs);
    for (Index p = 0; p < pairs; ++p) {
      const RowMatrix blk = W.diagonal_block(2 * p);
      a_[p] = blk(0, 0);
      b_[p] = blk.cols() > 1 ? blk(0, 1) : 0.0;
      c_[p] = blk.rows() > 1 ? blk(1, 0) : 0.0;
      d_[p] = blk.rows() > 1 ? blk(1, 1) : 0.0;
    }
  }
  Index rows() const { return M_; }
  Index cols() const { return N_ * Z_.cols(); }

  void apply(const ConstMatrixRef& V, MatrixRef out, int) const {
    const Index L = Z_.cols();
    Matrix U(M_, N_);
    Vector x(M_);
    for (Index j = 0; j < V.cols(); ++j) {
      U.noalias() = Z_ * Eigen::Map<const Matrix>(V.col(j).data(), L, N_);
      x.setZero();
      for (Index n = 0; n < N_; ++n) {
        step(x, false);
        x += U.col(n);
      }
      out.col(j) = x;
    }
  }
  void adjoint(const ConstMatrixRef& Y, MatrixRef out, int) const {
    const Index L = Z_.cols();
    Matrix R(M_, N_), S(L, N_);
    for (Index j = 0; j < Y.cols(); ++j) {
      R.col(N_ - 1) = Y.col(j);
      Vector x = Y.col(j);
      for (Index n = N_ - 1; n >= 1; --n) {
        step(x, true);
        R.col(n - 1) = x;
      }
      S.noalias() = Z_.transpose() * R;
      out.col(j) = Eigen::Map<const Vector>(S.data(), L * N_);
    }
  }

 private:
  // x <- W x (transpose: W^T x), pair by pair
  void step(Vector& x, bool transpose) const {
    const Index full = M_ / 2;
    double* v = x.data();
    if (!transpose) {
      for (Index p = 0; p < full; ++p) {
        const double x0 = v[2 * p], x1 = v[2 * p + 1];
        v[2 * p] = a_[p] * x0 + b_[p] * x1;
        v[2 * p + 1] = c_[p] * x0 + d_[p] * x1;
      }
    } else {
      for (Index p = 0; p < full; ++p) {
        const double x0 = v[2 * p], x1 = v[2 * p + 1];
        v[2 * p] = a_[p] * x0 + c_[p] * x1;
        v[2 * p + 1] = b_[p] * x0 + d_[p] * x1;
      }
    }
    if (M_ % 2) v[M_ - 1] *= a_[full];
  }
  RowMatrix Z_;
  Index N_, M_;
  Vector a_, b_, c_, d_;
};

// Douglas-Rachford + Anderson for every column of Y (see the file notes). K = A A^T.
template <class Op>
NuclearNormResult nuclear_norm_dr(const Op& A, const Matrix& K, const ConstMatrixRef& Y, const ConstVectorRef& lam,
                                  Index N, Index L, const Matrix* X0, const NuclearNormOptions& opt,
                                  const DouglasRachfordOptions& dr = {}) {
  const Index M = A.rows(), P = A.cols(), B = Y.cols();
  require(P == N * L, "A must have N*L columns");
  require(Y.rows() == M, "y must have M rows");
  require(K.rows() == M && K.cols() == M, "K = A A^T must be M x M");
  require(lam.size() == B, "lam needs one value per column of y");
  require(!X0 || (X0->rows() == P && X0->cols() == B), "the warm start must be P x B");
  require(dr.memory >= 0 && dr.balance > 1.0 && dr.balance_every >= 1 && dr.max_step_changes >= 0 && dr.start > 0.0,
          "invalid Douglas-Rachford options");
  const int threads = opt.threads;
  NuclearNormResult res;
  res.X = Matrix::Zero(P, B);
  res.objective = res.residual_norm = res.nuclear_norm = Vector::Zero(B);
  res.rank = res.iterations = res.converged = Eigen::VectorXi::Zero(B);
  res.lipschitz = opt.lipschitz;
  if (B == 0) return res;
  Matrix Q(P, B);
  A.adjoint(Y, Q, threads);
  const Vector lam_max = detail::spectral_norms(Q, N, L);
  const double trK = K.trace();
  const double unit = trK > 0.0 && std::isfinite(trK) ? double(P) / trK : 1.0;
  std::map<int, Eigen::LLT<Matrix>> factors;
  auto factor = [&](int k) -> const Eigen::LLT<Matrix>& {
    auto it = factors.find(k);
    if (it == factors.end()) {
      Matrix IK = (unit * std::ldexp(1.0, k)) * K;
      IK.diagonal().array() += 1.0;
      it = factors.emplace(k, Eigen::LLT<Matrix>(IK)).first;
    }
    return it->second;
  };
  SingularValueThreshold svt(opt.svd);
  const double tiny = std::numeric_limits<double>::min();
  const int m = dr.memory;
  Matrix b(P, 1), Ab(M, 1), v(M, 1), Atv(P, 1), Aw(M, 1);
  Vector x(P), w(P), f(P), u(P), z(P), zb(P), Tz(P), wprev(P);
  // Anderson history: the last m differences of T(z_i) and of f_i, in a ring of columns, with
  // their Gram matrix H = dF^T dF updated one row and column per step
  Matrix dF(P, std::max(m, 1)), dZ(P, std::max(m, 1)), H(std::max(m, 1), std::max(m, 1));
  Vector Fprev(P), Zprev(P);
  Index count = 0, head = 0;
  bool have_last = false;
  auto clear_history = [&] { count = head = 0; have_last = false; };
  for (Index j = 0; j < B; ++j) {
    const double lj = lam[j];
    const auto q = Q.col(j);
    int k = 0;
    if (lj > 0.0 && lam_max[j] > 0.0)
      k = int(std::lround(std::log2(dr.start * lam_max[j] / lj)));
    k = std::max(-40, std::min(40, k));
    double t = unit * std::ldexp(1.0, k);
    z = Vector::Zero(P);
    if (X0) {  // z = x0 + t grad f(x0), whose prox_{t f} is x0: a fixed point if x0 is the answer
      b.col(0) = X0->col(j);
      A.apply(b, Ab, threads);
      Ab.col(0) -= Y.col(j);
      A.adjoint(Ab, Atv, threads);
      z = X0->col(j) + t * Atv.col(0);
    }
    clear_history();
    double best = std::numeric_limits<double>::infinity();
    bool have_prev = false, conv = false;
    int changes = 0;
    Index iters = 0;
    SvtStats s{};
    if (opt.max_iter == 0) {
      w = X0 ? Vector(X0->col(j)) : Vector::Zero(P);
      Matrix same(L, N);
      s = svt(Eigen::Map<const Matrix>(w.data(), L, N), 0.0, same);  // its nuclear norm and rank
    }
    while (iters < opt.max_iter) {
      b.col(0) = z + t * q;
      A.apply(b, Ab, threads);
      v.col(0) = factor(k).solve(Ab.col(0));
      A.adjoint(v, Atv, threads);
      x = b.col(0) - t * Atv.col(0);
      Tz = 2.0 * x - z;  // the SVT's argument, then T(z)
      {
        Eigen::Map<const Matrix> zin(Tz.data(), L, N);
        Eigen::Map<Matrix> out(w.data(), L, N);
        s = svt(zin, t * lj, out);
      }
      ++iters;
      f = w - x;
      const double fn = f.norm(), wn = w.norm();
      u = (z - x) / t;  // grad f(x)
      // x = b - t A^T v carries rounding errors of order eps ||b|| (about 100 eps ||b|| seen with t ~ 1e4 / ||A||^2): a floor
      const double floor = 256.0 * std::numeric_limits<double>::epsilon() * b.norm();
      if (fn <= opt.tol * wn + floor || (wn == 0.0 && fn <= opt.tol * t * u.norm()) || fn == 0.0) {
        conv = true;
        break;
      }
      if (iters >= opt.max_iter) break;
      if (have_prev && iters % dr.balance_every == 0 && changes < dr.max_step_changes) {
        const double rp = fn / std::max(wn, tiny);
        const double sd = (w - wprev).norm() / std::max(t * u.norm(), tiny);
        int kn = k;
        if (rp > dr.balance * sd) {
          --kn;
        } else if (sd > dr.balance * rp) {
          ++kn;
        }
        kn = std::max(-40, std::min(40, kn));
        if (kn != k) {
          k = kn;
          t = unit * std::ldexp(1.0, k);
          z = w + t * u;
          clear_history();
          best = std::numeric_limits<double>::infinity();
          have_prev = false;
          ++changes;
          continue;
        }
      }
      wprev = w;
      have_prev = true;
      Tz = z + f;
      if (have_last && fn > best * (1.0 + 1e-4)) {  // safeguard: restart from the best plain step
        clear_history();
        z = zb;
        best = std::numeric_limits<double>::infinity();  // T(z_best) is taken whatever its residual
        continue;
      }
      if (fn < best) {
        best = fn;
        zb = Tz;
      }
      if (m == 0) {
        z = Tz;
        continue;
      }
      if (!have_last) {
        Fprev = f;
        Zprev = Tz;
        have_last = true;
        z = Tz;
        continue;
      }
      const Index slot = head;
      dF.col(slot) = f - Fprev;
      dZ.col(slot) = Tz - Zprev;
      Fprev = f;
      Zprev = Tz;
      head = (head + 1) % m;
      count = std::min<Index>(count + 1, m);
      for (Index i = 0; i < count; ++i) H(i, slot) = H(slot, i) = dF.col(i).dot(dF.col(slot));
      Matrix Hs = H.topLeftCorner(count, count);
      const double tr = Hs.trace();
      if (!(tr > 0.0) || !std::isfinite(tr)) {
        z = Tz;
        continue;
      }
      Hs.diagonal().array() += 1e-9 * tr;
      const Vector gamma = Hs.ldlt().solve(dF.leftCols(count).transpose() * f);
      if (!gamma.allFinite()) {
        z = Tz;
        continue;
      }
      z = Tz - dZ.leftCols(count) * gamma;
    }
    res.X.col(j) = w;
    Matrix wm = w;
    A.apply(wm, Aw, threads);
    const double r2 = (Y.col(j) - Aw.col(0)).squaredNorm();
    res.objective[j] = 0.5 * r2 + lj * s.nuclear;
    res.residual_norm[j] = std::sqrt(r2);
    res.nuclear_norm[j] = s.nuclear;
    res.rank[j] = int(s.rank);
    res.iterations[j] = int(iters);
    res.converged[j] = conv ? 1 : 0;
  }
  return res;
}

}  // namespace fastmem
