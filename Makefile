# make install: .venv with the package; make demo: ingest the sample mailbox; make test: the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test dovecot clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
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

clean:
	rm -rf $(VENV) build *.egg-info
