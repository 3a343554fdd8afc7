"""Random number conventions: every function that draws takes ``rng``."""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np

RNGLike = Union[None, int, np.integer, np.random.Generator, np.random.SeedSequence]


def as_generator(rng: RNGLike, name: str = "rng") -> np.random.Generator:
    """Normalise ``rng`` (None, an int seed, a SeedSequence or a Generator) with numpy's convention."""
    if isinstance(rng, (bool, np.bool_)):
        raise TypeError(f"{name} must be None, an int seed or a numpy.random.Generator, got bool")
    if rng is None or isinstance(rng, (int, np.integer, np.random.Generator, np.random.SeedSequence)):
        if isinstance(rng, (int, np.integer)) and rng < 0:
            raise ValueError(f"{name} must be a non-negative seed, got {rng}")
        return np.random.default_rng(rng)
    raise TypeError(f"{name} must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}")


def seed_entropy(rng: RNGLike) -> int:
    """An int that fixes a sweep: the seed itself, or 128 bits drawn from a Generator."""
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        if rng < 0:
            raise ValueError(f"rng must be a non-negative seed, got {rng}")
        return int(rng)
    gen = as_generator(rng)
    return int.from_bytes(gen.bytes(16), "little")


def trial_generator(entropy: int, key: Sequence[int]) -> np.random.Generator:
    """The Generator of one trial, from the sweep's entropy and the trial's indices alone.

    Any trial can be recomputed by itself, in any order, on any machine.
    """
    return np.random.default_rng(np.random.SeedSequence([int(entropy), *[int(k) for k in key]]))
