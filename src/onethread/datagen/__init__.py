"""Realistic generated data for benchmarks: ``onethread bench generate``."""
