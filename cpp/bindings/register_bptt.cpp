// Bindings for the flip-flop tanh RNN: rnn_run (forward pass of long streams) and
// BpttTrainer (truncated BPTT + Adam, state kept in C++ between calls).
#include <optional>
#include "arrays.hpp"
#include "fastmem/bptt.hpp"
#include "registry.hpp"

namespace py = pybind11;
using namespace fastmem;
using namespace fastmem::bindings;

namespace {

std::string shape_str(Index r, Index c) { return "(" + std::to_string(r) + ", " + std::to_string(c) + ")"; }

RnnWeights make_weights(const CArray& W, const CArray& W_in, const CArray& W_out, const std::optional<CArray>& b,
                        const std::optional<CArray>& b_out) {
  RnnWeights w;
  auto w_ = as_matrix(W, "W");
  const Index N = w_.rows();
  require(N >= 1 && w_.cols() == N, "W must be square (N, N), got " + shape_str(w_.rows(), w_.cols()));
  auto wi = as_matrix(W_in, "W_in");
  require(wi.rows() == N, "W_in must have shape (N, n_in) with N = " + std::to_string(N));
  auto wo = as_matrix(W_out, "W_out");
  require(wo.cols() == N, "W_out must have shape (n_out, N) with N = " + std::to_string(N));
  w.W = w_;
  w.W_in = wi;
  w.W_out = wo;
  if (b) {
    auto v = as_vector(*b, "b");
    require(v.size() == N, "b must have length N = " + std::to_string(N));
    w.b = v;
  }
  if (b_out) {
    auto v = as_vector(*b_out, "b_out");
    require(v.size() == wo.rows(), "b_out must have length n_out = " + std::to_string(wo.rows()));
    w.b_out = v;
  }
  return w;
}

py::array_t<double> to_numpy(const Matrix& m) {
  py::array_t<double> out({m.rows(), m.cols()});
  Eigen::Map<RowMatrix>(out.mutable_data(), m.rows(), m.cols()) = m;
  return out;
}

py::array_t<double> to_numpy(const Vector& v) {
  py::array_t<double> out(v.size());
  std::copy(v.data(), v.data() + v.size(), out.mutable_data());
  return out;
}

py::dict weights_dict(const RnnWeights& w) {
  py::dict d;
  d["W"] = to_numpy(w.W);
  d["W_in"] = to_numpy(w.W_in);
  d["W_out"] = to_numpy(w.W_out);
  d["b"] = w.has_bias() ? py::object(to_numpy(w.b)) : py::none();
  d["b_out"] = w.has_out_bias() ? py::object(to_numpy(w.b_out)) : py::none();
  return d;
}

// X (B, T, n_in) and Y (B, T, n_out) for a trainer: shapes checked against it.
void check_stream(const BpttTrainer& tr, const CArray& X, const CArray& Y, Index T_min) {
  require_ndim(X, 3, "X");
  require_ndim(Y, 3, "Y");
  const auto& w = tr.weights();
  require(X.shape(0) == tr.batch() && X.shape(2) == w.inputs(),
          "X must have shape (batch, T, n_in) = (" + std::to_string(tr.batch()) + ", T, " +
              std::to_string(w.inputs()) + ")");
  require(Y.shape(0) == tr.batch() && Y.shape(1) == X.shape(1) && Y.shape(2) == w.outputs(),
          "Y must have shape (batch, T, n_out) matching X");
  require(X.shape(1) >= T_min, "X must have at least " + std::to_string(T_min) + " steps");
  require_finite_array(X, "X");
  require_finite_array(Y, "Y");
}

}  // namespace

FASTMEM_REGISTER(bptt) {
  m.def(
      "rnn_run",
      [](const CArray& W, const CArray& W_in, const CArray& W_out, std::optional<CArray> b,
         std::optional<CArray> b_out, const CArray& X, std::optional<CArray> S0, int n_threads) {
        RnnWeights w = make_weights(W, W_in, W_out, b, b_out);
        require_ndim(X, 3, "X");
        require(X.shape(2) == w.inputs(), "X must have shape (B, T, n_in) with n_in = " + std::to_string(w.inputs()));
        require_finite_array(X, "X");
        const Index B = X.shape(0), T = X.shape(1), N = w.hidden(), O = w.outputs();
        require_allocation(double(B) * double(T) * double(N + O), "rnn_run states and outputs for this X");
        const double* s0p = nullptr;
        if (S0) {
          require_ndim(*S0, 2, "S0");
          require(S0->shape(0) == B && S0->shape(1) == N, "S0 must have shape (B, N)");
          require_finite_array(*S0, "S0");
          s0p = S0->data();
        }
        py::array_t<double> states({B, T, N});
        py::array_t<double> outputs({B, T, O});
        double* sp = states.mutable_data();
        double* op = outputs.mutable_data();
        const double* xp = X.data();
        {
          py::gil_scoped_release release;
          rnn_run(w, xp, s0p, B, T, sp, op, checked_threads(n_threads));
        }
        return py::make_tuple(states, outputs);
      },
      py::arg("W"), py::arg("W_in"), py::arg("W_out"), py::arg("b"), py::arg("b_out"), py::arg("X"),
      py::arg("S0") = py::none(), py::arg("n_threads") = 0,
      "S(t) = tanh(W S(t-1) + W_in X(t) + b), Y(t) = tanh(W_out S(t) + b_out) for X (B, T, n_in). "
      "Returns (states (B, T, N), outputs (B, T, n_out)).");

  py::class_<BpttTrainer>(m, "BpttTrainer",
                          "Truncated BPTT + Adam for the tanh RNN over a batch of continuous streams.")
      .def(py::init([](const CArray& W, const CArray& W_in, const CArray& W_out, std::optional<CArray> b,
                       std::optional<CArray> b_out, Index batch, Index unroll, bool train_W, bool train_W_in,
                       bool train_W_out, bool train_b, bool train_b_out, double lr, double beta1, double beta2,
                       double eps, double clip) {
             require(batch >= 1, "batch must be >= 1, got " + std::to_string(batch));
             require(unroll >= 1, "unroll must be >= 1, got " + std::to_string(unroll));
             require(std::isfinite(lr) && lr > 0, "lr must be > 0");
             require(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "betas must be in [0, 1)");
             require(std::isfinite(eps) && eps >= 0, "eps must be >= 0");
             require(std::isfinite(clip) && clip >= 0, "clip must be >= 0 (0 = no clipping)");
             {
               // the trainer keeps (unroll + 1) states, pre-activations and inputs per stream
               const double N = double(W.ndim() == 2 ? W.shape(0) : 1);
               require_allocation(double(batch) * (double(unroll) + 1.0) * (3.0 * N + 6.0),
                                  "BpttTrainer buffers for this batch and unroll");
             }
             Trainable tr{train_W, train_W_in, train_W_out, train_b, train_b_out};
             AdamSettings a{lr, beta1, beta2, eps, clip};
             return BpttTrainer(make_weights(W, W_in, W_out, b, b_out), batch, unroll, tr, a);
           }),
           py::arg("W"), py::arg("W_in"), py::arg("W_out"), py::arg("b"), py::arg("b_out"), py::arg("batch"),
           py::arg("unroll"), py::arg("train_W") = true, py::arg("train_W_in") = false,
           py::arg("train_W_out") = true, py::arg("train_b") = false, py::arg("train_b_out") = false,
           py::arg("lr") = 1e-3, py::arg("beta1") = 0.9, py::arg("beta2") = 0.999, py::arg("eps") = 1e-8,
           py::arg("clip") = 0.0)
      .def_property_readonly("step", &BpttTrainer::step)
      .def_property_readonly("batch", &BpttTrainer::batch)
      .def_property_readonly("unroll", &BpttTrainer::unroll)
      .def_property_readonly("chunks", &BpttTrainer::chunks)
      .def_property_readonly("last_grad_norm", &BpttTrainer::last_grad_norm)
      .def("weights", [](const BpttTrainer& t) { return weights_dict(t.weights()); })
      .def_property(
          "state",
          [](const BpttTrainer& t) {
            py::array_t<double> s({t.batch(), t.weights().hidden()});
            t.get_state(s.mutable_data());
            return s;
          },
          [](BpttTrainer& t, const CArray& s) {
            require_ndim(s, 2, "state");
            require(s.shape(0) == t.batch() && s.shape(1) == t.weights().hidden(), "state must have shape (batch, N)");
            require_finite_array(s, "state");
            t.set_state(s.data());
          })
      .def(
          "train",
          [](BpttTrainer& t, const CArray& X, const CArray& Y, int n_threads) {
            check_stream(t, X, Y, 0);
            const Index T = X.shape(1);
            py::array_t<double> losses(T / t.unroll());
            double* lp = losses.mutable_data();
            const double* xp = X.data();
            const double* yp = Y.data();
            {
              py::gil_scoped_release release;
              t.train(xp, yp, T, lp, checked_threads(n_threads));
            }
            return losses;
          },
          py::arg("X"), py::arg("Y"), py::arg("n_threads") = 0,
          "One Adam step per window of `unroll` steps of X (batch, T, n_in) / Y (batch, T, n_out); "
          "returns the loss of each step (T // unroll).")
      .def(
          "gradient",
          [](BpttTrainer& t, const CArray& X, const CArray& Y, int n_threads) {
            check_stream(t, X, Y, t.unroll());
            require(X.shape(1) == t.unroll(), "X must have exactly `unroll` steps");
            double loss;
            {
              py::gil_scoped_release release;
              loss = t.gradient(X.data(), Y.data(), t.unroll(), 0, checked_threads(n_threads));
            }
            const auto& g = t.last_gradient();
            py::dict d;
            d["W"] = to_numpy(g.W);
            d["W_in"] = to_numpy(g.W_in);
            d["W_out"] = to_numpy(g.W_out);
            d["b"] = to_numpy(g.b);
            d["b_out"] = to_numpy(g.b_out);
            return py::make_tuple(loss, d);
          },
          py::arg("X"), py::arg("Y"), py::arg("n_threads") = 0,
          "Loss and gradient of one window (no update; the carried state advances).")
      .def("apply_update", &BpttTrainer::apply_update, "Clip and take one Adam step with the last gradient.");
}
