// The Cholesky factor L L^T = G[S, S] of a principal submatrix of a fixed symmetric matrix G
// whose index set S changes by a few entries at a time, as the active set of a Newton method
// for the LASSO does between steps:
//   append j   one triangular solve,          O(s^2):  [L 0; l^T d] with L l = G[S, j],
//                                                       d^2 = G_jj - l^T l
//   remove k   a rank-one update of the trailing block, O(s^2): dropping row/column k of
//              [L11 0 0; l21^T d 0; L31 l32 L33] leaves L33 L33^T + l32 l32^T to refactor
// against s^3 / 3 for a new factorisation. G may grow between calls (new rows/columns at the
// end) as long as the entries already used do not change.
#pragma once
#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <vector>
#include "fastmem/types.hpp"

namespace fastmem {

class ActiveCholesky {
 public:
  Index size() const { return s_; }
  const std::vector<Index>& indices() const { return S_; }
  Index updates() const { return updates_; }

  // A new factorisation of G[S, S]; false (and the factor emptied) when it is not positive definite.
  bool reset(const Matrix& G, const std::vector<Index>& S) {
    const Index s = Index(S.size());
    reserve(s, G.rows());
    for (Index b = 0; b < s; ++b)
      for (Index a = b; a < s; ++a) L_(a, b) = G(S[size_t(a)], S[size_t(b)]);
    Eigen::Ref<Matrix> block = L_.topLeftCorner(s, s);
    Eigen::LLT<Eigen::Ref<Matrix>> llt(block);  // in place: the factor overwrites the lower part
    updates_ = 0;
    if (llt.info() != Eigen::Success) {
      clear();
      return false;
    }
    S_ = S;
    s_ = s;
    return true;
  }

  void clear() {
    S_.clear();
    s_ = 0;
    updates_ = 0;
  }

  // S gains j; false (nothing changed) when G[S + j, S + j] is not numerically positive definite.
  bool append(const Matrix& G, Index j) {
    reserve(s_ + 1, G.rows());
    Vector v(s_);
    for (Index a = 0; a < s_; ++a) v[a] = G(S_[size_t(a)], j);
    if (s_ > 0) L_.topLeftCorner(s_, s_).triangularView<Eigen::Lower>().solveInPlace(v);
    const double d2 = G(j, j) - v.squaredNorm();
    if (!(d2 > 1e-12 * std::abs(G(j, j))) || !std::isfinite(d2)) return false;
    L_.row(s_).head(s_) = v.transpose();
    L_(s_, s_) = std::sqrt(d2);
    S_.push_back(j);
    ++s_;
    ++updates_;
    return true;
  }

  // S gains all of js at once: one triangular solve with |js| right-hand sides and a Cholesky
  // of the |js| x |js| Schur complement (level-3 work, where |js| appends would be level 2).
  // When that complement is not positive definite, one append at a time, skipping the indices
  // that are dependent on the rest. Returns the indices actually added.
  std::vector<Index> append_block(const Matrix& G, const std::vector<Index>& js) {
    const Index k = Index(js.size());
    if (k == 0) return {};
    reserve(s_ + k, G.rows());
    Matrix X(s_, k), C(k, k);
    for (Index b = 0; b < k; ++b) {
      for (Index a = 0; a < s_; ++a) X(a, b) = G(S_[size_t(a)], js[size_t(b)]);
      for (Index a = 0; a < k; ++a) C(a, b) = G(js[size_t(a)], js[size_t(b)]);
    }
    if (s_ > 0) {
      L_.topLeftCorner(s_, s_).triangularView<Eigen::Lower>().solveInPlace(X);
      C.noalias() -= X.transpose() * X;
    }
    Eigen::LLT<Matrix> llt(C);
    const bool ok = llt.info() == Eigen::Success && llt.matrixL().toDenseMatrix().diagonal().minCoeff() >
                                                       1e-6 * std::sqrt(C.diagonal().cwiseAbs().maxCoeff());
    if (!ok) {
      std::vector<Index> added;
      for (Index j : js)
        if (append(G, j)) added.push_back(j);
      return added;
    }
    L_.block(s_, 0, k, s_) = X.transpose();
    L_.block(s_, s_, k, k) = llt.matrixL();
    S_.insert(S_.end(), js.begin(), js.end());
    s_ += k;
    updates_ += k;
    return js;
  }

  // S loses its entry at position k.
  void remove(Index k) {
    const Index n = s_ - k - 1;  // rows after k
    if (n > 0) {
      Vector x = L_.col(k).segment(k + 1, n);
      // shift the rows below k up by one (their first k columns), and L33 up-left by one
      for (Index i = k; i < s_ - 1; ++i) L_.row(i).head(k) = L_.row(i + 1).head(k);
      for (Index c = k; c < s_ - 1; ++c) L_.col(c).segment(c, s_ - 1 - c) = L_.col(c + 1).segment(c + 1, s_ - 1 - c);
      // L33 L33^T + x x^T, column by column (Givens-like rotations)
      for (Index i = 0; i < n; ++i) {
        const Index ii = k + i;
        const double lii = L_(ii, ii), r = std::hypot(lii, x[i]), c = r / lii, sn = x[i] / lii;
        L_(ii, ii) = r;
        const Index m = n - i - 1;
        if (m > 0) {
          auto col = L_.col(ii).segment(ii + 1, m);
          col = (col + sn * x.tail(m)) / c;
          x.tail(m) = c * x.tail(m) - sn * col;
        }
      }
    }
    S_.erase(S_.begin() + k);
    --s_;
    ++updates_;
  }

  // G[S, S]^{-1} b (b in the order of indices()).
  Vector solve(const Vector& b) const {
    Vector x = b;
    const auto L = L_.topLeftCorner(s_, s_);
    L.triangularView<Eigen::Lower>().solveInPlace(x);
    L.transpose().triangularView<Eigen::Upper>().solveInPlace(x);
    return x;
  }

 private:
  // Capacity for s indices, doubling but never past limit (the size of G): S never exceeds it.
  void reserve(Index s, Index limit) {
    if (L_.rows() >= s) return;
    const Index cap = std::max<Index>(s, std::min<Index>(2 * L_.rows(), limit));
    Matrix bigger(cap, cap);
    bigger.topLeftCorner(s_, s_) = L_.topLeftCorner(s_, s_);
    L_.swap(bigger);
  }

  std::vector<Index> S_;
  Matrix L_;
  Index s_ = 0;
  Index updates_ = 0;
};

}  // namespace fastmem
