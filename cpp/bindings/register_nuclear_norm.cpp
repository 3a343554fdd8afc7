// Bindings for nuclear-norm recovery (FISTA + singular value thresholding), for a dense A
// or the matrix-free NetworkOperator.
#include <optional>
#include <type_traits>
#include "arrays.hpp"
#include "fastmem/nuclear_norm.hpp"
#include "fastmem/nuclear_norm_dr.hpp"
#include "registry.hpp"

namespace py = pybind11;
using namespace fastmem;
using namespace fastmem::bindings;

namespace {

SvdMethod parse_svd(const std::string& s) {
  if (s == "gram") return SvdMethod::gram;
  if (s == "bdc") return SvdMethod::bdc;
  if (s == "jacobi") return SvdMethod::jacobi;
  throw std::invalid_argument("svd must be 'gram', 'bdc' or 'jacobi', got '" + s + "'");
}

// Calls f(op) with the operator A stands for: a NetworkOperator, or a dense (M, P) array.
// A is taken as py::object (it may be either), so its conversion is checked here, with
// messages naming A: a typed CArray argument would get pybind11's generic ones.
template <class F>
auto with_operator(const py::object& A, F&& f) {
  if (py::isinstance<NetworkOperator>(A)) return f(A.cast<const NetworkOperator&>());
  if (A.is_none()) throw py::type_error("A must be a float64 array (M, N*L) or a NetworkOperator, got None");
  if (py::isinstance<py::array>(A)) {
    const py::array a = py::reinterpret_borrow<py::array>(A);
    const char kind = a.dtype().kind();
    if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b')
      throw py::type_error("A must be a real numeric array (M, N*L) or a NetworkOperator, got dtype kind '" +
                           std::string(1, kind) + "'");
    // a broadcast view can stand for far more memory than it occupies: refuse before the copy
    require_allocation(double(a.size()), "A as a C-contiguous float64 array");
  }
  CArray arr;
  try {
    arr = py::cast<CArray>(A);
  } catch (const py::cast_error&) {
    throw py::type_error("A must be a float64 array (M, N*L) or a NetworkOperator, got " +
                         std::string(py::str(py::type::of(A).attr("__name__"))));
  } catch (py::error_already_set& e) {  // numpy's own conversion error (ragged lists, strings)
    throw py::type_error("A must be a float64 array (M, N*L) or a NetworkOperator: " + std::string(e.what()));
  }
  if (!arr) throw py::type_error("A must be a float64 array (M, N*L) or a NetworkOperator");
  auto a = as_matrix(arr, "A");
  return f(DenseOperator(a));
}

// y has one row per row of A; A has N*L columns.
template <class Op>
void check_operator_shape(const Op& op, Index M, Index P) {
  require(op.rows() == M, "y must have M = " + std::to_string(op.rows()) + " rows");
  require(op.cols() == P, "A must have N*L = " + std::to_string(P) + " columns, got " + std::to_string(op.cols()));
}

// The dict both solvers return: S (B, N, L), objective, residual_norm, nuclear_norm, rank,
// iterations, converged (B,), lipschitz.
py::dict result_dict(const NuclearNormResult& r, Index B, Index N, Index L) {
  py::array_t<double> S({B, N, L});
  std::copy(r.X.data(), r.X.data() + r.X.size(), S.mutable_data());
  py::dict out;
  out["S"] = S;
  out["objective"] = values(r.objective);
  out["residual_norm"] = values(r.residual_norm);
  out["nuclear_norm"] = values(r.nuclear_norm);
  out["rank"] = values(r.rank);
  out["iterations"] = values(r.iterations);
  out["converged"] = values(r.converged);
  out["lipschitz"] = r.lipschitz;
  return out;
}

py::dict nuclear_norm_py(const py::object& A, const CArray& Y, const CArray& lam, Index N, Index L,
                         std::optional<CArray> S0, double tol, Index max_iter, double lipschitz,
                         const std::string& svd, bool restart, int n_threads, double greedy, double continuation,
                         double stage_tol) {
  require(N >= 1 && L >= 1, "N and L must be >= 1");
  auto y = as_matrix(Y, "y");  // (M, B) row-major
  auto lv = as_vector(lam, "lam");
  const Index M = y.rows(), B = y.cols(), P = N * L;
  require(lv.size() == B, "lam must have one value per column of y");
  NuclearNormOptions opt;
  opt.tol = tol;
  opt.max_iter = max_iter;
  opt.lipschitz = lipschitz;
  opt.svd = parse_svd(svd);
  opt.restart = restart;
  opt.threads = checked_threads(n_threads);
  set_acceleration(opt, greedy, continuation, stage_tol);
  require(std::isfinite(tol) && tol >= 0.0, "tol must be finite and >= 0");
  require(max_iter >= 0, "max_iter must be >= 0");
  require(std::isfinite(lipschitz) && lipschitz >= 0.0, "lipschitz must be finite and >= 0 (0 = estimate)");
  Matrix ycols = y;  // column-major M x B
  Vector lamv = lv;
  const Matrix x0 = S0 ? batch_columns(*S0, "S0", B, P) : Matrix();
  NuclearNormResult r = with_operator(A, [&](const auto& op) {
    check_operator_shape(op, M, P);
    py::gil_scoped_release release;
    return nuclear_norm_fista(op, ycols, lamv, N, L, S0 ? &x0 : nullptr, opt);
  });
  return result_dict(r, B, N, L);
}

// Douglas-Rachford + Anderson (fastmem/nuclear_norm_dr.hpp); K = A A^T (M, M) from the caller.
py::dict nuclear_norm_dr_py(const py::object& A, const CArray& Y, const CArray& lam, Index N, Index L, const CArray& K,
                            std::optional<CArray> S0, double tol, Index max_iter, const std::string& svd, int memory,
                            int n_threads) {
  require(N >= 1 && L >= 1, "N and L must be >= 1");
  auto y = as_matrix(Y, "y");
  auto lv = as_vector(lam, "lam");
  const Index M = y.rows(), B = y.cols(), P = N * L;
  require(lv.size() == B, "lam must have one value per column of y");
  require((lv.array() >= 0.0).all() && lv.allFinite(), "lam must be finite and >= 0");
  require(std::isfinite(tol) && tol >= 0.0, "tol must be finite and >= 0");
  require(max_iter >= 0, "max_iter must be >= 0");
  require(memory >= 0 && memory <= 100, "memory must be in [0, 100]");
  require_ndim(K, 2, "K");
  require(K.shape(0) == M && K.shape(1) == M, "K must have shape (M, M) = (" + std::to_string(M) + ", " +
                                                  std::to_string(M) + ")");
  require_finite_array(K, "K");
  const Matrix Km = Eigen::Map<const RowMatrix>(K.data(), M, M);
  NuclearNormOptions opt;
  opt.tol = tol;
  opt.max_iter = max_iter;
  opt.svd = parse_svd(svd);
  opt.threads = checked_threads(n_threads);
  DouglasRachfordOptions dro;
  dro.memory = memory;
  Matrix ycols = y;
  Vector lamv = lv;
  const Matrix x0 = S0 ? batch_columns(*S0, "S0", B, P) : Matrix();
  NuclearNormResult r = with_operator(A, [&](const auto& op) {
    check_operator_shape(op, M, P);
    py::gil_scoped_release release;
    if constexpr (std::is_same_v<std::decay_t<decltype(op)>, NetworkOperator>) {
      if (!op.recurrence().is_dense()) {  // the same products, arranged for one column at a time
        const BlockNetworkColumns cols(op.recurrence(), op.input_matrix(), op.steps());
        return nuclear_norm_dr(cols, Km, ycols, lamv, N, L, S0 ? &x0 : nullptr, opt, dro);
      }
    }
    return nuclear_norm_dr(op, Km, ycols, lamv, N, L, S0 ? &x0 : nullptr, opt, dro);
  });
  return result_dict(r, B, N, L);
}

py::array_t<double> network_outer_gram_py(const NetworkOperator& op) {
  Matrix K;
  {
    py::gil_scoped_release release;
    K = network_outer_gram(op.recurrence(), op.input_matrix(), op.steps());
  }
  py::array_t<double> out({K.rows(), K.cols()});
  Eigen::Map<RowMatrix>(out.mutable_data(), K.rows(), K.cols()) = K;
  return out;
}

double operator_norm_squared_py(const py::object& A, int n_threads) {
  const int threads = checked_threads(n_threads);
  return with_operator(A, [&](const auto& op) {
    py::gil_scoped_release release;
    return operator_norm_squared(op, threads);
  });
}

py::tuple svt_py(const CArray& S, const CArray& tau, const std::string& svd, int n_threads) {
  require_ndim(S, 3, "S");
  require_finite_array(S, "S");
  auto tv = as_vector(tau, "tau");
  const Index B = S.shape(0), N = S.shape(1), L = S.shape(2);
  require(tv.size() == B, "tau must have one value per matrix");
  require((tv.array() >= 0.0).all(), "tau must be >= 0");
  const SvdMethod method = parse_svd(svd);
  const int threads = resolve_threads(checked_threads(n_threads));
  py::array_t<double> out({B, N, L});
  Vector nuc(B);
  Eigen::VectorXi rank(B);
  const double* in = S.data();
  double* o = out.mutable_data();
  {
    py::gil_scoped_release release;
#pragma omp parallel num_threads(threads) if (threads > 1 && B > 1)
    {
      SingularValueThreshold svt(method);
#pragma omp for schedule(static)
      for (Index b = 0; b < B; ++b) {
        // (N, L) row-major = L x N column-major (S^T): same singular values, D_tau commutes with ^T.
        Eigen::Map<const Matrix> z(in + b * N * L, L, N);
        Eigen::Map<Matrix> res(o + b * N * L, L, N);
        const SvtStats s = svt(z, tv[b], res);
        nuc[b] = s.nuclear;
        rank[b] = int(s.rank);
      }
    }
  }
  return py::make_tuple(out, values(nuc), values(rank));
}

}  // namespace

FASTMEM_REGISTER(nuclear_norm) {
  m.def("nuclear_norm_fista", &nuclear_norm_py, py::arg("A"), py::arg("y"), py::arg("lam"), py::arg("N"),
        py::arg("L"), py::arg("S0") = py::none(), py::arg("tol") = 1e-6, py::arg("max_iter") = 10000,
        py::arg("lipschitz") = 0.0, py::arg("svd") = "gram", py::arg("restart") = true, py::arg("n_threads") = 0,
        py::arg("greedy") = 0.0, py::arg("continuation") = 0.0, py::arg("stage_tol") = 1e-3,
        "FISTA + SVT for min 0.5||y_b - A vec(S_b)||^2 + lam_b ||S_b||_*; y (M, B), lam (B,), S0 (B, N*L). "
        "A: dense (M, N*L) array or NetworkOperator. Returns a dict.");
  m.def("nuclear_norm_dr", &nuclear_norm_dr_py, py::arg("A"), py::arg("y"), py::arg("lam"), py::arg("N"),
        py::arg("L"), py::arg("K"), py::arg("S0") = py::none(), py::arg("tol") = 1e-6, py::arg("max_iter") = 10000,
        py::arg("svd") = "gram", py::arg("memory") = 10, py::arg("n_threads") = 0,
        "Nuclear-norm recovery by Douglas-Rachford + Anderson acceleration; K = A A^T (M, M). Returns a dict.");
  m.def("network_outer_gram", &network_outer_gram_py, py::arg("op"),
        "K = A A^T (M, M) of a NetworkOperator, by doubling (O(M^2 log N) for a block-diagonal W).");
  m.def("operator_norm_squared", &operator_norm_squared_py, py::arg("A"), py::arg("n_threads") = 0,
        "||A||_2^2 by Lanczos on A^T A (a slight over-estimate: top Ritz value + residual bound).");
  m.def("singular_value_threshold", &svt_py, py::arg("S"), py::arg("tau"), py::arg("svd") = "gram",
        py::arg("n_threads") = 0,
        "D_tau(S_b) = U max(Sigma - tau_b, 0) V^T for S (B, N, L). Returns (out, nuclear norms, ranks).");
}
