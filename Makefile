# One-command set-up: every target installs the project into .venv first (once, again when
# pyproject.toml changes), with nothing but Python (tools/make_venv.py brings pip if needed).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
OUT ?= out

export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONDONTWRITEBYTECODE = 1

.PHONY: install demo test student references examples release gradescope check-generated lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) tools/make_venv.py $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: install
	$(PY) -m autograder demo --out $(OUT)

test: install
	$(PY) -m pytest

student: install
	$(PY) -m autograder generate

references: install
	$(PY) -m autograder build-references

release: install
	$(PY) -m autograder release --out dist

gradescope: install
	$(PY) -m autograder export-gradescope dist/gradescope

examples: install
	$(PY) -m autograder examples

check-generated: install
	$(PY) -m autograder generate --check
	$(PY) -m autograder build-references --check
	$(PY) -m autograder examples --check

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(OUT) dist .pytest_cache
