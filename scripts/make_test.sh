#!/usr/bin/env bash
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# What `make test` runs once the venv and the collection copy exist (the Makefile passes the paths
# and commands in the environment). Four lanes run side by side, because one lane alone is a
# single process most of the time and the machine has 2 CPUs:
#
#   checks    the check stages one after the other (sanity, lint, docs-lint, ...)
#   targets1  half of the ansible-test integration targets, on a copy of the collection of its own
#   targets2  the other half, on another copy (ansible-test runs one target at a time)
#   units     pytest tests/unit (client, planners, the reliability matrix, the simulator)
#
# The targets are shared out by the size of their task files, largest first, each to the lane
# with less so far. Every lane runs to its end even when another failed; each writes its own log
# in $BUILD_DIR/test-<lane>.log, whose end is printed when the lane failed. The exit status is 1
# when any lane failed. The units' summary is the last line printed.
#
#   MAKE, STAGES, BUILD_DIR, TARGETS_DIR and UNITS (the pytest command) come from the Makefile.
set -uo pipefail

mkdir -p "$BUILD_DIR"
rm -f "$BUILD_DIR"/test-*.log.status

run_lane() {  # run_lane NAME COMMAND...: in the background, output in test-NAME.log, result in .status
    local name=$1 log="$BUILD_DIR/test-$1.log"
    shift
    echo "==> $name started (output: $log)"
    (
        start=$SECONDS
        if "$@" >"$log" 2>&1; then
            echo "passed in $((SECONDS - start))s"
        else
            echo "FAILED after $((SECONDS - start))s"
        fi >"$log.status"
    ) &
}

checks() {
    local failed="" stage start
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
    if [ -n "$failed" ]; then
        echo "==> failed check stages:$failed"
        return 1
    fi
}

# The targets, largest task files first, each given to the lane with fewer lines so far.
lane1="" lane2="" size1=0 size2=0
while read -r size target; do
    if [ "$size1" -le "$size2" ]; then
        lane1="$lane1 $target" size1=$((size1 + size))
    else
        lane2="$lane2 $target" size2=$((size2 + size))
    fi
done < <(for dir in "$TARGETS_DIR"/*/; do
             target=$(basename "$dir")
             case "$target" in setup_*) continue;; esac
             echo "$(cat "$dir"tasks/*.yml | wc -l) $target"
         done | sort -rn)

# Each targets lane has its own copy of the collection: ansible-test writes into the copy it runs
# from (tests/output/), and the checks lane uses the first one.
for lane in targets1 targets2; do
    if ! $MAKE collection-copy BUILD_DIR="$BUILD_DIR/$lane" >/dev/null; then
        echo "==> could not install the collection for $lane" >&2
        exit 1
    fi
done

# ansible-test makes the SSH key pair of its user (~/.ansible/test/id_rsa) the first time it runs,
# with ssh-keygen, which asks before it overwrites a key: two lanes starting on a fresh machine
# both found no key, and the second one's ssh-keygen stopped at that question and failed its lane.
# So the key is made here, once, before the lanes start, the way ansible-test makes it.
ssh_key="$HOME/.ansible/test/id_rsa"
if [ ! -f "$ssh_key" ] || [ ! -f "$ssh_key.pub" ]; then
    mkdir -p "$(dirname "$ssh_key")"
    rm -f "$ssh_key" "$ssh_key.pub"
    if ! ssh-keygen -m PEM -q -t rsa -N '' -f "$ssh_key" ||
       ! sed -i -E 's/(BEGIN|END) PRIVATE KEY/\1 RSA PRIVATE KEY/' "$ssh_key"; then
        echo "==> could not make ansible-test's SSH key $ssh_key" >&2
        exit 1
    fi
fi

run_lane checks checks
# shellcheck disable=SC2086 # the lane lists are word lists
run_lane targets1 $MAKE integration-targets COLLECTION_INSTALLED=1 BUILD_DIR="$BUILD_DIR/targets1" TARGETS="${lane1# }"
# shellcheck disable=SC2086
run_lane targets2 $MAKE integration-targets COLLECTION_INSTALLED=1 BUILD_DIR="$BUILD_DIR/targets2" TARGETS="${lane2# }"
# shellcheck disable=SC2086 # UNITS is a word list
run_lane units $UNITS

# Say each lane's result as it ends, then all four again with what failed.
reported=""
for _ in 1 2 3 4; do
    wait -n 2>/dev/null || true
    for lane in checks targets1 targets2 units; do
        case " $reported " in *" $lane "*) continue;; esac
        if [ -s "$BUILD_DIR/test-$lane.log.status" ]; then
            echo "==> $lane $(cat "$BUILD_DIR/test-$lane.log.status")"
            reported="$reported $lane"
        fi
    done
done
wait

failed=""
for lane in checks targets1 targets2 units; do
    log="$BUILD_DIR/test-$lane.log"
    status=$(cat "$log.status" 2>/dev/null || echo "FAILED (no status)")
    case "$lane" in
        checks) detail=$(grep -E '^==> .* (passed|FAILED)' "$log" | sed 's/^==> //' | paste -sd ';' -);;
        targets*) detail="targets run: $(grep -c '^Running .* integration test role' "$log")";;
        units) detail=$(tail -n 1 "$log");;
    esac
    case "$status" in
        passed*) echo "==> $lane $status ($detail)";;
        *)
            echo "==> ---- end of $log ----"
            tail -n 80 "$log"
            echo "==> $lane $status ($detail)"
            failed="$failed $lane";;
    esac
done
if [ -n "$failed" ]; then
    echo "==> failed lanes:$failed (make test fails)"
fi
tail -n 1 "$BUILD_DIR/test-units.log"
[ -z "$failed" ]
