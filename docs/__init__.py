"""The reader documentation, and `docs.generate`, which writes its reference tables from the
code (routes, settings, marts) so they cannot drift from it."""
