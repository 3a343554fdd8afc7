"""Compressive short-term memory of linear random RNNs (Charles, Yap, Yin & Rozell).

Networks and operators:
    random_network, propagate, measurement_operator, NetworkOperator
"""

from .network import NetworkOperator, is_block_diagonal, measurement_operator, propagate, random_network

__all__ = [
    "random_network",
    "propagate",
    "measurement_operator",
    "NetworkOperator",
    "is_block_diagonal",
]
