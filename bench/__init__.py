"""Benchmarks, run as modules (``python -m bench.transitions``); not part of the package."""
