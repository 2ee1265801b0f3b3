"""Académie administration: per-académie configuration."""
