// Bindings for the fixed/slow-point finder of the tanh map (fixed_points.hpp).
#include <pybind11/complex.h>
#include "arrays.hpp"
#include "fastmem/fixed_points.hpp"
#include "registry.hpp"

namespace py = pybind11;
using namespace fastmem;
using namespace fastmem::bindings;

namespace {

Eigen::Map<const RowMatrix> square_matrix(const CArray& W) {
  auto w = as_matrix(W, "W");
  require(w.rows() == w.cols() && w.rows() >= 1,
          "W must be square and non-empty, got (" + std::to_string(w.rows()) + ", " + std::to_string(w.cols()) + ")");
  return w;
}

py::dict find_fixed_points_py(const CArray& W, const CArray& c, const CArray& S0, double tol_q, double tol_grad,
                              double tol_step, int max_iter, double rcond_min, int max_halvings, int chord_steps, bool polish, Index share_batch,
                              double share_tol, double share_radius, double share_decrease, bool merge, int n_threads) {
  auto w = square_matrix(W);
  const Index N = w.rows();
  auto cv = as_vector(c, "c");
  require(cv.size() == N, "c must have length " + std::to_string(N));
  auto s0 = as_matrix(S0, "initial_states");
  require(s0.cols() == N, "initial_states must have shape (K, " + std::to_string(N) + ")");
  require(tol_q >= 0, "tol_q must be >= 0");  // (also false for NaN)
  require(tol_grad >= 0, "tol_grad must be >= 0");
  require(tol_step >= 0, "tol_step must be >= 0");
  require(rcond_min >= 0, "rcond_min must be >= 0");
  require(max_iter >= 0, "max_iter must be >= 0");
  require(max_halvings >= 0 && max_halvings <= 60, "max_halvings must be in [0, 60]");
  const int threads = checked_threads(n_threads);
  FixedPointSettings opt;
  opt.tol_q = tol_q;
  opt.tol_grad = tol_grad;
  opt.tol_step = tol_step;
  opt.max_iter = max_iter;
  opt.rcond_min = rcond_min;
  opt.max_halvings = max_halvings;
  opt.polish = polish;
  require(chord_steps >= 0, "chord_steps must be >= 0");
  opt.chord_steps = chord_steps;
  require(share_batch >= 0, "share_batch must be >= 0");
  require(share_tol >= 0, "share_tol must be >= 0");
  require(share_radius >= 0, "share_radius must be >= 0");
  opt.share_radius = share_radius;
  require(share_decrease > 0 && share_decrease <= 1, "share_decrease must be in (0, 1]");
  opt.share_decrease = share_decrease;
  opt.merge = merge;
  const Index K = s0.rows();
  py::array_t<double> points({K, N});
  py::array_t<double> q(K), grad(K);
  py::array_t<int> iters(K), status(K), facts(K), merged(K);
  Eigen::Map<RowMatrix>(points.mutable_data(), K, N) = s0;
  double* pp = points.mutable_data();
  double* qp = q.mutable_data();
  double* gp = grad.mutable_data();
  int* ip = iters.mutable_data();
  int* sp = status.mutable_data();
  int* fp = facts.mutable_data();
  int* mp = merged.mutable_data();
  const Vector cvec = cv;
  {
    py::gil_scoped_release release;
    find_fixed_points(w, cvec, pp, K, opt, qp, gp, ip, sp, threads, share_batch, share_tol, fp, mp);
  }
  py::dict out;
  out["points"] = points;
  out["q"] = q;
  out["grad_norm"] = grad;
  out["iterations"] = iters;
  out["status"] = status;
  out["factorisations"] = facts;
  out["merged"] = merged;
  return out;
}

py::array_t<std::complex<double>> map_jacobian_eigenvalues_py(const CArray& W, const CArray& S, int n_threads) {
  auto w = square_matrix(W);
  const Index N = w.rows();
  auto s = as_matrix(S, "points");
  require(s.cols() == N, "points must have shape (K, " + std::to_string(N) + ")");
  const int threads = checked_threads(n_threads);
  const Index K = s.rows();
  py::array_t<std::complex<double>> eig({K, N});
  std::complex<double>* ep = eig.mutable_data();
  const double* sp = s.data();
  {
    py::gil_scoped_release release;
    map_jacobian_eigenvalues(w, sp, K, ep, threads);
  }
  return eig;
}

}  // namespace

FASTMEM_REGISTER(fixed_points) {
  m.def("find_fixed_points", &find_fixed_points_py, py::arg("W"), py::arg("c"), py::arg("initial_states"),
        py::arg("tol_q") = 1e-12, py::arg("tol_grad") = 1e-10, py::arg("tol_step") = 1e-12, py::arg("max_iter") = 200,
        py::arg("rcond_min") = 1e-8, py::arg("max_halvings") = 4, py::arg("chord_steps") = 8, py::arg("polish") = true, py::arg("share_batch") = 0,
        py::arg("share_tol") = 1e-6, py::arg("share_radius") = std::numeric_limits<double>::infinity(),
        py::arg("share_decrease") = 0.25, py::arg("merge") = true,
        py::arg("n_threads") = 0,
        "Minimise q(S) = 1/2 |tanh(W S + c) - S|^2 from each row of initial_states (chord/Newton with line search, "
        "Levenberg-Marquardt where J is near singular). Returns a dict: points, q, grad_norm, iterations, factorisations, status "
        "(0 fixed: q < tol_q, 1 stationary: |grad q| < tol_grad, 2 no progress, 3 max_iter). share_batch > 0: states "
        "in batches of that size, later batches reuse the factorised Jacobians of fixed points found earlier; with merge, "
        "a search that enters the certified basin of such a point stops there and returns that point (merged: the index of "
        "the initial state whose search found it; -2 - j for the mirror -p (library entry j) of such a point when c = 0, "
        "the map then being odd; "
        "else -1).");
  m.def("map_jacobian_eigenvalues", &map_jacobian_eigenvalues_py, py::arg("W"), py::arg("points"),
        py::arg("n_threads") = 0,
        "Eigenvalues of diag(1 - S^2) W for each row S of points, (K, N) complex, sorted by decreasing modulus.");
}
