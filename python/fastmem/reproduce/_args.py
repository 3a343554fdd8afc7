"""argparse types for the command line: a bad value is a usage error naming the option.

``fastmem reproduce stm-fig2 --trials -5`` then prints
``error: argument --trials: must be an integer >= 1, got '-5'`` and exits with status 2
before any work, instead of a traceback from deep inside the run.
"""

from __future__ import annotations

import argparse


def _int_at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
        return value

    parse.__name__ = f"int>={minimum}"
    return parse


positive_int = _int_at_least(1)
nonnegative_int = _int_at_least(0)
