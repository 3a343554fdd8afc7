"""Memory in a trained tanh RNN: the (delayed) 3-bit flip-flop, BPTT, fixed and slow points."""

__all__: list = []
