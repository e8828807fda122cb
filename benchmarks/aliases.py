# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: converging many aliases with improvmx_aliases versus an ansible.builtin.uri loop.

Run from the repository root (no make needed)::

    python benchmarks/aliases.py                 # N = 100, 1000, 10000
    python benchmarks/aliases.py --sizes 100 500 --uri-sizes 100

It starts the API simulator (tests/simulator/improvmx_sim.py) itself, on loopback, with
its rate limit off, and runs real ``ansible-playbook`` processes against it:

* improvmx.email.improvmx_aliases converging N new aliases on an empty domain, then the
  same playbook again (a no-op rerun);
* the way users do it without the collection: an ansible.builtin.uri loop doing one
  POST per alias (for N = 100 by default), and its rerun.

For every run it reports the requests the simulator served (reads and writes), the
rate-limit floor of those requests (the API allows about 150 reads and 60 writes a
minute: a run cannot finish faster on the real API than max(reads/150, writes/60)
minutes), the time of the task itself and the time of the whole ansible-playbook run.
The Markdown table goes to stdout and to benchmarks/RESULTS.md (see --output).
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import shutil
import sys
import tempfile

from harness import FLEET_SECTION, RESULTS_FILE, RULES_SECTION, PlaybookRunner, load_simulator, tail, task_start

DOMAIN = 'bench.example.com'
API_KEY = 'benchmark-api-key'
READS_PER_MINUTE = 150
WRITES_PER_MINUTE = 60
WRITES = ('POST', 'PUT', 'DELETE')

MODULE_PLAYBOOK = """
- name: improvmx_aliases benchmark
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Work
      improvmx.email.improvmx_aliases:
        domain: "{{ domain }}"
        aliases: "{{ aliases }}"
        api_key: "{{ api_key }}"
        api_url: "{{ api_url }}"
    - name: Done
      ansible.builtin.debug:
        msg: done
"""

# What users write today without the collection: one POST per alias. A rerun meets
# "already exists" (HTTP 400) for every alias, so 400 is accepted to let it finish.
URI_PLAYBOOK = """
- name: ansible.builtin.uri loop benchmark
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Work
      ansible.builtin.uri:
        url: "{{ api_url }}domains/{{ domain }}/aliases/"
        method: POST
        url_username: api
        url_password: "{{ api_key }}"
        force_basic_auth: true
        body_format: json
        body:
          alias: "{{ item.alias }}"
          forward: "{{ item.forward }}"
        status_code: [200, 400]
      loop: "{{ aliases }}"
      loop_control:
        label: "{{ item.alias }}"
    - name: Done
      ansible.builtin.debug:
        msg: done
"""


def wanted_aliases(count):
    return [{'alias': 'user%05d' % i, 'forward': 'user%05d@example.org' % i} for i in range(count)]


def run_playbook(runner, playbook_text, aliases):
    """Run a playbook; return (task seconds, whole-run seconds, requests served)."""
    run = runner.run(playbook_text, {'aliases': aliases, 'domain': DOMAIN})
    if run.process.returncode != 0:
        sys.exit('ansible-playbook failed (%s)' % tail(run.process))
    task_seconds = (task_start(run.document, 'Done') - task_start(run.document, 'Work')).total_seconds()
    return task_seconds, run.elapsed, run.requests


def measure(runner, label, playbook, count, kind):
    """Converge count aliases on an empty domain, then rerun; return two result rows."""
    runner.sim.seed_domain(DOMAIN, aliases=[])
    aliases = wanted_aliases(count)
    rows = []
    for phase in ('converge', 'rerun'):
        task_s, run_s, requests = run_playbook(runner, playbook, aliases)
        reads = sum(1 for r in requests if r['method'] == 'GET')
        writes = sum(1 for r in requests if r['method'] in WRITES)
        stored = len(runner.sim.state_snapshot()['domains'][DOMAIN]['aliases'])
        if stored != count:
            sys.exit('%s %s of %d aliases left %d aliases on the domain' % (label, phase, count, stored))
        rows.append({'label': label, 'kind': kind, 'phase': phase, 'n': count, 'reads': reads, 'writes': writes,
                     'task_s': task_s, 'run_s': run_s})
        print('  %-18s %-8s N=%-6d %5d reads %5d writes  task %7.2f s  run %7.2f s'
              % (label, phase, count, reads, writes, task_s, run_s), file=sys.stderr)
    return rows


def target(row):
    """The issue's request-count target for a row of the module, and whether it is met."""
    n = row['n']
    if row['kind'] != 'module':
        return ''
    if row['phase'] == 'converge':
        limit = math.ceil(n / 100) + math.ceil(n / 500) + 2
        met = row['reads'] + row['writes'] <= limit
        return '≤ %d requests: %s' % (limit, 'met' if met else 'MISSED')
    pages = max(1, math.ceil(n / 100))
    met = row['writes'] == 0 and row['reads'] <= pages
    return 'list reads only (%d page%s): %s' % (pages, '' if pages == 1 else 's', 'met' if met else 'MISSED')


def floor_minutes(row):
    return max(row['reads'] / READS_PER_MINUTE, row['writes'] / WRITES_PER_MINUTE)


def table(rows):
    lines = [
        '| how | run | N | requests | reads (÷150/min) | writes (÷60/min) | rate-limit floor | task time | whole run | target |',
        '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ]
    for row in rows:
        lines.append('| %s | %s | %d | %d | %d (%.2f min) | %d (%.2f min) | %.2f min | %.2f s | %.2f s | %s |' % (
            row['label'], row['phase'], row['n'], row['reads'] + row['writes'],
            row['reads'], row['reads'] / READS_PER_MINUTE, row['writes'], row['writes'] / WRITES_PER_MINUTE,
            floor_minutes(row), row['task_s'], row['run_s'], target(row)))
    return '\n'.join(lines)


def speedups(rows):
    lines = []
    for uri in (r for r in rows if r['kind'] == 'uri'):
        mod = next((r for r in rows if r['kind'] == 'module' and r['n'] == uri['n'] and r['phase'] == uri['phase']), None)
        if mod is None:
            continue
        task_ratio = uri['task_s'] / mod['task_s'] if mod['task_s'] else float('inf')
        run_ratio = uri['run_s'] / mod['run_s'] if mod['run_s'] else float('inf')
        requests_ratio = (uri['reads'] + uri['writes']) / max(1, mod['reads'] + mod['writes'])
        floor_mod, floor_uri = floor_minutes(mod), floor_minutes(uri)
        verdict = ''
        if uri['phase'] == 'converge':
            verdict = ' (target ≥ 10x: %s)' % ('met' if task_ratio >= 10 else 'MISSED')
        lines.append('- N = %d, %s: improvmx_aliases is %.1fx faster than the uri loop by task time%s, %.1fx by whole '
                     'ansible-playbook run, and sends %.0fx fewer requests (rate-limit floor %.2f min against %.2f min).'
                     % (uri['n'], uri['phase'], task_ratio, verdict, run_ratio, requests_ratio, floor_mod, floor_uri))
    return '\n'.join(lines)


def environment():
    try:
        from ansible.release import __version__ as ansible_version  # pylint: disable=import-outside-toplevel
    except ImportError:
        ansible_version = 'unknown'
    return 'Python %s, ansible-core %s, %s, %d CPUs, simulator on loopback with its rate limit off; %s.' % (
        platform.python_version(), ansible_version, platform.platform(terse=True), os.cpu_count() or 1,
        datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'))


def kept_sections(path):
    """The sections of other benchmarks (benchmarks/fleet.py, benchmarks/rules.py) in path, to keep when the file is rewritten."""
    if not os.path.exists(path):
        return ''
    with open(path, encoding='utf-8') as handle:
        existing = handle.read()
    kept = ''
    for start, end in (FLEET_SECTION, RULES_SECTION):
        if start in existing and end in existing:
            kept += '\n' + start + existing.split(start, 1)[1].split(end, 1)[0] + end + '\n'
    return kept


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[100, 1000, 10000],
                        help='numbers of aliases to converge with improvmx_aliases (default: 100 1000 10000)')
    parser.add_argument('--uri-sizes', type=int, nargs='*', default=[100],
                        help='numbers of aliases to converge with the ansible.builtin.uri loop (default: 100)')
    parser.add_argument('--output', default=RESULTS_FILE,
                        help='where to write the Markdown results (default: benchmarks/RESULTS.md; "-" for none)')
    args = parser.parse_args()

    simulator_class = load_simulator()
    sim = simulator_class(api_key=API_KEY)
    sim.start()
    workdir = tempfile.mkdtemp(prefix='improvmx-benchmark-')
    try:
        runner = PlaybookRunner(sim, workdir, API_KEY)
        rows = []
        for count in args.sizes:
            rows += measure(runner, 'improvmx_aliases', MODULE_PLAYBOOK, count, 'module')
        for count in args.uri_sizes:
            rows += measure(runner, 'uri loop', URI_PLAYBOOK, count, 'uri')
    finally:
        sim.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    text = '\n'.join([
        '# Benchmark: converging aliases',
        '',
        'Produced by `python benchmarks/aliases.py`. Each run is a real `ansible-playbook` against the API '
        'simulator (`tests/simulator/improvmx_sim.py`), converging N new aliases on an empty domain ("converge"), '
        'then running the same playbook again ("rerun"). "uri loop" is the usual way without this collection: an '
        '`ansible.builtin.uri` task looping over the aliases with one POST each (its rerun accepts HTTP 400 '
        '"already exists", since it cannot tell what is there).',
        '',
        'Requests are those the simulator served. The API allows about 150 reads and 60 writes a minute; the '
        'rate-limit floor, max(reads/150, writes/60) minutes, is the time those requests need at that sustained '
        'rate: above one minute, a run on the real API has to wait for the rate limit. The simulator\'s rate limit '
        'is off, so the times below are local work only. Task time is the task alone; whole run includes starting '
        '`ansible-playbook`.',
        '',
        table(rows),
        '',
        speedups(rows),
        '',
        environment(),
        '',
    ])
    sys.stdout.write(text)
    if args.output and args.output != '-':
        with open(args.output, 'w', encoding='utf-8') as handle:
            handle.write(text + kept_sections(args.output))
        print('results written to %s' % os.path.relpath(args.output), file=sys.stderr)


if __name__ == '__main__':
    main()
