"""ApraNova's JupyterHub extensions: login, track-aware spawners, the service gateway."""
