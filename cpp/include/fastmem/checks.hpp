// Cheap precondition checks for the C++ kernels. They throw std::invalid_argument,
// which pybind11 turns into ValueError, so a direct call of fastmem._core with bad
// arguments raises instead of crashing the interpreter. The public Python layer
// validates first and gives the friendlier messages.
#pragma once
#include <Eigen/Core>
#include <stdexcept>
#include <string>

namespace fastmem {

inline void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

template <class Derived>
inline void require_finite(const Eigen::DenseBase<Derived>& x, const char* name) {
  if (!x.derived().allFinite()) throw std::invalid_argument(std::string(name) + " contains NaN or Inf");
}

inline void require_shape(Eigen::Index rows, Eigen::Index cols, Eigen::Index want_rows, Eigen::Index want_cols,
                          const char* name) {
  if (rows != want_rows || cols != want_cols)
    throw std::invalid_argument(std::string(name) + " must have shape (" + std::to_string(want_rows) + ", " +
                                std::to_string(want_cols) + "), got (" + std::to_string(rows) + ", " +
                                std::to_string(cols) + ")");
}

}  // namespace fastmem
