# The README's two commands: `make demo` (the main job) and `make test` (everything CI checks).
# Both build .venv/ from the hash-pinned requirements.lock on first use; nothing else is needed
# on the machine beyond Python >= 3.11, git and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit packs bench lock clean browser-deps

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/auditor demo

test: $(STAMP)
	$(BIN)/ruff check auditor tests bench
	$(BIN)/ruff format --check auditor tests bench
	$(BIN)/mypy
	$(BIN)/auditor policies test policies/
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

# Regenerate the lock after editing dependencies in pyproject.toml (needs uv on PATH).
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
