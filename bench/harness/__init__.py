"""What the benchmarks and the tests both run the platform with: the whole platform on free
loopback ports (`platform`), throw-away PostgreSQL databases (`databases`) and Docker-mode
workspaces (`docker_workspaces`). Here, so that bench/ never imports tests/."""
