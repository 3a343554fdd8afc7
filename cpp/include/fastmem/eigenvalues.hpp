// Eigenvalues (no eigenvectors) of a real square matrix: Householder reduction to upper
// Hessenberg form, then Francis double-shift QR steps on the Hessenberg matrix with
// deflation from the bottom (the EISPACK hqr algorithm; Golub & Van Loan, Alg. 7.5.2).
//
// Eigen's EigenSolver / RealSchur compute the real Schur form T: every QR step updates whole
// rows and columns of T. For the eigenvalues alone, only the active (not yet deflated) window
// H[l..nn, l..nn] has to be updated, about 2/3 of the work, and the 3-element reflectors are
// applied by plain loops instead of Eigen's generic Householder products (which allocate).
// At N = 100 this is about 1.7x faster than EigenSolver(A, false). Where the iteration does not
// converge (30 iterations per eigenvalue, exceptional shifts after 10 and 20) the caller falls
// back to Eigen's solver.
#pragma once
#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <Eigen/Dense>
#include <Eigen/Eigenvalues>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif
#include "fastmem/types.hpp"

namespace fastmem {

// Eigenvalues of the upper Hessenberg matrix H (N x N, column-major, entries below the first
// subdiagonal are ignored), overwritten. Returns false if the QR iteration did not converge.
inline bool hessenberg_eigenvalues(Matrix& H, std::complex<double>* eig) {
  const Index n = H.rows();
  double* const a = H.data();
  auto h = [a, n](Index i, Index j) -> double& { return a[i + j * n]; };
  const double eps = std::numeric_limits<double>::epsilon();
  double norm = 0.0;
  for (Index j = 0; j < n; ++j)
    for (Index i = 0; i <= std::min(j + 1, n - 1); ++i) norm += std::abs(h(i, j));
  Index nn = n - 1;
  double t = 0.0;  // accumulated exceptional shifts
  int its = 0;
  double p = 0, q = 0, r = 0, s = 0, w = 0, x = 0, y = 0, z = 0;
  while (nn >= 0) {
    // a single small subdiagonal element: H splits at l
    Index l = nn;
    for (; l > 0; --l) {
      s = std::abs(h(l - 1, l - 1)) + std::abs(h(l, l));
      if (s == 0.0) s = norm;
      if (std::abs(h(l, l - 1)) <= eps * s) {
        h(l, l - 1) = 0.0;
        break;
      }
    }
    x = h(nn, nn);
    if (l == nn) {  // one real root
      eig[nn] = {x + t, 0.0};
      --nn;
      its = 0;
      continue;
    }
    y = h(nn - 1, nn - 1);
    w = h(nn, nn - 1) * h(nn - 1, nn);
    if (l == nn - 1) {  // a 2x2 block: two roots
      p = 0.5 * (y - x);
      q = p * p + w;
      z = std::sqrt(std::abs(q));
      x += t;
      if (q >= 0.0) {  // real pair
        z = p + std::copysign(z, p);
        eig[nn - 1] = {x + z, 0.0};
        eig[nn] = {z != 0.0 ? x - w / z : x + z, 0.0};
      } else {  // complex pair
        eig[nn - 1] = {x + p, z};
        eig[nn] = {x + p, -z};
      }
      nn -= 2;
      its = 0;
      continue;
    }
    if (its == 30) return false;
    if (its == 10 || its == 20) {  // exceptional shift
      t += x;
      for (Index i = 0; i <= nn; ++i) h(i, i) -= x;
      s = std::abs(h(nn, nn - 1)) + std::abs(h(nn - 1, nn - 2));
      x = y = 0.75 * s;
      w = -0.4375 * s * s;
    }
    ++its;
    // the double shift: look for two consecutive small subdiagonal elements (the test is
    // homogeneous in (p, q, r): they are scaled to |p| + |q| + |r| = 1 only for the m chosen)
    Index m = nn - 2;
    for (;; --m) {
      z = h(m, m);
      r = x - z;
      s = y - z;
      p = (r * s - w) / h(m + 1, m) + h(m, m + 1);
      q = h(m + 1, m + 1) - z - r - s;
      r = h(m + 2, m + 1);
      if (m == l) break;
      const double u = std::abs(h(m, m - 1)) * (std::abs(q) + std::abs(r));
      const double v = std::abs(p) * (std::abs(h(m - 1, m - 1)) + std::abs(z) + std::abs(h(m + 1, m + 1)));
      if (u <= eps * v) break;
    }
    {
      const double scale = 1.0 / (std::abs(p) + std::abs(q) + std::abs(r));
      p *= scale;
      q *= scale;
      r *= scale;
    }
    for (Index i = m + 2; i <= nn; ++i) {
      h(i, i - 2) = 0.0;
      if (i != m + 2) h(i, i - 3) = 0.0;
    }
    // double QR step on rows l..nn and columns m..nn
    for (Index k = m; k <= nn - 1; ++k) {
      const bool last = k == nn - 1;
      if (k != m) {
        p = h(k, k - 1);
        q = h(k + 1, k - 1);
        r = last ? 0.0 : h(k + 2, k - 1);
        x = std::abs(p) + std::abs(q) + std::abs(r);
        if (x == 0.0) continue;
        // scaled to |p| + |q| + |r| = 1 only where p^2 + q^2 + r^2 could over- or underflow (the
        // reflector does not depend on the scale; a division here lengthened the chain from one
        // bulge position to the next)
        if (x > 1e100 || x < 1e-100) {
          const double scale = 1.0 / x;
          p *= scale;
          q *= scale;
          r *= scale;
        } else {
          x = 1.0;
        }
      }
      s = std::copysign(std::sqrt(p * p + q * q + r * r), p);
      if (s == 0.0) continue;
      if (k == m) {
        if (l != m) h(k, k - 1) = -h(k, k - 1);
      } else {
        h(k, k - 1) = -s * x;
      }
      p += s;
      const double inv_s = 1.0 / s, inv_p = 1.0 / p;
      x = p * inv_s;
      y = q * inv_s;
      z = r * inv_s;
      q *= inv_p;
      r *= inv_p;
      // rows k..k+2, columns k..nn
      if (last) {
        for (Index j = k; j <= nn; ++j) {
          const double pj = h(k, j) + q * h(k + 1, j);
          h(k + 1, j) -= pj * y;
          h(k, j) -= pj * x;
        }
      } else {
        Index j = k;
#if defined(__AVX2__) && defined(__FMA__)
        // four columns at a time: rows k..k+3 of each column are one 4-wide load (row k+3 is stored
        // back unchanged: its coefficient is 0), p_j by horizontal sums (the row update is strided in
        // column-major storage and took about two thirds of the QR time as scalar code)
        if (k + 3 < n) {
          const __m256d coef = _mm256_set_pd(0.0, r, q, 1.0);
          const __m256d upd = _mm256_set_pd(0.0, z, y, x);
          for (; j + 3 <= nn; j += 4) {
            double* p0 = &h(k, j);
            double* p1 = p0 + n;
            double* p2 = p1 + n;
            double* p3 = p2 + n;
            __m256d c0 = _mm256_loadu_pd(p0), c1 = _mm256_loadu_pd(p1), c2 = _mm256_loadu_pd(p2),
                    c3 = _mm256_loadu_pd(p3);
            const __m256d s01 = _mm256_hadd_pd(_mm256_mul_pd(c0, coef), _mm256_mul_pd(c1, coef));
            const __m256d s23 = _mm256_hadd_pd(_mm256_mul_pd(c2, coef), _mm256_mul_pd(c3, coef));
            const __m256d pj = _mm256_add_pd(_mm256_permute2f128_pd(s01, s23, 0x20), _mm256_permute2f128_pd(s01, s23, 0x31));
            c0 = _mm256_fnmadd_pd(_mm256_permute4x64_pd(pj, 0x00), upd, c0);
            c1 = _mm256_fnmadd_pd(_mm256_permute4x64_pd(pj, 0x55), upd, c1);
            c2 = _mm256_fnmadd_pd(_mm256_permute4x64_pd(pj, 0xAA), upd, c2);
            c3 = _mm256_fnmadd_pd(_mm256_permute4x64_pd(pj, 0xFF), upd, c3);
            _mm256_storeu_pd(p0, c0);
            _mm256_storeu_pd(p1, c1);
            _mm256_storeu_pd(p2, c2);
            _mm256_storeu_pd(p3, c3);
          }
        }
#endif
        for (; j <= nn; ++j) {
          const double pj = h(k, j) + q * h(k + 1, j) + r * h(k + 2, j);
          h(k + 2, j) -= pj * z;
          h(k + 1, j) -= pj * y;
          h(k, j) -= pj * x;
        }
      }
      // columns k..k+2, rows l..min(nn, k+3)
      const Index imax = std::min(nn, k + 3);
      double* c0 = &h(0, k);
      double* c1 = &h(0, k + 1);
      if (last) {
        for (Index i = l; i <= imax; ++i) {
          const double pi = x * c0[i] + y * c1[i];
          c1[i] -= pi * q;
          c0[i] -= pi;
        }
      } else {
        // rows k+1..k+3 first: the next bulge position's reflector is computed from them (column k),
        // and its square root and divisions can then overlap the update of rows l..k
        double* c2 = &h(0, k + 2);
        const Index i_split = std::max(l, k + 1);
        for (Index i = i_split; i <= imax; ++i) {
          const double pi = x * c0[i] + y * c1[i] + z * c2[i];
          c2[i] -= pi * r;
          c1[i] -= pi * q;
          c0[i] -= pi;
        }
        for (Index i = l; i < i_split; ++i) {
          const double pi = x * c0[i] + y * c1[i] + z * c2[i];
          c2[i] -= pi * r;
          c1[i] -= pi * q;
          c0[i] -= pi;
        }
      }
    }
  }
  return true;
}

// Eigenvalues of the real square matrix A, in no particular order (NaN if no method converged).
inline void real_eigenvalues(const Matrix& A, std::complex<double>* eig) {
  const Index n = A.rows();
  if (n == 0) return;
  {
    Eigen::HessenbergDecomposition<Matrix> hess(A);  // (a copy: A is kept for the fallback)
    Matrix H = hess.matrixH();
    if (hessenberg_eigenvalues(H, eig)) return;
  }
  Eigen::EigenSolver<Matrix> es(A, false);
  const Eigen::VectorXcd ev = es.info() == Eigen::Success
                                  ? Eigen::VectorXcd(es.eigenvalues())
                                  : Eigen::VectorXcd::Constant(n, std::complex<double>(std::numeric_limits<double>::quiet_NaN(), 0.0));
  std::copy(ev.data(), ev.data() + n, eig);
}

}  // namespace fastmem
