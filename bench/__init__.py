"""Benchmarks run by hand (`make bench-api`); not part of the test suite."""
