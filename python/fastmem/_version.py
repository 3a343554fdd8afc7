"""The single place the version of fastmem is written."""

__version__ = "0.1.0"
