// LASSO on the network's block-Toeplitz Gram G = A^T A (identity basis), per column b:
//     minimise 0.5 ||y_b||^2 - x.(A^T y_b) + 0.5 x.G x + lam_b ||x||_1,
// by working sets while the support stays small and by Gram-form FISTA on all of G once it
// does not. A coordinate-descent epoch on a working set of p columns costs p^2 multiply-adds
// (and p exceeds the support); a FISTA step on the whole problem costs one G.apply()
// (apply_cost(), 2.3e6 at L = 40, N = 100) whatever the support. Measured at the paper's size
// (tol 1e-6, one column): for supports of 1800-3300 FISTA was 5.7-26x faster than working
// sets, for supports below ~650 working sets were 1.5-3.7x faster, about even at 1000; so a
// column whose support passes sqrt(apply_cost / 2) (1063 there) is solved by lasso_gram.
// FISTA starts from the caller's start (X0 or 0), not from the working set's iterate: next to
// the phase transition (M = 2133, K = 2133) the latter took FISTA 2.2x more steps than a cold
// start, elsewhere it saved at most 10-25%. Small problems (a limit below kMinToeplitzLimit)
// keep the working sets: their epochs are cheap whatever p, and their hard cases (more
// unknowns than measurements, tiny lam) are where the working sets' Newton steps pay.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>
#include "fastmem/gram_solvers.hpp"
#include "fastmem/lasso_working_set.hpp"
#include "fastmem/toeplitz_gram.hpp"

namespace fastmem {

constexpr Index kMinToeplitzLimit = 256;

// The support size past which FISTA on all of G is cheaper (0: no limit, for small problems).
inline Index toeplitz_working_set_limit(const ToeplitzGram& G) {
  const Index limit = Index(std::sqrt(0.5 * G.apply_cost()));
  return limit >= kMinToeplitzLimit ? limit : 0;
}

// ws.max_size < 0: the limit above; 0: working sets only; > 0: that limit. Iterations add the
// working sets' epochs and Newton steps to FISTA's steps; a column's total stays <= max_iter.
inline LassoOutput lasso_toeplitz(const ToeplitzGram& G, const ConstMatrixRef& AtY, const ConstVectorRef& yy,
                                  const ConstVectorRef& lam, const ConstMatrixRef& X0, const LassoOptions& opt,
                                  WorkingSetOptions ws = WorkingSetOptions()) {
  if (ws.max_size < 0) ws.max_size = toeplitz_working_set_limit(G);
  LassoOutput out = lasso_working_set_gram(G, AtY, yy, lam, X0, opt, ws);
  std::vector<Index> cols;
  Index used = 0;
  for (Index b = 0; b < AtY.cols(); ++b)
    if (out.capped[size_t(b)]) {
      cols.push_back(b);
      used = std::max<Index>(used, out.iterations[b]);
    }
  if (cols.empty() || used >= opt.max_iter) return out;
  const Index k = Index(cols.size()), P = G.cols();
  Matrix Q(P, k), X(P, k);
  Vector yyc(k), lamc(k);
  for (Index a = 0; a < k; ++a) {
    const Index b = cols[size_t(a)];
    Q.col(a) = AtY.col(b);
    X.col(a) = X0.size() ? Vector(X0.col(b)) : Vector::Zero(P);
    yyc[a] = yy[b];
    lamc[a] = lam[b];
  }
  LassoOptions rest = opt;
  rest.max_iter = opt.max_iter - used;
  const LassoOutput fin = lasso_gram(G, Q, yyc, lamc, X, rest);
  for (Index a = 0; a < k; ++a) {
    const Index b = cols[size_t(a)];
    out.coef.col(b) = fin.coef.col(a);
    out.objective[b] = fin.objective[a];
    out.gap[b] = fin.gap[a];
    out.iterations[b] += fin.iterations[a];
    out.converged[size_t(b)] = fin.converged[size_t(a)];
  }
  out.lipschitz = fin.lipschitz;
  return out;
}

}  // namespace fastmem
