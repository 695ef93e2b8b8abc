# make install: .venv with the package, its test and dev tools and the `llm` extra; make demo: ingest the sample mailbox;
# make test: the whole suite; make test-fast: the inner loop (no IMAP server, nothing slow); make check: lint,
# format and types.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# llama-cpp-python (the `llm` extra: the real-engine tests of `ingest fill`) compiles llama.cpp: portable code
# (no -march=native, so a cached wheel runs on any x86-64), without the multimodal part. About 10 CPU-minutes
# the first time; pip caches the wheel, so later installs take seconds.
LLM_CMAKE_ARGS := -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF

.PHONY: install demo test test-fast check dovecot clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	CMAKE_ARGS="$(LLM_CMAKE_ARGS)" $(BIN)/pip install --quiet -e '.[test,dev,llm]'
	touch $(STAMP)

demo: install
	$(BIN)/ingest --config config/demo.toml import tests/fixtures/demo/sample.mbox
	@echo "Notes are in archive/ (run 'make demo' again: nothing is filed twice)."

# The IMAP tests start their own Dovecot on 127.0.0.1; it only has to be installed.
dovecot:
	@command -v dovecot >/dev/null || test -x /usr/sbin/dovecot || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; \
	  else \
	    echo "dovecot is missing: run 'sudo apt-get install dovecot-imapd'" >&2; exit 1; \
	  fi; }

test: install dovecot
	$(BIN)/pytest

# Under 30 s: everything but the tests that need Dovecot (marker `imap`) or take seconds (`slow`).
test-fast: install
	$(BIN)/pytest -q -m "not imap and not slow"

# ruff (lint and format) and mypy --strict, at the versions pinned in the `dev` extra.
check: install
	$(BIN)/ruff check ingester tests bench
	$(BIN)/ruff format --check ingester tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info

# Backfill benchmark (issue #8): N = 2,000 newsletters from ../shared/corpus in a throwaway Dovecot,
# then the quick benches (retention, links, metadata; ~15 s). Not part of `make test`.
# More: `$(BIN)/python bench/backfill.py --n 10000 --rss-check`; bench/daemon.py (minutes) by hand.
.PHONY: bench
bench: install dovecot
	$(BIN)/python bench/backfill.py
	$(BIN)/python bench/backfill.py --mix classic
	$(BIN)/python bench/retention.py
	$(BIN)/python bench/links.py
	$(BIN)/python bench/metadata.py

# make fuzz: the fuzz targets of tests/test_fuzz.py for much longer (random, FUZZ_EXAMPLES examples per
# property, an example database in .hypothesis/), then the atheris (libFuzzer) harness for FUZZ_SECONDS
# when atheris installs. A crash prints its input: save it under tests/fixtures/fuzz/ (see tests/test_fuzz.py).
FUZZ_EXAMPLES ?= 20000
FUZZ_SECONDS ?= 600
.PHONY: fuzz
fuzz: install
	HYPOTHESIS_PROFILE=fuzz FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/test_fuzz.py -k test_fuzz_
	@$(BIN)/python -c 'import atheris' 2>/dev/null || $(BIN)/pip install --quiet 'atheris>=2.3' \
	  || echo "atheris did not install: skipping the libFuzzer run"
	@if $(BIN)/python -c 'import atheris' 2>/dev/null; then \
	  $(BIN)/python bench/fuzz_atheris.py -max_total_time=$(FUZZ_SECONDS); \
	fi
