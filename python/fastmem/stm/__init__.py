"""Compressive short-term memory of linear random RNNs (Charles, Yap, Yin & Rozell).

Networks and operators:
    random_network, propagate, measurement_operator, NetworkOperator

Sparse signals, coherence and errors:
    sparse_signal, joint_sparse_signal, dct_basis, basis_matrix, coherence, rmse

Low-rank signals:
    lowrank_signal (LowRankSignal)

Recovery:
    lasso (LassoResult), Lasso (scikit-learn compatible estimator)
    nuclear_norm, nuclear_norm_constrained (NuclearNormResult)

Theory (bounds and classical memory capacity):
    sparse_nodes_needed, lowrank_nodes_needed, sparse_capacity_bound, lowrank_capacity_bound,
    memory_capacity, MemoryCapacity, state_covariance

Infinite-length inputs (Fig. 3):
    recall_curve, summarize_curve, optimal_recall_length, measured_optimum

Gram form for orthogonal networks (A^T A block-Toeplitz, products independent of M):
    ToeplitzGram, lasso_gram, nuclear_norm_gram (GramResult)

Phase diagrams (Fig. 2):
    phase_diagram, phase_trial, PhaseDiagram
"""

from .network import NetworkOperator, is_block_diagonal, measurement_operator, propagate, random_network
from .signals import basis_matrix, dct_basis, joint_sparse_signal, sparse_signal
from .coherence import coherence
from .metrics import rmse
from .lasso import LassoResult, lasso
from .estimator import Lasso
from .lowrank import LowRankSignal, lowrank_signal
from .nuclear_norm import NuclearNormResult, nuclear_norm, nuclear_norm_constrained
from .theory import (
    MemoryCapacity,
    lowrank_capacity_bound,
    lowrank_nodes_needed,
    memory_capacity,
    sparse_capacity_bound,
    sparse_nodes_needed,
    state_covariance,
)
from .recall import measured_optimum, optimal_recall_length, recall_curve, summarize_curve
from .phase import PhaseDiagram, phase_diagram, phase_trial
from .gram import GramResult, ToeplitzGram, lasso_gram, nuclear_norm_gram

__all__ = [
    "random_network",
    "ToeplitzGram",
    "GramResult",
    "lasso_gram",
    "nuclear_norm_gram",
    "propagate",
    "measurement_operator",
    "NetworkOperator",
    "is_block_diagonal",
    "sparse_signal",
    "joint_sparse_signal",
    "dct_basis",
    "basis_matrix",
    "coherence",
    "rmse",
    "lasso",
    "LassoResult",
    "Lasso",
    "lowrank_signal",
    "LowRankSignal",
    "nuclear_norm",
    "nuclear_norm_constrained",
    "NuclearNormResult",
    "sparse_nodes_needed",
    "lowrank_nodes_needed",
    "sparse_capacity_bound",
    "lowrank_capacity_bound",
    "memory_capacity",
    "MemoryCapacity",
    "state_covariance",
    "recall_curve",
    "summarize_curve",
    "optimal_recall_length",
    "measured_optimum",
    "phase_diagram",
    "phase_trial",
    "PhaseDiagram",
]
