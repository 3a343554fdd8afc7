// Low-rank recovery by nuclear-norm minimisation for a general linear operator A:
//
//     minimise_S  F(S) = 0.5 * ||y - A vec(S)||_2^2 + lam * ||S||_*        (S is N x L)
//
// by accelerated proximal gradient (FISTA, Beck & Teboulle 2009) whose prox is singular
// value thresholding (Cai, Candes & Shen 2010),
//
//     S+ = D_{lam/Lip}( Y - (1/Lip) A^T (A vec(Y) - y) ),   D_tau(Z) = U max(Sigma - tau, 0) V^T,
//
// with the gradient-based adaptive restart of O'Donoghue & Candes (2015), a safeguard on the
// step (||A d||^2 <= Lip ||d||^2 is checked on every step for free; a violation raises Lip
// and the step is rejected if F went up) and the relative stopping rule
//
//     ||S+ - Y||_F <= tol * h * ||S+||_F    (the proximal-gradient mapping at Y, relative;
//                                            the step is h / Lip, h = 1 for FISTA).
//
// Options (NuclearNormOptions): greedy FISTA (Liang, Luo & Schoenlieb 2022; momentum 1, step
// 1.3 / Lip shrinking towards 1 / Lip by a safeguard, gradient restart) instead of FISTA's t_k
// momentum, and continuation on lam (stages lam_max c^k down to lam, warm-started). Both are off
// by default here; fastmem.stm.nuclear_norm turns both on.
//
// Many right-hand sides (columns of y, each with its own lam) are solved together: the
// operator products are GEMMs over the still-active columns, the SVTs of different
// columns are independent and run in parallel. A column stops when it converges, so the
// iterates of a column do not depend on the others (a batch gives what one-by-one gives,
// up to the rounding of the GEMMs). vec(S) is S.reshape(-1) (row-major), so a column of
// length P = N*L is, read column-major, the L x N matrix S^T.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>
#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include "fastmem/operators.hpp"
#include "fastmem/tridiagonal.hpp"

namespace fastmem {

// How D_tau computes singular values of the small L x N matrix.
//   gram:   eigen-decomposition of the min(N,L)^2 Gram matrix, and D_tau(Z) = V g(Lambda) V^T Z
//           with g = max(1 - tau / sigma, 0): no U is ever formed. Eigenvectors are needed only
//           above the threshold: Householder tridiagonalisation, all eigenvalues by root-free QL,
//           the kept eigenvectors by inverse iteration (tridiagonal.hpp), accepted when their
//           residuals and orthogonality are at rounding level, else (rarely) the full
//           SelfAdjointEigenSolver. Fastest (about 5x BDCSVD, 12x JacobiSVD at 100 x 40).
//           Singular values are accurate to ~eps * sigma_max^2 / sigma, which only affects
//           components far below the threshold.
//   bdc:    Eigen::BDCSVD (divide and conquer), backward stable.
//   jacobi: Eigen::JacobiSVD, most accurate, slowest.
enum class SvdMethod { gram, bdc, jacobi };

struct SvtStats {
  double nuclear = 0.0;  // ||D_tau(Z)||_* = sum max(sigma_i - tau, 0)
  Index rank = 0;        // number of sigma_i > tau
};

// Singular value thresholding D_tau of p x q matrices, with reusable workspace (one per thread).
class SingularValueThreshold {
 public:
  explicit SingularValueThreshold(SvdMethod method) : method_(method) {}

  // out = D_tau(Z). out may not alias Z.
  SvtStats operator()(const Eigen::Ref<const Matrix>& Z, double tau, Eigen::Ref<Matrix> out) {
    if (Z.size() == 0) return {};
    if (method_ == SvdMethod::gram) return gram(Z, tau, out);
    if (method_ == SvdMethod::bdc) {
      Eigen::BDCSVD<Matrix> svd(Z, Eigen::ComputeThinU | Eigen::ComputeThinV);
      return from_svd(svd.matrixU(), svd.singularValues(), svd.matrixV(), tau, out);
    }
    Eigen::JacobiSVD<Matrix> svd(Z, Eigen::ComputeThinU | Eigen::ComputeThinV);
    return from_svd(svd.matrixU(), svd.singularValues(), svd.matrixV(), tau, out);
  }

  // ||Z||_* (singular values only).
  double nuclear_norm(const Eigen::Ref<const Matrix>& Z) {
    if (Z.size() == 0) return 0.0;
    if (method_ == SvdMethod::jacobi) return Eigen::JacobiSVD<Matrix>(Z).singularValues().sum();
    return Eigen::BDCSVD<Matrix>(Z).singularValues().sum();
  }

 private:
  // D_tau(Z) for Z (p x q), p <= q: with Z Z^T = V Lambda V^T and sigma = sqrt(lambda),
  // D_tau(Z) = U (Sigma - tau)_+ V^T = V_r diag(1 - tau/sigma_r) V_r^T Z (kept part only).
  // For p > q the same on Z^T Z from the right.
  SvtStats gram(const Eigen::Ref<const Matrix>& Z, double tau, Eigen::Ref<Matrix> out) {
    const bool rows_small = Z.rows() <= Z.cols();
    const Index k = rows_small ? Z.rows() : Z.cols();
    gram_.setZero(k, k);
    if (rows_small)
      gram_.selfadjointView<Eigen::Lower>().rankUpdate(Z);
    else
      gram_.selfadjointView<Eigen::Lower>().rankUpdate(Z.transpose());
    Index r = 0;
    if (!kept_eigenpairs(tau, r)) {  // fallback: the full eigen-decomposition
      eig_.compute(gram_, Eigen::ComputeEigenvectors);
      const Vector& lambda = eig_.eigenvalues();  // ascending
      r = 0;
      while (r < k && std::sqrt(std::max(lambda[k - 1 - r], 0.0)) > tau) ++r;
      lambda_ = lambda.tail(r);
      vectors_ = eig_.eigenvectors().rightCols(r);
    }
    SvtStats stats;
    stats.rank = r;
    if (r == 0) {
      out.setZero();
      return stats;
    }
    shrink_.resize(r);
    for (Index i = 0; i < r; ++i) {
      const double sigma = std::sqrt(lambda_[i]);
      shrink_[i] = 1.0 - tau / sigma;
      stats.nuclear += sigma - tau;
    }
    const auto& Vr = vectors_;
    if (rows_small) {
      coef_.noalias() = Vr.transpose() * Z;  // r x q
      out.noalias() = Vr * (shrink_.asDiagonal() * coef_);
    } else {
      coef_.noalias() = Z * Vr;  // p x r
      out.noalias() = (coef_ * shrink_.asDiagonal()) * Vr.transpose();
    }
    return stats;
  }

  // The eigenpairs of gram_ (k x k, lower triangle, positive semidefinite) with sqrt(lambda) > tau
  // into lambda_ (r, ascending) and vectors_ (k x r): tridiagonalisation of gram_ / s (s its
  // largest diagonal entry, which bounds every entry), all eigenvalues by root-free QL, the r kept
  // eigenvectors by inverse iteration, back through the Householder reflections. false (use the
  // full solver) if the QL did not converge or an eigenvector's residual or the kept vectors'
  // orthogonality is above rounding level.
  bool kept_eigenpairs(double tau, Index& r) {
    const Index k = gram_.rows();
    const double s = gram_.diagonal().maxCoeff();
    r = 0;
    if (!(s > 0.0) || !std::isfinite(s)) return false;  // Z = 0 (or not finite): the full solver says so
    tri_.compute(gram_ / s);
    tri_d_ = tri_.diagonal();
    tri_e_ = tri_.subDiagonal();
    lambda_ = tri_d_;
    if (!tridiagonal_eigenvalues(lambda_, tri_e_, work_)) return false;
    while (r < k && std::sqrt(std::max(lambda_[k - 1 - r] * s, 0.0)) > tau) ++r;
    if (r == 0) return true;  // nothing kept: no eigenvectors needed
    double norm = 0.0;  // Gershgorin bound on ||T||
    for (Index i = 0; i < k; ++i)
      norm = std::max(norm, std::abs(tri_d_[i]) + (i > 0 ? std::abs(tri_e_[i - 1]) : 0.0) +
                                (i + 1 < k ? std::abs(tri_e_[i]) : 0.0));
    lambda_ = lambda_.tail(r).reverse().eval();  // descending
    const double eps = std::numeric_limits<double>::epsilon();
    // (written as !(x <= bound) so that NaN fails)
    if (!(inverse_(tri_d_, tri_e_, lambda_, norm, ritz_) <= 16.0 * double(k) * eps * norm)) return false;
    if (r > 1 && !((ritz_.transpose() * ritz_ - Matrix::Identity(r, r)).cwiseAbs().maxCoeff() <= 1e-12)) return false;
    vectors_.noalias() = tri_.matrixQ() * ritz_.rowwise().reverse();  // ascending, as the full solver's
    lambda_ = (lambda_.reverse() * s).eval();
    return true;
  }

  template <class U, class S, class V>
  static SvtStats from_svd(const U& u, const S& sigma, const V& v, double tau, Eigen::Ref<Matrix> out) {
    SvtStats stats;
    Index r = 0;
    while (r < sigma.size() && sigma[r] > tau) ++r;  // descending
    stats.rank = r;
    if (r == 0) {
      out.setZero();
      return stats;
    }
    const Vector kept = (sigma.head(r).array() - tau).matrix();
    stats.nuclear = kept.sum();
    out.noalias() = u.leftCols(r) * kept.asDiagonal() * v.leftCols(r).transpose();
    return stats;
  }

  SvdMethod method_;
  Matrix gram_, coef_, vectors_, ritz_;
  Vector shrink_, lambda_, tri_d_, tri_e_, work_;
  Eigen::SelfAdjointEigenSolver<Matrix> eig_;
  Eigen::Tridiagonalization<Matrix> tri_;
  TridiagonalInverseIteration inverse_;
};

// ||A||_2^2 = lambda_max(A^T A) by Lanczos with full reorthogonalisation from a fixed start
// vector (deterministic; no random numbers), stopped when the Ritz residual bound is below
// rtol * theta. Returns theta + residual bound (the top Ritz value is a lower bound).
template <class Op>
double operator_norm_squared(const Op& A, int threads, Index max_steps = 60, double rtol = 1e-4) {
  const Index P = A.cols(), M = A.rows();
  if (P == 0 || M == 0) return 0.0;
  const Index kmax = std::min<Index>(max_steps, P);
  Matrix V(P, kmax + 1);
  for (Index i = 0; i < P; ++i) V(i, 0) = 1.0 + 0.5 * std::cos(0.7 * double(i) + 0.3);
  V.col(0).normalize();
  Vector alpha(kmax), beta(kmax);
  Matrix Av(M, 1), w(P, 1);
  double estimate = 0.0;
  for (Index j = 0; j < kmax; ++j) {
    A.apply(V.col(j), Av, threads);
    A.adjoint(Av, w, threads);
    alpha[j] = V.col(j).dot(w.col(0));
    for (int pass = 0; pass < 2; ++pass) {  // full reorthogonalisation, twice is enough
      const Vector c = V.leftCols(j + 1).transpose() * w.col(0);
      w.col(0).noalias() -= V.leftCols(j + 1) * c;
    }
    beta[j] = w.col(0).norm();
    Eigen::SelfAdjointEigenSolver<Matrix> tri;
    Matrix T = Matrix::Zero(j + 1, j + 1);
    for (Index i = 0; i <= j; ++i) {
      T(i, i) = alpha[i];
      if (i < j) T(i + 1, i) = T(i, i + 1) = beta[i];
    }
    tri.compute(T);
    const double theta = tri.eigenvalues()[j];
    const double bound = beta[j] * std::abs(tri.eigenvectors()(j, j));
    estimate = theta + bound;
    if (bound <= rtol * theta || beta[j] <= 1e-12 * std::max(theta, 1e-300)) break;
    V.col(j + 1) = w.col(0) / beta[j];
  }
  return estimate;
}

struct NuclearNormOptions {
  double tol = 1e-6;        // relative stopping rule ||S+ - Y||_F <= tol ||S+||_F
  Index max_iter = 10000;   // iteration cap per column
  double lipschitz = 0.0;   // ||A||_2^2; 0 = estimate with operator_norm_squared
  SvdMethod svd = SvdMethod::gram;
  bool restart = true;      // adaptive (gradient) restart of the momentum (FISTA; greedy always restarts)
  int threads = 0;
  // Greedy FISTA (Liang, Luo & Schoenlieb 2022): 0 = FISTA's t_k momentum; g in [1, 2) = momentum
  // coefficient 1, step g / Lip, gradient restart, and the safeguard g <- max(0.96 g, 1) whenever
  // ||S+ - S|| exceeds the stage's first step (so the step tends to 1/Lip if the iterates wander).
  double greedy = 0.0;
  // Continuation on lam (cold starts only, lam > 0): stages lam_max c^k (lam_max = ||A^T y||_2,
  // the smallest lam with solution 0) down to lam, each solved to the relative step stage_tol and
  // warm-starting the next with the momentum reset; 0 = off. Only the last stage (lam itself)
  // uses tol and counts for `converged`; the objective is always reported for lam.
  double continuation = 0.0;
  double stage_tol = 1e-3;
};

struct NuclearNormResult {
  Matrix X;                    // P x B, column b = vec(S_b) (row-major N x L)
  Vector objective;            // F at the returned S
  Vector residual_norm;        // ||y - A vec(S)||_2
  Vector nuclear_norm;         // ||S||_*
  Eigen::VectorXi rank;        // rank of the returned S (singular values above the last threshold)
  Eigen::VectorXi iterations;  // accepted + rejected steps
  Eigen::VectorXi converged;   // 1 when the stopping rule was met before max_iter
  double lipschitz = 0.0;      // the Lip the solver started from
};

// Sets the greedy step, continuation factor and stage tolerance of opt, checked.
inline void set_acceleration(NuclearNormOptions& opt, double greedy, double continuation, double stage_tol) {
  require(greedy == 0.0 || (greedy >= 1.0 && greedy < 2.0), "greedy must be 0 (FISTA) or in [1, 2)");
  require(continuation >= 0.0 && continuation < 1.0, "continuation must be in [0, 1) (0 = off)");
  require(std::isfinite(stage_tol) && stage_tol > 0.0, "stage_tol must be finite and > 0");
  opt.greedy = greedy;
  opt.continuation = continuation;
  opt.stage_tol = stage_tol;
}

namespace detail {

// Per-column step schedule of both nuclear-norm solvers: greedy FISTA's step multiplier with its
// safeguard, and the continuation stages on lam (see NuclearNormOptions). lam_max empty = no
// continuation.
class NuclearSchedule {
 public:
  NuclearSchedule(const NuclearNormOptions& opt, const Vector& lam, const Vector& lam_max)
      : greedy_(opt.greedy >= 1.0 ? std::min(opt.greedy, 1.99) : 0.0),
        factor_(opt.continuation),
        lam_(lam),
        lamc_(lam),
        step_(Vector::Constant(lam.size(), greedy_ > 0.0 ? greedy_ : 1.0)),
        d0_(Vector::Zero(lam.size())),
        first_(size_t(lam.size()), 1) {
    if (factor_ > 0.0 && factor_ < 1.0 && lam_max.size() == lam.size())
      for (Index j = 0; j < lam.size(); ++j)
        if (lam[j] > 0.0 && factor_ * lam_max[j] > lam[j]) lamc_[j] = factor_ * lam_max[j];
  }
  bool greedy() const { return greedy_ > 0.0; }
  double step(Index j) const { return step_[j]; }        // the step is step(j) / Lip
  double lam_now(Index j) const { return lamc_[j]; }     // the lam of the current stage
  bool last_stage(Index j) const { return lamc_[j] <= lam_[j]; }
  // After an accepted step of length dx = ||S+ - S||: greedy's safeguard.
  void accepted(Index j, double dx) {
    if (!greedy()) return;
    if (first_[size_t(j)]) {
      d0_[j] = dx;
      first_[size_t(j)] = 0;
    } else if (dx > d0_[j]) {
      step_[j] = std::max(0.96 * step_[j], 1.0);
    }
  }
  // Called when the relative step of column j is below stage_tol in a stage before the last:
  // moves to the next stage (the caller resets the momentum and re-evaluates F at lam_now).
  void next_stage(Index j) {
    lamc_[j] = factor_ * lamc_[j] > lam_[j] ? factor_ * lamc_[j] : lam_[j];
    step_[j] = greedy() ? greedy_ : 1.0;
    first_[size_t(j)] = 1;
  }
  enum class Step { go_on, new_stage, converged };
  // The stopping rule of both solvers, after the accepted step of column j (d2 = ||S+ - Y||^2,
  // step multiplier h, xnorm2 = ||S+||^2): before the last stage, a relative step below
  // stage_tol moves to the next stage (new_stage: the caller resets the momentum and re-evaluates
  // F at lam_now); in the last stage, one below tol has converged.
  Step after_step(Index j, double d2, double h, double xnorm2, const NuclearNormOptions& opt) {
    if (last_stage(j)) return d2 <= opt.tol * opt.tol * h * h * xnorm2 ? Step::converged : Step::go_on;
    if (!(d2 <= opt.stage_tol * opt.stage_tol * h * h * xnorm2)) return Step::go_on;  // (NaN: go on, as before)
    next_stage(j);
    return Step::new_stage;
  }
  void compact(const std::vector<Index>& keep);

 private:
  double greedy_, factor_;
  Vector lam_, lamc_, step_, d0_;
  std::vector<char> first_;
};

// ||reshape(q_j)||_2 for every column of Q (P x B): the lam above which S = 0 solves the problem.
inline Vector spectral_norms(const ConstMatrixRef& Q, Index N, Index L) {
  Vector out(Q.cols());
  Eigen::SelfAdjointEigenSolver<Matrix> eig;
  for (Index j = 0; j < Q.cols(); ++j) {
    const Eigen::Map<const Matrix> Zj(Q.col(j).data(), L, N);
    Matrix g = Matrix::Zero(L, L);
    g.selfadjointView<Eigen::Lower>().rankUpdate(Zj);
    eig.compute(g, Eigen::EigenvaluesOnly);
    out[j] = L > 0 ? std::sqrt(std::max(eig.eigenvalues()[L - 1], 0.0)) : 0.0;
  }
  return out;
}

// Stable compaction of columns: keep[j] says whether column j stays (kept columns move left).
inline void compact_columns(Matrix& m, const std::vector<Index>& keep_cols) {
  for (Index j = 0; j < Index(keep_cols.size()); ++j)
    if (keep_cols[j] != j) m.col(j) = m.col(keep_cols[j]);
}
template <class V>
inline void compact_entries(V& v, const std::vector<Index>& keep_cols) {
  for (Index j = 0; j < Index(keep_cols.size()); ++j)
    if (keep_cols[j] != j) v[j] = v[keep_cols[j]];
}

inline void NuclearSchedule::compact(const std::vector<Index>& keep) {
  compact_entries(lam_, keep);
  compact_entries(lamc_, keep);
  compact_entries(step_, keep);
  compact_entries(d0_, keep);
  compact_entries(first_, keep);
}

}  // namespace detail

// FISTA + SVT for B right-hand sides (columns of Y, M x B), each with its own lam[b].
// N, L: the shape of S; A.cols() must be N*L. X0: warm start (P x B) or nullptr for 0.
template <class Op>
NuclearNormResult nuclear_norm_fista(const Op& A, const ConstMatrixRef& Y, const ConstVectorRef& lam, Index N,
                                     Index L, const Matrix* X0, const NuclearNormOptions& opt) {
  const Index M = A.rows(), P = A.cols(), B = Y.cols();
  require(P == N * L, "A must have N*L columns");
  require(Y.rows() == M, "y must have as many rows as A");
  require(lam.size() == B, "lam must have one value per right-hand side");
  require((lam.array() >= 0.0).all() && lam.allFinite(), "lam must be finite and >= 0");
  require(opt.tol >= 0.0 && opt.max_iter >= 0, "tol and max_iter must be >= 0");
  if (X0) require(X0->rows() == P && X0->cols() == B, "S0 must have shape (B, N*L)");
  const int threads = resolve_threads(opt.threads);

  NuclearNormResult res;
  res.X = Matrix::Zero(P, B);
  res.objective = res.residual_norm = res.nuclear_norm = Vector::Zero(B);
  res.rank = res.iterations = res.converged = Eigen::VectorXi::Zero(B);
  if (B == 0) return res;
  // Lanczos to 1% (19 steps at M = 4000 against 59 to 1e-4, which cost as much as a whole
  // well-posed solve), times 1.02 to stay above ||A||^2; the step safeguard covers the rest.
  res.lipschitz = opt.lipschitz > 0.0 ? opt.lipschitz : 1.02 * operator_norm_squared(A, threads, 60, 1e-2);
  const double lip0 = res.lipschitz > 0.0 ? res.lipschitz : 1.0;  // A == 0: any step works

  // State of the active columns, compacted to the left: slot j holds original column idx[j].
  std::vector<Index> idx(B);
  for (Index b = 0; b < B; ++b) idx[b] = b;
  Matrix X(P, B), Xp(P, B), Yp(P, B), Xn(P, B), G(P, B);
  if (X0)
    X = *X0;
  else
    X.setZero();
  Matrix y = Y, AX(M, B), AXp(M, B), R(M, B), AXn(M, B);
  Vector lamv = lam, t = Vector::Ones(B), lip = Vector::Constant(B, lip0), F(B), Fn(B), nuc(B), nucn(B);
  Vector lam_max;
  if (opt.continuation > 0.0 && !X0) {
    Matrix Q(P, B);
    A.adjoint(Y, Q, opt.threads);
    lam_max = detail::spectral_norms(Q, N, L);
  }
  detail::NuclearSchedule sched(opt, lamv, lam_max);
  Eigen::VectorXi rank = Eigen::VectorXi::Zero(B), rankn(B), iters = Eigen::VectorXi::Zero(B);
  std::vector<char> done(B, 0), conv(B, 0);

  if (X0) {
    A.apply(X, AX, opt.threads);
  } else {
    AX.setZero();
  }
  {
#pragma omp parallel num_threads(threads) if (threads > 1 && B > 1)
    {
      SingularValueThreshold svt(opt.svd);
#pragma omp for schedule(static)
      for (Index j = 0; j < B; ++j) {
        nuc[j] = X0 ? svt.nuclear_norm(Eigen::Map<const Matrix>(X.col(j).data(), L, N)) : 0.0;
        F[j] = 0.5 * (AX.col(j) - y.col(j)).squaredNorm() + sched.lam_now(j) * nuc[j];
      }
    }
  }
  Xp = X;
  AXp = AX;

  auto finish = [&](Index j) {
    const Index b = idx[j];
    res.X.col(b) = X.col(j);
    res.residual_norm[b] = (AX.col(j) - y.col(j)).norm();
    res.objective[b] = 0.5 * res.residual_norm[b] * res.residual_norm[b] + lamv[j] * nuc[j];
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
    // Momentum point Y = X + beta (X - Xp), A Y by linearity, residual R = A Y - y, gradient G = A^T R.
    Vector tn(n), beta(n);
    for (Index j = 0; j < n; ++j) {
      tn[j] = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t[j] * t[j]));
      beta[j] = sched.greedy() ? 1.0 : (t[j] - 1.0) / tn[j];  // greedy: Xp = X after a restart
      Yp.col(j) = X.col(j) + beta[j] * (X.col(j) - Xp.col(j));
      R.col(j) = AX.col(j) + beta[j] * (AX.col(j) - AXp.col(j)) - y.col(j);
    }
    A.adjoint(R.leftCols(n), G.leftCols(n), opt.threads);
#pragma omp parallel num_threads(threads) if (threads > 1 && n > 1)
    {
      SingularValueThreshold svt(opt.svd);
      Matrix Zj(L, N);
#pragma omp for schedule(static)
      for (Index j = 0; j < n; ++j) {
        const double h = sched.step(j) / lip[j];
        Eigen::Map<Matrix>(Zj.data(), P, 1) = Yp.col(j) - h * G.col(j);
        Eigen::Map<Matrix> out(Xn.col(j).data(), L, N);
        const SvtStats s = svt(Zj, sched.lam_now(j) * h, out);
        nucn[j] = s.nuclear;
        rankn[j] = int(s.rank);
      }
    }
    A.apply(Xn.leftCols(n), AXn.leftCols(n), opt.threads);

    std::vector<Index> keep;
    keep.reserve(n);
    for (Index j = 0; j < n; ++j) {
      ++iters[j];
      // A d with d = Xn - Y; A Y = R + y.
      const double d2 = (Xn.col(j) - Yp.col(j)).squaredNorm();
      const Vector Ad = AXn.col(j) - (R.col(j) + y.col(j));
      const double Ad2 = Ad.squaredNorm();
      Fn[j] = 0.5 * (AXn.col(j) - y.col(j)).squaredNorm() + sched.lam_now(j) * nucn[j];
      // Step safeguard: ||A d||^2 <= Lip ||d||^2 must hold (Lip >= ||A||^2). Only trusted when
      // A d is not rounding noise of A Xn.
      const bool too_long = Ad2 > lip[j] * d2 * (1.0 + 1e-10) && Ad2 > 1e-20 * AXn.col(j).squaredNorm();
      if (too_long) {
        lip[j] = std::max(1.25 * lip[j], 1.05 * Ad2 / std::max(d2, 1e-300));
        if (Fn[j] > F[j]) {  // reject the step; restart the momentum from X
          Xp.col(j) = X.col(j);
          AXp.col(j) = AX.col(j);
          t[j] = 1.0;
          if (iters[j] >= opt.max_iter) {
            finish(j);
            continue;
          }
          keep.push_back(j);
          continue;
        }
      }
      // Gradient restart (O'Donoghue & Candes): momentum points against the step.
      const bool restart = (opt.restart || sched.greedy()) && (Yp.col(j) - Xn.col(j)).dot(Xn.col(j) - X.col(j)) > 0.0;
      const double h = sched.step(j);  // the step taken was h / Lip
      sched.accepted(j, (Xn.col(j) - X.col(j)).norm());
      t[j] = restart ? 1.0 : tn[j];
      const bool zero_momentum = sched.greedy() && restart;  // greedy: the next momentum is X - Xp
      Xp.col(j) = zero_momentum ? Xn.col(j) : X.col(j);
      AXp.col(j) = zero_momentum ? AXn.col(j) : AX.col(j);
      X.col(j) = Xn.col(j);
      AX.col(j) = AXn.col(j);
      F[j] = Fn[j];
      nuc[j] = nucn[j];
      rank[j] = rankn[j];
      const auto outcome = sched.after_step(j, d2, h, Xn.col(j).squaredNorm(), opt);
      if (outcome == detail::NuclearSchedule::Step::new_stage) {
        F[j] = 0.5 * (AX.col(j) - y.col(j)).squaredNorm() + sched.lam_now(j) * nuc[j];
        Xp.col(j) = X.col(j);
        AXp.col(j) = AX.col(j);
        t[j] = 1.0;
      }
      conv[j] = outcome == detail::NuclearSchedule::Step::converged;
      if (conv[j] || iters[j] >= opt.max_iter) {
        finish(j);
        continue;
      }
      keep.push_back(j);
    }
    if (Index(keep.size()) != n) {
      detail::compact_columns(X, keep);
      detail::compact_columns(Xp, keep);
      detail::compact_columns(AX, keep);
      detail::compact_columns(AXp, keep);
      detail::compact_columns(y, keep);
      detail::compact_entries(lamv, keep);
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
