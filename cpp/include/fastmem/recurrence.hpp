// The recurrent matrix W of x[n+1] = f(W x[n] + Z s[n] + eps[n]), either dense or
// 2x2-block-diagonal (the "circle" network in its real Schur form: one 2x2 block
// r*[[cos w, -sin w], [sin w, cos w]] per conjugate pair of eigenvalues, and a 1x1
// block when M is odd). Block-diagonal W is stored as three diagonals, so W X
// costs O(M B) instead of O(M^2 B).
#pragma once
#include <stdexcept>
#include "fastmem/checks.hpp"
#include "fastmem/types.hpp"

namespace fastmem {

class Recurrence {
 public:
  // Dense W (M x M).
  static Recurrence dense(const ConstRowMatrixRef& W) {
    require(W.rows() == W.cols(), "W must be square");
    Recurrence r;
    r.dense_ = W;
    r.is_dense_ = true;
    r.m_ = W.rows();
    return r;
  }
  // Block-diagonal W from its diagonal (M), super-diagonal (M-1) and sub-diagonal (M-1).
  // Only entries (2i, 2i+1) and (2i+1, 2i) of the off-diagonals may be non-zero.
  static Recurrence block_diagonal(const ConstVectorRef& diag, const ConstVectorRef& upper,
                                   const ConstVectorRef& lower) {
    const Index m = diag.size();
    require(upper.size() == std::max<Index>(m - 1, 0) && lower.size() == upper.size(),
            "block-diagonal W: upper and lower must have length M - 1");
    for (Index i = 1; i < m - 1; i += 2)
      require(upper[i] == 0.0 && lower[i] == 0.0, "block-diagonal W couples two 2x2 blocks");
    Recurrence r;
    r.diag_ = diag;
    r.upper_ = upper;
    r.lower_ = lower;
    r.is_dense_ = false;
    r.m_ = m;
    return r;
  }

  Index size() const { return m_; }
  bool is_dense() const { return is_dense_; }
  // True when row blocks of (W X) depend only on the same rows of X (block-diagonal W
  // split at even rows), so row blocks can run many steps without synchronising.
  bool rows_decouple() const { return !is_dense_; }

  // out.rows(r0..r0+rn) = (W X).rows(r0..r0+rn). For the block-diagonal form, r0 and
  // rn must be even (or reach the end) so that no 2x2 block is split.
  template <class In, class Out>
  void multiply_rows(const In& X, Out&& out, Index r0, Index rn) const {
    if (is_dense_) {
      out.middleRows(r0, rn).noalias() = dense_.middleRows(r0, rn) * X;
      return;
    }
    for (Index i = r0; i < r0 + rn; ++i) {
      out.row(i) = diag_[i] * X.row(i);
      if (i + 1 < m_ && upper_[i] != 0.0) out.row(i) += upper_[i] * X.row(i + 1);
      if (i >= 1 && lower_[i - 1] != 0.0) out.row(i) += lower_[i - 1] * X.row(i - 1);
    }
  }
  // out.rows(r0..r0+rn) = (W^T X).rows(r0..r0+rn)
  template <class In, class Out>
  void multiply_transpose_rows(const In& X, Out&& out, Index r0, Index rn) const {
    if (is_dense_) {
      out.middleRows(r0, rn).noalias() = dense_.middleCols(r0, rn).transpose() * X;
      return;
    }
    for (Index i = r0; i < r0 + rn; ++i) {
      out.row(i) = diag_[i] * X.row(i);
      if (i + 1 < m_ && lower_[i] != 0.0) out.row(i) += lower_[i] * X.row(i + 1);
      if (i >= 1 && upper_[i - 1] != 0.0) out.row(i) += upper_[i - 1] * X.row(i - 1);
    }
  }

  const RowMatrix& dense_matrix() const { return dense_; }
  // The diagonal block of the block-diagonal form that starts at even row i: 2x2, or 1x1 for
  // the last row of an odd M.
  RowMatrix diagonal_block(Index i) const {
    const Index n = std::min<Index>(2, m_ - i);
    if (is_dense_) return dense_.block(i, i, n, n);
    RowMatrix b(n, n);
    b(0, 0) = diag_[i];
    if (n == 2) {
      b(0, 1) = upper_[i];
      b(1, 0) = lower_[i];
      b(1, 1) = diag_[i + 1];
    }
    return b;
  }
  RowMatrix to_dense() const {
    if (is_dense_) return dense_;
    RowMatrix W = RowMatrix::Zero(m_, m_);
    for (Index i = 0; i < m_; ++i) {
      W(i, i) = diag_[i];
      if (i + 1 < m_) {
        W(i, i + 1) = upper_[i];
        W(i + 1, i) = lower_[i];
      }
    }
    return W;
  }

 private:
  RowMatrix dense_;
  Vector diag_, upper_, lower_;
  bool is_dense_ = true;
  Index m_ = 0;
};

// Row blocks for row-parallel loops over W: fixed size (see kRowBlock), even, so a
// 2x2 block is never split.
struct RowPartition {
  explicit RowPartition(Index rows) : rows_(rows), count_(row_blocks(rows)) {}
  Index count() const { return count_; }
  Index start(Index b) const { return b * kRowBlock; }
  Index length(Index b) const { return std::min(kRowBlock, rows_ - b * kRowBlock); }

 private:
  Index rows_, count_;
};

}  // namespace fastmem
