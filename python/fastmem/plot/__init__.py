"""Matplotlib figures of fastmem results (each function returns matplotlib objects)."""

from .flipflop import fig2_trajectories, fig3_triggered_average, fig4_eigenvalues, fig6_slow_points
from .recall import capacity_figure, recall_curve
from .phase import figure2, phase_diagram

__all__: list = [
    "fig2_trajectories",
    "fig3_triggered_average",
    "fig4_eigenvalues",
    "fig6_slow_points",
    "recall_curve",
    "capacity_figure",
    "phase_diagram",
    "figure2",
]
