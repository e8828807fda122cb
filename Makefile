# improvmx.email developer entry points.
#
#   make demo    run playbooks/demo.yml against the ImprovMX API simulator
#   make test    the gate, 5 to 8 minutes: ansible-test sanity, ansible-lint, antsibull-docs
#                lint, the generated reference is current (docs-check), antsibull-changelog,
#                the built tarball imported by galaxy-importer (galaxy-import), the ansible-test
#                integration targets against the simulator (in two halves) and the unit tests,
#                side by side (scripts/make_test.sh; each lane's output in build/test-*.log)
#   make test-scenarios
#                the playbook-level pytest scenarios of tests/integration/ (the role over many
#                domains, the DNS providers' stand-ins, the built tarball, every module's
#                EXAMPLES, the commands of docs/, the AWX job, ...); CI (.ci/run) runs it
#                after make test
#   make docs    regenerate the module and role reference in docs/reference/
#   make test-core-latest
#                sanity + unit + integration tests with the newest ansible-core pip
#                serves on Python 3.12, in a second venv (not part of `make test`)
#   make test-matrix
#                sanity, units and the integration targets on every ansible-core minor
#                version from meta/runtime.yml's minimum to the newest, one venv each
#                (scripts/test_matrix.py; not part of `make test`; about an hour)
#   make test-live
#                the integration targets against a real ImprovMX account, from
#                tests/integration/integration_config.yml (docs/testing.md; never part of
#                `make test`)
#
# All tools live in $(VENV), created with $(PYTHON) and re-installed only when
# requirements-dev.txt changes.  ansible-test and antsibull-docs need the
# collection at a real path ending ansible_collections/improvmx/email, so every
# target that needs it installs a fresh copy into $(BUILD_DIR)/collections.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-print-directory

PYTHON ?= python3.11
VENV ?= .venv
BUILD_DIR ?= build
# Python version ansible-test uses (the venv's Python).
ANSIBLE_TEST_PYTHON ?= 3.11
# Extra arguments, e.g. make sanity SANITY_ARGS='--test pylint'
SANITY_ARGS ?=
# e.g. make integration-targets TARGETS='improvmx_alias improvmx_aliases' (default: all)
TARGETS ?=
INTEGRATION_TARGETS_ARGS ?=
# e.g. make test-matrix MATRIX_ARGS='--versions 2.16 2.21'
MATRIX_ARGS ?=
LINT_ARGS ?=
PYTEST_ARGS ?=
# pytest-xdist workers for the unit + integration tests (0: one process). Most integration tests
# wait on an ansible-playbook subprocess, so two workers on 2 CPUs nearly halve the run.
PYTEST_WORKERS ?= 2
# make test-core-latest: the interpreter (default: python3.12 on PATH, else pyenv's newest 3.12)
# and the ansible-core requirement (default: the newest release pip serves for it).
CORE_LATEST_PYTHON ?=
CORE_LATEST_PYTHON_VERSION ?= 3.12
CORE_LATEST_CORE ?= ansible-core

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
VENV_DIR := $(abspath $(VENV))
BIN := $(VENV_DIR)/bin
STAMP := $(VENV_DIR)/.requirements-dev.stamp
COLLECTIONS_DIR := $(abspath $(BUILD_DIR))/collections
COLLECTION_DIR := $(COLLECTIONS_DIR)/ansible_collections/improvmx/email
PYTEST := $(BIN)/python -m pytest -c $(ROOT)/tests/pytest.ini --rootdir $(ROOT) -n $(PYTEST_WORKERS)
PYTEST_PATHS := $(wildcard tests/unit tests/integration)
CORE_LATEST_DIR := $(abspath $(BUILD_DIR))/core-latest
CORE_LATEST_BIN := $(CORE_LATEST_DIR)/venv/bin
CORE_LATEST_COLLECTION_DIR := $(CORE_LATEST_DIR)/collections/ansible_collections/improvmx/email

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS_DIR)

.PHONY: help install venv collection collection-copy sanity sanity-ignores lint docs-lint docs-check docs \
	changelog-lint galaxy-import units integration integration-targets pytest test test-scenarios test-core-latest test-matrix test-live demo clean

help:
	@echo 'make demo            run playbooks/demo.yml against the API simulator'
	@echo 'make test            the gate: sanity, lint, docs-lint, docs-check, changelog-lint, galaxy-import, integration targets, units'
	@echo 'make test-scenarios  the playbook-level pytest scenarios of tests/integration (CI runs them after make test)'
	@echo 'make install         create $(VENV) and install the collection into $(BUILD_DIR)/collections'
	@echo 'make sanity|lint|docs-lint|docs-check|changelog-lint|galaxy-import|integration-targets|units|integration   one stage'
	@echo 'make docs            regenerate the module and role reference in docs/reference/ (antsibull-docs)'
	@echo 'make test-core-latest  sanity + tests with the newest ansible-core on Python $(CORE_LATEST_PYTHON_VERSION) (second venv)'
	@echo 'make test-matrix     sanity, units and integration targets on every supported ansible-core minor version'
	@echo 'make test-live       the integration targets against a real account (tests/integration/integration_config.yml)'
	@echo 'make clean           remove $(VENV), $(BUILD_DIR) and test output'

# --- environment -------------------------------------------------------------------------------

venv: $(STAMP)

$(STAMP): requirements-dev.txt
	@if [ ! -x "$(BIN)/python" ]; then \
	    echo "==> creating $(VENV) with $(PYTHON)"; \
	    $(PYTHON) -m venv "$(VENV_DIR)"; \
	fi
	@echo "==> installing requirements-dev.txt into $(VENV)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-dev.txt
	@touch "$@"

# A fresh copy of the collection at a real ansible_collections/improvmx/email path
# (ansible-test refuses symlinks). Also proves galaxy.yml and build_ignore work.
# (`make test` installs it once and sets COLLECTION_INSTALLED=1 for its stages.)
collection: $(STAMP)
	@if [ "$(COLLECTION_INSTALLED)" = 1 ] && [ -f "$(COLLECTION_DIR)/MANIFEST.json" ]; then exit 0; fi; \
	$(MAKE) collection-copy

collection-copy:
	@mkdir -p "$(COLLECTIONS_DIR)"
	@$(BIN)/ansible-galaxy collection install --offline --no-deps --force "$(ROOT)" -p "$(COLLECTIONS_DIR)" >/dev/null
	@# ansible-test lists files with git when it finds a .git above the collection: the copy
	@# lives inside this (git) checkout, in an ignored directory, so give it its own repository.
	@git -c init.defaultBranch=main init --quiet "$(COLLECTION_DIR)"
	@printf '%s\n' '/tests/output/' '__pycache__/' '*.pyc' >"$(COLLECTION_DIR)/.git/info/exclude"
	@echo "==> collection installed at $(COLLECTION_DIR)"

install: $(STAMP) collection

# --- checks ------------------------------------------------------------------------------------

# tests/sanity/ignore-*.txt must stay empty (or not exist): fix the code instead.
sanity-ignores:
	@bad=$$(grep -l -v -E '^[[:space:]]*(#|$$)' tests/sanity/ignore-*.txt 2>/dev/null || true); \
	if [ -n "$$bad" ]; then echo "error: sanity ignore entries are not allowed: $$bad" >&2; exit 1; fi

sanity: sanity-ignores collection
	@$(BIN)/python scripts/ansible_test_get_pip.py
	cd "$(COLLECTION_DIR)" && ansible-test sanity --python $(ANSIBLE_TEST_PYTHON) --color no $(SANITY_ARGS)

lint: collection
	ansible-lint --offline --profile production $$([ -t 1 ] || echo --nocolor) $(LINT_ARGS)

docs-lint: collection
	antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs dependent "$(COLLECTION_DIR)"

# The reference in docs/reference/ is generated from the plugins' own documentation (and the
# role's meta/argument_specs.yml, galaxy.yml, meta/runtime.yml); docs-check fails when the
# committed copy differs from a fresh build.
docs: $(STAMP)
	$(BIN)/python scripts/field_docs.py
	$(BIN)/python scripts/build_docs.py

docs-check: $(STAMP)
	$(BIN)/python scripts/field_docs.py --check
	$(BIN)/python scripts/build_docs.py --check

changelog-lint: $(STAMP)
	antsibull-changelog lint

# The built tarball imported as Galaxy imports it (galaxy-importer, its ansible-test step off: it
# needs a container); any warning fails.
galaxy-import: $(STAMP)
	$(BIN)/python scripts/galaxy_import.py

units: $(STAMP)
	$(PYTEST) $(PYTEST_ARGS) tests/unit

integration: $(STAMP)
	$(PYTEST) $(PYTEST_ARGS) tests/integration

# The ansible-test integration targets (tests/integration/targets/), each against a simulator it
# starts itself. The copy never holds tests/integration/integration_config.yml (build_ignore), so
# this never reaches a real account; make test-live does.
integration-targets: collection
	cd "$(COLLECTION_DIR)" && ansible-test integration --python $(ANSIBLE_TEST_PYTHON) --local --color no $(INTEGRATION_TARGETS_ARGS) $(TARGETS)

# Unit and integration tests in one run, so its summary is one line.
pytest: $(STAMP)
	$(PYTEST) $(PYTEST_ARGS) $(PYTEST_PATHS)

# make test: the checks, the integration targets in two lanes and the unit tests, side by side
# (scripts/make_test.sh); every lane runs even when another failed, and the target fails if one
# did. The units' summary is the last line printed. 5 to 8 minutes from a clean clone on 2 CPUs
# (docs/testing.md).
TEST_STAGES := sanity lint docs-lint docs-check changelog-lint galaxy-import
UNIT_WORKERS ?= 0

test: install
	@MAKE="$(MAKE)" STAGES="$(TEST_STAGES)" BUILD_DIR="$(abspath $(BUILD_DIR))" TARGETS_DIR="$(ROOT)/tests/integration/targets" \
	    UNITS="$(BIN)/python -m pytest -c $(ROOT)/tests/pytest.ini --rootdir $(ROOT) -n $(UNIT_WORKERS) $(PYTEST_ARGS) tests/unit" \
	    bash scripts/make_test.sh

# The playbook-level scenarios of tests/integration/ (pytest, ansible-playbook in a subprocess):
# the role over twenty domains with forks, the DNS providers' stand-ins, the built tarball, the
# AWX job, every module's EXAMPLES, the commands of docs/ as written, make test-live's
# mechanism. About 16 minutes on 2 CPUs, so not part of make test; CI (.ci/run) runs it after
# make test. The slowest tests are printed before the summary.
test-scenarios: install
	$(PYTEST) --durations=15 $(PYTEST_ARGS) tests/integration tests/unit/reliability/test_matrix_doc.py

# --- the newest ansible-core -------------------------------------------------------------------

# A second venv in $(BUILD_DIR)/core-latest with Python $(CORE_LATEST_PYTHON_VERSION) and the newest
# ansible-core pip serves there (upgraded on every run), plus what the tests need
# (tests/requirements-core-latest.txt); then ansible-test sanity --python $(CORE_LATEST_PYTHON_VERSION)
# on a fresh copy of the collection, and the unit + integration tests with that venv's
# ansible-playbook / ansible-doc / ansible-galaxy.  Every stage runs; the target fails if one did.
test-core-latest: sanity-ignores
	@py="$(CORE_LATEST_PYTHON)"; \
	if [ -z "$$py" ]; then \
	    if python$(CORE_LATEST_PYTHON_VERSION) -c '' 2>/dev/null; then py=python$(CORE_LATEST_PYTHON_VERSION); \
	    elif command -v pyenv >/dev/null && v=$$(pyenv versions --bare | grep -E '^$(subst .,\.,$(CORE_LATEST_PYTHON_VERSION))(\.[0-9]+)?$$' | tail -n 1) && [ -n "$$v" ]; then \
	        py="$$(pyenv root)/versions/$$v/bin/python$(CORE_LATEST_PYTHON_VERSION)"; \
	    else echo "error: no Python $(CORE_LATEST_PYTHON_VERSION) found; set CORE_LATEST_PYTHON=/path/to/python" >&2; exit 1; fi; \
	fi; \
	if [ ! -x "$(CORE_LATEST_BIN)/python" ]; then \
	    echo "==> creating $(CORE_LATEST_DIR)/venv with $$py"; \
	    "$$py" -m venv "$(CORE_LATEST_DIR)/venv"; \
	fi
	@echo "==> installing the newest $(CORE_LATEST_CORE) and tests/requirements-core-latest.txt"
	$(CORE_LATEST_BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade \
	    '$(CORE_LATEST_CORE)' -r tests/requirements-core-latest.txt
	@$(MAKE) collection-copy VENV="$(CORE_LATEST_DIR)/venv" BUILD_DIR="$(CORE_LATEST_DIR)"
	@CORE_LATEST_BIN="$(CORE_LATEST_BIN)" CORE_LATEST_DIR="$(CORE_LATEST_DIR)" \
	    CORE_LATEST_COLLECTION_DIR="$(CORE_LATEST_COLLECTION_DIR)" CORE_LATEST_PYTHON_VERSION="$(CORE_LATEST_PYTHON_VERSION)" \
	    ROOT="$(ROOT)" SANITY_ARGS="$(SANITY_ARGS)" PYTEST_ARGS="$(PYTEST_ARGS)" PYTEST_PATHS="$(PYTEST_PATHS)" \
	    bash scripts/make_test_core_latest.sh

# --- every supported ansible-core, a real account ---------------------------------------------

# One venv per ansible-core minor version in $(BUILD_DIR)/matrix/<version>/; results in
# $(BUILD_DIR)/matrix/results.md (the README's "Tested versions" table comes from it).
test-matrix: sanity-ignores
	$(PYTHON) scripts/test_matrix.py --build-dir "$(abspath $(BUILD_DIR))/matrix" $(MATRIX_ARGS)

# The targets against the account in tests/integration/integration_config.yml, touching only its
# test domain and names with a per-run prefix, cleaned up even when a target fails
# (scripts/integration_live.py; see docs/testing.md). TARGETS= runs some.
test-live: $(STAMP)
	@$(MAKE) collection-copy
	$(BIN)/python scripts/integration_live.py --collection-dir "$(COLLECTION_DIR)" --python $(ANSIBLE_TEST_PYTHON) $(TARGETS)

# --- demo --------------------------------------------------------------------------------------

demo: install
	@VENV="$(VENV_DIR)" COLLECTIONS_DIR="$(COLLECTIONS_DIR)" bash scripts/demo.sh

clean:
	rm -rf "$(VENV_DIR)" "$(abspath $(BUILD_DIR))" tests/output .ansible .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
