"""Matplotlib figures of fastmem results (each function returns matplotlib objects)."""

from .phase import figure2, phase_diagram

__all__: list = ["phase_diagram", "figure2"]
