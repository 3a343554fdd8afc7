// Orthonormal synthesis bases Psi for the recovery solvers, applied without forming
// the N*L x N*L matrix when it has the per-channel structure Psi = kron(D, I_L):
//     vec(S) = Psi a   <=>   S = D A   (A = a viewed as an (N, L) row-major matrix).
// In a column-major (N*L x B) batch, column b viewed as an L x N column-major matrix
// is A_b^T, so S_b^T = A_b^T D^T: one small GEMM per column.
//
// BasisOperator<Op> composes an operator with a basis: apply = A Psi, adjoint = Psi^T A^T,
// so a solver sees A Psi without A Psi ever being formed.
#pragma once
#include "fastmem/checks.hpp"
#include "fastmem/threads.hpp"
#include "fastmem/types.hpp"

namespace fastmem {

class Basis {
 public:
  enum class Kind { identity, temporal, dense };

  static Basis identity() { return Basis(Kind::identity, Matrix(), 0); }
  // Temporal atoms D (N x N) used per input channel: Psi = kron(D, I_L).
  static Basis temporal(const Matrix& D, Index L) {
    require(D.rows() == D.cols(), "temporal basis D must be square (N x N)");
    require(L >= 1, "L must be >= 1");
    return Basis(Kind::temporal, D, L);
  }
  // A full Psi (P x P).
  static Basis dense(const Matrix& Psi) {
    require(Psi.rows() == Psi.cols(), "basis Psi must be square (P x P)");
    return Basis(Kind::dense, Psi, 0);
  }

  Kind kind() const { return kind_; }
  bool is_identity() const { return kind_ == Kind::identity; }
  Index size(Index fallback) const {
    if (kind_ == Kind::temporal) return M_.rows() * L_;
    if (kind_ == Kind::dense) return M_.rows();
    return fallback;
  }

  // out = Psi V (synthesis: coefficients -> stream)
  void synthesize(const ConstMatrixRef& V, MatrixRef out, int threads) const { transform(V, out, threads, false); }
  // out = Psi^T U (analysis: stream -> coefficients)
  void analyze(const ConstMatrixRef& U, MatrixRef out, int threads) const { transform(U, out, threads, true); }

 private:
  Basis(Kind k, Matrix m, Index L) : kind_(k), M_(std::move(m)), L_(L) {}

  void transform(const ConstMatrixRef& V, MatrixRef out, int threads, bool adjoint) const {
    const int nthreads = resolve_threads(threads);
    const Index B = V.cols();
    if (kind_ == Kind::identity) {
      out = V;
    } else if (kind_ == Kind::dense) {
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && B > 1)
      for (Index b = 0; b < B; ++b) {
        if (adjoint)
          out.col(b).noalias() = M_.transpose() * V.col(b);
        else
          out.col(b).noalias() = M_ * V.col(b);
      }
    } else {
      const Index N = M_.rows();
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && B > 1)
      for (Index b = 0; b < B; ++b) {
        Eigen::Map<const Matrix> X(V.col(b).data(), L_, N);
        Eigen::Map<Matrix> Y(out.col(b).data(), L_, N);
        if (adjoint)
          Y.noalias() = X * M_;  // A^T = S^T D
        else
          Y.noalias() = X * M_.transpose();  // S^T = A^T D^T
      }
    }
  }

  Kind kind_;
  Matrix M_;  // D (temporal) or Psi (dense)
  Index L_;
};

// A Psi as an operator (apply: A Psi V; adjoint: Psi^T A^T Y).
template <class Op>
class BasisOperator {
 public:
  BasisOperator(const Op& op, const Basis& basis) : op_(op), basis_(basis) {
    require(basis.size(op.cols()) == op.cols(), "basis size must equal the number of columns of A");
  }
  Index rows() const { return op_.rows(); }
  Index cols() const { return op_.cols(); }
  void apply(const ConstMatrixRef& V, MatrixRef out, int threads) const {
    if (basis_.is_identity()) return op_.apply(V, out, threads);
    Matrix tmp(V.rows(), V.cols());
    basis_.synthesize(V, tmp, threads);
    op_.apply(tmp, out, threads);
  }
  void adjoint(const ConstMatrixRef& Y, MatrixRef out, int threads) const {
    if (basis_.is_identity()) return op_.adjoint(Y, out, threads);
    Matrix tmp(cols(), Y.cols());
    op_.adjoint(Y, tmp, threads);
    basis_.analyze(tmp, out, threads);
  }

 private:
  const Op& op_;
  const Basis& basis_;
};

}  // namespace fastmem
