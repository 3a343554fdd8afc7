// Thread control and build information.
#include <Eigen/Core>
#include "build_info.hpp"
#include "fastmem/threads.hpp"
#include "registry.hpp"

namespace py = pybind11;

FASTMEM_REGISTER(config) {
  m.def("get_num_threads", &fastmem::get_num_threads, "Process-wide number of threads used by fastmem kernels.");
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1) throw std::invalid_argument("n_threads must be >= 1, got " + std::to_string(n));
        fastmem::set_num_threads(n);
      },
      py::arg("n"), "Set the process-wide number of threads used by fastmem kernels.");
  m.def("hardware_threads", &fastmem::hardware_threads, "Number of processors OpenMP sees.");
  m.def("build_info", []() {
    py::dict info;
    info["version"] = FASTMEM_VERSION;
    info["openmp"] = fastmem::openmp_enabled();
#ifdef _OPENMP
    info["openmp_version"] = _OPENMP;
#else
    info["openmp_version"] = 0;
#endif
    info["eigen"] = FASTMEM_EIGEN_VERSION;
    info["simd_variant"] = FASTMEM_SIMD_NAME;
    info["eigen_simd"] = Eigen::SimdInstructionSetsInUse();
    info["compiler_flags"] = FASTMEM_BUILD_INFO;
#ifdef EIGEN_DONT_PARALLELIZE
    info["eigen_threads"] = false;
#else
    info["eigen_threads"] = true;
#endif
    return info;
  });
}
