// One process-wide thread setting for every OpenMP loop in fastmem.
// omp_set_num_threads() only affects the calling thread, so a Python thread that
// never called it would see OpenMP's default; we keep our own atomic setting and
// pass it explicitly to every parallel region with num_threads(...).
#pragma once
#include <atomic>
#include <algorithm>
#include <exception>
#include <mutex>
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

// An exception escaping an OpenMP region calls std::terminate (the whole Python process
// dies). Bodies whose allocations depend on the data (a working set that grows) run through
// RegionErrors::run: the first exception is kept, later bodies are skipped, and rethrow()
// raises it after the region, where the bindings turn it into a Python error.
class RegionErrors {
 public:
  template <class Body>
  void run(Body&& body) noexcept {
    if (failed_.load(std::memory_order_relaxed)) return;
    try {
      body();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!first_) first_ = std::current_exception();
      failed_.store(true, std::memory_order_relaxed);
    }
  }
  void rethrow() const {
    if (first_) std::rethrow_exception(first_);
  }

 private:
  std::atomic<bool> failed_{false};
  std::mutex mutex_;
  std::exception_ptr first_;
};

inline bool openmp_enabled() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

}  // namespace fastmem
