"""Dagster code location: LMS database -> DuckDB warehouse (raw, staging, marts)."""
