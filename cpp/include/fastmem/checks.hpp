// Cheap precondition checks for the C++ kernels. They throw std::invalid_argument,
// which pybind11 turns into ValueError, so a direct call of fastmem._core with bad
// arguments raises instead of crashing the interpreter. The public Python layer
// validates first and gives the friendlier messages.
#pragma once
#include <Eigen/Core>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

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

// Thrown before an allocation that cannot fit in memory; the bindings turn it into
// Python's MemoryError with this message (see module.cpp).
struct memory_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline double physical_memory_bytes() {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGE_SIZE)
  const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && size > 0) return double(pages) * double(size);
#endif
  return 16.0 * 1024 * 1024 * 1024;
}

// Bytes fastmem may allocate: the environment variable FASTMEM_MEMORY_LIMIT (bytes) where it
// is set, for a job whose share of the machine is smaller than its memory (a batch scheduler's
// limit), otherwise 80% of physical memory. The rule of fastmem._validation.memory_limit_bytes.
inline double memory_limit_bytes() {
  if (const char* env = std::getenv("FASTMEM_MEMORY_LIMIT")) {
    if (*env != '\0') {
      // Digits, '.', 'e', signs only: the grammar on which strtod and Python's float() agree
      // (strtod alone would take hex and leading spaces, float() underscores).
      const bool plain = std::string(env).find_first_not_of("0123456789.eE+-") == std::string::npos;
      char* end = nullptr;
      const double v = plain ? std::strtod(env, &end) : 0.0;
      require(plain && end != env && *end == '\0' && std::isfinite(v) && v > 0.0,
              "FASTMEM_MEMORY_LIMIT must be a positive number of bytes, got '" + std::string(env) + "'");
      return v;
    }
  }
  return 0.8 * physical_memory_bytes();
}

// Refuse (memory_error naming `what`) to allocate n_values doubles when they would
// need more than memory_limit_bytes() (the rule of fastmem._validation.check_allocation).
// n_values is a double so that products of sizes cannot overflow before the check.
inline void require_allocation(double n_values, const std::string& what) {
  const double need = n_values * 8.0, limit = memory_limit_bytes();
  if (!(need <= limit))
    throw memory_error(what + " would need " + std::to_string(need / 1073741824.0) +
                       " GiB, more than this machine can hold (" + std::to_string(limit / 1073741824.0) +
                       " GiB usable; FASTMEM_MEMORY_LIMIT sets it); reduce the sizes");
}

}  // namespace fastmem
