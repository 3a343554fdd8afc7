// Bindings for the block-Toeplitz Gram operator of scaled-orthogonal networks
// (fastmem/toeplitz_gram.hpp) and the Gram-form LASSO / nuclear-norm solvers on it
// (fastmem/gram_solvers.hpp). Batches travel as (B, P) C-ordered arrays = P x B columns.
#include <optional>
#include "arrays.hpp"
#include "lasso_output.hpp"
#include "fastmem/gram_solvers.hpp"
#include "fastmem/lasso_toeplitz.hpp"
#include "fastmem/operators.hpp"
#include "fastmem/toeplitz_gram.hpp"
#include "registry.hpp"

namespace py = pybind11;
using namespace fastmem;
using namespace fastmem::bindings;

namespace {

py::array_t<double> batch_array(const Matrix& X) {
  py::array_t<double> out({X.cols(), X.rows()});
  Eigen::Map<Matrix>(out.mutable_data(), X.rows(), X.cols()) = X;
  return out;
}


struct GramInputs {
  Matrix Q, X0, reference;
  Vector yy, lam;
  SettleRule settle;
};

GramInputs gram_inputs(const ToeplitzGram& G, const CArray& AtY, const CArray& yy, const CArray& lam,
                       const std::optional<CArray>& X0, double tol, Index max_iter, double lipschitz,
                       const std::optional<CArray>& reference, double settle_tol, Index settle_every) {
  require_ndim(AtY, 2, "AtY");
  const Index B = AtY.shape(0), P = G.rows();
  GramInputs in;
  in.Q = batch_columns(AtY, "AtY", B, P);
  in.yy = as_vector(yy, "yy");
  in.lam = as_vector(lam, "lam");
  require(in.yy.size() == B, "yy must have one value per row of AtY");
  require(in.lam.size() == B, "lam must have one value per row of AtY");
  require((in.lam.array() >= 0.0).all(), "lam must be >= 0");
  require((in.yy.array() >= 0.0).all(), "yy must be >= 0");
  if (X0) in.X0 = batch_columns(*X0, "X0", B, P);
  require(std::isfinite(tol) && tol >= 0.0, "tol must be finite and >= 0");
  require(max_iter >= 0, "max_iter must be >= 0");
  require(std::isfinite(lipschitz) && lipschitz >= 0.0, "lipschitz must be finite and >= 0 (0 = estimate it)");
  require(std::isfinite(settle_tol) && settle_tol >= 0.0, "settle_tol must be finite and >= 0");
  require(settle_every >= 1, "settle_every must be >= 1");
  if (reference) {
    in.reference = batch_columns(*reference, "reference", B, P);
    in.settle.reference = &in.reference;
  }
  in.settle.tol = settle_tol;
  in.settle.every = settle_every;
  return in;
}

py::array_t<bool> flags(const std::vector<char>& v) {
  py::array_t<bool> out(Index(v.size()));
  for (size_t b = 0; b < v.size(); ++b) out.mutable_at(b) = v[b] != 0;
  return out;
}

py::dict lasso_gram_py(const ToeplitzGram& G, const CArray& AtY, const CArray& yy, const CArray& lam,
                       std::optional<CArray> X0, double tol, Index max_iter, double lipschitz,
                       std::optional<CArray> reference, double settle_tol, Index settle_every, int n_threads) {
  GramInputs in = gram_inputs(G, AtY, yy, lam, X0, tol, max_iter, lipschitz, reference, settle_tol, settle_every);
  if (reference) in.settle.reference = &in.reference;
  std::vector<char> settled;
  const LassoOptions opt = lasso_options(tol, max_iter, lipschitz, n_threads);
  LassoOutput res;
  {
    py::gil_scoped_release release;
    res = lasso_gram(G, in.Q, in.yy, in.lam, in.X0, opt, in.settle, &settled);
  }
  py::dict d = lasso_output_dict(res);
  d["settled"] = flags(settled);
  return d;
}

// Working sets on the Toeplitz Gram (identity basis): coordinate descent + Newton inner solves.
py::dict lasso_working_set_gram_py(const ToeplitzGram& G, const CArray& AtY, const CArray& yy, const CArray& lam,
                                   std::optional<CArray> X0, double tol, Index max_iter, Index p0, int n_threads,
                                   Index max_size) {
  require(G.has_entries(), "the working-set Gram LASSO needs the identity basis (no temporal basis)");
  GramInputs in = gram_inputs(G, AtY, yy, lam, X0, tol, max_iter, 0.0, std::nullopt, 0.0, 1);
  require(p0 >= 1, "p0 must be >= 1");
  const LassoOptions opt = lasso_options(tol, max_iter, 0.0, n_threads);
  require(max_size >= -1, "max_size must be -1 (automatic), 0 (no limit) or a number of columns");
  WorkingSetOptions ws;
  ws.p0 = p0;
  ws.max_size = max_size;
  LassoOutput res;
  {
    py::gil_scoped_release release;
    res = lasso_toeplitz(G, in.Q, in.yy, in.lam, in.X0, opt, ws);
  }
  return lasso_output_dict(res);
}

py::dict nuclear_norm_gram_py(const ToeplitzGram& G, const CArray& AtY, const CArray& yy, const CArray& lam,
                              std::optional<CArray> X0, double tol, Index max_iter, double lipschitz, bool restart,
                              std::optional<CArray> reference, double settle_tol, Index settle_every, int n_threads,
                              double greedy, double continuation, double stage_tol) {
  GramInputs in = gram_inputs(G, AtY, yy, lam, X0, tol, max_iter, lipschitz, reference, settle_tol, settle_every);
  if (reference) in.settle.reference = &in.reference;
  std::vector<char> settled;
  NuclearNormOptions opt;
  opt.tol = tol;
  opt.max_iter = max_iter;
  opt.lipschitz = lipschitz;
  opt.restart = restart;
  opt.threads = checked_threads(n_threads);
  set_acceleration(opt, greedy, continuation, stage_tol);
  NuclearNormResult r;
  {
    py::gil_scoped_release release;
    r = nuclear_norm_gram(G, in.Q, in.yy, in.lam, G.steps(), G.inputs(), in.X0, opt, in.settle, &settled);
  }
  py::dict d;
  d["coef"] = batch_array(r.X);
  d["objective"] = values(r.objective);
  d["residual_norm"] = values(r.residual_norm);
  d["nuclear_norm"] = values(r.nuclear_norm);
  d["rank"] = values(r.rank);
  d["iterations"] = values(r.iterations);
  d["converged"] = values(r.converged);
  d["settled"] = flags(settled);
  d["lipschitz"] = r.lipschitz;
  return d;
}

}  // namespace

FASTMEM_REGISTER(gram) {
  m.def(
      "orthogonal_scale",
      [](const NetworkOperator& op) {
        py::gil_scoped_release release;
        return orthogonal_scale(op.recurrence());
      },
      py::arg("op"), "q when the operator's W satisfies W^T W = q^2 I (to 1e-10), else 0.");

  py::class_<ToeplitzGram>(m, "ToeplitzGram",
                           "G = A^T A of a network whose W is a scaled orthogonal matrix, applied as a block-Toeplitz "
                           "convolution in time (O(N L (N + L)) per column, independent of M).")
      .def(py::init([](const NetworkOperator& op, std::optional<CArray> basis, int n_threads) {
             const double q = orthogonal_scale(op.recurrence());
             require(q > 0.0, "W is not a scaled orthogonal matrix (W^T W = q^2 I): its Gram matrix is not block-Toeplitz");
             Matrix psi;
             if (basis) {
               auto b = as_matrix(*basis, "basis");
               require(b.rows() == op.steps() && b.cols() == op.steps(), "basis must be (N, N)");
               psi = b;
             }
             const int threads = checked_threads(n_threads);
             py::gil_scoped_release release;
             return ToeplitzGram(op.recurrence(), op.input_matrix(), op.steps(), q, psi, threads);
           }),
           py::arg("op"), py::arg("basis") = py::none(), py::arg("n_threads") = 0)
      .def_property_readonly("shape", [](const ToeplitzGram& G) { return py::make_tuple(G.rows(), G.cols()); })
      .def_property_readonly("scale", &ToeplitzGram::scale)
      .def(
          "apply",
          [](const ToeplitzGram& G, const CArray& X, int n_threads) {
            require_ndim(X, 2, "X");
            const Matrix x = batch_columns(X, "X", X.shape(0), G.cols());
            Matrix out(G.rows(), x.cols());
            {
              py::gil_scoped_release release;
              G.apply(x, out, checked_threads(n_threads));
            }
            return batch_array(out);
          },
          py::arg("X"), py::arg("n_threads") = 0, "G @ x for each row x of X (B, P); returns (B, P).")
      .def("to_dense", [](const ToeplitzGram& G) {
        require_allocation(double(G.rows()) * double(G.cols()), "to_dense: G (N*L x N*L)");
        return batch_array(G.to_dense());
      });

  m.def("lasso_gram", &lasso_gram_py, py::arg("G"), py::arg("AtY"), py::arg("yy"), py::arg("lam"),
        py::arg("X0") = py::none(), py::arg("tol") = 1e-6, py::arg("max_iter") = 10000, py::arg("lipschitz") = 0.0,
        py::arg("reference") = py::none(), py::arg("settle_tol") = 0.0, py::arg("settle_every") = 10,
        py::arg("n_threads") = 0,
        "FISTA LASSO in Gram form: minimise 0.5 yy_b - x.AtY_b + 0.5 x.G x + lam_b |x|_1 per row b of AtY (B, P).");
  m.def("lasso_working_set_gram", &lasso_working_set_gram_py, py::arg("G"), py::arg("AtY"), py::arg("yy"),
        py::arg("lam"), py::arg("X0") = py::none(), py::arg("tol") = 1e-6, py::arg("max_iter") = 10000,
        py::arg("p0") = 100, py::arg("n_threads") = 0, py::arg("max_size") = -1,
        "Working-set LASSO in Gram form (identity basis): minimise 0.5 yy_b - x.AtY_b + 0.5 x.G x + lam_b |x|_1 "
        "per row b of AtY (B, P), columns of G looked up from its Toeplitz blocks. A column whose support passes "
        "max_size non-zeros (-1: where FISTA on all of G gets cheaper, sqrt(apply_cost / 2) when that is >= 256; "
        "0: never) is solved by Gram-form FISTA (lasso_gram) from X0 instead.");
  m.def("nuclear_norm_gram", &nuclear_norm_gram_py, py::arg("G"), py::arg("AtY"), py::arg("yy"), py::arg("lam"),
        py::arg("X0") = py::none(), py::arg("tol") = 1e-6, py::arg("max_iter") = 10000, py::arg("lipschitz") = 0.0,
        py::arg("restart") = true, py::arg("reference") = py::none(), py::arg("settle_tol") = 0.0,
        py::arg("settle_every") = 10, py::arg("n_threads") = 0, py::arg("greedy") = 0.0,
        py::arg("continuation") = 0.0, py::arg("stage_tol") = 1e-3,
        "FISTA + SVT in Gram form: minimise 0.5 yy_b - x.AtY_b + 0.5 x.G x + lam_b ||S||_* (x = vec S, S (N, L)).");
}
