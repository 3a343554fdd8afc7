"""Memory in a trained tanh RNN: the (delayed) 3-bit flip-flop, BPTT, fixed and slow points."""

from .analysis import PCA, TriggeredAverage, eigenspectrum, pca, switch_times, triggered_average
from .fixed_points import (
    FixedPointResult,
    deduplicate,
    find_fixed_points,
    jacobian_eigenvalues,
    sample_states,
)
from .model import TanhRNN
from .task import FlipFlopTask, hold_last_pulse
from .training import AccuracyResult, TrainHistory, accuracy, score, train

__all__: list = [
    "FixedPointResult",
    "find_fixed_points",
    "sample_states",
    "deduplicate",
    "jacobian_eigenvalues",
    "PCA",
    "pca",
    "TriggeredAverage",
    "triggered_average",
    "switch_times",
    "eigenspectrum",
    "FlipFlopTask",
    "TanhRNN",
    "hold_last_pulse",
    "train",
    "accuracy",
    "score",
    "TrainHistory",
    "AccuracyResult",
]
