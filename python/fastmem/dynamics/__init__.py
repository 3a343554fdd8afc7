"""Memory in a trained tanh RNN: the (delayed) 3-bit flip-flop, BPTT, fixed and slow points."""

from .fixed_points import (
    FixedPointResult,
    deduplicate,
    find_fixed_points,
    jacobian_eigenvalues,
    sample_states,
)

__all__: list = [
    "FixedPointResult",
    "find_fixed_points",
    "sample_states",
    "deduplicate",
    "jacobian_eigenvalues",
]
