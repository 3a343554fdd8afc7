// Matrix types shared by the kernels. numpy arrays arrive C-contiguous, so
// matrices that come straight from Python are row-major; work matrices whose
// columns are independent right-hand sides or batch members are column-major.
#pragma once
#include <Eigen/Core>

namespace fastmem {
using Index = Eigen::Index;
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;
using RowMatrixRef = Eigen::Ref<RowMatrix>;
using ConstRowMatrixRef = Eigen::Ref<const RowMatrix>;
using MatrixRef = Eigen::Ref<Matrix>;
using ConstMatrixRef = Eigen::Ref<const Matrix>;
using ConstVectorRef = Eigen::Ref<const Vector>;

// Rows handled by one task in row-parallel loops. Fixed, so that which rows a
// task computes (and hence the rounding of every entry) never depends on the
// thread count.
constexpr Index kRowBlock = 64;
inline Index row_blocks(Index rows) { return (rows + kRowBlock - 1) / kRowBlock; }
}  // namespace fastmem
