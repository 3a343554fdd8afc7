// The private extension module fastmem._core. Bindings are added by the
// register_*.cpp files (one per area); sorted by name so the module layout does
// not depend on static-initialisation order.
#include <algorithm>
#include "registry.hpp"

PYBIND11_MODULE(FASTMEM_MODULE_NAME, m) {
  m.doc() = "fastmem C++ kernels (private; use the fastmem package)";
  auto list = fastmem::bindings::registrars();
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [name, fn] : list) fn(m);
}
