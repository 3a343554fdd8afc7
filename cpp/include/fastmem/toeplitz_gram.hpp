// The Gram matrix G = A^T A of the network's measurement operator when W is a scaled
// orthogonal matrix (W^T W = q^2 I: the "circle" and "orthogonal" networks of any radius q),
// applied to a batch in O(N^2 L B + N L^2 B) operations, whatever the number of nodes M.
//
// Block (k, k') of G (L x L, one per pair of time steps) is
//     G_kk' = Z^T (W^T)^(N-1-k) W^(N-1-k') Z = q^(N-1-k) T_(k-k') q^(N-1-k'),
//     T_j = Z^T U^j Z  (U = W / q orthogonal),   T_(-j) = T_j^T,
// so G = D T D with D = diag(q^(N-1-k)) (x) I_L and T block-Toeplitz: G x is a time
// convolution. It is computed by embedding T in a block-circulant of period 2N, whose DFT
// is block-diagonal:
//     (T x)_k = [ IDFT_2N ( That_f  xhat_f ) ]_k,   That_f = sum_j c_j e^(-i 2 pi f j / 2N),
// with c_j = T_j (0 <= j < N), c_N = 0, c_(2N-j) = T_j^T. x is real, so only f = 0..N are
// needed; That_f is Hermitian (Re symmetric, Im antisymmetric). The DFTs over the N time steps
// are GEMMs with precomputed cos/sin matrices (N is ~100, where a GEMM beats an FFT). With an
// orthonormal temporal basis Psi (the DCT of the sparse model) D and Psi are folded into them:
//     forward  F = Psi^T D C (N x 2(N+1)),   inverse  I = C' D Psi ((2(N+1)) x N);
// with the identity basis the phases are centred on the time axis, so that the even and odd
// parts of the (D-scaled) sequence need half-size cosine and sine GEMMs (forward_dft).
// Building it costs N products U P (O(M L) each for block-diagonal W) and N GEMMs Z^T P_j
// (2 M L^2 each): the only O(M) work.
//
// Layout: a batch X is P x B (P = N L), column b is vec(S_b) of the row-major (N, L) stream,
// i.e. an L x N column-major block per b (row l, column k).
#pragma once
#include <cmath>
#include <memory>
#include <mutex>
#include <vector>
#include "fastmem/checks.hpp"
#include "fastmem/recurrence.hpp"
#include "fastmem/threads.hpp"
#include "fastmem/types.hpp"

namespace fastmem {

// q if W^T W = q^2 I to relative accuracy tol (checked in O(M) for block-diagonal W and
// O(M^3) for dense W), else 0. Checked on W / q, so tiny or huge q do not under/overflow.
inline double orthogonal_scale(const Recurrence& W, double tol = 1e-10) {
  const Index M = W.size();
  if (M == 0) return 0.0;
  auto unit_columns = [tol](const Matrix& U) {
    const Matrix UtU = U.transpose() * U;
    return (UtU - Matrix::Identity(U.cols(), U.cols())).lpNorm<Eigen::Infinity>() <= tol;
  };
  if (W.is_dense()) {
    const RowMatrix& d = W.dense_matrix();
    const double q = d.col(0).stableNorm();
    if (!(q > 0.0) || !std::isfinite(q)) return 0.0;
    const Matrix U = d / q;
    // The diagonal of U^T U first, in O(M^2): most dense W (e.g. Gaussian) fail here, so
    // callers that only ask (lasso, nuclear_norm on a NetworkOperator) skip the O(M^3) product.
    if (!((U.colwise().squaredNorm().array() - 1.0).abs() <= tol).all()) return 0.0;
    return unit_columns(U) ? q : 0.0;
  }
  const double q = W.diagonal_block(0).col(0).stableNorm();
  if (!(q > 0.0) || !std::isfinite(q)) return 0.0;
  for (Index i = 0; i < M; i += 2)
    if (!unit_columns(Matrix(W.diagonal_block(i) / q))) return 0.0;
  return q;
}

class ToeplitzGram {
 public:
  // W must satisfy W^T W = q^2 I (see orthogonal_scale). Psi: empty, or an N x N orthonormal
  // temporal basis (the unknowns are then the coefficients a with S = Psi a).
  ToeplitzGram(const Recurrence& W, const ConstRowMatrixRef& Z, Index N, double q, const Matrix& Psi, int threads)
      : N_(N), L_(Z.cols()), q_(q) {
    require(N >= 1, "N must be >= 1");
    require(Z.rows() == W.size(), "Z must have as many rows as W");
    require(q > 0.0 && std::isfinite(q), "q must be > 0");
    require(Psi.size() == 0 || (Psi.rows() == N && Psi.cols() == N), "Psi must be N x N");
    T_ = toeplitz_blocks(W, Z, N, q, threads);
    const std::vector<Matrix>& T = T_;
    has_basis_ = Psi.size() != 0;
    decay_.resize(size_t(N));
    for (Index k = 0; k < N; ++k) decay_[size_t(k)] = std::pow(q, double(N - 1 - k));
    build_transforms(q, Psi);
    // The frequency response (for apply) is built on first use: the working-set LASSO often
    // needs only entries and sparse columns. Its entries are sums of 2N - 1 of the T_j's
    // entries times cosines and sines, so a finite sum of |T_j| bounds it here, at build time.
    double bound = 0.0;
    for (const Matrix& t : T) bound += 2.0 * t.cwiseAbs().maxCoeff();
    const bool finite = forward_re_.allFinite() && forward_im_.allFinite() && inverse_re_.allFinite() &&
                        inverse_im_.allFinite() && decay_diag_.allFinite() && std::isfinite(bound);
    require(finite, "W or Z is too large: the Gram matrix A^T A (with W^(N-1) = q^(N-1) U^(N-1)) overflows; rescale W or Z");
    response_once_ = std::make_shared<std::once_flag>();
  }

  // Movable, not copyable: a copy would share the build-once flag of the lazy response.
  ToeplitzGram(ToeplitzGram&&) = default;
  ToeplitzGram& operator=(ToeplitzGram&&) = default;
  ToeplitzGram(const ToeplitzGram&) = delete;
  ToeplitzGram& operator=(const ToeplitzGram&) = delete;

  Index rows() const { return N_ * L_; }
  Index cols() const { return N_ * L_; }
  Index steps() const { return N_; }
  Index inputs() const { return L_; }
  double scale() const { return q_; }

  // out (P x B) = G X. The batch is first laid out time-last, (L B) x N (row l + L b), so the
  // forward and inverse DFTs are each one GEMM over the whole batch (two half-size GEMMs for the
  // identity basis, see fold()); in between, per frequency, the complex product
  // That_f xhat_f = (Re + i Im)(re + i im) as four (L x L) x (L x B) real products. Row blocks and
  // frequencies are the parallel loops (fixed partitions: the result does not depend on the
  // thread count).
  void apply(const ConstMatrixRef& X, MatrixRef out, int threads) const {
    const Index N = N_, L = L_, B = X.cols(), F = N + 1, LB = L * B;
    require(X.rows() == rows() && out.rows() == rows() && out.cols() == B, "ToeplitzGram::apply: shape mismatch");
    if (B == 0) return;
    std::call_once(*response_once_, [this] { build_response(T_); });
    const int nthreads = resolve_threads(threads);
    // one column is already laid out time-last (L x N): no copies in or out
    Matrix xt_copy(B > 1 ? LB : 0, N), yt_copy(B > 1 ? LB : 0, N), re(LB, F), im(LB, F), pre(LB, F), pim(LB, F);
    for (Index b = 0; b < B && B > 1; ++b)
      xt_copy.middleRows(b * L, L) = Eigen::Map<const Matrix>(X.col(b).data(), L, N);
    const Eigen::Map<const Matrix> xt(B > 1 ? xt_copy.data() : X.col(0).data(), LB, N);
    Eigen::Map<Matrix> yt(B > 1 ? yt_copy.data() : out.col(0).data(), LB, N);
    const RowPartition parts(LB);
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
#pragma omp for schedule(static)
      for (Index blk = 0; blk < parts.count(); ++blk) {
        const Index r0 = parts.start(blk), nr = parts.length(blk);
        forward_dft(xt.middleRows(r0, nr), re.middleRows(r0, nr), im.middleRows(r0, nr));
      }
#pragma omp for schedule(static)
      for (Index f = 0; f < F; ++f) {
        // column f of re / im is Re xhat_f / Im xhat_f, L x B
        Eigen::Map<const Matrix> xr(re.col(f).data(), L, B), xi(im.col(f).data(), L, B);
        Eigen::Map<Matrix> yr(pre.col(f).data(), L, B), yi(pim.col(f).data(), L, B);
        const Matrix &Hr = response_re_[size_t(f)], &Hi = response_im_[size_t(f)];
        yr.noalias() = Hr * xr;
        yr.noalias() -= Hi * xi;
        yi.noalias() = Hi * xr;
        yi.noalias() += Hr * xi;
      }
#pragma omp for schedule(static)
      for (Index blk = 0; blk < parts.count(); ++blk) {
        const Index r0 = parts.start(blk), nr = parts.length(blk);
        inverse_dft(pre.middleRows(r0, nr), pim.middleRows(r0, nr), yt.middleRows(r0, nr));
      }
    }
    for (Index b = 0; b < B && B > 1; ++b) Eigen::Map<Matrix>(out.col(b).data(), L, N) = yt.middleRows(b * L, L);
  }

  // Multiply-adds of apply() per column, against rows() per non-zero for add_columns().
  double apply_cost() const { return 4.0 * double(L_ * N_ * (N_ + 1)) + 4.0 * double((N_ + 1) * L_ * L_); }

  // out += G x over the non-zeros of x, column by column from the Toeplitz blocks (identity
  // basis only): O(P) per non-zero, cheaper than apply() for a sparse x.
  void add_columns(const Vector& x, Vector& out) const {
    const Index N = N_, L = L_;
    for (Index j = 0; j < x.size(); ++j) {
      if (x[j] == 0.0) continue;
      const Index kj = j / L, lj = j % L;
      const double alpha = x[j] * decay_[size_t(kj)];
      for (Index ki = 0; ki < N; ++ki) {
        const double w = alpha * decay_[size_t(ki)];
        if (ki >= kj)
          out.segment(ki * L, L).noalias() += w * T_[size_t(ki - kj)].col(lj);
        else
          out.segment(ki * L, L).noalias() += w * T_[size_t(kj - ki)].row(lj).transpose();
      }
    }
  }

  // Entries of G straight from the Toeplitz blocks (O(1) each), for the identity basis only:
  // with a temporal basis an entry mixes all time steps. Index i = k L + l.
  bool has_entries() const { return !has_basis_; }
  double entry(Index i, Index j) const {
    const Index ki = i / L_, li = i % L_, kj = j / L_, lj = j % L_;
    const double t = ki >= kj ? T_[size_t(ki - kj)](li, lj) : T_[size_t(kj - ki)](lj, li);
    return decay_[size_t(ki)] * decay_[size_t(kj)] * t;
  }

  // G[idx, idx] in O(|idx|^2), for the identity basis; false (and out untouched) otherwise.
  bool submatrix(const std::vector<Index>& idx, Matrix& out) const {
    if (has_basis_) return false;
    const Index n = Index(idx.size());
    out.resize(n, n);
    for (Index b = 0; b < n; ++b)
      for (Index a = 0; a < n; ++a) out(a, b) = entry(idx[size_t(a)], idx[size_t(b)]);
    return true;
  }

  // Dense G (P x P), for tests and small problems.
  Matrix to_dense() const {
    const Index P = rows();
    Matrix G(P, P);
    apply(Matrix::Identity(P, P), G, 1);
    return G;
  }

 private:
  // T_j = Z^T U^j Z for j = 0..N-1. Block-diagonal W: a fixed number of row chunks (even-
  // aligned) each run all N steps alone and keep their partial T_j; the partials are summed in
  // chunk order, so the result does not depend on the thread count.
  static std::vector<Matrix> toeplitz_blocks(const Recurrence& W, const ConstRowMatrixRef& Z, Index N, double q,
                                             int threads) {
    const Index M = W.size(), L = Z.cols();
    const int nthreads = resolve_threads(threads);
    std::vector<Matrix> T(size_t(N), Matrix::Zero(L, L));
    if (rotation_blocks(W, Z, N, q, threads, T)) return T;
    if (W.rows_decouple()) {
      const Index chunks = std::min<Index>(8, std::max<Index>(1, M / 64));
      const Index per = ((M + chunks - 1) / chunks + 1) / 2 * 2;
      std::vector<std::vector<Matrix>> partial(static_cast<size_t>(chunks), std::vector<Matrix>(static_cast<size_t>(N)));
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && chunks > 1)
      for (Index c = 0; c < chunks; ++c) {
        const Index r0 = std::min(M, c * per), rn = std::min(M, r0 + per) - r0;
        Matrix P = Matrix::Zero(M, L), Pn = Matrix::Zero(M, L);
        P.middleRows(r0, rn) = Z.middleRows(r0, rn);
        for (Index j = 0; j < N; ++j) {
          partial[size_t(c)][size_t(j)].noalias() = Z.middleRows(r0, rn).transpose() * P.middleRows(r0, rn);
          if (j + 1 < N && rn > 0) {
            W.multiply_rows(P, Pn, r0, rn);
            P.middleRows(r0, rn) = Pn.middleRows(r0, rn) / q;
          }
        }
      }
      for (Index j = 0; j < N; ++j)
        for (Index c = 0; c < chunks; ++c) T[size_t(j)] += partial[size_t(c)][size_t(j)];
      return T;
    }
    const RowPartition parts(M);
    Matrix P = Z, Pn(M, L);
    for (Index j = 0; j < N; ++j) {
      T[size_t(j)].noalias() = Z.transpose() * P;
      if (j + 1 == N) break;
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && M * M * L >= 65536)
      for (Index blk = 0; blk < parts.count(); ++blk) W.multiply_rows(P, Pn, parts.start(blk), parts.length(blk));
      P = Pn / q;
    }
    return T;
  }

  // The circle network: every 2x2 block of U = W / q a rotation by theta_i (a 1x1 block: +-1).
  // Then U_i^j = cos(j theta_i) I + sin(j theta_i) [[0, -1], [1, 0]] and, with z_a, z_b the
  // block's two rows of Z,
  //     T_j = sum_i cos(j theta_i) (z_a z_a^T + z_b z_b^T) + sin(j theta_i) (z_b z_a^T - z_a z_b^T),
  // a symmetric plus an antisymmetric part: two GEMMs (N x M/2) x (M/2 x L(L+1)/2) over the
  // blocks' upper triangles, N M L^2 / 2 multiply-adds against N M L^2 for the N products Z^T U^j Z.
  // false (T untouched) when W is dense or a block is not a rotation.
  static bool rotation_blocks(const Recurrence& W, const ConstRowMatrixRef& Z, Index N, double q, int threads,
                              std::vector<Matrix>& T) {
    if (W.is_dense()) return false;
    const Index M = W.size(), L = Z.cols(), nb = M / 2, U = L * (L + 1) / 2;
    Vector theta(nb);
    for (Index i = 0; i < nb; ++i) {
      const RowMatrix b = W.diagonal_block(2 * i) / q;
      if (std::abs(b(0, 0) - b(1, 1)) > 1e-12 || std::abs(b(0, 1) + b(1, 0)) > 1e-12) return false;
      theta[i] = std::atan2(b(1, 0), b(0, 0));
    }
    double last = 0.0;  // odd M: the last 1x1 block, +-1
    if (M % 2) {
      last = W.diagonal_block(M - 1)(0, 0) / q;
      if (std::abs(std::abs(last) - 1.0) > 1e-12) return false;
    }
    // upper-triangle (l <= m) entries of each block's symmetric and antisymmetric outer products
    Matrix sym(nb, U), anti(nb, U);
    for (Index i = 0; i < nb; ++i) {
      const auto za = Z.row(2 * i), zb = Z.row(2 * i + 1);
      Index u = 0;
      for (Index m = 0; m < L; ++m)
        for (Index l = 0; l <= m; ++l, ++u) {
          sym(i, u) = za[l] * za[m] + zb[l] * zb[m];
          anti(i, u) = zb[l] * za[m] - za[l] * zb[m];
        }
    }
    // cos(j theta_i), sin(j theta_i) from exact values at j = 16 m and t = j - 16 m by the angle
    // sum (a few ulps; a quarter of the cos/sin calls, which dominated the build at large M)
    Matrix cosines(N, nb), sines(N, nb);
    const Index step = 16;
    double ct[step], st[step];
    for (Index i = 0; i < nb; ++i) {
      for (Index t = 0; t < step && t < N; ++t) {
        ct[t] = std::cos(double(t) * theta[i]);
        st[t] = std::sin(double(t) * theta[i]);
      }
      for (Index j0 = 0; j0 < N; j0 += step) {
        const double cm = std::cos(double(j0) * theta[i]), sm = std::sin(double(j0) * theta[i]);
        for (Index t = 0; t < step && j0 + t < N; ++t) {
          cosines(j0 + t, i) = cm * ct[t] - sm * st[t];
          sines(j0 + t, i) = sm * ct[t] + cm * st[t];
        }
      }
    }
    Matrix ts(N, U), ta(N, U);
    const RowPartition parts(N);
    const int nthreads = resolve_threads(threads);
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && N * M * U >= (Index(1) << 20))
    for (Index blk = 0; blk < parts.count(); ++blk) {
      const Index j0 = parts.start(blk), nj = parts.length(blk);
      ts.middleRows(j0, nj).noalias() = cosines.middleRows(j0, nj) * sym;
      ta.middleRows(j0, nj).noalias() = sines.middleRows(j0, nj) * anti;
    }
    for (Index j = 0; j < N; ++j) {
      Matrix& t = T[size_t(j)];
      Index u = 0;
      for (Index m = 0; m < L; ++m)
        for (Index l = 0; l <= m; ++l, ++u) {
          t(l, m) = ts(j, u) + ta(j, u);
          t(m, l) = ts(j, u) - ta(j, u);
        }
      if (M % 2) {
        const auto z = Z.row(M - 1);
        t.noalias() += ((j % 2) && last < 0 ? -1.0 : 1.0) * (z.transpose() * z);
      }
    }
    return true;
  }

  // response_re_[f] = Re That_f (symmetric), response_im_[f] = Im That_f (antisymmetric), with
  //   Re That_f = T_0 + sum_j (T_j + T_j^T) cos(w_f j),  Im That_f = -sum_j (T_j - T_j^T) sin(w_f j)
  // for all f at once as two GEMMs over the lags j = 1..N-1. Kept as two real L x L matrices
  // (not the 2L x 2L real form of the complex product, which reads every entry twice).
  void build_response(const std::vector<Matrix>& T) const {
    const Index N = N_, L = L_, F = N + 1;
    const double pi = std::acos(-1.0);
    Matrix sym(L * L, std::max<Index>(N - 1, 0)), anti(L * L, std::max<Index>(N - 1, 0));
    Matrix cosines(std::max<Index>(N - 1, 0), F), sines(std::max<Index>(N - 1, 0), F);
    for (Index j = 1; j < N; ++j) {
      Eigen::Map<Matrix>(sym.col(j - 1).data(), L, L) = T[size_t(j)] + T[size_t(j)].transpose();
      Eigen::Map<Matrix>(anti.col(j - 1).data(), L, L) = T[size_t(j)] - T[size_t(j)].transpose();
      for (Index f = 0; f < F; ++f) {
        const double w = 2.0 * pi * double(f * j % (2 * N)) / double(2 * N);
        cosines(j - 1, f) = std::cos(w);
        sines(j - 1, f) = std::sin(w);
      }
    }
    Matrix re = sym * cosines, im = -(anti * sines);
    response_re_.assign(size_t(F), Matrix());
    response_im_.assign(size_t(F), Matrix());
    for (Index f = 0; f < F; ++f) {
      response_re_[size_t(f)] = Eigen::Map<const Matrix>(re.col(f).data(), L, L) + T[0];
      response_im_[size_t(f)] = Eigen::Map<const Matrix>(im.col(f).data(), L, L);
    }
  }

  // Forward DFT of a row block x (rows l + L b, columns the N time steps) into the real and
  // imaginary parts of xhat_f (f = 0..N). With a basis: xhat = x Psi^T D C, one GEMM per part.
  // Identity basis: the phases are taken about the centre c = (N - 1) / 2 of the time axis,
  //     xhat'_f = sum_k u_k e^(-i w_f (k - c)),  u_k = q^(N-1-k) x_k,
  // (xhat_f = e^(-i w_f c) xhat'_f; the factor cancels against the inverse's, That_f commutes
  // with it), so steps k and N-1-k share cosines and have opposite sines: the even part
  // u_k + u_(N-1-k) times the cosines and the odd part u_k - u_(N-1-k) times the sines, two
  // GEMMs of half the size.
  template <class In, class Out>
  void forward_dft(const In& x, Out&& re, Out&& im) const {
    if (has_basis_) {
      re.noalias() = x * forward_re_;
      im.noalias() = x * forward_im_;
      return;
    }
    const Index N = N_, h = N / 2;
    Matrix even(x.rows(), (N + 1) / 2), odd(x.rows(), h);
    auto fold = [&](const auto& u) {
      even.leftCols(h) = u.leftCols(h) + u.rightCols(h).rowwise().reverse();
      odd = u.leftCols(h) - u.rightCols(h).rowwise().reverse();
      if (N % 2) even.col(h) = u.col(h);
    };
    if (q_ != 1.0)
      fold(Matrix(x * decay_diag_.asDiagonal()));
    else
      fold(x);
    re.noalias() = even * fold_cos_;
    if (h > 0)
      im.noalias() = odd * fold_sin_;
    else
      im.setZero();
  }

  // Inverse of forward_dft applied to the product spectrum (real part pr, imaginary part pi):
  //     y_k = q^(N-1-k) / 2N sum_f w_f Re(p'_f e^(i w_f (k - c)))   (w_f = 1 at f = 0, N, else 2),
  // the even part E (cosines) and the odd part O (sines): y_k = E_k - O_k, y_(N-1-k) = E_k + O_k.
  template <class In, class Out>
  void inverse_dft(const In& pr, const In& pi, Out&& y) const {
    if (has_basis_) {
      y.noalias() = pr * inverse_re_;
      y.noalias() += pi * inverse_im_;
      return;
    }
    const Index N = N_, h = N / 2;
    Matrix even = pr * unfold_cos_;
    if (h > 0) {
      const Matrix odd = pi * unfold_sin_;
      y.leftCols(h) = even.leftCols(h) - odd;
      y.rightCols(h).rowwise().reverse() = even.leftCols(h) + odd;
    }
    if (N % 2) y.col(h) = even.col(h);
    if (q_ != 1.0) y *= decay_diag_.asDiagonal();
  }

  void build_transforms(double q, const Matrix& Psi) {
    const Index N = N_, F = N + 1, h = N / 2;
    const double pi = std::acos(-1.0);
    decay_diag_.resize(N);
    for (Index k = 0; k < N; ++k) decay_diag_[k] = decay_[size_t(k)];
    if (Psi.size()) {
      Matrix C(N, 2 * F), Ci(2 * F, N);
      for (Index k = 0; k < N; ++k) {
        const double d = std::pow(q, double(N - 1 - k));
        for (Index f = 0; f < F; ++f) {
          const double w = 2.0 * pi * double(f * k % (2 * N)) / double(2 * N);
          const double weight = (f == 0 || f == N) ? 1.0 : 2.0;
          C(k, f) = d * std::cos(w);
          C(k, F + f) = -d * std::sin(w);
          Ci(f, k) = weight * d * std::cos(w) / double(2 * N);
          Ci(F + f, k) = -weight * d * std::sin(w) / double(2 * N);
        }
      }
      // rows of X_b are l, columns the coefficient index: time samples are X_b Psi^T
      forward_re_ = Psi.transpose() * C.leftCols(F);
      forward_im_ = Psi.transpose() * C.rightCols(F);
      inverse_re_ = Ci.topRows(F) * Psi;
      inverse_im_ = Ci.bottomRows(F) * Psi;
      return;
    }
    // Centred phases w_f (k - c) = 2 pi f (2k - N + 1) / 4N, reduced mod 4N exactly.
    auto angle = [&](Index f, Index k) {
      Index m = (f * (2 * k - N + 1)) % (4 * N);
      if (m < 0) m += 4 * N;
      return 2.0 * pi * double(m) / double(4 * N);
    };
    fold_cos_.resize((N + 1) / 2, F);
    fold_sin_.resize(h, F);
    unfold_cos_.resize(F, (N + 1) / 2);
    unfold_sin_.resize(F, h);
    for (Index f = 0; f < F; ++f) {
      const double weight = ((f == 0 || f == N) ? 1.0 : 2.0) / double(2 * N);
      for (Index k = 0; k < (N + 1) / 2; ++k) {
        const double w = angle(f, k);
        fold_cos_(k, f) = std::cos(w);
        unfold_cos_(f, k) = weight * std::cos(w);
        if (k < h) {
          fold_sin_(k, f) = -std::sin(w);
          unfold_sin_(f, k) = weight * std::sin(w);
        }
      }
    }
  }

  Index N_, L_;
  double q_;
  bool has_basis_ = false;
  std::vector<Matrix> T_;
  std::vector<double> decay_;  // q^(N-1-k)
  Vector decay_diag_;                  // the same, as a vector
  mutable std::vector<Matrix> response_re_, response_im_;  // built on first apply(), once
  std::shared_ptr<std::once_flag> response_once_;
  Matrix forward_re_, forward_im_, inverse_re_, inverse_im_;  // with a basis Psi
  Matrix fold_cos_, fold_sin_, unfold_cos_, unfold_sin_;      // identity basis (centred phases)
};

}  // namespace fastmem
