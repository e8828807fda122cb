# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: a fleet of domains with improvmx_domains versus the domain_onboarding role once per domain.

Run from the repository root (no make needed)::

    python benchmarks/fleet.py                               # improvmx_domains N = 100, 500; the role N = 100
    python benchmarks/fleet.py --sizes 100 --role-sizes 100 --output /tmp/fleet.md

It starts the API simulator (tests/simulator/improvmx_sim.py) itself, on loopback, with the
API's per-minute rate limits scaled 60 times (150 GET and 60 of each of POST, PUT and DELETE
per second, per-method buckets, X-RateLimit-* headers, 429 with Retry-After), and runs real
``ansible-playbook`` processes against it:

* improvmx.email.improvmx_domains declaring N new domains with 5 aliases each on an empty
  account (first run), then the same playbook again (rerun);
* the way without it: playbooks/onboard_many.yml's pattern, the domain_onboarding role once
  per domain (one inventory host per domain, delegate_to localhost, --forks 10), with the same
  5 aliases and without waiting for DNS, first run and rerun.

For every run it reports the requests the simulator served (reads and writes, 429 answers
included), the 429 answers, the rate-limit floor of those requests (max over the methods of
requests / limit: seconds here, minutes on the real API), the task time and the whole
ansible-playbook run. The Markdown goes to stdout and into its section of benchmarks/RESULTS.md
(see --output; the rest of the file is kept).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import importlib.util
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIMULATOR_FILE = os.path.join(REPO_ROOT, 'tests', 'simulator', 'improvmx_sim.py')
CALLBACK_DIR = os.path.join(REPO_ROOT, 'scripts', 'callback_plugins')
API_KEY = 'fleet-benchmark-api-key'
SCALE = 60
LIMITS = {'GET': 150, 'POST': 60, 'PUT': 60, 'DELETE': 60}  # per minute on the API, per second here
WRITES = ('POST', 'PUT', 'DELETE')
ALIASES_PER_DOMAIN = 5
# benchmarks/RESULTS.md holds this benchmark's section between these markers (benchmarks/aliases.py keeps it).
SECTION_START = '<!-- benchmarks/fleet.py: start -->'
SECTION_END = '<!-- benchmarks/fleet.py: end -->'

MODULE_PLAYBOOK = """
- name: improvmx_domains benchmark
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Work
      improvmx.email.improvmx_domains:
        domains: "{{ fleet }}"
        api_key: "{{ api_key }}"
        api_url: "{{ api_url }}"
    - name: Done
      ansible.builtin.debug:
        msg: done
"""

# playbooks/onboard_many.yml's pattern: one host per domain, the role's requests sent from the controller.
ROLE_PLAYBOOK = """
- name: domain_onboarding once per domain
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Work
      ansible.builtin.include_role:
        name: improvmx.email.domain_onboarding
      vars:
        domain_onboarding_domain: "{{ inventory_hostname }}"
        domain_onboarding_aliases: "{{ fleet_aliases }}"
        domain_onboarding_wait: false
        domain_onboarding_api_key: "{{ api_key }}"
        domain_onboarding_api_url: "{{ api_url }}"
- name: End
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Done
      ansible.builtin.debug:
        msg: done
"""


def load_simulator():
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


def domain_names(count):
    return ['client%04d.example.com' % i for i in range(count)]


def fleet_aliases():
    return [{'alias': 'team%d' % i, 'forward': ['team%d@example.org' % i]} for i in range(ALIASES_PER_DOMAIN)]


class Runner:

    def __init__(self, sim, workdir):
        self.sim = sim
        self.workdir = workdir
        self.collections = collections_root(workdir)
        self.playbook_bin = ansible_playbook()
        self.runs = 0

    def run(self, playbook_text, variables, inventory=None, forks=None):
        """Run a playbook; return (task seconds, whole-run seconds, requests served, failed tasks)."""
        self.runs += 1
        run_dir = os.path.join(self.workdir, 'run-%d' % self.runs)
        os.makedirs(run_dir)
        playbook = os.path.join(run_dir, 'playbook.yml')
        with open(playbook, 'w', encoding='utf-8') as handle:
            handle.write(playbook_text)
        variables = dict(variables, api_key=API_KEY, api_url=self.sim.url, ansible_python_interpreter=sys.executable)
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
            # The modules share what the API says about the rate limit through a state file in the temp dir:
            # one directory per run, so that no run starts with what an earlier one learnt.
            'TMPDIR': os.path.join(run_dir, 'tmp'),
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
            sys.exit('ansible-playbook wrote no results (rc=%d)\n%s\n%s' % (process.returncode, process.stdout[-5000:],
                                                                            process.stderr[-5000:]))
        with open(results, encoding='utf-8') as handle:
            document = json.load(handle)
        failed = sum(stats.get('failures', 0) + stats.get('unreachable', 0) for stats in document['stats'].values())
        if process.returncode != 0 and not failed:
            sys.exit('ansible-playbook failed (rc=%d)\n%s\n%s' % (process.returncode, process.stdout[-5000:],
                                                                  process.stderr[-5000:]))
        starts = [datetime.datetime.fromisoformat(task['started']) for task in document['tasks'] if task['name'] != 'Done']
        done = [datetime.datetime.fromisoformat(task['started']) for task in document['tasks'] if task['name'] == 'Done']
        task_seconds = (done[-1] - min(starts)).total_seconds() if done else float('nan')
        return task_seconds, elapsed, requests, failed


def counts(requests):
    methods = collections.Counter(r['method'] for r in requests)
    return {
        'reads': methods['GET'],
        'writes': sum(methods[m] for m in WRITES),
        'methods': dict(methods),
        'r429': sum(1 for r in requests if r['status'] == 429),
    }


def floor_seconds(methods):
    """Seconds the requests need at the scaled limits (minutes on the real API): the slowest method's bucket."""
    return max([methods.get(method, 0) / limit for method, limit in LIMITS.items()] + [0.0])


def minimum_first_run(count):
    """The fewest requests a first run of count new domains x 5 aliases takes: the list read, a POST and a bulk POST each."""
    return 1 + count * (1 + math.ceil(ALIASES_PER_DOMAIN / 500))


def measure_module(runner, count):
    runner.sim.reset()
    variables = {'fleet': [{'domain': name, 'aliases': fleet_aliases()} for name in domain_names(count)]}
    rows = []
    for phase in ('first run', 'rerun'):
        task_s, run_s, requests, failed = runner.run(MODULE_PLAYBOOK, variables)
        rows.append(row('improvmx_domains', phase, count, requests, task_s, run_s, failed, 1))
        check_state(runner.sim, count)
    return rows


def measure_role(runner, count, forks):
    runner.sim.reset()
    inventory = {'fleet': {'hosts': dict((name, {}) for name in domain_names(count))}}
    variables = {'fleet_aliases': fleet_aliases()}
    rows = []
    for phase in ('first run', 'rerun'):
        task_s, run_s, requests, failed = runner.run(ROLE_PLAYBOOK, variables, inventory=inventory, forks=forks)
        rows.append(row('role per domain', phase, count, requests, task_s, run_s, failed, forks))
        check_state(runner.sim, count)
    return rows


def check_state(sim, count):
    domains = sim.state_snapshot()['domains']
    wanted = set(domain_names(count))
    if set(domains) != wanted:
        sys.exit('the account holds %d domains, not the %d declared' % (len(domains), count))
    for name in wanted:
        names = set(alias['alias'] for alias in domains[name]['aliases'])
        if names != set(['*'] + ['team%d' % i for i in range(ALIASES_PER_DOMAIN)]):
            sys.exit('%s has the aliases %s' % (name, sorted(names)))


def row(label, phase, count, requests, task_s, run_s, failed, forks):
    numbers = counts(requests)
    result = dict(label=label, phase=phase, n=count, task_s=task_s, run_s=run_s, failed=failed, forks=forks, **numbers)
    result['floor_s'] = floor_seconds(numbers['methods'])
    times = [r['time'] for r in requests if isinstance(r.get('time'), (int, float))]
    result['api_s'] = (max(times) - min(times)) if times else 0.0
    print('  %-16s %-9s N=%-4d %5d reads %5d writes %4d x 429  floor %6.2f s  api %6.2f s  task %7.2f s  run %7.2f s  '
          'failed %d' % (label, phase, count, result['reads'], result['writes'], result['r429'], result['floor_s'],
                         result['api_s'], task_s, run_s, failed), file=sys.stderr)
    return result


def target(row_):
    """The issue's targets that apply to a row, and whether they are met."""
    total = row_['reads'] + row_['writes']
    if row_['label'] == 'improvmx_domains' and row_['phase'] == 'rerun':
        met = total <= 6 and row_['writes'] == 0 if row_['n'] >= 500 else row_['writes'] == 0
        limit = '≤ 6 requests, ' if row_['n'] >= 500 else ''
        return '%sno writes: %s' % (limit, 'met' if met else 'MISSED')
    if row_['label'] == 'improvmx_domains':
        least = minimum_first_run(row_['n'])
        within = total <= least * 1.05
        bound = row_['floor_s'] * 1.15
        return ('requests ≤ %d (minimum %d + 5 %%): %s; time ≤ %.2f s (floor + 15 %%): API time %s, task time %s; '
                'failed tasks 0: %s' % (math.floor(least * 1.05), least, 'met' if within else 'MISSED', bound,
                                        'met' if row_['api_s'] <= bound else 'MISSED',
                                        'met' if row_['task_s'] <= bound else 'MISSED',
                                        'met' if not row_['failed'] else 'MISSED'))
    share = row_['r429'] / total if total else 0.0
    return '429 ≤ 1 %% of requests (%.2f %%): %s' % (100 * share, 'met' if share <= 0.01 else 'MISSED')


def table(rows):
    lines = [
        '| how | run | N domains | requests | reads | writes | 429 answers | rate-limit floor | API time | task time | '
        'whole run | failed tasks | target |',
        '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ]
    for r in rows:
        how = r['label'] if r['label'] == 'improvmx_domains' else '%s (forks %d)' % (r['label'], r['forks'])
        lines.append('| %s | %s | %d | %d | %d | %d | %d | %.2f s | %.2f s | %.2f s | %.2f s | %d | %s |' % (
            how, r['phase'], r['n'], r['reads'] + r['writes'], r['reads'], r['writes'], r['r429'], r['floor_s'],
            r['api_s'], r['task_s'], r['run_s'], r['failed'], target(r)))
    return '\n'.join(lines)


def measured(args):
    """What this run measured, in words (the role over 500 domains takes long on a small machine)."""
    def sizes(values):
        return ', '.join(str(v) for v in values) or 'none'

    return ('Measured: improvmx_domains at N = %s; the role once per domain at N = %s (forks %d). The role\'s time is '
            'Ansible running its tasks for each host (one module process per task and host), far from the API\'s '
            'limits here, so its 429 share says little about pacing; tests/integration/test_onboarding.py and '
            'test_reliability.py run forks against limits they really meet.'
            % (sizes(args.sizes), sizes(args.role_sizes), args.forks))


def environment():
    try:
        from ansible.release import __version__ as ansible_version  # pylint: disable=import-outside-toplevel
    except ImportError:
        ansible_version = 'unknown'
    return ('Python %s, ansible-core %s, %s, %d CPUs (shared with other work while measured), simulator on loopback '
            'with the API\'s limits scaled %dx; %s.' % (
                platform.python_version(), ansible_version, platform.platform(terse=True), os.cpu_count() or 1, SCALE,
                datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--sizes', type=int, nargs='*', default=[100, 500],
                        help='numbers of domains for improvmx_domains (default: 100 500)')
    parser.add_argument('--role-sizes', type=int, nargs='*', default=[100],
                        help='numbers of domains for the role once per domain (default: 100)')
    parser.add_argument('--forks', type=int, default=10, help='forks of the role runs (default: 10)')
    parser.add_argument('--output', default=os.path.join(REPO_ROOT, 'benchmarks', 'RESULTS.md'),
                        help='the Markdown file whose fleet section is (re)written (default: benchmarks/RESULTS.md; '
                             '"-" for none)')
    args = parser.parse_args()

    simulator_class = load_simulator()
    sim = simulator_class(api_key=API_KEY, rate_limit_scale=SCALE)
    sim.start()
    workdir = tempfile.mkdtemp(prefix='improvmx-fleet-benchmark-')
    try:
        runner = Runner(sim, workdir)
        rows = []
        for count in args.sizes:
            rows += measure_module(runner, count)
        for count in args.role_sizes:
            rows += measure_role(runner, count, args.forks)
    finally:
        sim.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    command = 'python benchmarks/fleet.py' + ''.join(
        ' %s %s' % (flag, ' '.join(str(v) for v in values)) for flag, values, default in (
            ('--sizes', args.sizes, [100, 500]), ('--role-sizes', args.role_sizes, [100])) if values != default)
    text = '\n'.join([
        '## A fleet of domains: improvmx_domains against the role once per domain',
        '',
        'Produced by `%s`. Each run is a real `ansible-playbook` against the API simulator with the API\'s '
        'per-minute rate limits scaled %d times: 150 GET and 60 of each of POST, PUT and DELETE **per second**, '
        'each method its own bucket, with `X-RateLimit-*` headers and 429 answers, so that the limit is really '
        'met and a floor of minutes on the real API is seconds here. N new domains with %d aliases each, on an '
        'empty account ("first run"), then the same playbook again ("rerun"). `improvmx_domains` declares them '
        'in one task; "role per domain" is `playbooks/onboard_many.yml`\'s pattern: `improvmx.email.domain_onboarding` '
        'once per inventory host (one host per domain, without waiting for DNS).' % (command, SCALE, ALIASES_PER_DOMAIN),
        '',
        'Requests are those the simulator served, 429 answers included. The rate-limit floor is max over the methods '
        'of requests / limit: the least time those requests take at the scaled limits (in seconds; on the real API '
        'the same number is minutes). API time is from the first request the simulator served to the last: how '
        'close the client\'s pacing comes to the floor. Task time is from the first task\'s start to the end of '
        'the work: the API time plus starting the module process(es), checking the arguments and the local work. '
        'Whole run includes starting `ansible-playbook`.',
        '',
        table(rows),
        '',
        measured(args),
        '',
        environment(),
        '',
    ])
    sys.stdout.write(text)
    if args.output and args.output != '-':
        write_section(args.output, text)
        print('results written to %s' % os.path.relpath(args.output), file=sys.stderr)


def write_section(path, text):
    """Put text between the fleet markers of path (added at the end when missing); the rest is kept."""
    section = '%s\n%s%s\n' % (SECTION_START, text, SECTION_END)
    existing = ''
    if os.path.exists(path):
        with open(path, encoding='utf-8') as handle:
            existing = handle.read()
    if SECTION_START in existing and SECTION_END in existing:
        head, rest = existing.split(SECTION_START, 1)
        updated = head + section + rest.split(SECTION_END, 1)[1].lstrip('\n')
    else:
        updated = existing + ('\n' if existing and not existing.endswith('\n') else '') + ('\n' if existing else '') + section
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(updated)


if __name__ == '__main__':
    main()
