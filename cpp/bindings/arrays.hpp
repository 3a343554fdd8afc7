// numpy <-> Eigen glue shared by the register_*.cpp files. Arrays are taken as
// C-contiguous float64 (pybind11 converts other real dtypes; complex and object
// arrays raise TypeError), checked for rank and finiteness, and mapped without a
// copy. Errors are std::invalid_argument -> ValueError naming the argument.
#pragma once
#include <string>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/pybind11.h>
#include "fastmem/checks.hpp"
#include "fastmem/recurrence.hpp"
#include "fastmem/types.hpp"

namespace fastmem::bindings {

namespace py = pybind11;
using CArray = py::array_t<double, py::array::c_style>;

inline void require_ndim(const CArray& a, py::ssize_t ndim, const char* name) {
  if (a.ndim() != ndim)
    throw std::invalid_argument(std::string(name) + " must be a " + std::to_string(ndim) + "-d array, got " +
                                std::to_string(a.ndim()) + "-d");
}

inline Eigen::Map<const RowMatrix> as_matrix(const CArray& a, const char* name, bool finite = true) {
  require_ndim(a, 2, name);
  Eigen::Map<const RowMatrix> m(a.data(), a.shape(0), a.shape(1));
  if (finite) require_finite(m, name);
  return m;
}

inline Eigen::Map<const Vector> as_vector(const CArray& a, const char* name, bool finite = true) {
  require_ndim(a, 1, name);
  Eigen::Map<const Vector> v(a.data(), a.shape(0));
  if (finite) require_finite(v, name);
  return v;
}

inline void require_finite_array(const CArray& a, const char* name) {
  require_finite(Eigen::Map<const Vector>(a.data(), a.size()), name);
}

// The recurrent matrix as the kernels want it: "dense", or "block_diagonal"
// (2x2 blocks on the diagonal; checked, O(M^2)).
inline Recurrence make_recurrence(const CArray& W, const std::string& structure) {
  auto w = as_matrix(W, "W");
  require(w.rows() == w.cols(), "W must be square, got (" + std::to_string(w.rows()) + ", " +
                                    std::to_string(w.cols()) + ")");
  if (structure == "dense") return Recurrence::dense(w);
  require(structure == "block_diagonal", "structure must be 'dense' or 'block_diagonal', got '" + structure + "'");
  const Index M = w.rows();
  for (Index i = 0; i < M; ++i)
    for (Index j = 0; j < M; ++j)
      if (i / 2 != j / 2 && w(i, j) != 0.0)
        throw std::invalid_argument("W is not 2x2 block-diagonal: W[" + std::to_string(i) + ", " +
                                    std::to_string(j) + "] != 0");
  Vector diag = w.diagonal();
  Vector upper = M > 1 ? Vector(w.diagonal(1)) : Vector();
  Vector lower = M > 1 ? Vector(w.diagonal(-1)) : Vector();
  return Recurrence::block_diagonal(diag, upper, lower);
}

// A batch given as rows, (B, P), as P x B columns (a copy), checked for shape and finiteness.
inline Matrix batch_columns(const CArray& a, const char* name, Index B, Index P) {
  require_ndim(a, 2, name);
  require(a.shape(0) == B && a.shape(1) == P, std::string(name) + " must have shape (" + std::to_string(B) + ", " +
                                                  std::to_string(P) + "), got (" + std::to_string(a.shape(0)) + ", " +
                                                  std::to_string(a.shape(1)) + ")");
  require_finite_array(a, name);
  return Eigen::Map<const Matrix>(a.data(), P, B);
}

// Per-column results (doubles or ints) as a float64 array.
template <class V>
py::array_t<double> values(const V& v) {
  py::array_t<double> out(v.size());
  for (Index i = 0; i < Index(v.size()); ++i) out.mutable_data()[i] = double(v[i]);
  return out;
}

inline int checked_threads(int n_threads) {
  if (n_threads < 0) throw std::invalid_argument("n_threads must be >= 1 or None, got " + std::to_string(n_threads));
  return n_threads;
}

}  // namespace fastmem::bindings
