# ApraNova — two commands: `make up` (install + start with demo data) and `make test`.
# The virtualenv's interpreter must be one every user may run: local workspaces run it as each
# student's own system account (a pyenv under /root is not reachable for them).
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
VENV   := .venv
BIN    := $(VENV)/bin
STATE  ?= .apranova
export APRANOVA_STATE_DIR ?= $(abspath $(STATE))
export PATH := $(abspath node_modules/.bin):$(abspath $(BIN)):$(PATH)
# Python caches bytecode by default. A machine that sets PYTHONDONTWRITEBYTECODE (these
# machines do) makes every process the suite starts (test workers, hubs, lms-api,
# Dagster) compile our sources again, and pytest rewrite every test module in each worker.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: up install init pipeline test test-fast lint format compose-config clean help

help:
	@echo "make up       install everything, load demo data, start the platform on 127.0.0.1:8000"
	@echo "make test     run the whole test suite (PostgreSQL when configured, else SQLite)"
	@echo "make test-fast  every test but the whole-platform (e2e) ones, for the edit loop"
	@echo "make lint     ruff check + format check"
	@echo "make pipeline materialize every Dagster asset into the local warehouse"
	@echo "make bench-api API load run on loopback (PostgreSQL + hub needed), see bench/README.md"
	@echo "make bench-quiz quiz-flow load run (start, 10 answers, submit) on loopback, same needs;"
	@echo "               PEER=/path/to/ApranovaPro1 also runs it on the Django peer and compares"
	@echo "make bench-portal portal load run: browsers take the quiz through /portal pages, same needs"
	@echo "make seed-synthetic  fill the local LMS with a synthetic school (STUDENTS=2000 QUIZZES=12)"
	@echo "make bench-pipeline  full + incremental pipeline on 100k students / 10M answers (PostgreSQL)"
	@echo "make bench-dashboards  every dashboard page's render time on 100k students' marts"
	@echo "make workspaces  build the workspace images locally (Docker engine, no registry needed)"
	@echo "make bench-spawn  Docker mode: 1, 10, 30 students start JupyterLab at once (p50/p95, memory)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

init: install
	$(BIN)/apranova-hub init
	$(BIN)/apranova-lms migrate
	$(BIN)/apranova-lms seed-demo
	$(BIN)/apranova-hub seed-demo

pipeline: install
	DAGSTER_HOME=$(APRANOVA_STATE_DIR)/dagster $(BIN)/python -m pipelines.cli

up: init pipeline
	@$(BIN)/apranova-hub banner
	$(BIN)/jupyterhub -f jupyterhub_config.py

# pytest-xdist, two workers (CI has 2 cores). The tests on the session's platform stay together
# on one worker, where they share one hub, and a module with a hub of its own is a group of its
# own (tests/conftest.py). A third worker for `make test` was faster once (617 s against 669 s)
# and not on a clean clone an hour later (828 s against 812 s): two stay. WORKERS=0: no xdist.
WORKERS ?= 2
FAST_WORKERS ?= 2
xdist = $(if $(filter 0,$(1)),,-n $(1) --dist loadgroup)
XDIST = $(call xdist,$(WORKERS))

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# The edit loop: every test but the whole-platform ones (no hub, proxy, Docker or Chromium)
# and the slow ones (whole pipeline runs, benchmarks, fuzzing); `make test` runs them all.
test-fast: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not e2e and not slow" $(call xdist,$(FAST_WORKERS)) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# API load run: N students vs lms_api on PostgreSQL, and a bare ASGI ceiling (bench/README.md).
# Override e.g. BENCH_ARGS="--students 50 --duration 10"; PostgreSQL admin URL from
# APRANOVA_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
.PHONY: bench-api
BENCH_ARGS ?= --students 200 --duration 30
bench-api: install
	$(BIN)/python -m bench.api_load $(BENCH_ARGS)

# Quiz-flow load run: N students start, answer 10 questions, submit, in a loop, on PostgreSQL;
# p50/p95/p99 per step, flows/s, a database check and the verdict (bench/README.md).
# Override e.g. BENCH_QUIZ_ARGS="--students 50 --duration 10 --think-ms 1000". With
# PEER=/path/to/ApranovaPro1 (a checkout of the seed's Django backend, kept outside this
# repository) the same flow runs against it too, and both sides and their ratio are printed.
.PHONY: bench-quiz
BENCH_QUIZ_ARGS ?= --students 200 --duration 30
bench-quiz: install
	$(BIN)/python -m bench.quiz_load $(BENCH_QUIZ_ARGS) $(if $(PEER),--peer "$(PEER)")

# Portal load run: N browsers (session cookie, CSRF from the page) take the same quiz through
# the portal's pages: my course, intro, start, take, 10 autosaves, submit, result; p50/p95/p99
# per request kind, a database check and the verdict (bench/README.md).
# Override e.g. BENCH_PORTAL_ARGS="--students 50 --duration 10 --think-ms 5000,2000".
.PHONY: bench-portal
BENCH_PORTAL_ARGS ?= --students 200 --duration 30
bench-portal: install
	$(BIN)/python -m bench.portal_load $(BENCH_PORTAL_ARGS)

# A synthetic school in the local LMS (then `make pipeline` to see it in the dashboards).
.PHONY: seed-synthetic bench-pipeline
STUDENTS ?= 2000
QUIZZES ?= 12
SEED ?= 7
seed-synthetic: install
	$(BIN)/apranova-lms migrate
	$(BIN)/apranova-lms seed-synthetic --students $(STUDENTS) --quizzes $(QUIZZES) --seed $(SEED) \
		--hand-over-to trainer

# Pipeline at scale: seed 100k students (~10M answers) into a fresh PostgreSQL database, then a
# full rebuild, an incremental refresh after 1,000 attempts and a naive pandas comparison.
BENCH_PIPELINE_ARGS ?= --students 100000 --quizzes 50
bench-pipeline: install
	$(BIN)/python -m bench.pipeline_scale $(BENCH_PIPELINE_ARGS)

compose-config:
	docker-compose --env-file .env.example -f docker-compose.yml config --quiet

clean:
	rm -rf $(VENV) node_modules

# Dashboard render times: seed 100k students, run the pipeline, then time every page (first
# render and cached rerun) as an admin and as the busiest trainer. BENCH_DASHBOARD_ARGS e.g.
# "--warehouse /tmp/w.duckdb" to reuse a published file (--keep saves one).
.PHONY: bench-dashboards
BENCH_DASHBOARD_ARGS ?= --students 100000 --quizzes 50
bench-dashboards: install
	$(BIN)/python -m bench.dashboard_render $(BENCH_DASHBOARD_ARGS)

# Workspace images from a locally made base (images/README.md); `make bench-spawn` and the
# Docker tests need them. Pass KINDS="jupyterlab" for one.
.PHONY: workspaces bench-spawn
KINDS ?= jupyterlab superset
workspaces: install
	images/build-local.sh $(KINDS)

# Spawn benchmark in Docker mode (bench/README.md). Override e.g. BENCH_SPAWN_ARGS="--rounds 1,5".
BENCH_SPAWN_ARGS ?= --rounds 1,10,30
bench-spawn: install
	$(BIN)/python -m bench.spawn $(BENCH_SPAWN_ARGS)
