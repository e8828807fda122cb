#!/usr/bin/env bash
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# `make test-core-latest`, after the Makefile made the venv and the collection copy: ansible-test
# sanity on the copy, then the unit + integration tests, with the newest ansible-core. Every stage
# runs; the exit status is 1 when one failed.
#
#   CORE_LATEST_BIN, CORE_LATEST_DIR, CORE_LATEST_COLLECTION_DIR, CORE_LATEST_PYTHON_VERSION, ROOT,
#   SANITY_ARGS, PYTEST_ARGS and PYTEST_PATHS come from the Makefile.
set -uo pipefail

export PATH="$CORE_LATEST_BIN:$PATH" ANSIBLE_COLLECTIONS_PATH="$CORE_LATEST_DIR/collections"
versions=$("$CORE_LATEST_BIN/python" -c 'import platform, ansible.release as r; print("ansible-core", r.__version__, "on Python", platform.python_version())')
echo "==> $versions"
failed=""
start=$SECONDS
echo "==> sanity ($versions)"
"$CORE_LATEST_BIN/python" "$ROOT/scripts/ansible_test_get_pip.py"
# shellcheck disable=SC2086 # SANITY_ARGS is a word list
if (cd "$CORE_LATEST_COLLECTION_DIR" && ansible-test sanity --python "$CORE_LATEST_PYTHON_VERSION" --color no ${SANITY_ARGS:-}); then
    echo "==> sanity passed in $((SECONDS - start))s"
else
    echo "==> sanity FAILED after $((SECONDS - start))s"
    failed="$failed sanity"
fi
echo "==> pytest, units + integration ($versions)"
start=$SECONDS
rc=0
# shellcheck disable=SC2086 # PYTEST_ARGS and PYTEST_PATHS are word lists
"$CORE_LATEST_BIN/python" -m pytest -c "$ROOT/tests/pytest.ini" --rootdir "$ROOT" ${PYTEST_ARGS:-} $PYTEST_PATHS || rc=$?
if [ "$rc" != 0 ]; then
    echo "==> pytest FAILED after $((SECONDS - start))s"
    failed="$failed pytest"
else
    echo "==> pytest passed in $((SECONDS - start))s"
fi
if [ -n "$failed" ]; then
    echo "==> $versions: failed:$failed"
    exit 1
fi
echo "==> $versions: sanity and pytest passed"
