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

.PHONY: install synth test lint typecheck unit bench bench-send bench-local bench-labels demo clean test-newest-cdk test-newest-moto dist

install: $(STAMP_PY) $(STAMP_NODE) $(STAMP_CHECKOV)

# pip prints each package as it goes: the first run downloads about 400 MB and takes a few minutes.
$(STAMP_PY): requirements.txt requirements-dev.txt pyproject.toml
	@echo "==> Python: creating $(VENV) and installing the pinned packages (first run: a few minutes)"
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --disable-pip-version-check -r requirements-dev.txt
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@echo "==> Python: ready"
	touch $@

$(STAMP_CHECKOV): requirements-checkov.txt
	@echo "==> checkov: installing into its own venv, .tools/checkov (first run: about 20 s)"
	test -x .tools/checkov/bin/python || $(PYTHON) -m venv .tools/checkov
	set -o pipefail; .tools/checkov/bin/python -m pip install --progress-bar off --disable-pip-version-check \
		-r requirements-checkov.txt | awk '/^(Collecting|Successfully)/ { print; fflush() }'
	@echo "==> checkov: ready"
	touch $@

$(STAMP_NODE): package.json package-lock.json
	@echo "==> Node: installing Node 22 and the pinned CDK CLI into node_modules"
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: $(STAMP_PY) $(STAMP_NODE)
	cdk --version
	cdk synth --quiet
	@echo "Template: cdk.out/StreamingLabelingExample.template.json"

lint: install
	@echo "==> ruff"
	ruff check .

# mypy prints nothing until it is done: a cold cache takes about a minute, a warm one seconds.
typecheck: install
	@echo "==> mypy (strict on the library; a cold cache takes about a minute)"
	mypy

unit: install
	@echo "==> pytest"
	pytest

test: lint typecheck unit

# The suite against the newest aws-cdk-lib on the registry, in a venv of its own, so that a renamed
# internal (tests/test_cdk_internals.py) shows before users upgrade. The template snapshot pins the
# output of the pinned aws-cdk-lib and is left out. Nothing to do when the newest is the pinned one.
NEWEST_VENV := .venv-newest-cdk
test-newest-cdk: $(STAMP_PY) $(STAMP_NODE)
	@newest=$$($(VENV)/bin/python -m pip index versions aws-cdk-lib 2>/dev/null | sed -nE '1s/.*\((.*)\).*/\1/p'); \
	pinned=$$($(VENV)/bin/python -c "import importlib.metadata as m; print(m.version('aws-cdk-lib'))"); \
	if [ -z "$$newest" ]; then echo "==> newest aws-cdk-lib: the registry did not answer"; exit 1; fi; \
	if [ "$$newest" = "$$pinned" ]; then echo "==> aws-cdk-lib $$pinned is the newest release: covered by make test"; exit 0; fi; \
	echo "==> the suite against aws-cdk-lib $$newest (pinned: $$pinned)"; \
	test -x $(NEWEST_VENV)/bin/python || $(PYTHON) -m venv $(NEWEST_VENV); \
	$(NEWEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt && \
	$(NEWEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "aws-cdk-lib==$$newest" && \
	$(NEWEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e . && \
	PATH=$(CURDIR)/node_modules/.bin:$(CURDIR)/$(NEWEST_VENV)/bin:$$PATH $(NEWEST_VENV)/bin/pytest \
		--deselect tests/test_snapshot.py::test_example_stack_template

# The local Ground Truth's tests against the newest moto on the registry, in a venv of its own, so that a changed
# internal the adapters patch (streaming_labeling/testing/moto_adapter.py, guarded by tests/test_moto_adapter.py)
# shows before users upgrade. The tests: every test module that starts the local cloud. A newest moto outside the
# adapters' range (MOTO_RANGE there, the `testing` extra of pyproject.toml) fails the target: users would get the
# adapters' one-line error. Nothing to do when the newest is the pinned one (requirements-dev.txt).
# NEWEST_MOTO=<version> stands in for the registry's answer (to try a release, or the target itself).
NEWEST_MOTO_VENV := .venv-newest-moto
MOTO_EXTRAS := s3,sns,sqs,iam,kms,server,cloudformation,awslambda,events,logs,ssm
LOCAL_GT_TESTS = $(shell grep -l -E 'LocalGroundTruth|local_ground_truth|LocalCloud|moto_adapter|local_gt_harness' tests/test_*.py)
test-newest-moto: $(STAMP_PY) $(STAMP_NODE)
	@newest=$${NEWEST_MOTO:-$$($(VENV)/bin/python -m pip index versions moto 2>/dev/null | sed -nE '1s/.*\((.*)\).*/\1/p')}; \
	pinned=$$($(VENV)/bin/python -c "import importlib.metadata as m; print(m.version('moto'))"); \
	range=$$($(VENV)/bin/python -c "from streaming_labeling.testing.moto_adapter import MOTO_RANGE; print(MOTO_RANGE)"); \
	if [ -z "$$newest" ]; then echo "==> newest moto: the registry did not answer"; exit 1; fi; \
	if [ "$$newest" = "$$pinned" ]; then echo "==> moto $$pinned is the newest release: covered by make test"; exit 0; fi; \
	if ! $(VENV)/bin/python -c "import sys; from streaming_labeling.testing.moto_adapter import moto_version_supported; \
		sys.exit(not moto_version_supported('$$newest'))"; then \
		echo "==> moto $$newest, the newest release, is UNSUPPORTED: outside the adapters' range moto$$range, so the"; \
		echo "    local Ground Truth refuses it. Widen MOTO_BELOW/MOTO_RANGE in constructs/streaming_labeling/testing/"; \
		echo "    moto_adapter.py and the testing extra in pyproject.toml, then run make test-newest-moto again."; \
		exit 1; fi; \
	echo "==> the local Ground Truth's tests against moto $$newest (pinned: $$pinned; supported: $$range)"; \
	test -x $(NEWEST_MOTO_VENV)/bin/python || $(PYTHON) -m venv $(NEWEST_MOTO_VENV); \
	$(NEWEST_MOTO_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt && \
	$(NEWEST_MOTO_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "moto[$(MOTO_EXTRAS)]==$$newest" && \
	$(NEWEST_MOTO_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e . && \
	PATH=$(CURDIR)/node_modules/.bin:$(CURDIR)/$(NEWEST_MOTO_VENV)/bin:$$PATH $(NEWEST_MOTO_VENV)/bin/pytest \
		$(LOCAL_GT_TESTS)

# A wheel and an sdist in dist/, as `python -m build` makes them (tests/test_packaging.py installs both).
dist: $(STAMP_PY)
	python -m build --outdir dist .

bench: install
	python bench/run.py --repeats $(or $(REPEATS),5)

# `streaming-labeling send` against a plain boto3 loop, 10,000 text objects on a loopback moto server.
bench-send: $(STAMP_PY)
	python bench/send_bench.py --objects $(or $(OBJECTS),10000) --repeats $(or $(REPEATS),3)

# The local Ground Truth: the example app's deploy, and 1,000 text objects from send to their labels.
bench-local: $(STAMP_PY) $(STAMP_NODE)
	python bench/local_bench.py --objects $(or $(OBJECTS),1000) --repeats $(or $(REPEATS),3)

# `streaming-labeling labels` over 10,000 and 100,000 labeled boxes in two generations on the local Ground Truth:
# time and peak memory of --format manifest and --format coco.
bench-labels: $(STAMP_PY)
	python bench/labels_bench.py --objects $(or $(OBJECTS),10000 100000) --repeats $(or $(REPEATS),3)

# The whole loop of the example app on the local Ground Truth (no AWS account): deploy, send, label, read,
# destroy. Labeled vehicle images with their boxes land in demo-output/.
demo: $(STAMP_PY) $(STAMP_NODE)
	python demo.py

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache build dist demo-output
