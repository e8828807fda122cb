#!/usr/bin/env bash
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# What `make test` runs once the venv and the collection copy exist (the Makefile passes the paths
# and the pytest command in the environment): every check stage, then the ansible-test
# integration targets in the background while pytest runs the unit and integration tests. Every
# stage runs even when an earlier one failed; the exit status is pytest's, or 1 when another stage
# failed. pytest's summary is the last line printed.
#
#   MAKE, STAGES, TARGETS_LOG, PYTEST_LOG, PYTEST (the command) and PYTEST_PATHS come from the Makefile.
set -uo pipefail

failed=""
for stage in $STAGES; do
    echo "==> $stage"
    start=$SECONDS
    if $MAKE "$stage" COLLECTION_INSTALLED=1; then
        echo "==> $stage passed in $((SECONDS - start))s"
    else
        echo "==> $stage FAILED after $((SECONDS - start))s"
        failed="$failed $stage"
    fi
done

echo "==> integration-targets, in the background while pytest runs (output: $TARGETS_LOG)"
start=$SECONDS
(
    if $MAKE integration-targets COLLECTION_INSTALLED=1 >"$TARGETS_LOG" 2>&1; then
        echo "passed in $((SECONDS - start))s"
    else
        echo "FAILED after $((SECONDS - start))s"
    fi >"$TARGETS_LOG.status"
) &
targets=$!

echo "==> pytest (units + integration)"
rc=0
# shellcheck disable=SC2086 # PYTEST and PYTEST_PATHS are word lists
$PYTEST --durations=15 ${PYTEST_ARGS:-} $PYTEST_PATHS 2>&1 | tee "$PYTEST_LOG" || rc=$?
echo "==> pytest took $((SECONDS - start))s"

wait "$targets" || true
status=$(cat "$TARGETS_LOG.status" 2>/dev/null || echo "FAILED (no status)")
case "$status" in
    passed*)
        echo "==> integration-targets $status (targets run: $(grep -c '^Running .* integration test role' "$TARGETS_LOG"))";;
    *)
        tail -n 80 "$TARGETS_LOG"
        echo "==> integration-targets $status (whole output: $TARGETS_LOG)"
        failed="$failed integration-targets";;
esac
if [ -n "$failed" ]; then
    echo "==> failed stages:$failed (make test fails)"
    [ "$rc" = 0 ] && rc=1
fi
tail -n 1 "$PYTEST_LOG"
exit "$rc"
