# divert: `make run` sets everything up and serves the demo; `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app divert
STATIC := divert/web/static
GOVUK := node_modules/govuk-frontend/dist/govuk
MOJ := node_modules/@ministryofjustice/frontend/moj

PORT ?= 5000

.PHONY: run test system-packages system-packages-test install install-dev assets lint typecheck pytest bench clean

# The server and the background worker (which raises the demo's flags) together: bin/serve.
run: system-packages install assets
	$(FLASK) init-db
	$(FLASK) seed-demo
	PORT=$(PORT) FLASK="$(FLASK)" bin/serve

test: system-packages-test install-dev assets lint typecheck pytest

# Installs the OS packages as root or with password-less sudo, or stops at once saying the command.
system-packages:
	bin/system-packages

system-packages-test:
	bin/system-packages test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The design systems' built CSS, JS, fonts and images, served from /assets.
assets: node_modules/.installed
	mkdir -p $(STATIC)/moj
	cp $(GOVUK)/govuk-frontend.min.css $(GOVUK)/govuk-frontend.min.js $(STATIC)/
	cp -r $(GOVUK)/assets/fonts $(GOVUK)/assets/images $(GOVUK)/assets/manifest.json $(STATIC)/
	cp $(MOJ)/moj-frontend.min.css $(MOJ)/moj-frontend.min.js $(STATIC)/moj/
	cp -r $(MOJ)/assets/images/. $(STATIC)/images/

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy --explicit-package-bases divert config.py bench

pytest:
	$(BIN)/pytest -q

bench: install-dev
	$(BIN)/python -m bench.bench_rules
	$(BIN)/python -m bench.bench_monitoring --n 100000
	$(BIN)/python -m bench.bench_import --background

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache .mypy_cache .ruff_cache
