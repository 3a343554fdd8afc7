// Linear operators v -> A v and y -> A^T y shared by the recovery solvers.
// Both act on a batch of B right-hand sides at once (columns of a column-major
// matrix), so a sweep that shares one network across several signals does its
// work as matrix products. Solvers are templates over the operator type.
//
//   DenseOperator:   an explicit A (M x P, row-major, e.g. from measurement_operator).
//   NetworkOperator: A of the network (W, Z, N) applied without forming it:
//       A v    = sum_k W^(N-1-k) Z s_k          (run the network forward, Horner)
//       A^T y  : block k = Z^T (W^T)^(N-1-k) y  (run the transpose backwards)
//     O(N M L B) per product for block-diagonal W, no O(M N L) storage.
#pragma once
#include <algorithm>
#include "fastmem/network.hpp"

namespace fastmem {

class DenseOperator {
 public:
  explicit DenseOperator(const ConstRowMatrixRef& A) : A_(A) {}
  Index rows() const { return A_.rows(); }
  Index cols() const { return A_.cols(); }

  // out (M x B) = A V, V (P x B)
  void apply(const ConstMatrixRef& V, MatrixRef out, int threads) const {
    const RowPartition parts(rows());
    const int nthreads = resolve_threads(threads);
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && rows() * cols() * V.cols() >= 65536)
    for (Index blk = 0; blk < parts.count(); ++blk)
      out.middleRows(parts.start(blk), parts.length(blk)).noalias() =
          A_.middleRows(parts.start(blk), parts.length(blk)) * V;
  }
  // out (P x B) = A^T Y, Y (M x B)
  void adjoint(const ConstMatrixRef& Y, MatrixRef out, int threads) const {
    const RowPartition parts(cols());
    const int nthreads = resolve_threads(threads);
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && rows() * cols() * Y.cols() >= 65536)
    for (Index blk = 0; blk < parts.count(); ++blk)
      out.middleRows(parts.start(blk), parts.length(blk)).noalias() =
          A_.middleCols(parts.start(blk), parts.length(blk)).transpose() * Y;
  }
  RowMatrix to_dense() const { return A_; }

 private:
  ConstRowMatrixRef A_;
};

class NetworkOperator {
 public:
  NetworkOperator(Recurrence W, RowMatrix Z, Index N) : W_(std::move(W)), Z_(std::move(Z)), N_(N) {
    require(Z_.rows() == W_.size(), "Z must have as many rows as W");
    require(N_ >= 1, "N must be >= 1");
  }
  Index rows() const { return W_.size(); }
  Index cols() const { return N_ * Z_.cols(); }
  Index steps() const { return N_; }
  const Recurrence& recurrence() const { return W_; }
  const RowMatrix& input_matrix() const { return Z_; }

  // out (M x B) = A V. Column b of V is vec(S_b) (row-major (N, L)), which is exactly
  // the (B, N, L) layout propagate() reads, so A V is the linear network's x[N].
  void apply(const ConstMatrixRef& V, MatrixRef out, int threads) const {
    Matrix copy;
    const double* data = V.data();
    if (V.outerStride() != V.rows()) {  // a strided block: make it contiguous first
      copy = V;
      data = copy.data();
    }
    Matrix result(rows(), V.cols());
    propagate(W_, Z_, data, V.cols(), N_, nullptr, nullptr, Nonlinearity::linear, nullptr, result.data(), threads);
    out = result;
  }

  // out (N*L x B) = A^T Y: R_{N-1} = Y, R_{k-1} = W^T R_k, block k of the result = Z^T R_k.
  // All R_k of a chunk of right-hand sides are kept (M x N*B) so that Z^T R is one GEMM.
  void adjoint(const ConstMatrixRef& Y, MatrixRef out, int threads) const {
    const Index M = rows(), L = Z_.cols(), B = Y.cols();
    const Index chunk = std::max<Index>(1, std::min<Index>(B, (Index(1) << 25) / std::max<Index>(1, M * N_)));
    const RowPartition parts(M);
    const int nthreads = resolve_threads(threads);
    for (Index b0 = 0; b0 < B; b0 += chunk) {
      const Index bn = std::min(chunk, B - b0);
      Matrix R(M, N_ * bn);  // column b*N + k holds R_k for right-hand side b
      auto Rk = [&](Index k) { return MutableStridedMap(R.data() + k * M, M, bn, Eigen::OuterStride<>(N_ * M)); };
      Rk(N_ - 1) = Y.middleCols(b0, bn);
      if (W_.rows_decouple()) {  // block-diagonal: row blocks run all steps alone
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && M * bn * N_ >= 65536)
        for (Index blk = 0; blk < parts.count(); ++blk)
          for (Index k = N_ - 1; k >= 1; --k) W_.multiply_transpose_rows(Rk(k), Rk(k - 1), parts.start(blk), parts.length(blk));
      } else {
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && M * bn >= 4096)
        for (Index k = N_ - 1; k >= 1; --k) {
#pragma omp for schedule(static)
          for (Index blk = 0; blk < parts.count(); ++blk)
            W_.multiply_transpose_rows(Rk(k), Rk(k - 1), parts.start(blk), parts.length(blk));
        }
      }
      // (L x N*bn) = Z^T R, which in memory is the (N*L x bn) block of the result.
      Matrix result(L, N_ * bn);
      const RowPartition cparts(N_ * bn);
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && M * L * N_ * bn >= 65536)
      for (Index blk = 0; blk < cparts.count(); ++blk)
        result.middleCols(cparts.start(blk), cparts.length(blk)).noalias() =
            Z_.transpose() * R.middleCols(cparts.start(blk), cparts.length(blk));
      out.middleCols(b0, bn) = Eigen::Map<const Matrix>(result.data(), N_ * L, bn);
    }
  }

  RowMatrix to_dense() const {
    RowMatrix A(rows(), cols());
    measurement_operator(W_, Z_, N_, A.data(), 1);
    return A;
  }

 private:
  Recurrence W_;
  RowMatrix Z_;
  Index N_;
};

}  // namespace fastmem
