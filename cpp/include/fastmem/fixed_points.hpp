// Fixed and slow points of the tanh map F(S) = tanh(W S + c), c = W_in u + b.
//
// From each initial state we minimise the speed q(S) = 1/2 |F(S) - S|^2 by Newton's
// method on G(S) = F(S) - S, with Jacobian J = diag(1 - F^2) W - I and a backtracking
// line search on q. Where J is near singular (or the Newton step makes too little
// progress) the step is Levenberg-Marquardt's, (J^T J + mu I) d = -J^T G, which
// descends on q and converges to local minima of q above zero (slow points) too.
// Every initial state is independent: the OpenMP loop runs over states, and a
// state's result does not depend on the thread count.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>
#include <complex>
#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <Eigen/Dense>
#include <Eigen/Eigenvalues>
#include "fastmem/eigenvalues.hpp"
#include "fastmem/threads.hpp"
#include "fastmem/types.hpp"

namespace fastmem {

struct FixedPointSettings {
  double tol_q = 1e-12;     // stop: q < tol_q (a fixed point)
  double tol_grad = 1e-10;  // stop: |grad q| = |J^T G| < tol_grad (a stationary point of q: a slow point)
  double tol_step = 1e-12;  // stop: |step| < tol_step (1 + |S|) (no progress)
  int max_iter = 200;
  double rcond_min = 1e-8;  // below this reciprocal condition number of J, Newton is not tried
  int max_halvings = 4;     // Newton's step may be halved this often before the iteration turns to LM
  int max_lm_tries = 40;    // increases of mu before an iteration gives up (no progress)
  int chord_steps = 8;      // consecutive steps that may reuse the last factorised Jacobian (0: pure Newton)
  bool polish = true;       // after q < tol_q, a few more chord/Newton steps while they lower q
  double share_radius = std::numeric_limits<double>::infinity();  // library chords only this close to a known point
  double share_decrease = 0.25;  // a library chord step is accepted when q_new <= share_decrease * q
  bool merge = true;  // stop a search inside the certified basin of a library point (see JacobianLibrary)
};

enum FixedPointStatus : int { kFixed = 0, kStationary = 1, kNoProgress = 2, kMaxIter = 3 };

// tanh in place, as sign(x) (1 - 2 / (exp(2|x|) + 1)): Eigen vectorises exp for double but not
// tanh (std::tanh per element took half the map's time). Absolute error <= 2.3e-16 against
// std::tanh (checked on a grid over [-200, 200]); tanh(0) = 0 exactly, |tanh| <= 1, and
// tanh(-x) = -tanh(x) exactly (the map is odd when c = 0, see JacobianLibrary::add).
// Eigen 3.4 has no packet sign() for double, and one non-vectorisable operation makes the whole
// expression scalar (std::exp per element): with AVX2/FMA the magnitude is computed first,
// vectorised, and the sign copied on by a plain loop (2.2x faster); the SSE2 build keeps the
// single expression (there Eigen's exp is not faster than the C library's).
inline void tanh_in_place(double* xp, Index n) {
  Eigen::Map<Eigen::ArrayXd> x(xp, n);
#if defined(__AVX2__) && defined(__FMA__)
  thread_local Eigen::ArrayXd r;
  if (r.size() < n) r.resize(n);
  r.head(n) = 1.0 - 2.0 / ((2.0 * x.abs()).exp() + 1.0);
  const double* rp = r.data();
  for (Index i = 0; i < n; ++i) xp[i] = std::copysign(rp[i], xp[i]);
#else
  x = (1.0 - 2.0 / ((2.0 * x.abs()).exp() + 1.0)) * x.sign();
#endif
}
inline void tanh_in_place(Vector& x) { tanh_in_place(x.data(), x.size()); }

// out = F(S) = tanh(W S + c) without temporaries (the inner loop's O(N^2) work)
template <class W_t>
inline void tanh_map_into(const W_t& W, const Vector& c, const Vector& s, Vector& out) {
  out.noalias() = W * s;
  out += c;
  tanh_in_place(out);
}

// F for every column of X: out = tanh(W X + c 1^T), by matrix products over fixed chunks of 32
// columns (in parallel over chunks; a column's result depends on its chunk, never on the threads)
template <class W_t>
inline void tanh_map_columns(const W_t& W, const Vector& c, const Matrix& X, Matrix& out, int threads) {
  const Index m = X.cols(), N = W.rows(), chunk = 32, chunks = (m + chunk - 1) / chunk;
  out.resize(N, m);
#pragma omp parallel for schedule(static) num_threads(threads) if (chunks > 1)
  for (Index ch = 0; ch < chunks; ++ch) {
    const Index c0 = ch * chunk, w = std::min(chunk, m - c0);
    auto o = out.middleCols(c0, w);
    o.noalias() = W * X.middleCols(c0, w);
    o.colwise() += c;
    tanh_in_place(o.data(), N * w);
  }
}

// F(S) = tanh(W S + c)
template <class W_t>
inline Vector tanh_map(const W_t& W, const Vector& c, const Vector& s) {
  Vector out(s.size());
  tanh_map_into(W, c, s, out);
  return out;
}

// q(S) = 1/2 |F(S) - S|^2
inline double speed(const Vector& f, const Vector& s) { return 0.5 * (f - s).squaredNorm(); }

// dG/dS = diag(1 - F^2) W - I
template <class W_t>
inline Matrix residual_jacobian(const W_t& W, const Vector& f) {
  Matrix J = (1.0 - f.array().square()).matrix().asDiagonal() * W;
  J.diagonal().array() -= 1.0;
  return J;
}

// J = dG/dS = diag(1 - F^2) W - I into an existing matrix (no allocation when J has the size)
template <class W_t>
inline void residual_jacobian_into(const W_t& W, const Vector& f, Matrix& J) {
  J.noalias() = (1.0 - f.array().square()).matrix().asDiagonal() * W;
  J.diagonal().array() -= 1.0;
}

// Work matrices of minimise_speed, one set per thread, reused by its searches: allocating and
// freeing them per search and per factorisation (80 KB each at N = 100) made the C library
// return the memory to the system and fault it back in (a tenth of the search time).
struct SpeedWorkspace {
  Matrix J;
  Eigen::PartialPivLU<Matrix> lu;
  Eigen::LLT<Matrix> llt;
};
inline SpeedWorkspace& speed_workspace() {
  thread_local SpeedWorkspace ws;
  return ws;
}

// Whether the LU factorisation lu of A has rcond() > rcond_min, without Eigen's estimator where
// a cheap bound decides. A = P^-1 L U, so |A^-1|_1 <= |U^-1|_1 |L^-1|_1, and for a triangular T,
// |T^-1|_1 <= |M(T)^-1|_1 = |M(T)^-T e|_inf with M(T) the comparison matrix (|t_ii| on the diagonal,
// -|t_ij| off it; M(T)^-1 >= 0): one triangular solve each, O(N^2). So 1 / (|A|_1 |U^-1|_1 |L^-1|_1)
// is a lower bound of the true reciprocal condition number, and of Eigen's estimate (which
// underestimates |A^-1|_1): where it exceeds rcond_min the answer is the estimator's, yes. Else
// (the bound can be loose, or overflow) the estimator decides. About 3 us instead of 10 at N = 100.
inline bool lu_well_conditioned(const Eigen::PartialPivLU<Matrix>& lu, const Matrix& A, double rcond_min) {
  const Matrix& LU = lu.matrixLU();
  const Index n = LU.rows();
  thread_local Vector y;
  if (y.size() != n) y.resize(n);
  // M(U)^T y = e (forward): y_j = (1 + sum_{i<j} |u_ij| y_i) / |u_jj|
  double u_norm = 0.0;
  for (Index j = 0; j < n; ++j) {
    const double acc = 1.0 + LU.col(j).head(j).cwiseAbs().dot(y.head(j));
    y[j] = acc / std::abs(LU(j, j));
    u_norm = std::max(u_norm, y[j]);
  }
  // M(L)^T y = e (backward, unit diagonal): y_j = 1 + sum_{i>j} |l_ij| y_i
  double l_norm = 0.0;
  for (Index j = n - 1; j >= 0; --j) {
    y[j] = 1.0 + LU.col(j).tail(n - 1 - j).cwiseAbs().dot(y.tail(n - 1 - j));
    l_norm = std::max(l_norm, y[j]);
  }
  const double a_norm = A.cwiseAbs().colwise().sum().maxCoeff();
  const double bound = 1.0 / (a_norm * u_norm * l_norm);
  if (bound > rcond_min) return true;  // (false for NaN)
  return lu.rcond() > rcond_min;
}

// dF/dS at a fixed point S* = F(S*): diag(1 - S*^2) W
template <class W_t>
inline Matrix map_jacobian(const W_t& W, const Vector& s) {
  return (1.0 - s.array().square()).matrix().asDiagonal() * W;
}

struct FixedPointTrace {
  double q = 0.0;
  double grad_norm = 0.0;
  int iterations = 0;
  int factorisations = 0;  // LU factorisations of J (the O(N^3) work)
  int status = kMaxIter;
  Index merged = -1;  // the library point this search was merged into (-1: none)
};

// |grad q| = |J^T G| with J^T G = W^T ((1 - F^2) G) - G: one matrix-vector product, no Jacobian
template <class W_t>
inline double speed_gradient_norm(const W_t& W, const Vector& f, const Vector& g) {
  Vector grad = W.transpose() * ((1.0 - f.array().square()) * g.array()).matrix();
  grad -= g;
  return grad.norm();
}

// Jacobians J = diag(1 - S*^2) W - I at fixed points already found, factorised and inverted
// once, shared read-only by the searches of later initial states (see find_fixed_points). A
// chord step with J^-1 is one matrix-vector product (about twice as fast as two triangular solves).
//
// Certified basins. With A = J(p0)^-1 at a point p0, the chord map T(S) = S - A G(S) has
// T'(y) = A (J(p0) - J(y)) = A diag(delta) W, delta_i = phi(w_i.p0 + c_i) - phi(w_i.y + c_i), where
// w_i^T is row i of W, phi = 1 - tanh^2 and |phi'| <= 4 / (3 sqrt 3) < 0.7699, so
// |delta_i| <= 0.7699 |w_i| |y - p0|. Two bounds of |T'(y)| follow (a_i: column i of A):
//     sum_i |a_i| |delta_i| |w_i|                       <= 0.7699 |y - p0| sum_i |a_i| |w_i|^2,
//     |A diag(delta)|_F |W|_2 = sqrt(sum_i |a_i|^2 delta_i^2) |W|_2 <= 0.7699 |y - p0| |W|_2 sqrt(sum_i |a_i|^2 |w_i|^2),
// so |T'(y)| <= L |y - p0| with L = 0.7699 C, C the smaller of the two sums (|W|_2 replaced by an
// upper bound, see w_norm2). Let p be the library point (p0 polished, e = |p - p0|) and
// eta = |A G(p)| (tiny: T(p) = p - A G(p)). For |S - p| = r, integrating T' along the segment,
//     |T(S) - p| <= |T(S) - T(p)| + eta <= L r (r / 2 + e) + eta.
// On the ball |S - p| <= rho with L (rho / 2 + e) <= 1/2, i.e. rho = 1 / L - 2 e, each chord step
// halves the distance to p (up to eta): the chord iteration from any S in the ball stays in it (as
// eta <= rho / 4 is required) and converges to a fixed point within 2 eta of p, and every fixed point
// in the ball is that close (a second fixed point S* has |S* - p| <= |S* - p| / 2 + eta). A search that
// reaches the ball, or whose candidate step lands in it, therefore ends at p and is stopped there
// (merged) instead of being iterated to tol_q and polished, which would only reproduce p
// (deduplication keeps one copy). (The ball of the sum bound with sup |T'| <= 1/2 on it,
// rho = 0.5 / L - e, was 2 to 4 times smaller: more chord steps before a search could merge.)
struct JacobianLibrary {
  std::vector<Vector> points;
  // J(p)^-1 of the points, once per distinct Jacobian (p and its mirror -p share one: half the
  // memory the chord steps stream through, 1 MB instead of 2 for the benchmark's 26 points)
  std::vector<RowMatrix> inverses;  // (row-major: the chord steps multiply by them, slightly faster than column-major)
  std::vector<std::size_t> inverse_index;  // per point: its inverse in inverses
  const RowMatrix& inverse(std::size_t j) const { return inverses[inverse_index[j]]; }
  std::vector<double> q, grad_norm, radius;  // per point: its q, |grad q|, certified basin radius rho
  std::vector<Index> source;  // per point: the initial state whose search found it
  RowMatrix P;      // the points as rows, for nearest()
  Vector P_sq;      // their squared norms
  Vector w_row_sq;  // |w_i|^2 for the rows of W
  double w_norm2 = std::numeric_limits<double>::infinity();  // an upper bound of |W|_2 (see set_w_norm)
  Index capacity = 0;

  // |W|_2 <= |(W^T W)^2|_F^(1/4) (the Frobenius norm of M^2 bounds its largest eigenvalue |W|_2^4),
  // within 11% of |W|_2 for a trained flip-flop network; two 100 x 100 products, once per call.
  // Rounding: the bound is inflated by 1e-10 relative.
  template <class W_t>
  void set_w_norm(const W_t& W) {
    w_row_sq = W.rowwise().squaredNorm();
    const Matrix M = W.transpose() * W;
    const Matrix M2 = M * M;
    const double b = std::sqrt(std::sqrt(M2.norm()));
    w_norm2 = std::isfinite(b) ? b * (1.0 + 1e-10) : std::numeric_limits<double>::infinity();
  }

  bool empty() const { return points.empty(); }

  // The point nearest to s, ranked by |p|^2 - 2 p.s (one matrix-vector product); the distance
  // returned is the exact |p - s| of the point chosen.
  Index nearest(const Vector& s, double* dist_out = nullptr) const {
    Index best = -1;
    if (points.empty()) {
      if (dist_out) *dist_out = std::numeric_limits<double>::infinity();
      return best;
    }
    Vector rank = P_sq;
    rank.noalias() -= 2.0 * (P * s);
    rank.minCoeff(&best);
    if (dist_out) *dist_out = (points[static_cast<std::size_t>(best)] - s).norm();
    return best;
  }

  bool near_known(const Vector& p, double tol) const {
    for (const Vector& x : points)
      if ((x - p).norm() <= tol) return true;
    return false;
  }

  void push(const Vector& p, Index src, double q_p, double grad_p, double rho, std::size_t inv) {
    points.push_back(p);
    source.push_back(src);
    P.conservativeResize(static_cast<Index>(points.size()), p.size());
    P.row(P.rows() - 1) = p.transpose();
    P_sq = P.rowwise().squaredNorm();
    q.push_back(q_p);
    grad_norm.push_back(grad_p);
    radius.push_back(rho);
    inverse_index.push_back(inv);
  }

  // Add a fixed point (with its q and |grad q|) unless one within tol is there already (or the
  // library is full). With c = 0 the map is odd, F(-S) = -F(S) exactly (tanh_in_place and the
  // matrix-vector product are odd in floating point), so -p is a fixed point with the same q,
  // the same Jacobian diag(1 - p^2) W - I and hence the same inverse and basin radius: it is
  // added too (source -1: no search found it), at no cost.
  //
  // The point is first polished in place (p, q_p, grad_p are the finding search's result and are
  // updated): chord steps with the LU at p0, the point as found, while they lower q (at most 4).
  // Every search merged into p returns p and its q, so p should be as good as the searches that
  // would otherwise have ended there made it. The basin radius is that of the chord map with
  // A = J(p0)^-1 around the polished p (see "Certified basins" above): rho = 1 / L - 2 |p - p0|,
  // and 0 unless eta = |A G(p)| <= rho / 4 (so that the chord steps stay in the ball).
  template <class W_t>
  void add(const W_t& W, const Vector& c, Eigen::Map<Vector> p, double& q_p, double& grad_p, Index src, double tol,
           double rcond_min) {
    if (static_cast<Index>(points.size()) >= capacity || near_known(p, tol)) return;
    if (w_row_sq.size() != W.rows()) set_w_norm(W);
    const Vector p0 = p;
    Vector f = tanh_map(W, c, p0);
    const Matrix J = residual_jacobian(W, f);
    Eigen::PartialPivLU<Matrix> lu(J);
    if (!lu_well_conditioned(lu, J, rcond_min)) return;
    Vector x = p0, g = f - x;
    for (int step = 0; step < 4 && q_p > 0.0; ++step) {
      const Vector x_new = x - lu.solve(g);
      const Vector f_new = tanh_map(W, c, x_new);
      const double q_new = speed(f_new, x_new);
      if (!(q_new < q_p)) break;
      x = x_new;
      f = f_new;
      g = f - x;
      q_p = q_new;
    }
    if (x != p0) {
      p = x;
      grad_p = speed_gradient_norm(W, f, g);
    }
    RowMatrix inv = lu.inverse();
    const Eigen::RowVectorXd col_sq = inv.colwise().squaredNorm();
    const double C_sum = col_sq.cwiseSqrt().dot(w_row_sq.transpose());
    const double C_fro = w_norm2 * std::sqrt(col_sq.dot(w_row_sq.transpose()));
    const double C = std::min(C_sum, C_fro);
    const double e = (x - p0).norm();
    double rho = std::isfinite(C) && C > 0 ? std::max(0.0, 1.0 / (0.7699 * C) - 2.0 * e) : 0.0;
    const double eta = (inv * g).norm();
    if (!(4.0 * eta <= rho)) rho = 0.0;
    const bool odd = (c.array() == 0.0).all();
    inverses.push_back(std::move(inv));
    const std::size_t k_inv = inverses.size() - 1;
    push(x, src, q_p, grad_p, rho, k_inv);
    if (odd && static_cast<Index>(points.size()) < capacity && !near_known(-x, tol) && x.norm() > tol)
      push(-x, -1, q_p, grad_p, rho, k_inv);
  }
};

// One initial state, in place: s becomes the point reached.
//
// Each iteration tries, in order:
//  1. a chord step (Shamanskii): the last factorised Jacobian of this search reused, accepted
//     only if it at least halves |G| (q_new <= q / 4); at most chord_steps in a row. Near a
//     fixed point this keeps Newton's fast convergence at O(N^2) per step instead of O(N^3);
//  2. a chord step with the library's Jacobian at the fixed point nearest to S (q_new <=
//     share_decrease q), or, where it lowers q by less, two such steps (q_2 <= 0.3 share_decrease^2 q);
//  3. Newton's step with the Jacobian at S, halved up to max_halvings times until
//     q_new <= q (1 - 2e-4 alpha) (Armijo: along the Newton direction dq/dalpha = -2q);
//  4. Levenberg-Marquardt's step, mu raised until q decreases.
// The stationarity test |grad q| < tol_grad is made where steps 1 and 2 fail (a step that
// divides q by 4 is not at a stationary point).
template <class W_t>
inline FixedPointTrace minimise_speed(const W_t& W, const Vector& c, Vector& s, const FixedPointSettings& opt,
                                      const JacobianLibrary* lib = nullptr, const double* f_start = nullptr) {
  using LU = Eigen::PartialPivLU<Matrix>;
  const Index N = s.size();
  FixedPointTrace tr;
  // F(s) at the start (given by the caller, or computed here)
  Vector f = f_start != nullptr ? Vector(Eigen::Map<const Vector>(f_start, N)) : tanh_map(W, c, s);
  Vector g = f - s;
  double q = 0.5 * g.squaredNorm();
  double mu = -1.0;  // LM damping, set from J^T J at the first LM step
  Vector s_new(N), f_new(N), d(N);
  SpeedWorkspace& ws = speed_workspace();
  LU& lu = ws.lu;  // (have_lu says whether it holds a factorisation of this search's)
  Eigen::LLT<Matrix>& llt = ws.llt;
  bool have_lu = false;        // lu holds a usable (well-conditioned) factorisation of some earlier J
  // the Jacobian of the last accepted chord/Newton step: this search's LU or a library inverse
  const LU* last_lu = nullptr;
  const RowMatrix* last_inv = nullptr;
  int chord_run = 0;
  const bool use_lib = lib != nullptr && !lib->empty();
  // the library point nearest to s (near_j, near_d: -1 until computed for the current s), and to
  // the candidate s_new (cand_j, cand_d: carried over to s when the candidate is accepted)
  Index near_j = -1, cand_j = -1;
  double near_d = 0.0, cand_d = 0.0;
  // A candidate S_new inside the certified basin of a library point (cand_in_ball) ends the search
  // there once the step is accepted: that is where the next iteration would stop it. Where
  // q(S_new) <= 1/2 ((|W|_2 + 1) |S_new - p| + |G(p)|)^2 (|J| <= |W|_2 + 1 on the segment) is already
  // below the acceptance threshold q_accept, the step is accepted whatever F(S_new) is, and the
  // search merges without evaluating it (check_candidate returns true). Unless the step is too
  // short to count as progress (then the search would stop with kNoProgress instead).
  bool cand_in_ball = false;
  auto check_candidate = [&](double q_accept) {
    cand_in_ball = false;
    cand_j = -1;
    if (!use_lib || !opt.merge) return false;
    cand_j = lib->nearest(s_new, &cand_d);
    const std::size_t j = static_cast<std::size_t>(cand_j);
    if (!(cand_d <= lib->radius[j])) return false;
    cand_in_ball = true;
    if ((s_new - s).norm() < opt.tol_step * (1.0 + s.norm())) return false;
    const double g_bound = (lib->w_norm2 + 1.0) * cand_d + std::sqrt(2.0 * lib->q[j]);
    return 0.5 * g_bound * g_bound < q_accept;
  };
  auto merge_into = [&](Index j) {
    const std::size_t jj = static_cast<std::size_t>(j);
    s = lib->points[jj];
    tr.q = lib->q[jj];
    tr.grad_norm = lib->grad_norm[jj];
    tr.status = kFixed;
    tr.merged = j;
    return tr;
  };
  // s_new = s - d and q(s_new); with q_accept >= 0, check_candidate first (merge: NaN, F not evaluated)
  bool merge_now = false;
  auto evaluate_step = [&](double q_accept) {
    s_new = s - d;
    if (q_accept >= 0.0 && (merge_now = check_candidate(q_accept))) return std::numeric_limits<double>::quiet_NaN();
    tanh_map_into(W, c, s_new, f_new);
    return speed(f_new, s_new);
  };
  auto try_full_step = [&](const LU& fact, double q_accept = -1.0) {
    d = fact.solve(g);  // the step is -d (exactly -(J^-1 G): the solve is odd in its right-hand side)
    return evaluate_step(q_accept);
  };
  auto try_inverse_step = [&](const RowMatrix& inv, double q_accept = -1.0) {
    d.noalias() = inv * g;
    return evaluate_step(q_accept);
  };
  auto try_last_step = [&]() { return last_inv != nullptr ? try_inverse_step(*last_inv) : try_full_step(*last_lu); };
  for (tr.iterations = 0;; ++tr.iterations) {
    // the library point nearest to S; inside its certified basin the search ends there
    if (use_lib && near_j < 0) {
      near_j = lib->nearest(s, &near_d);
      if (opt.merge && near_d <= lib->radius[static_cast<std::size_t>(near_j)]) return merge_into(near_j);
    }
    if (q < opt.tol_q) {
      tr.status = kFixed;
      // polish: chord steps with the last Jacobian while they divide q by 4 (a step that lowers q
      // less is still kept, then polishing stops); once, if they stall (or 4 of them leave q above
      // 1e-6 tol_q) while q > 1e-6 tol_q, refactorise at the current point
      if (opt.polish && q > 0.0) {
        if (last_lu == nullptr && last_inv == nullptr) {
          residual_jacobian_into(W, f, ws.J);
          lu.compute(ws.J);
          ++tr.factorisations;
          last_lu = &lu;
        }
        int refreshes = 0;
        for (int p = 0; p < 8 && q > 0.0; ++p) {
          const double q_pol = try_last_step();
          const bool ok = d.allFinite() && q_pol < q;
          const bool slow = !ok || q_pol > 0.25 * q;
          if (ok) {
            s.swap(s_new);
            f.swap(f_new);
            g = f - s;
            q = q_pol;
          }
          if (slow || (p == 3 && q > 1e-6 * opt.tol_q)) {
            if (refreshes++ > 0 || q <= 1e-6 * opt.tol_q) break;
            residual_jacobian_into(W, f, ws.J);
            lu.compute(ws.J);
            ++tr.factorisations;
            last_lu = &lu;
            last_inv = nullptr;
          }
        }
      }
      break;
    }
    bool accepted = false;
    double q_new = q;
    if (tr.iterations < opt.max_iter) {
      // 1. chord step with this search's last factorisation
      if (have_lu && chord_run < opt.chord_steps) {
        q_new = try_full_step(lu, 0.25 * q);
        if (merge_now) return merge_into(cand_j);
        if (d.allFinite() && q_new <= 0.25 * q) {
          accepted = true;
          last_lu = &lu;
          last_inv = nullptr;
          ++chord_run;
        }
      }
      // 2. chord step with the shared Jacobian of the nearest known fixed point
      if (!accepted && use_lib) {
        const Index j = near_j;
        if (near_d <= opt.share_radius) {
          q_new = try_inverse_step(lib->inverse(static_cast<std::size_t>(j)), opt.share_decrease * q);
          if (merge_now) return merge_into(cand_j);
          if (d.allFinite() && q_new <= opt.share_decrease * q) {
            accepted = true;
            last_lu = nullptr;
            last_inv = &lib->inverse(static_cast<std::size_t>(j));
          } else if (d.allFinite() && q_new < q) {
            // 2b. where that step lowered q but too little, a second chord step with the same
            // inverse from the candidate; the two are accepted together if q_2 <= 0.3
            // share_decrease^2 q (two O(N^2) steps instead of an LU factorisation: 107 -> 83 on the
            // benchmark). The 0.3: with share_decrease^2 alone, or 0.5 of it, 2 of 22 trained-network
            // test cases (seeds, noise levels) lost one or two rarely reached saddles to known
            // points; with 0.3 all 22 find the same points as without 2b.
            const RowMatrix& inv = lib->inverse(static_cast<std::size_t>(j));
            g = f_new - s_new;  // (G at the candidate; restored below if the pair is refused)
            d.noalias() = inv * g;
            s_new -= d;
            const double q_acc = 0.3 * opt.share_decrease * opt.share_decrease * q;
            if (check_candidate(q_acc)) return merge_into(cand_j);
            tanh_map_into(W, c, s_new, f_new);
            const double q_2 = speed(f_new, s_new);
            if (d.allFinite() && q_2 <= q_acc) {
              q_new = q_2;
              accepted = true;
              last_lu = nullptr;
              last_inv = &inv;
            } else {
              g = f - s;
            }
          }
        }
      }
    }
    if (!accepted) {
      residual_jacobian_into(W, f, ws.J);
      const Matrix& J = ws.J;
      const Vector grad = J.transpose() * g;  // grad q = J^T G
      tr.grad_norm = grad.norm();
      if (tr.grad_norm < opt.tol_grad) { tr.status = kStationary; break; }
      if (tr.iterations >= opt.max_iter) { tr.status = kMaxIter; break; }
      // 3. Newton: J d = -G with a backtracking line search on q
      lu.compute(J);
      ++tr.factorisations;
      have_lu = lu_well_conditioned(lu, J, opt.rcond_min);
      chord_run = 0;
      if (have_lu) {
        d = lu.solve(-g);
        double alpha = 1.0;
        for (int h = 0; h <= opt.max_halvings && d.allFinite(); ++h, alpha *= 0.5) {
          s_new = s + alpha * d;
          if (check_candidate(q * (1.0 - 2e-4 * alpha))) return merge_into(cand_j);
          tanh_map_into(W, c, s_new, f_new);
          q_new = speed(f_new, s_new);
          if (q_new <= q * (1.0 - 2e-4 * alpha)) {
            accepted = true;
            last_lu = &lu;
            last_inv = nullptr;
            break;
          }
        }
      }
      // 4. Levenberg-Marquardt: (J^T J + mu I) d = -J^T G, mu raised until q decreases.
      if (!accepted) {
        Matrix A = J.transpose() * J;
        if (mu < 0) mu = 1e-3 * std::max(A.diagonal().maxCoeff(), 1e-300);
        for (int t = 0; t < opt.max_lm_tries; ++t) {
          Matrix Am = A;
          Am.diagonal().array() += mu;
          llt.compute(Am);
          d = llt.solve(-grad);
          s_new = s + d;
          if (llt.info() == Eigen::Success && d.allFinite() && check_candidate(q)) return merge_into(cand_j);
          tanh_map_into(W, c, s_new, f_new);
          q_new = speed(f_new, s_new);
          if (llt.info() == Eigen::Success && d.allFinite() && q_new < q) {
            accepted = true;
            mu = std::max(mu / 3.0, 1e-12 * A.diagonal().maxCoeff());
            break;
          }
          mu *= 4.0;
        }
      }
    }
    if (!accepted) { tr.status = kNoProgress; break; }
    const double step = (s_new - s).norm();
    const double scale = 1.0 + s.norm();
    if (cand_in_ball && !(step < opt.tol_step * scale && q_new >= opt.tol_q)) return merge_into(cand_j);
    s.swap(s_new);
    f.swap(f_new);
    g = f - s;
    q = q_new;
    // the accepted candidate's nearest library point, if check_candidate computed it
    near_j = cand_j;
    near_d = cand_d;
    cand_j = -1;
    if (step < opt.tol_step * scale && q >= opt.tol_q) {
      ++tr.iterations;
      tr.status = kNoProgress;
      break;
    }
  }
  tr.q = q;
  if (tr.status == kFixed) tr.grad_norm = speed_gradient_norm(W, f, g);
  return tr;
}

// All initial states (rows of S, K x N row-major), in parallel over states.
// S is overwritten with the points reached; q, grad_norm, iterations, status have length K.
//
// With share_batch > 0 the states are taken in consecutive batches (1, 2, 4, ... up to
// share_batch, then share_batch each); after
// each batch the fixed points it found are factorised once into a JacobianLibrary that the
// later batches use for chord steps (step 2 of minimise_speed). The library only changes
// between batches and the batches are fixed by share_batch, not by the thread count, so the
// result does not depend on the number of threads. With opt.merge, a search that enters the
// certified basin of a library point returns that point (bit for bit, with its q and |grad q|),
// and merged[k] is the index of the initial state whose search found it, or -2 - j for the
// mirror -p at library index j (c = 0: no search found it), else -1.
template <class W_t>
inline void find_fixed_points(const W_t& W, const Vector& c, double* S, Index K, const FixedPointSettings& opt,
                              double* q, double* grad_norm, int* iterations, int* status, int n_threads,
                              Index share_batch = 0, double share_tol = 1e-6, int* factorisations = nullptr,
                              int* merged = nullptr) {
  const Index N = c.size();
  const int threads = fastmem::resolve_threads(n_threads);
  JacobianLibrary lib;
  Matrix X0, F0;  // a batch's initial states (columns) and F at them
  // at most 256 MiB of shared factorisations and inverses
  lib.capacity = std::max<Index>(1, std::min<Index>(4096, (Index(1) << 24) / std::max<Index>(1, N * N)));
  // Batches grow from 1 to share_batch (doubling): the first searches, which find the library's
  // points with factorisations of their own, are few, and each point found is shared as early as
  // possible; the schedule depends on K and share_batch only.
  Index batch = share_batch > 0 ? 1 : K;
  for (Index start = 0; start < K; start += batch, batch = std::min<Index>(share_batch > 0 ? share_batch : K, 2 * batch)) {
    const Index stop = std::min(K, start + batch);
    const JacobianLibrary* shared = share_batch > 0 ? &lib : nullptr;
    // F at the initial states by matrix products (tanh_map_columns: fixed chunks of columns, the
    // result does not depend on the threads) instead of one matrix-vector product per search (a
    // sixth of the search's matrix-vector products on the benchmark), in blocks of at most
    // kStartBlock searches (the copies X0, F0 stay small where a batch is all K states)
    constexpr Index kStartBlock = 256;
    for (Index b0 = start; b0 < stop; b0 += kStartBlock) {
      const Index b1 = std::min(stop, b0 + kStartBlock);
      X0 = Eigen::Map<const RowMatrix>(S + b0 * N, b1 - b0, N).transpose();
      tanh_map_columns(W, c, X0, F0, threads);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
      for (Index k = b0; k < b1; ++k) {
        Vector s = Eigen::Map<const Vector>(S + k * N, N);
        const FixedPointTrace tr = minimise_speed(W, c, s, opt, shared, F0.col(k - b0).data());
        Eigen::Map<Vector>(S + k * N, N) = s;
        q[k] = tr.q;
        grad_norm[k] = tr.grad_norm;
        iterations[k] = tr.iterations;
        status[k] = tr.status;
        if (factorisations) factorisations[k] = tr.factorisations;
        if (merged)
          merged[k] = tr.merged < 0 ? -1 : lib.source[static_cast<std::size_t>(tr.merged)] < 0
                                               ? static_cast<int>(-2 - tr.merged)
                                               : static_cast<int>(lib.source[static_cast<std::size_t>(tr.merged)]);
      }
    }
    if (share_batch > 0 && stop < K)
      for (Index k = start; k < stop; ++k)
        if (status[k] == kFixed)
          lib.add(W, c, Eigen::Map<Vector>(S + k * N, N), q[k], grad_norm[k], k, share_tol, opt.rcond_min);
  }
}

// Eigenvalues of diag(1 - S_k^2) W for each row S_k of S (K x N), written to
// eig (K x N, row-major), each row sorted by decreasing modulus (NaN where the QR iteration
// failed). Eigenvalues only, by real_eigenvalues (eigenvalues.hpp: Hessenberg + Francis QR on
// the active window, about 1.7x faster than Eigen's EigenSolver at N = 100).
//
// Rows whose diagonal 1 - S^2 is bit-identical to an earlier row's have the same Jacobian; they
// get a copy of its eigenvalues. (Without input and bias the map is odd, and a point -p found
// as the mirror of p, see JacobianLibrary::add, is such a row.)
template <class W_t>
inline void map_jacobian_eigenvalues(const W_t& W, const double* S, Index K, std::complex<double>* eig,
                                     int n_threads) {
  const Index N = W.rows();
  // first[k]: the first row with the same 1 - S^2 as row k (k itself if none)
  std::vector<Index> first(static_cast<std::size_t>(K));
  {
    RowMatrix D = 1.0 - Eigen::Map<const RowMatrix>(S, K, N).array().square();
    std::unordered_map<std::uint64_t, std::vector<Index>> seen;
    for (Index k = 0; k < K; ++k) {
      std::uint64_t h = 1469598103934665603ull;  // FNV-1a over the row's bytes
      const unsigned char* bytes = reinterpret_cast<const unsigned char*>(D.row(k).data());
      for (std::size_t b = 0; b < static_cast<std::size_t>(N) * sizeof(double); ++b) h = (h ^ bytes[b]) * 1099511628211ull;
      std::vector<Index>& rows = seen[h];
      first[static_cast<std::size_t>(k)] = k;
      for (Index j : rows)
        if (std::memcmp(D.row(j).data(), D.row(k).data(), static_cast<std::size_t>(N) * sizeof(double)) == 0) {
          first[static_cast<std::size_t>(k)] = j;
          break;
        }
      if (first[static_cast<std::size_t>(k)] == k) rows.push_back(k);
    }
  }
#pragma omp parallel for schedule(dynamic, 1) num_threads(fastmem::resolve_threads(n_threads))
  for (Index k = 0; k < K; ++k) {
    if (first[static_cast<std::size_t>(k)] != k) continue;
    const Vector s = Eigen::Map<const Vector>(S + k * N, N);
    std::complex<double>* ev = eig + k * N;
    real_eigenvalues(map_jacobian(W, s), ev);
    if (std::isnan(ev[0].real())) continue;  // failed: all NaN
    std::sort(ev, ev + N, [](const std::complex<double>& a, const std::complex<double>& b) {
      const double ma = std::abs(a), mb = std::abs(b);
      if (ma != mb) return ma > mb;
      if (a.real() != b.real()) return a.real() > b.real();
      return a.imag() > b.imag();
    });
  }
  for (Index k = 0; k < K; ++k) {
    const Index j = first[static_cast<std::size_t>(k)];
    if (j != k) std::copy(eig + j * N, eig + (j + 1) * N, eig + k * N);
  }
}

}  // namespace fastmem
