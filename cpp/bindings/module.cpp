// The private extension module fastmem._core. Bindings are added by the
// register_*.cpp files (one per area); sorted by name so the module layout does
// not depend on static-initialisation order.
#include <algorithm>
#include "fastmem/checks.hpp"
#include "registry.hpp"

PYBIND11_MODULE(FASTMEM_MODULE_NAME, m) {
  m.doc() = "fastmem C++ kernels (private; use the fastmem package)";
  // fastmem::memory_error (a refused allocation) -> MemoryError with its message
  pybind11::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const fastmem::memory_error& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    }
  });
  auto list = fastmem::bindings::registrars();
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [name, fn] : list) fn(m);
}
