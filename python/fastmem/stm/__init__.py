"""Compressive short-term memory of linear random RNNs (Charles, Yap, Yin & Rozell).

Networks and operators:
    random_network, propagate, measurement_operator, NetworkOperator

Sparse signals, coherence and errors:
    sparse_signal, joint_sparse_signal, dct_basis, basis_matrix, coherence, rmse

Phase diagrams (Fig. 2):
    phase_diagram, phase_trial, PhaseDiagram
"""

from .network import NetworkOperator, is_block_diagonal, measurement_operator, propagate, random_network
from .signals import basis_matrix, dct_basis, joint_sparse_signal, sparse_signal
from .coherence import coherence
from .metrics import rmse
from .phase import PhaseDiagram, phase_diagram, phase_trial

__all__ = [
    "random_network",
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
    "phase_diagram",
    "phase_trial",
    "PhaseDiagram",
]
