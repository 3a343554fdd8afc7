"""Reproduction targets of ``fastmem reproduce``: one module per paper figure set.

Each module defines ``NAME`` (the sub-command), ``HELP``, ``add_arguments(parser)``
and ``run(args) -> int``; ``args`` always has ``quick`` and ``out``.
"""
