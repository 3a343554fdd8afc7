// The tanh RNN of the flip-flop paper and its truncated-BPTT trainer.
//
//   S(t) = tanh(W S(t-1) + W_in X(t) + b)            (eq. 1, hidden state)
//   Y(t) = tanh(W_out S(t) + b_out)                  (eq. 1, output)
//   L    = mean over batch, window steps and outputs of (Y - target)^2
//
// Training cuts a batch of continuous streams into windows of `unroll` steps.
// The hidden state is carried from one window to the next but the gradient is
// not (truncated BPTT): each window's forward pass starts from the previous
// window's last state, treated as a constant. One window = one Adam step.
//
// Work layout: the batch columns are split into fixed chunks (their width depends
// only on the batch size), each chunk runs its forward and backward pass alone
// (one OpenMP task, no barrier inside the window), and the chunks' partial
// gradients are summed in chunk order. So the result for a seed is the same
// whatever the thread count.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>
#include "fastmem/checks.hpp"
#include "fastmem/threads.hpp"
#include "fastmem/types.hpp"

namespace fastmem {

// Weights of the network; b / b_out are empty when the model has no bias.
struct RnnWeights {
  Matrix W;      // N x N
  Matrix W_in;   // N x n_in
  Matrix W_out;  // n_out x N
  Vector b;      // N or empty
  Vector b_out;  // n_out or empty

  Index hidden() const { return W.rows(); }
  Index inputs() const { return W_in.cols(); }
  Index outputs() const { return W_out.rows(); }
  bool has_bias() const { return b.size() > 0; }
  bool has_out_bias() const { return b_out.size() > 0; }
};

// ---------------------------------------------------------------------------
// Forward pass of one stream: x (T x n_in, row-major), states S (N x T, column t
// = S(t)), outputs Y (n_out x T). s0 = S(-1).
template <class XIn, class SOut, class YOut>
void rnn_run_stream(const RnnWeights& w, const XIn& x, const Vector& s0, SOut&& S, YOut&& Y) {
  const Index T = x.rows();
  if (T == 0) return;
  S.noalias() = w.W_in * x.transpose();  // input drive W_in X(t), all steps at once
  if (w.has_bias()) S.colwise() += w.b;
  Vector prev = s0;
  for (Index t = 0; t < T; ++t) {
    S.col(t).noalias() += w.W * prev;
    S.col(t) = S.col(t).array().tanh().matrix();
    prev = S.col(t);
  }
  Y.noalias() = w.W_out * S;
  if (w.has_out_bias()) Y.colwise() += w.b_out;
  Y = Y.array().tanh().matrix();
}

// Batch of B streams: X (B, T, n_in), S0 (B, N), states (B, T, N), outputs (B, T, n_out),
// all C-ordered. Streams are independent: parallel over b.
inline void rnn_run(const RnnWeights& w, const double* X, const double* S0, Index B, Index T, double* states,
                    double* outputs, int n_threads) {
  const Index N = w.hidden(), I = w.inputs(), O = w.outputs();
#pragma omp parallel for num_threads(resolve_threads(n_threads)) schedule(static)
  for (Index b = 0; b < B; ++b) {
    Eigen::Map<const RowMatrix> x(X + b * T * I, T, I);
    Vector s0 = S0 ? Vector(Eigen::Map<const Vector>(S0 + b * N, N)) : Vector::Zero(N);
    Eigen::Map<Matrix> S(states + b * T * N, N, T);
    Eigen::Map<Matrix> Y(outputs + b * T * O, O, T);
    rnn_run_stream(w, x, s0, S, Y);
  }
}

// ---------------------------------------------------------------------------
// Which parameters Adam updates.
struct Trainable {
  bool W = true, W_in = false, W_out = true, b = false, b_out = false;
};

struct AdamSettings {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double clip = 0.0;  // > 0: rescale the gradient to this total norm when larger (as torch clip_grad_norm_)
};

// Gradient of the window loss with respect to every parameter (whether trained or not).
struct RnnGradient {
  Matrix W, W_in, W_out;
  Vector b, b_out;
  double loss = 0.0;

  void resize_like(const RnnWeights& w) {
    W.setZero(w.W.rows(), w.W.cols());
    W_in.setZero(w.W_in.rows(), w.W_in.cols());
    W_out.setZero(w.W_out.rows(), w.W_out.cols());
    b.setZero(w.hidden());
    b_out.setZero(w.outputs());
    loss = 0.0;
  }
  void set_zero() {
    W.setZero();
    W_in.setZero();
    W_out.setZero();
    b.setZero();
    b_out.setZero();
    loss = 0.0;
  }
  void add(const RnnGradient& o) {
    W += o.W;
    W_in += o.W_in;
    W_out += o.W_out;
    b += o.b;
    b_out += o.b_out;
    loss += o.loss;
  }
};

// Width of the fixed batch chunks: a function of the batch size only.
inline Index bptt_chunk_width(Index B) { return std::min<Index>(B, std::clamp<Index>((B + 3) / 4, 8, 64)); }

// Work space of one chunk of `cols` batch columns over a window of U steps.
// Column t*cols + j of the (.. x U*cols) matrices is step t of stream j.
struct BpttChunk {
  Index cols = 0;
  Matrix S;     // N x (U+1)*cols: block 0 = carried state S(t0-1), block t+1 = S(t0+t)
  Matrix X;     // n_in x U*cols
  Matrix Ytar;  // n_out x U*cols
  Matrix Y;     // n_out x U*cols: outputs, then dL/dZ (Z = W_out S + b_out)
  Matrix dS;    // N x U*cols: dL/dS, then dL/dA (A = W S(t-1) + W_in X + b)
  Matrix back;  // N x cols
  RnnGradient grad;

  void resize(const RnnWeights& w, Index U, Index c) {
    cols = c;
    S.setZero(w.hidden(), (U + 1) * c);
    X.setZero(w.inputs(), U * c);
    Ytar.setZero(w.outputs(), U * c);
    Y.setZero(w.outputs(), U * c);
    dS.setZero(w.hidden(), U * c);
    back.setZero(w.hidden(), c);
    grad.resize_like(w);
  }
};

// Forward pass of one window for one chunk: fills S blocks 1..U and Y.
inline void bptt_forward(const RnnWeights& w, BpttChunk& c, Index U) {
  const Index n = c.cols;
  auto drive = c.S.rightCols(U * n);
  drive.noalias() = w.W_in * c.X;  // W_in X(t) for every step at once
  if (w.has_bias()) drive.colwise() += w.b;
  for (Index t = 0; t < U; ++t) {
    auto s = c.S.middleCols((t + 1) * n, n);
    s.noalias() += w.W * c.S.middleCols(t * n, n);
    s = s.array().tanh().matrix();
  }
  c.Y.noalias() = w.W_out * c.S.rightCols(U * n);
  if (w.has_out_bias()) c.Y.colwise() += w.b_out;
  c.Y = c.Y.array().tanh().matrix();
}

// Backward pass of one window for one chunk (after bptt_forward); `scale` = 2 / (B U n_out)
// turns the sum of squared errors into the mean. Leaves the chunk's loss sum and gradient.
inline void bptt_backward(const RnnWeights& w, BpttChunk& c, Index U, double scale) {
  const Index n = c.cols;
  RnnGradient& g = c.grad;
  g.loss = (c.Y - c.Ytar).squaredNorm();
  // dL/dZ = scale (Y - target) (1 - Y^2), in place of Y
  c.Y = (scale * (c.Y - c.Ytar).array() * (1.0 - c.Y.array().square())).matrix();
  auto states = c.S.rightCols(U * n);  // S(t) for the window's steps
  c.dS.noalias() = w.W_out.transpose() * c.Y;
  for (Index t = U - 1; t >= 0; --t) {
    auto d = c.dS.middleCols(t * n, n);
    if (t + 1 < U) d.noalias() += w.W.transpose() * c.dS.middleCols((t + 1) * n, n);
    d = (d.array() * (1.0 - states.middleCols(t * n, n).array().square())).matrix();  // dL/dA(t)
  }
  g.W.noalias() = c.dS * c.S.leftCols(U * n).transpose();  // sum_t dA(t) S(t-1)^T
  g.W_in.noalias() = c.dS * c.X.transpose();
  g.W_out.noalias() = c.Y * states.transpose();
  g.b = c.dS.rowwise().sum();
  g.b_out = c.Y.rowwise().sum();
  // carry the last state into the next window
  c.S.leftCols(n) = c.S.rightCols(n);
}

// Adam, in torch.optim.Adam's arithmetic (bias corrections applied to the step size
// and to sqrt(v)), so both agree to rounding.
struct AdamState {
  Matrix m, v;
  template <class P, class G>
  void update(P& p, const G& g, const AdamSettings& a, long step) {
    if (m.size() == 0) {
      m.setZero(p.rows(), p.cols());
      v.setZero(p.rows(), p.cols());
    }
    const double bc1 = 1.0 - std::pow(a.beta1, double(step));
    const double bc2 = 1.0 - std::pow(a.beta2, double(step));
    const double step_size = a.lr / bc1;
    const double sqrt_bc2 = std::sqrt(bc2);
    auto gm = g.reshaped();
    auto pm = p.reshaped();
    auto mm = m.reshaped();
    auto vm = v.reshaped();
    mm = a.beta1 * mm + (1.0 - a.beta1) * gm;
    vm = a.beta2 * vm + (1.0 - a.beta2) * gm.cwiseProduct(gm);
    pm.array() -= step_size * mm.array() / (vm.array().sqrt() / sqrt_bc2 + a.eps);
  }
};

class BpttTrainer {
 public:
  BpttTrainer(RnnWeights weights, Index batch, Index unroll, Trainable trainable, AdamSettings adam)
      : w_(std::move(weights)), B_(batch), U_(unroll), trainable_(trainable), adam_(adam) {
    require(batch >= 1, "batch must be >= 1");
    require(unroll >= 1, "unroll must be >= 1");
    const Index width = bptt_chunk_width(B_);
    for (Index b0 = 0; b0 < B_; b0 += width) {
      chunks_.emplace_back();
      chunks_.back().resize(w_, U_, std::min(width, B_ - b0));
      starts_.push_back(b0);
    }
    total_.resize_like(w_);
  }

  const RnnWeights& weights() const { return w_; }
  RnnWeights& weights() { return w_; }
  long step() const { return step_; }
  Index batch() const { return B_; }
  Index unroll() const { return U_; }
  Index chunks() const { return Index(chunks_.size()); }
  const RnnGradient& last_gradient() const { return total_; }
  double last_grad_norm() const { return grad_norm_; }

  // Carried hidden state, (B x N) C-ordered in/out.
  void get_state(double* out) const {
    const Index N = w_.hidden();
    for (size_t k = 0; k < chunks_.size(); ++k)
      Eigen::Map<RowMatrix>(out + starts_[k] * N, chunks_[k].cols, N) = chunks_[k].S.leftCols(chunks_[k].cols).transpose();
  }
  void set_state(const double* in) {
    const Index N = w_.hidden();
    for (size_t k = 0; k < chunks_.size(); ++k)
      chunks_[k].S.leftCols(chunks_[k].cols) =
          Eigen::Map<const RowMatrix>(in + starts_[k] * N, chunks_[k].cols, N).transpose();
  }

  // Gradient of one window without an update: X (B, U, n_in), Y (B, U, n_out) C-ordered.
  // Advances the carried state. Returns the mean loss.
  double gradient(const double* X, const double* Y, Index T_total, Index t0, int n_threads) {
    load_window(X, Y, T_total, t0);
    const double scale = 2.0 / double(B_ * U_ * w_.outputs());
    const Index K = chunks();
#pragma omp parallel for num_threads(resolve_threads(n_threads)) schedule(static)
    for (Index k = 0; k < K; ++k) {
      bptt_forward(w_, chunks_[k], U_);
      bptt_backward(w_, chunks_[k], U_, scale);
    }
    total_.set_zero();
    for (auto& c : chunks_) total_.add(c.grad);  // fixed order
    total_.loss /= double(B_ * U_ * w_.outputs());
    return total_.loss;
  }

  // Train over X (B, T, n_in), Y (B, T, n_out): T / unroll windows, one Adam step
  // each. Writes the loss of each step to `losses` (T / unroll entries).
  void train(const double* X, const double* Y, Index T, double* losses, int n_threads) {
    const Index steps = T / U_;
    for (Index s = 0; s < steps; ++s) {
      losses[s] = gradient(X, Y, T, s * U_, n_threads);
      apply_update();
    }
  }

  // Clip (optional) and take one Adam step with the last gradient.
  void apply_update() {
    double sq = 0.0;
    if (trainable_.W) sq += total_.W.squaredNorm();
    if (trainable_.W_in) sq += total_.W_in.squaredNorm();
    if (trainable_.W_out) sq += total_.W_out.squaredNorm();
    if (trainable_.b && w_.has_bias()) sq += total_.b.squaredNorm();
    if (trainable_.b_out && w_.has_out_bias()) sq += total_.b_out.squaredNorm();
    grad_norm_ = std::sqrt(sq);
    if (adam_.clip > 0.0) {
      const double coef = adam_.clip / (grad_norm_ + 1e-6);
      if (coef < 1.0) {
        total_.W *= coef;
        total_.W_in *= coef;
        total_.W_out *= coef;
        total_.b *= coef;
        total_.b_out *= coef;
      }
    }
    ++step_;
    if (trainable_.W) adam_W_.update(w_.W, total_.W, adam_, step_);
    if (trainable_.W_in) adam_W_in_.update(w_.W_in, total_.W_in, adam_, step_);
    if (trainable_.W_out) adam_W_out_.update(w_.W_out, total_.W_out, adam_, step_);
    if (trainable_.b && w_.has_bias()) adam_b_.update(w_.b, total_.b, adam_, step_);
    if (trainable_.b_out && w_.has_out_bias()) adam_b_out_.update(w_.b_out, total_.b_out, adam_, step_);
  }

 private:
  // Gather steps t0..t0+U-1 of every stream into the chunks' X and Ytar.
  void load_window(const double* X, const double* Y, Index T, Index t0) {
    const Index I = w_.inputs(), O = w_.outputs();
    for (size_t k = 0; k < chunks_.size(); ++k) {
      BpttChunk& c = chunks_[k];
      for (Index j = 0; j < c.cols; ++j) {
        const Index b = starts_[k] + j;
        for (Index t = 0; t < U_; ++t) {
          const double* xs = X + (b * T + t0 + t) * I;
          const double* ys = Y + (b * T + t0 + t) * O;
          for (Index i = 0; i < I; ++i) c.X(i, t * c.cols + j) = xs[i];
          for (Index o = 0; o < O; ++o) c.Ytar(o, t * c.cols + j) = ys[o];
        }
      }
    }
  }

  RnnWeights w_;
  Index B_, U_;
  Trainable trainable_;
  AdamSettings adam_;
  std::vector<BpttChunk> chunks_;
  std::vector<Index> starts_;
  RnnGradient total_;
  AdamState adam_W_, adam_W_in_, adam_W_out_, adam_b_, adam_b_out_;
  long step_ = 0;
  double grad_norm_ = 0.0;
};

}  // namespace fastmem
