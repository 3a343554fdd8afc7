// The linear/tanh random network of eq. (1) of the compressive-memory paper,
//     x[n+1] = f(W x[n] + Z s[n] + eps[n]),
// and its measurement operator x[N] = A vec(S) (noiseless, linear, x[0] = 0).
#pragma once
#include <algorithm>
#include <utility>
#include "fastmem/recurrence.hpp"
#include "fastmem/threads.hpp"

namespace fastmem {

enum class Nonlinearity { linear, tanh };

// Column-major (rows x cols) view of strided data: column c starts at data + c*stride.
using StridedMap = Eigen::Map<const Matrix, 0, Eigen::OuterStride<>>;
using MutableStridedMap = Eigen::Map<Matrix, 0, Eigen::OuterStride<>>;

// Runs eq. (1) for a batch of B input streams at once. The batch state is one
// M x B matrix, so each step is a matrix product (a GEMM, not B GEMVs), split by
// fixed row blocks across threads.
//   S:      B streams of N inputs of length L, laid out (B, N, L) C-order
//   x0:     (B, M) or nullptr for x[0] = 0
//   noise:  (B, N, M) values of eps[n], or nullptr
//   states: (B, N, M) output of x[1..N], or nullptr
//   final:  (B, M) output of x[N]
inline void propagate(const Recurrence& W, const ConstRowMatrixRef& Z, const double* S, Index B, Index N,
                      const double* x0, const double* noise, Nonlinearity f, double* states, double* final_state,
                      int threads) {
  const Index M = W.size(), L = Z.cols();
  require(Z.rows() == M, "Z must have as many rows as W");
  Matrix X(M, B), Xnext(M, B);
  if (x0)
    X = Eigen::Map<const Matrix>(x0, M, B);
  else
    X.setZero();
  const RowPartition parts(M);
  const int nthreads = resolve_threads(threads);
  // Rows r0..r0+rn of x[n+1] from x[n]; reads all of X when W is dense.
  auto step_rows = [&](Index n, Index r0, Index rn) {
    const StridedMap Sn(S + n * L, L, B, Eigen::OuterStride<>(N * L));  // column b = s_b[n]
    W.multiply_rows(X, Xnext, r0, rn);
    if (L > 0) Xnext.middleRows(r0, rn).noalias() += Z.middleRows(r0, rn) * Sn;
    if (noise) Xnext.middleRows(r0, rn) += StridedMap(noise + n * M, M, B, Eigen::OuterStride<>(N * M)).middleRows(r0, rn);
    if (f == Nonlinearity::tanh) Xnext.middleRows(r0, rn) = Xnext.middleRows(r0, rn).array().tanh().matrix();
    if (states)
      MutableStridedMap(states + n * M, M, B, Eigen::OuterStride<>(N * M)).middleRows(r0, rn) = Xnext.middleRows(r0, rn);
  };
  if (W.rows_decouple()) {
    // Block-diagonal W: a row block never reads other rows, so each block runs all
    // N steps on its own, with no barrier per step.
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && M * B * N >= 65536)
    for (Index blk = 0; blk < parts.count(); ++blk) {
      const Index r0 = parts.start(blk), rn = parts.length(blk);
      for (Index n = 0; n < N; ++n) {
        step_rows(n, r0, rn);
        X.middleRows(r0, rn) = Xnext.middleRows(r0, rn);
      }
    }
  } else {
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && M * B >= 4096)
    {
      for (Index n = 0; n < N; ++n) {
#pragma omp for schedule(static)
        for (Index blk = 0; blk < parts.count(); ++blk) step_rows(n, parts.start(blk), parts.length(blk));
#pragma omp single
        X.swap(Xnext);
      }
    }
  }
  Eigen::Map<Matrix>(final_state, M, B) = X;
}

// A (M x N*L, row-major) with column block k equal to W^(N-1-k) Z, built backwards
// from block N-1 = Z by one product with W per block: O(M^2 N L) for dense W and
// O(M N L) for block-diagonal W.
inline void measurement_operator(const Recurrence& W, const ConstRowMatrixRef& Z, Index N, double* out, int threads) {
  const Index M = W.size(), L = Z.cols();
  require(Z.rows() == M, "Z must have as many rows as W");
  if (N == 0 || L == 0 || M == 0) return;
  Eigen::Map<RowMatrix> A(out, M, N * L);
  A.middleCols((N - 1) * L, L) = Z;
  const RowPartition parts(M);
  const int nthreads = resolve_threads(threads);
  if (W.rows_decouple()) {  // block-diagonal: each row block builds all N blocks alone
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && M * L * N >= 65536)
    for (Index blk = 0; blk < parts.count(); ++blk)
      for (Index k = N - 1; k >= 1; --k)
        W.multiply_rows(A.middleCols(k * L, L), A.middleCols((k - 1) * L, L), parts.start(blk), parts.length(blk));
    return;
  }
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && M * L >= 4096)
  for (Index k = N - 1; k >= 1; --k) {
#pragma omp for schedule(static)
    for (Index blk = 0; blk < parts.count(); ++blk)
      W.multiply_rows(A.middleCols(k * L, L), A.middleCols((k - 1) * L, L), parts.start(blk), parts.length(blk));
  }
}

}  // namespace fastmem
