// One process-wide thread setting for every OpenMP loop in fastmem.
// omp_set_num_threads() only affects the calling thread, so a Python thread that
// never called it would see OpenMP's default; we keep our own atomic setting and
// pass it explicitly to every parallel region with num_threads(...).
#pragma once
#include <atomic>
#include <algorithm>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastmem {

inline int hardware_threads() {
#ifdef _OPENMP
  return std::max(1, omp_get_num_procs());
#else
  return 1;
#endif
}

inline std::atomic<int>& thread_setting() {
  static std::atomic<int> n{hardware_threads()};
  return n;
}

inline int get_num_threads() { return thread_setting().load(); }
inline void set_num_threads(int n) { thread_setting().store(n < 1 ? hardware_threads() : n); }

// Threads for one call: an explicit request (>0) wins, otherwise the process setting.
inline int resolve_threads(int requested) {
#ifdef _OPENMP
  return requested > 0 ? requested : get_num_threads();
#else
  (void)requested;
  return 1;
#endif
}

inline bool openmp_enabled() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

}  // namespace fastmem
