"""Payments: what a student paid for which track, and what was refunded."""
