# Every target bootstraps uv and the locked environment itself, so a fresh machine with only
# Python 3.11 and make needs nothing else.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
export LINKWAREHOUSE_DATA ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(LINKWAREHOUSE_DATA)/dagster_home
export DAGSTER_DISABLE_TELEMETRY := 1
export UV_SYSTEM_CERTS := 1
RUN := $(UV) run --locked --no-sync

.PHONY: help bootstrap venv demo test ui lint format bench docs clean

help:
	@echo "make demo   - set up, start the demo shop, crawl it through Dagster, print a summary"
	@echo "make test   - set up and run the whole test suite"
	@echo "make ui     - dagster dev on 127.0.0.1:3000 with the demo config"
	@echo "make lint   - ruff check + format check"
	@echo "make docs   - dbt docs generate (dbt_project/target/docs/static_index.html)"
	@echo "make bench  - benchmarks side by side with peer tools (installs nginx, docs; root;"
	@echo "              about 40 min; networkx needs ~12 GB of RAM for the PageRank section)"

bootstrap:
	@test -x "$(UV)" || $(PYTHON) -m pip install --user --quiet uv
	@test -x "$(UV)" || { echo "uv could not be installed"; exit 1; }

venv: bootstrap
	@$(UV) sync --locked --quiet

demo: venv
	@mkdir -p "$(DAGSTER_HOME)"
	$(RUN) python -m orchestration.demo_run

test: venv
	$(RUN) python -m pytest -q

ui: venv
	@mkdir -p "$(DAGSTER_HOME)"
	$(RUN) python -m orchestration.ui

lint: venv
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: venv
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

bench: bootstrap
	@$(UV) sync --locked --group bench --quiet
	bash bench/setup_nginx.sh
	$(RUN) python bench/crawl.py --write
	$(RUN) python bench/extract.py --write
	$(RUN) python bench/sitemaps.py --write
	$(RUN) python bench/backlinks.py --write
	$(RUN) python bench/pagerank.py --write

docs: venv
	$(RUN) python -m linking.warehouse docs

clean:
	rm -rf data .pytest_cache
