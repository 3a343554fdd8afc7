// Each register_*.cpp adds its bindings through FASTMEM_REGISTER, so a new area of
// the library is one new file and module.cpp never changes. The list lives in a
// function-local static, which is safe across translation units of one module.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>
#include <pybind11/pybind11.h>

namespace fastmem::bindings {

using Registrar = std::function<void(pybind11::module_&)>;

inline std::vector<std::pair<std::string, Registrar>>& registrars() {
  static std::vector<std::pair<std::string, Registrar>> list;
  return list;
}

struct AutoRegister {
  AutoRegister(const char* name, Registrar fn) { registrars().emplace_back(name, std::move(fn)); }
};

}  // namespace fastmem::bindings

#define FASTMEM_CONCAT_INNER(a, b) a##b
#define FASTMEM_CONCAT(a, b) FASTMEM_CONCAT_INNER(a, b)
// Usage: FASTMEM_REGISTER(network) { m.def(...); }   (the body sees `pybind11::module_& m`)
#define FASTMEM_REGISTER(name)                                                                 \
  static void FASTMEM_CONCAT(fastmem_register_, name)(pybind11::module_ & m);                  \
  static const ::fastmem::bindings::AutoRegister FASTMEM_CONCAT(fastmem_autoregister_, name){ \
      #name, &FASTMEM_CONCAT(fastmem_register_, name)};                                      \
  static void FASTMEM_CONCAT(fastmem_register_, name)(pybind11::module_ & m)
