# Two commands for a new machine: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# This machine sets PYTHONDONTWRITEBYTECODE=1: every start would then recompile msgraph-sdk and pandas (2-4 s).
# Our commands let Python cache bytecode for what they import (compiling the whole venv up front took ~22 s).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test lint bench bench-quick clean venv report-images lock

venv: $(STAMP)

# requirements.lock pins every package to the version the tests pass with (make lock refreshes it); uv installs it
# (pinned in UV below), several times faster than pip on a fresh machine.
UV := uv==0.13.9

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet '$(UV)'
	$(VENV)/bin/uv pip install --quiet --python $(PY) --constraint requirements.lock -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/idaudit demo --out demo-output

test: $(STAMP) lint
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check idaudit connectors checks reports simulator tests bench tools
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# The first two pages of the demo's board PDF, shown in docs/reports.md (needs LibreOffice and poppler-utils).
report-images: $(STAMP)
	rm -rf build/report-images
	$(VENV)/bin/idaudit demo --out build/report-images --format xlsx,pdf > /dev/null
	mkdir -p docs/images
	pdftoppm -r 70 -png -f 1 -l 1 -singlefile build/report-images/idaudit-report.pdf docs/images/report-page-1
	pdftoppm -r 70 -png -f 2 -l 2 -singlefile build/report-images/idaudit-report.pdf docs/images/report-page-2

bench: $(STAMP)
	$(PY) -m bench

bench-quick: $(STAMP)
	$(PY) -m bench --quick

# Refresh requirements.lock after changing dependencies in pyproject.toml (keeps every version it can).
lock: $(STAMP)
	$(VENV)/bin/uv pip compile --quiet pyproject.toml --extra test --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 -o requirements.lock

clean:
	rm -rf $(VENV) demo-output build *.egg-info
