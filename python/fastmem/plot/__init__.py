"""Matplotlib figures of fastmem results (each function returns matplotlib objects)."""

__all__: list = []
