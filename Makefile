# Two commands for a fresh clone: `make synth` and `make test`. Both install what they need,
# idempotently: a project-local .venv (Python) and node_modules (Node 22 + the pinned CDK CLI).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
STAMP_PY := $(VENV)/.installed
STAMP_NODE := node_modules/.installed
# checkov pins libraries that clash with the project's, so it gets a venv of its own.
STAMP_CHECKOV := .tools/checkov/.installed
# Node 22 and the venv's python come first, so the CDK CLI and jsii use them.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: install synth test lint typecheck unit bench clean

install: $(STAMP_PY) $(STAMP_NODE) $(STAMP_CHECKOV)

$(STAMP_PY): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(STAMP_CHECKOV): requirements-checkov.txt
	test -x .tools/checkov/bin/python || $(PYTHON) -m venv .tools/checkov
	.tools/checkov/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: $(STAMP_PY) $(STAMP_NODE)
	cdk --version
	cdk synth --quiet
	@echo "Template: cdk.out/StreamingLabelingExample.template.json"

lint: install
	ruff check .

typecheck: install
	mypy

unit: install
	pytest

test: lint typecheck unit

bench: install
	python bench/run.py --repeats $(or $(REPEATS),5)

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache build
