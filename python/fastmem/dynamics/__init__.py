"""Memory in a trained tanh RNN: the (delayed) 3-bit flip-flop, BPTT, fixed and slow points."""

from .model import TanhRNN
from .task import FlipFlopTask, hold_last_pulse

__all__: list = ["FlipFlopTask", "TanhRNN", "hold_last_pulse"]
