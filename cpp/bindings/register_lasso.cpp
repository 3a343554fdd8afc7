// Bindings for the FISTA LASSO solver (fastmem/lasso.hpp) on a dense A or the
// matrix-free NetworkOperator, optionally composed with an orthonormal basis Psi.
// Batches travel as (B, M) / (B, P) C-ordered arrays, which are exactly the
// column-major M x B / P x B matrices the solver works on (no copies).
#include <optional>
#include "arrays.hpp"
#include "lasso_output.hpp"
#include "fastmem/basis.hpp"
#include "fastmem/lasso.hpp"
#include "fastmem/lasso_working_set.hpp"
#include "fastmem/operators.hpp"
#include "registry.hpp"

namespace py = pybind11;
using namespace fastmem;
using namespace fastmem::bindings;

namespace {

Basis make_basis(const std::string& kind, const std::optional<CArray>& matrix, Index L) {
  if (kind == "identity") return Basis::identity();
  require(matrix.has_value(), "basis '" + kind + "' needs its matrix");
  auto m = as_matrix(*matrix, "basis");
  if (kind == "temporal") return Basis::temporal(Matrix(m), L);
  require(kind == "dense", "basis kind must be 'identity', 'temporal' or 'dense', got '" + kind + "'");
  return Basis::dense(Matrix(m));
}

// One non-negative lam per column of y (both solvers check the same way).
Eigen::Map<const Vector> checked_lam(const CArray& lam, Index B) {
  auto lam_v = as_vector(lam, "lam");
  require(lam_v.size() == B, "lam must have one value per column of y");
  require((lam_v.array() >= 0.0).all(), "lam must be >= 0");
  return lam_v;
}

// The warm start (B, P) as P x B columns, or an empty matrix for a cold start.
Matrix warm_start_columns(const std::optional<CArray>& X0t, Index B, Index P) {
  return X0t ? batch_columns(*X0t, "warm_start", B, P) : Matrix();
}

template <class Op>
py::dict solve(const Op& op, const CArray& Yt, const CArray& lam, const std::optional<CArray>& X0t, const Basis& basis,
               double tol, Index max_iter, double lipschitz, int n_threads) {
  require_ndim(Yt, 2, "y");
  require_finite_array(Yt, "y");
  const Index B = Yt.shape(0), M = Yt.shape(1), P = op.cols();
  require(M == op.rows(), "y must have M = " + std::to_string(op.rows()) + " entries per column");
  const auto lam_v = checked_lam(lam, B);
  require(tol >= 0.0, "tol must be >= 0");
  require(std::isfinite(lipschitz) && lipschitz >= 0.0, "lipschitz must be finite and >= 0 (0 = estimate it)");
  require(max_iter >= 0, "max_iter must be >= 0");
  Eigen::Map<const Matrix> Y(Yt.data(), M, B);
  const Matrix X0 = warm_start_columns(X0t, B, P);
  const LassoOptions opt = lasso_options(tol, max_iter, lipschitz, n_threads);
  LassoOutput res;
  {
    py::gil_scoped_release release;
    const BasisOperator<Op> APsi(op, basis);
    res = lasso_fista(APsi, Y, lam_v, X0, opt);
  }
  return lasso_output_dict(res);
}

py::dict solve_working_set(const CArray& A, const CArray& Yt, const CArray& lam, const std::optional<CArray>& X0t,
                           double tol, Index max_iter, Index p0, int n_threads) {
  auto a = as_matrix(A, "A");
  require_ndim(Yt, 2, "y");
  require_finite_array(Yt, "y");
  const Index B = Yt.shape(0), M = Yt.shape(1), P = a.cols();
  require(M == a.rows(), "y must have M = " + std::to_string(a.rows()) + " entries per column");
  const auto lam_v = checked_lam(lam, B);
  require(tol >= 0.0, "tol must be >= 0");
  require(max_iter >= 0, "max_iter must be >= 0");
  require(p0 >= 1, "p0 must be >= 1");
  Eigen::Map<const Matrix> Y(Yt.data(), M, B);
  const Matrix X0 = warm_start_columns(X0t, B, P);
  const LassoOptions opt = lasso_options(tol, max_iter, 0.0, n_threads);
  WorkingSetOptions ws;
  ws.p0 = p0;
  LassoOutput res;
  {
    py::gil_scoped_release release;
    res = lasso_working_set(a, Y, lam_v, X0, opt, ws);
  }
  return lasso_output_dict(res);
}

}  // namespace

FASTMEM_REGISTER(lasso) {
  m.def(
      "lasso_dense",
      [](const CArray& A, const CArray& Yt, const CArray& lam, std::optional<CArray> X0t, const std::string& basis_kind,
         std::optional<CArray> basis, Index L, double tol, Index max_iter, double lipschitz, int n_threads) {
        auto a = as_matrix(A, "A");
        const DenseOperator op(a);
        const Basis psi = make_basis(basis_kind, basis, L);
        return solve(op, Yt, lam, X0t, psi, tol, max_iter, lipschitz, n_threads);
      },
      py::arg("A"), py::arg("Yt"), py::arg("lam"), py::arg("X0t") = py::none(), py::arg("basis_kind") = "identity",
      py::arg("basis") = py::none(), py::arg("L") = 1, py::arg("tol") = 1e-6, py::arg("max_iter") = 10000,
      py::arg("lipschitz") = 0.0, py::arg("n_threads") = 0,
      "FISTA LASSO on dense A for Yt (B, M): minimise 0.5||y_b - A Psi x||^2 + lam_b ||x||_1 per column.");
  m.def("lasso_working_set", &solve_working_set, py::arg("A"), py::arg("Yt"), py::arg("lam"), py::arg("X0t") = py::none(),
        py::arg("tol") = 1e-6, py::arg("max_iter") = 10000, py::arg("p0") = 100, py::arg("n_threads") = 0,
        "LASSO on dense A by working sets with an inner Gram-form FISTA and support polish; Yt (B, M).");
  m.def(
      "lasso_network",
      [](const NetworkOperator& op, const CArray& Yt, const CArray& lam, std::optional<CArray> X0t,
         const std::string& basis_kind, std::optional<CArray> basis, Index L, double tol, Index max_iter,
         double lipschitz, int n_threads) {
        const Basis psi = make_basis(basis_kind, basis, L);
        return solve(op, Yt, lam, X0t, psi, tol, max_iter, lipschitz, n_threads);
      },
      py::arg("op"), py::arg("Yt"), py::arg("lam"), py::arg("X0t") = py::none(), py::arg("basis_kind") = "identity",
      py::arg("basis") = py::none(), py::arg("L") = 1, py::arg("tol") = 1e-6, py::arg("max_iter") = 10000,
      py::arg("lipschitz") = 0.0, py::arg("n_threads") = 0,
      "FISTA LASSO on the matrix-free network operator (see lasso_dense).");
}
