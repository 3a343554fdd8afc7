// What every LASSO binding shares: its LassoOptions from the Python arguments, and its
// LassoOutput (P x B coefficients) as the dict it returns: coef (B, P), objective, gap,
// iterations, converged (B,), lipschitz.
#pragma once
#include "arrays.hpp"
#include "fastmem/lasso.hpp"

namespace fastmem::bindings {

// lipschitz 0 = estimate it (the solvers that take no lipschitz argument leave it 0).
inline LassoOptions lasso_options(double tol, Index max_iter, double lipschitz, int n_threads) {
  LassoOptions opt;
  opt.tol = tol;
  opt.max_iter = max_iter;
  opt.lipschitz = lipschitz;
  opt.threads = checked_threads(n_threads);
  return opt;
}

inline py::dict lasso_output_dict(const LassoOutput& res) {
  const Index P = res.coef.rows(), B = res.coef.cols();
  py::array_t<double> coef({B, P});
  Eigen::Map<Matrix>(coef.mutable_data(), P, B) = res.coef;
  py::array_t<bool> conv(B);
  for (Index b = 0; b < B; ++b) conv.mutable_at(b) = res.converged[size_t(b)] != 0;
  py::dict d;
  d["coef"] = coef;
  d["objective"] = py::array_t<double>(B, res.objective.data());
  d["gap"] = py::array_t<double>(B, res.gap.data());
  d["iterations"] = py::array_t<int>(B, res.iterations.data());
  d["converged"] = conv;
  d["lipschitz"] = res.lipschitz;
  return d;
}

}  // namespace fastmem::bindings
