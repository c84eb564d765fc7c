# Every target sets up what it needs: `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test test-unit test-integration test-e2e test-reliability reliability-report lint bench soak package clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint constraints.txt --editable '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/villages-sync demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml

test: lint
	$(BIN)/pytest tests/unit tests/integration tests/e2e tests/reliability

test-unit: install
	$(BIN)/pytest tests/unit

test-integration: install
	$(BIN)/pytest tests/integration

test-e2e: install
	$(BIN)/pytest tests/e2e

test-reliability: install
	$(BIN)/pytest tests/reliability

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
