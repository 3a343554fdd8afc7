// Eigenpairs of a symmetric tridiagonal matrix T (diagonal d, off-diagonal e, e[i] coupling rows
// i and i + 1), for the singular value threshold of nuclear_norm.hpp, which needs all eigenvalues
// of a small (~40 x 40) Gram matrix but eigenvectors only for those above the threshold:
//
//   tridiagonal_eigenvalues:     all eigenvalues by the root-free QL iteration of Pal, Walker and
//                                Kahan (EISPACK tqlrat; Parlett, The Symmetric Eigenvalue Problem,
//                                ch. 8): no square root per rotation, about 2-3x faster than
//                                Eigen's tridiagonal QR at n = 40.
//   TridiagonalInverseIteration: the eigenvectors of (accurate) eigenvalues by inverse iteration
//                                on T - lambda I, LU with partial pivoting (LAPACK dgttrf/dgttrs)
//                                vectorised across the eigenvalues, re-orthogonalised within
//                                clusters (LAPACK dstein's rule: gaps below 1e-3 ||T||).
//
// Neither certifies itself: the caller checks residuals and orthogonality and falls back to a
// full eigen-decomposition when they are not at rounding level.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>
#include "fastmem/types.hpp"

namespace fastmem {

// In place: d becomes the eigenvalues of T in ascending order. e2: workspace. false if an
// eigenvalue needed more than 30 iterations (d is then unusable). Entries should be O(1) (scale
// T first): the iteration works with the squares of the off-diagonal.
inline bool tridiagonal_eigenvalues(Vector& d, const Vector& e, Vector& e2) {
  const Index n = d.size();
  if (n <= 1) return true;
  e2.resize(n);
  for (Index i = 0; i + 1 < n; ++i) e2[i] = e[i] * e[i];
  e2[n - 1] = 0.0;  // stops the search for a negligible off-diagonal below
  const double eps = std::numeric_limits<double>::epsilon();
  double f = 0.0, t = 0.0, b = 0.0, c = 0.0;
  for (Index l = 0; l < n; ++l) {
    double h = std::abs(d[l]) + std::sqrt(e2[l]);
    if (t < h) {
      t = h;
      b = eps * t;
      c = b * b;
    }
    Index m = l;
    while (e2[m] > c) ++m;  // e2[m] negligible: T splits below row m
    for (int iter = 0; m != l; ++iter) {
      if (iter == 30) return false;
      // shift: the eigenvalue of the leading 2 x 2 block nearer d[l]
      double s = std::sqrt(e2[l]), g = d[l];
      double p = (d[l + 1] - g) / (2.0 * s);
      double r = std::hypot(p, 1.0);
      d[l] = s / (p + std::copysign(r, p));
      h = g - d[l];
      for (Index i = l + 1; i < n; ++i) d[i] -= h;
      f += h;
      // rational QL sweep from m up to l
      g = d[m];
      if (g == 0.0) g = b;
      h = g;
      s = 0.0;
      for (Index i = m - 1; i >= l; --i) {
        p = g * h;
        r = p + e2[i];
        e2[i + 1] = s * r;
        s = e2[i] / r;
        d[i + 1] = h + s * (h + d[i]);
        g = d[i] - e2[i] / g;
        if (g == 0.0) g = b;
        h = g * p / r;
      }
      e2[l] = s * g;
      d[l] = h;
      if (h == 0.0 || std::abs(e2[l]) <= std::abs(c / h)) break;  // converged (guarded against underflow)
      e2[l] *= h;
      if (e2[l] == 0.0) break;
    }
    // insert the converged eigenvalue into the sorted d[0..l]
    const double p = d[l] + f;
    Index i = l;
    for (; i > 0 && p < d[i - 1]; --i) d[i] = d[i - 1];
    d[i] = p;
  }
  return true;
}

// Eigenvectors of T for a set of eigenvalues by inverse iteration, all eigenvalues at once: the
// LU factorisations of T - lambda_j I (partial pivoting, LAPACK dgttrf) and the solves (dgttrs)
// run row by row with the eigenvalues as the inner, vectorised dimension (the recurrences are
// sequential in the row, independent across eigenvalues; each eigenvalue's pivoting is a select).
class TridiagonalInverseIteration {
 public:
  // V (n x r) = unit eigenvectors of T = tridiag(e, d, e) for lambda (r, descending), two solves
  // from a fixed start, each followed by Gram-Schmidt (twice) within clusters of eigenvalues
  // closer than 1e-3 norm (norm >= ||T||_2; pivots below eps * norm are raised to it).
  // Returns max_j ||T v_j - lambda_j v_j||_inf.
  double operator()(const Vector& d, const Vector& e, const Vector& lambda, double norm, Matrix& V) {
    const Index n = d.size(), r = lambda.size();
    V.resize(n, r);
    if (r == 0) return 0.0;
    factor(d, e, lambda.array(), norm);
    X_.resize(r, n);  // start vectors: fixed pseudo-random entries in [-1, 1), different per eigenvalue
    for (Index i = 0; i < n; ++i)
      for (Index j = 0; j < r; ++j) X_(j, i) = start_entry(uint64_t(i), uint64_t(j));
    for (int it = 0; it < 2; ++it) {
      solve();
      V = X_.matrix().transpose();
      orthonormalise(lambda, norm, V);
      X_ = V.transpose().array();
    }
    double worst = 0.0;  // residuals T v - lambda v
    for (Index j = 0; j < r; ++j)
      for (Index i = 0; i < n; ++i) {
        double res = (d[i] - lambda[j]) * V(i, j);
        if (i > 0) res += e[i - 1] * V(i - 1, j);
        if (i + 1 < n) res += e[i] * V(i + 1, j);
        worst = std::max(worst, std::abs(res));
      }
    return worst;  // NaN if a vector vanished (a cluster's start vectors were dependent)
  }

 private:
  using Lanes = Eigen::ArrayXd;

  // splitmix64 of (i, j) mapped to [-1, 1): deterministic, and the start vectors of the
  // eigenvalues of a cluster are linearly independent (with probability 1).
  static double start_entry(uint64_t i, uint64_t j) {
    uint64_t z = (i << 32) + j + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return double(z >> 11) * 0x1.0p-52 - 1.0;
  }

  // Column i of the (r x n) arrays holds row i of every factorisation.
  void factor(const Vector& d, const Vector& e, const Lanes& lambda, double norm) {
    const Index n = d.size(), r = lambda.size();
    const double pert = std::numeric_limits<double>::epsilon() * std::max(norm, std::numeric_limits<double>::min());
    dd_.resize(r, n);
    du_.resize(r, n);
    du2_.resize(r, n);
    fact_.resize(r, n);
    swap_.resize(r, n);
    auto raise = [pert](const Lanes& v) {
      return (v.abs() >= pert).select(v, (v < 0.0).select(Lanes::Constant(v.size(), -pert), Lanes::Constant(v.size(), pert)));
    };
    Lanes cur = d[0] - lambda, up = Lanes::Constant(r, n > 1 ? e[0] : 0.0);
    for (Index i = 0; i + 1 < n; ++i) {
      const double ei = e[i], ei1 = i + 2 < n ? e[i + 1] : 0.0;
      const Lanes next = d[i + 1] - lambda;
      const auto sw = cur.abs() < std::abs(ei);  // rows i and i + 1 swap
      const Lanes piv = raise(cur);
      const Lanes f_keep = ei / piv, f_swap = cur / ei;
      swap_.col(i) = sw.cast<double>();
      fact_.col(i) = sw.select(f_swap, f_keep);
      dd_.col(i) = sw.select(Lanes::Constant(r, ei), piv);
      du_.col(i) = sw.select(next, up);
      du2_.col(i) = sw.select(Lanes::Constant(r, ei1), Lanes::Zero(r));
      const Lanes dnext = sw.select(up - f_swap * next, next - f_keep * up);
      up = sw.select(-f_swap * ei1, Lanes::Constant(r, ei1));
      cur = dnext;
    }
    dd_.col(n - 1) = raise(cur);
    dd_ = dd_.inverse();  // the solves multiply by the reciprocal pivots
  }

  void solve() {
    const Index n = dd_.cols();
    for (Index i = 0; i + 1 < n; ++i) {
      const Lanes xi = X_.col(i), xi1 = X_.col(i + 1);
      const auto sw = swap_.col(i) != 0.0;
      X_.col(i) = sw.select(xi1, xi);
      X_.col(i + 1) = sw.select(xi - fact_.col(i) * xi1, xi1 - fact_.col(i) * xi);
    }
    X_.col(n - 1) *= dd_.col(n - 1);
    if (n > 1) X_.col(n - 2) = (X_.col(n - 2) - du_.col(n - 2) * X_.col(n - 1)) * dd_.col(n - 2);
    for (Index i = n - 3; i >= 0; --i)
      X_.col(i) = (X_.col(i) - du_.col(i) * X_.col(i + 1) - du2_.col(i) * X_.col(i + 2)) * dd_.col(i);
  }

  // Columns in order (lambda descending): Gram-Schmidt against the earlier columns of the same
  // cluster (consecutive gaps <= 1e-3 norm), twice, then normalise.
  static void orthonormalise(const Vector& lambda, double norm, Matrix& V) {
    Index start = 0;
    for (Index j = 0; j < V.cols(); ++j) {
      if (j > 0 && lambda[j - 1] - lambda[j] > 1e-3 * norm) start = j;
      V.col(j) /= V.col(j).norm();  // scale first: inverse iteration grows the vector by ~1/eps
      for (int pass = 0; pass < 2; ++pass)
        for (Index i = start; i < j; ++i) V.col(j) -= V.col(i).dot(V.col(j)) * V.col(i);
      V.col(j) /= V.col(j).norm();
    }
  }

  Eigen::ArrayXXd dd_, du_, du2_, fact_, swap_, X_;
};

}  // namespace fastmem
