# Each target sets up its own virtual environment, so a fresh machine needs only Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast bench clean system-packages

$(STAMP): pyproject.toml
	@PYTHON=$(PYTHON) sh scripts/system-packages.sh venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[spark,test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/custfocus demo --out demo-company

test: $(STAMP) system-packages
	$(BIN)/python -m pytest

# Chromium (browser test) and a JVM (Spark tests): installed when run as root on Debian,
# otherwise named with the command that installs them.
system-packages:
	@sh scripts/system-packages.sh test

# Skips the Spark and browser suites for a quick local loop.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not spark and not browser and not slow"

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	for script in benchmarks/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) demo-company .pytest_cache
