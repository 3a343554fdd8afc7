// Bindings for the random network of eq. (1): propagate, measurement_operator and
// the matrix-free NetworkOperator.
#include <optional>
#include "arrays.hpp"
#include "fastmem/operators.hpp"
#include "registry.hpp"

namespace py = pybind11;
using namespace fastmem;
using namespace fastmem::bindings;

namespace {

Nonlinearity parse_nonlinearity(const std::string& f) {
  if (f == "linear") return Nonlinearity::linear;
  if (f == "tanh") return Nonlinearity::tanh;
  throw std::invalid_argument("nonlinearity must be 'linear' or 'tanh', got '" + f + "'");
}

py::tuple propagate_py(const CArray& W, const CArray& Z, const CArray& S, std::optional<CArray> x0,
                       std::optional<CArray> noise, const std::string& nonlinearity, bool return_states,
                       const std::string& structure, int n_threads) {
  const Recurrence rec = make_recurrence(W, structure);
  auto z = as_matrix(Z, "Z");
  require_ndim(S, 3, "S");
  require_finite_array(S, "S");
  const Index M = rec.size(), L = z.cols(), B = S.shape(0), N = S.shape(1);
  require(z.rows() == M, "Z must have shape (M, L) with M = " + std::to_string(M));
  require(S.shape(2) == L, "S must have shape (B, N, L) with L = " + std::to_string(L));
  require_allocation(double(B) * double(return_states ? N : 1) * double(M), "propagate's states for this S");
  const double* x0p = nullptr;
  if (x0) {
    require_ndim(*x0, 2, "x0");
    require(x0->shape(0) == B && x0->shape(1) == M, "x0 must have shape (B, M)");
    require_finite_array(*x0, "x0");
    x0p = x0->data();
  }
  const double* noisep = nullptr;
  if (noise) {
    require_ndim(*noise, 3, "noise");
    require(noise->shape(0) == B && noise->shape(1) == N && noise->shape(2) == M, "noise must have shape (B, N, M)");
    require_finite_array(*noise, "noise");
    noisep = noise->data();
  }
  const Nonlinearity f = parse_nonlinearity(nonlinearity);
  py::array_t<double> final_state({B, M});
  py::object states = py::none();
  double* statesp = nullptr;
  if (return_states) {
    py::array_t<double> st({B, N, M});
    statesp = st.mutable_data();
    states = st;
  }
  double* finalp = final_state.mutable_data();
  const double* Sp = S.data();
  {
    py::gil_scoped_release release;
    propagate(rec, z, Sp, B, N, x0p, noisep, f, statesp, finalp, checked_threads(n_threads));
  }
  return py::make_tuple(final_state, states);
}

py::array_t<double> measurement_operator_py(const CArray& W, const CArray& Z, Index N, const std::string& structure,
                                            int n_threads) {
  require(N >= 0, "N must be >= 0, got " + std::to_string(N));
  const Recurrence rec = make_recurrence(W, structure);
  auto z = as_matrix(Z, "Z");
  require(z.rows() == rec.size(), "Z must have shape (M, L) with M = " + std::to_string(rec.size()));
  require_allocation(double(rec.size()) * double(N) * double(z.cols()), "measurement_operator A (M x N*L) for this N");
  py::array_t<double> A({rec.size(), N * z.cols()});
  double* Ap = A.mutable_data();
  {
    py::gil_scoped_release release;
    measurement_operator(rec, z, N, Ap, checked_threads(n_threads));
  }
  return A;
}

// V (P x B) and Y (M x B) arrive C-ordered; the operators work column-major, so a
// C-ordered (P, B) array is handed over as its transpose's data (B x P col-major
// = P x B row-major) and copied once into column-major form.
Matrix columns_of(const CArray& a, const char* name, Index rows) {
  if (a.ndim() == 1) {
    require(a.shape(0) == rows, std::string(name) + " must have length " + std::to_string(rows));
    return Eigen::Map<const Vector>(a.data(), rows);
  }
  auto m = as_matrix(a, name, false);
  require(m.rows() == rows, std::string(name) + " must have " + std::to_string(rows) + " rows");
  return m;
}

py::array_t<double> to_numpy(const Matrix& m, bool vector) {
  if (vector) {
    py::array_t<double> out(m.rows());
    std::copy(m.data(), m.data() + m.rows(), out.mutable_data());
    return out;
  }
  py::array_t<double> out({m.rows(), m.cols()});
  Eigen::Map<RowMatrix>(out.mutable_data(), m.rows(), m.cols()) = m;
  return out;
}

}  // namespace

FASTMEM_REGISTER(network) {
  m.def("propagate", &propagate_py, py::arg("W"), py::arg("Z"), py::arg("S"), py::arg("x0") = py::none(),
        py::arg("noise") = py::none(), py::arg("nonlinearity") = "linear", py::arg("return_states") = false,
        py::arg("structure") = "dense", py::arg("n_threads") = 0,
        "Run x[n+1] = f(W x[n] + Z s[n] + eps[n]) for a batch S (B, N, L). Returns (x[N] (B, M), states (B, N, M) or None).");
  m.def("measurement_operator", &measurement_operator_py, py::arg("W"), py::arg("Z"), py::arg("N"),
        py::arg("structure") = "dense", py::arg("n_threads") = 0,
        "Dense A (M, N*L) with column block k = W^(N-1-k) Z.");

  py::class_<NetworkOperator>(m, "NetworkOperator",
                              "A of the network (W, Z, N), applied without forming it (A v runs the network, "
                              "A^T y runs its transpose backwards).")
      .def(py::init([](const CArray& W, const CArray& Z, Index N, const std::string& structure) {
             require(N >= 1, "N must be >= 1, got " + std::to_string(N));
             Recurrence rec = make_recurrence(W, structure);
             auto z = as_matrix(Z, "Z");
             require(z.rows() == rec.size(), "Z must have shape (M, L) with M = " + std::to_string(rec.size()));
             return NetworkOperator(std::move(rec), RowMatrix(z), N);
           }),
           py::arg("W"), py::arg("Z"), py::arg("N"), py::arg("structure") = "dense")
      .def_property_readonly("shape", [](const NetworkOperator& op) { return py::make_tuple(op.rows(), op.cols()); })
      .def_property_readonly("N", &NetworkOperator::steps)
      .def_property_readonly("structure",
                             [](const NetworkOperator& op) { return op.recurrence().is_dense() ? "dense" : "block_diagonal"; })
      .def(
          "apply",
          [](const NetworkOperator& op, const CArray& V, int n_threads) {
            require_finite_array(V, "V");
            Matrix v = columns_of(V, "V", op.cols());
            Matrix out(op.rows(), v.cols());
            {
              py::gil_scoped_release release;
              op.apply(v, out, checked_threads(n_threads));
            }
            return to_numpy(out, V.ndim() == 1);
          },
          py::arg("V"), py::arg("n_threads") = 0, "A @ V for V of shape (N*L,) or (N*L, B).")
      .def(
          "adjoint",
          [](const NetworkOperator& op, const CArray& Y, int n_threads) {
            require_finite_array(Y, "Y");
            Matrix y = columns_of(Y, "Y", op.rows());
            Matrix out(op.cols(), y.cols());
            {
              py::gil_scoped_release release;
              op.adjoint(y, out, checked_threads(n_threads));
            }
            return to_numpy(out, Y.ndim() == 1);
          },
          py::arg("Y"), py::arg("n_threads") = 0, "A.T @ Y for Y of shape (M,) or (M, B).")
      .def("to_dense", [](const NetworkOperator& op) {
        require_allocation(double(op.rows()) * double(op.cols()), "to_dense: A (M x N*L) for this N");
        py::array_t<double> A({op.rows(), op.cols()});
        Eigen::Map<RowMatrix>(A.mutable_data(), op.rows(), op.cols()) = op.to_dense();
        return A;
      });
}
