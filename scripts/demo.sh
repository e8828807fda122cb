#!/usr/bin/env bash
# Run the demo playbook (playbooks/demo.yml) -- `make demo` calls this after `make install`.
#
# By default it starts the ImprovMX API simulator (tests/simulator/improvmx_sim.py)
# on a free loopback port with a throw-away API key and DNS records that turn valid
# after a few checks, points the modules at it with IMPROVMX_API_URL, runs the playbook,
# runs it a second time (which changes nothing: changed=0) and stops the simulator
# again, also when the playbook fails or the script is interrupted.
#
# Against the real ImprovMX API: IMPROVMX_DEMO_REAL=1 IMPROVMX_API_KEY=<your key> \
#   DEMO_ARGS='-e demo_domain=<a domain you own>' make demo
# (only then is IMPROVMX_API_URL left out, so the modules use https://api.improvmx.com/v3/;
# playbooks/demo.yml refuses its placeholder domain there).
#
# Environment: VENV (default .venv), COLLECTIONS_DIR (default build/collections),
# DEMO_PLAYBOOK (default playbooks/demo.yml), DEMO_ARGS (extra ansible-playbook arguments),
# DEMO_DNS_VALID_AFTER (simulator: DNS checks answered "not valid" before the records
# turn valid, default 3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
COLLECTIONS_DIR="${COLLECTIONS_DIR:-$ROOT/build/collections}"
PLAYBOOK="${DEMO_PLAYBOOK:-$ROOT/playbooks/demo.yml}"
PY="$VENV/bin/python"
SIMULATOR="$ROOT/tests/simulator/improvmx_sim.py"

for needed in "$PY" "$VENV/bin/ansible-playbook"; do
    [[ -x "$needed" ]] || { echo "demo: $needed not found; run 'make install' first" >&2; exit 1; }
done
[[ -f "$PLAYBOOK" ]] || { echo "demo: playbook $PLAYBOOK not found" >&2; exit 1; }

export PATH="$VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS_DIR"
export ANSIBLE_RETRY_FILES_ENABLED=False
# Never let interpreter discovery pick a pyenv shim for localhost.
export ANSIBLE_PYTHON_INTERPRETER="$PY"

# Replaces the (sub)shell it runs in, so its pid is ansible-playbook's.
# Arguments: extra ansible-playbook arguments.
run_playbook() {
    # shellcheck disable=SC2086  # DEMO_ARGS is split on purpose
    exec ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$PY" ${DEMO_ARGS:-} "$@" "$PLAYBOOK"
}

SECOND_RUN_NOTE="demo: running the playbook a second time: everything is in place, so nothing changes (changed=0)"

if [[ -n "${IMPROVMX_API_KEY:-}" && "${IMPROVMX_DEMO_REAL:-}" == "1" ]]; then
    echo "demo: IMPROVMX_DEMO_REAL=1 -- running against the real ImprovMX API with your IMPROVMX_API_KEY"
    unset IMPROVMX_API_URL
    (run_playbook) || exit $?
    echo "$SECOND_RUN_NOTE"
    run_playbook -e demo_second_run=true
fi
if [[ "${IMPROVMX_DEMO_REAL:-}" == "1" ]]; then
    echo "demo: IMPROVMX_DEMO_REAL=1 but IMPROVMX_API_KEY is not set -- using the simulator instead" >&2
fi

[[ -f "$SIMULATOR" ]] || { echo "demo: simulator $SIMULATOR not found" >&2; exit 1; }

workdir="$(mktemp -d "${TMPDIR:-/tmp}/improvmx-demo.XXXXXX")"
sim_pid=""
playbook_pid=""
# shellcheck disable=SC2329  # invoked from the EXIT trap
stop_process() {
    local pid="$1"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
# shellcheck disable=SC2329  # invoked from the EXIT trap
cleanup() {
    stop_process "$playbook_pid"
    stop_process "$sim_pid"
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A throw-away key: it only ever goes to the local simulator.
api_key="demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
port_file="$workdir/port"
sim_log="$workdir/simulator.log"

"$PY" "$SIMULATOR" --port 0 --api-key "$api_key" --port-file "$port_file" \
    --dns-valid-after "${DEMO_DNS_VALID_AFTER:-3}" >"$sim_log" 2>&1 &
sim_pid=$!

url=""
for _ in $(seq 150); do
    if [[ -s "$port_file" ]]; then
        content="$(tr -d '[:space:]' <"$port_file")"
        if [[ "$content" =~ ^https?:// ]]; then
            url="$content"
        elif [[ "$content" =~ ^[0-9]+$ ]]; then
            url="http://127.0.0.1:$content/v3/"
        fi
        [[ -n "$url" ]] && break
    fi
    if ! kill -0 "$sim_pid" 2>/dev/null; then
        echo "demo: the simulator exited before it was ready:" >&2
        cat "$sim_log" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ -z "$url" ]]; then
    echo "demo: the simulator did not write its port to $port_file within 15 s:" >&2
    cat "$sim_log" >&2
    exit 1
fi
[[ "$url" == */ ]] || url="$url/"
case "$url" in
    http://127.*|http://localhost[:/]*|http://\[::1\]*) ;;
    *) echo "demo: refusing simulator URL $url (not loopback)" >&2; exit 1 ;;
esac

echo "demo: ImprovMX API simulator at $url (throw-away API key)"
export IMPROVMX_API_URL="$url"
export IMPROVMX_API_KEY="$api_key"

# In the background so that an interrupt or TERM reaches the traps (and the cleanup) at once.
# The second run asserts (demo_second_run) that the role reported no change.
rc=0
for run in first second; do
    run_args=()
    if [[ "$run" == second ]]; then
        echo "$SECOND_RUN_NOTE"
        run_args=(-e demo_second_run=true)
    fi
    (run_playbook ${run_args[@]+"${run_args[@]}"}) &
    playbook_pid=$!
    wait "$playbook_pid" || rc=$?
    playbook_pid=""
    [[ "$rc" == 0 ]] || break
done
if [[ "$rc" != 0 ]]; then
    echo "demo: ansible-playbook failed (rc=$rc); simulator log:" >&2
    tail -n 40 "$sim_log" >&2 || true
fi
exit "$rc"
