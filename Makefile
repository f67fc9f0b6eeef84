# The README's two commands: `make demo` (the main job) and `make test` (everything CI checks).
# Both build .venv/ from the hash-pinned requirements.lock on first use; nothing else is needed
# on the machine beyond Python >= 3.11, git and make (the browser tests of report.html also
# need Debian's chromium: `make test` installs it when run as root, else says how).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-pythons lint typecheck unit packs bench lock clean browser-deps

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/auditor demo

# The HTML report is tested in a real browser: playwright drives the system Chromium at
# $(CHROMIUM) (tests/reports/test_html_browser.py). AUDITOR_SKIP_BROWSER=1 skips those tests.
CHROMIUM := /usr/bin/chromium

browser-deps:
	@if [ "$$AUDITOR_SKIP_BROWSER" = 1 ] || [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "make: installing Debian's chromium for the browser tests (apt-get)"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	else \
		echo "make: the browser tests need $(CHROMIUM): run 'sudo apt-get install chromium' (or set AUDITOR_SKIP_BROWSER=1 to skip them)" >&2; \
		exit 1; \
	fi

test: browser-deps $(STAMP)
	$(BIN)/ruff check auditor tests bench
	$(BIN)/ruff format --check auditor tests bench
	$(BIN)/mypy
	$(BIN)/auditor policies test policies/
	$(BIN)/pytest

# The worker-process tests (process pools, fork server, signals: their behaviour changes between
# Python versions) on every other Python >= 3.12 this machine has, each in a venv of its own
# (.venv-3.X/, from the same lock); a Python that is missing is skipped, with a line saying so.
OTHER_PYTHONS := 3.12 3.13

test-pythons:
	@for v in $(OTHER_PYTHONS); do \
		p=""; for c in "$$(command -v python$$v)" $$(ls -d $$HOME/.pyenv/versions/$$v*/bin/python 2>/dev/null); do \
			if [ -n "$$c" ] && "$$c" -c 'import sys' >/dev/null 2>&1; then p="$$c"; break; fi; done; \
		if [ -z "$$p" ]; then echo "test-pythons: no Python $$v here, skipped"; continue; fi; \
		echo "test-pythons: Python $$v ($$p)"; \
		[ -x .venv-$$v/bin/python ] || "$$p" -m venv .venv-$$v || exit 1; \
		.venv-$$v/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock || exit 1; \
		.venv-$$v/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . || exit 1; \
		.venv-$$v/bin/python -m pytest -q -p no:cacheprovider tests/test_workers.py tests/accounts/test_workers_accounts.py || exit 1; \
	done

bench: $(STAMP)
	$(BIN)/python -m bench

# Regenerate the lock after editing dependencies in pyproject.toml (needs uv on PATH).
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .venv-3.* .mypy_cache .pytest_cache .ruff_cache
