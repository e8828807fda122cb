# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the benchmarks share: the API simulator, this checkout as a collection, real ansible-playbook runs.

benchmarks/aliases.py and benchmarks/fleet.py each start the simulator (tests/simulator/improvmx_sim.py)
on loopback and run playbooks against it with PlaybookRunner, which records every task and result
through the test suite's callback (scripts/callback_plugins/improvmx_test_results.py) and returns
them with the requests the simulator served during the run. Each benchmark decides what a failed run
means and which times it reports (task_start() reads a task's start from the recorded document).
"""

from __future__ import annotations

import collections
import datetime
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIMULATOR_FILE = os.path.join(REPO_ROOT, 'tests', 'simulator', 'improvmx_sim.py')
CALLBACK_DIR = os.path.join(REPO_ROOT, 'scripts', 'callback_plugins')
RESULTS_FILE = os.path.join(REPO_ROOT, 'benchmarks', 'RESULTS.md')
# benchmarks/RESULTS.md: benchmarks/aliases.py writes the file, benchmarks/fleet.py its section between these.
FLEET_SECTION = ('<!-- benchmarks/fleet.py: start -->', '<!-- benchmarks/fleet.py: end -->')
# ... and benchmarks/rules.py its own section between these.
RULES_SECTION = ('<!-- benchmarks/rules.py: start -->', '<!-- benchmarks/rules.py: end -->')

PlaybookRun = collections.namedtuple('PlaybookRun', ['process', 'document', 'elapsed', 'requests'])


def load_simulator():
    """The Simulator class of tests/simulator/improvmx_sim.py (the tests are not a package)."""
    spec = importlib.util.spec_from_file_location('improvmx_sim', SIMULATOR_FILE)
    module = importlib.util.module_from_spec(spec)
    sys.modules['improvmx_sim'] = module
    spec.loader.exec_module(module)
    return module.Simulator


def collections_root(workdir):
    """A directory holding ansible_collections/improvmx/email that is this checkout."""
    parts = REPO_ROOT.split(os.sep)
    if parts[-3:] == ['ansible_collections', 'improvmx', 'email']:
        return os.sep.join(parts[:-3]) or os.sep
    root = os.path.join(workdir, 'collections')
    os.makedirs(os.path.join(root, 'ansible_collections', 'improvmx'))
    os.symlink(REPO_ROOT, os.path.join(root, 'ansible_collections', 'improvmx', 'email'))
    return root


def ansible_playbook():
    candidate = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    if os.path.exists(candidate):
        return candidate
    found = shutil.which('ansible-playbook')
    if not found:
        sys.exit('ansible-playbook not found next to %s or on PATH: install ansible-core' % sys.executable)
    return found


def task_start(document, name, last=False):
    """When the recorded task of that name started (the first one, or the last with last=True)."""
    starts = [datetime.datetime.fromisoformat(task['started']) for task in document['tasks'] if task['name'] == name]
    if not starts:
        return None
    return starts[-1] if last else starts[0]


def failed_tasks(document):
    """Failed and unreachable task results of a run, from its recorded stats."""
    return sum(stats.get('failures', 0) + stats.get('unreachable', 0) for stats in document['stats'].values())


def tail(process):
    return 'rc=%d\n%s\n%s' % (process.returncode, process.stdout[-5000:], process.stderr[-5000:])


class PlaybookRunner:
    """Runs playbooks against the simulator, each in its own directory under workdir."""

    def __init__(self, sim, workdir, api_key):
        self.sim = sim
        self.workdir = workdir
        self.api_key = api_key
        self.collections = collections_root(workdir)
        self.playbook_bin = ansible_playbook()
        self.runs = 0

    def run(self, playbook_text, variables, inventory=None, forks=None):
        """Run a playbook with variables (api_key, api_url and the interpreter added); return a PlaybookRun.

        The simulator's request log is cleared first, so requests are this run's. Exits when the
        run recorded nothing (ansible-playbook did not get as far as the plays).
        """
        self.runs += 1
        run_dir = os.path.join(self.workdir, 'run-%d' % self.runs)
        os.makedirs(run_dir)
        playbook = os.path.join(run_dir, 'playbook.yml')
        with open(playbook, 'w', encoding='utf-8') as handle:
            handle.write(playbook_text)
        variables = dict(variables, api_key=self.api_key, api_url=self.sim.url, ansible_python_interpreter=sys.executable)
        vars_file = os.path.join(run_dir, 'vars.json')
        with open(vars_file, 'w', encoding='utf-8') as handle:
            json.dump(variables, handle)
        inventory_arg = 'localhost,'
        if inventory is not None:
            inventory_arg = os.path.join(run_dir, 'inventory.json')
            with open(inventory_arg, 'w', encoding='utf-8') as handle:
                json.dump(inventory, handle)
        results = os.path.join(run_dir, 'results.json')
        env = {key: value for key, value in os.environ.items() if not key.startswith(('ANSIBLE_', 'IMPROVMX_'))}
        env.update({
            'ANSIBLE_COLLECTIONS_PATH': self.collections,
            'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
            'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
            'ANSIBLE_LOCAL_TEMP': os.path.join(run_dir, 'tmp'),
            'ANSIBLE_RETRY_FILES_ENABLED': 'false',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_CALLBACK_PLUGINS': CALLBACK_DIR,
            'ANSIBLE_CALLBACKS_ENABLED': 'improvmx_test_results',
            'IMPROVMX_TEST_CALLBACK_TYPE': 'aggregate',
            'IMPROVMX_TEST_RESULTS_FILE': results,
            'TMPDIR': os.path.join(run_dir, 'tmp'),
            # The modules share what the API says about the rate limit through a state file (option
            # rate_limit_state): one directory per run, so that no run starts with what an earlier one learnt.
            'IMPROVMX_RATE_LIMIT_STATE': os.path.join(run_dir, 'ratelimit'),
        })
        os.makedirs(env['TMPDIR'])
        command = [self.playbook_bin, '-i', inventory_arg, '-c', 'local', '-e', '@' + vars_file, playbook]
        if forks:
            command[1:1] = ['--forks', str(forks)]
        self.sim.clear_requests()
        started = time.monotonic()
        process = subprocess.run(command, env=env, cwd=run_dir, capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
        requests = self.sim.requests
        if not os.path.exists(results):
            sys.exit('ansible-playbook wrote no results (%s)' % tail(process))
        with open(results, encoding='utf-8') as handle:
            document = json.load(handle)
        return PlaybookRun(process, document, elapsed, requests)


def write_section(path, markers, text):
    """Put text between the (start, end) markers of path (added at the end when missing); the rest is kept."""
    start, end = markers
    section = '%s\n%s%s\n' % (start, text, end)
    existing = ''
    if os.path.exists(path):
        with open(path, encoding='utf-8') as handle:
            existing = handle.read()
    if start in existing and end in existing:
        head, rest = existing.split(start, 1)
        updated = head + section + rest.split(end, 1)[1].lstrip('\n')
    else:
        updated = existing + ('\n' if existing and not existing.endswith('\n') else '') + ('\n' if existing else '') + section
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(updated)
