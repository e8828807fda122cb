# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: a fleet of domains with improvmx_domains versus the domain_onboarding role once per domain.

Run from the repository root (no make needed)::

    python benchmarks/fleet.py                               # improvmx_domains N = 100, 500; the role N = 100
    python benchmarks/fleet.py --sizes 100 --role-sizes 100 --output /tmp/fleet.md
    python benchmarks/fleet.py --role-sizes --keep-other-rows   # improvmx_domains only; the role's rows kept

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
(see --output; the rest of the file is kept). benchmarks/harness.py starts the simulator and runs
the playbooks, as for benchmarks/aliases.py.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import math
import os
import platform
import shutil
import sys
import tempfile

from harness import FLEET_SECTION, RESULTS_FILE, PlaybookRunner, failed_tasks, load_simulator, tail, task_start, write_section

API_KEY = 'fleet-benchmark-api-key'
SCALE = 60
LIMITS = {'GET': 150, 'POST': 60, 'PUT': 60, 'DELETE': 60}  # per minute on the API, per second here
WRITES = ('POST', 'PUT', 'DELETE')
ALIASES_PER_DOMAIN = 5
# benchmarks/RESULTS.md holds this benchmark's section between these markers (benchmarks/aliases.py keeps it).
SECTION_START, SECTION_END = FLEET_SECTION
LOADS = []  # the 1-minute load average before and after each run: the machine is shared

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
  roles:
    # playbooks/onboard_many.yml's role entry, with the benchmark's aliases and the simulator.
    - role: improvmx.email.domain_onboarding
      delegate_to: localhost
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


def domain_names(count):
    return ['client%04d.example.com' % i for i in range(count)]


def fleet_aliases():
    return [{'alias': 'team%d' % i, 'forward': ['team%d@example.org' % i]} for i in range(ALIASES_PER_DOMAIN)]


def run_playbook(runner, playbook_text, variables, inventory=None, forks=None):
    """Run a playbook; return (task seconds, whole-run seconds, requests served, failed tasks).

    Task seconds: from the first task's start to the start of the last task, "Done", which runs
    once the work is over (its results recorded).
    """
    LOADS.append(os.getloadavg()[0])
    run = runner.run(playbook_text, variables, inventory=inventory, forks=forks)
    LOADS.append(os.getloadavg()[0])
    failed = failed_tasks(run.document)
    if run.process.returncode != 0 and not failed:
        sys.exit('ansible-playbook failed (%s)' % tail(run.process))
    starts = [datetime.datetime.fromisoformat(task['started']) for task in run.document['tasks'] if task['name'] != 'Done']
    done = task_start(run.document, 'Done', last=True)
    task_seconds = (done - min(starts)).total_seconds() if done else float('nan')
    return task_seconds, run.elapsed, run.requests, failed


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


def measure_module(runner, count, repeat=1):
    """First run and rerun of improvmx_domains, repeat times on an empty account: the run of median task time of each.

    The machine is shared, so the task time of one run says as much about the other work as about this
    one; every run's task time is kept in the row (task_runs) and shown with the median.
    """
    variables = {'fleet': [{'domain': name, 'aliases': fleet_aliases()} for name in domain_names(count)]}
    runs = {'first run': [], 'rerun': []}
    for _repetition in range(repeat):
        runner.sim.reset()
        for phase in ('first run', 'rerun'):
            task_s, run_s, requests, failed = run_playbook(runner, MODULE_PLAYBOOK, variables)
            runs[phase].append(row('improvmx_domains', phase, count, requests, task_s, run_s, failed, 1))
            check_state(runner.sim, count)
    rows = []
    for phase in ('first run', 'rerun'):
        ordered = sorted(runs[phase], key=lambda r: r['task_s'])
        median = dict(ordered[len(ordered) // 2], task_runs=[r['task_s'] for r in runs[phase]])
        median['failed'] = sum(r['failed'] for r in ordered)
        rows.append(median)
    return rows


def measure_role(runner, count, forks):
    runner.sim.reset()
    inventory = {'fleet': {'hosts': dict((name, {}) for name in domain_names(count))}}
    variables = {'fleet_aliases': fleet_aliases()}
    rows = []
    for phase in ('first run', 'rerun'):
        task_s, run_s, requests, failed = run_playbook(runner, ROLE_PLAYBOOK, variables, inventory=inventory, forks=forks)
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


def row_key(r):
    """(how, run, N): what a table row is about."""
    how = r['label'] if r['label'] == 'improvmx_domains' else '%s (forks %d)' % (r['label'], r['forks'])
    return how, r['phase'], r['n']


def task_time(r):
    """The task time cell: the run's, and with several runs every run's task time, in the order measured."""
    runs = r.get('task_runs') or []
    if len(runs) < 2:
        return '%.2f s' % r['task_s']
    return '%.2f s (median of %s)' % (r['task_s'], ', '.join('%.2f' % value for value in runs))


def table(rows, kept=None):
    """The Markdown table of rows, with kept (lines of an earlier table, by (how, run, N)) that rows do not measure."""
    lines = {}
    for r in rows:
        how = row_key(r)[0]
        lines[row_key(r)] = '| %s | %s | %d | %d | %d | %d | %d | %.2f s | %.2f s | %s | %.2f s | %d | %s |' % (
            how, r['phase'], r['n'], r['reads'] + r['writes'], r['reads'], r['writes'], r['r429'], r['floor_s'],
            r['api_s'], task_time(r), r['run_s'], r['failed'], target(r))
    for key, line in (kept or {}).items():
        lines.setdefault(key, line)
    order = sorted(lines, key=lambda key: (key[0] != 'improvmx_domains', key[0], key[2], key[1] != 'first run'))
    return '\n'.join([
        '| how | run | N domains | requests | reads | writes | 429 answers | rate-limit floor | API time | task time | '
        'whole run | failed tasks | target |',
        '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ] + [lines[key] for key in order])


KEPT_MARK = ' (kept from the run of %s)'


def previous_section(path):
    """The rows of the fleet section of path by (how, run, N), each marked with the run that measured it.

    A row that an earlier --keep-other-rows kept already says when it was measured; the others are
    from the run whose environment line (its last line, with the date) ends the section.
    """
    if not os.path.exists(path):
        return {}
    with open(path, encoding='utf-8') as handle:
        existing = handle.read()
    if SECTION_START not in existing or SECTION_END not in existing:
        return {}
    section = existing.split(SECTION_START, 1)[1].split(SECTION_END, 1)[0]
    environment_line = next((line for line in reversed(section.splitlines()) if line.startswith('Python ')), '')
    when = environment_line.rstrip('.').rsplit('; ', 1)[-1] if environment_line else 'an unknown date'
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        if line.startswith('| ') and len(cells) > 3 and cells[2].isdigit():
            if KEPT_MARK.split('%s', 1)[0] not in line:
                line = line.rstrip().rstrip('|').rstrip() + KEPT_MARK % when + ' |'
            rows[(cells[0], cells[1], int(cells[2]))] = line
    return rows


def measured(args, kept=None):
    """What this run measured, in words (the role over 500 domains takes long on a small machine)."""
    def at(what, values, extra=''):
        if not values:
            return '%s: not run' % what
        return '%s at N = %s%s' % (what, ', '.join(str(v) for v in values), extra)

    text = ('Measured by this run: %s; %s. The role\'s time is '
            'Ansible running its tasks for each host (one module process per task and host), far from the API\'s '
            'limits here, so its 429 share says little about pacing; tests/integration/test_onboarding.py and '
            'test_reliability.py run forks against limits they really meet.'
            % (at('improvmx_domains', args.sizes), at('the role once per domain', args.role_sizes, ' (forks %d)' % args.forks)))
    if kept:
        text += (' The rows whose target ends with "kept from the run of ..." were not measured by this run: '
                 '`--keep-other-rows` kept them from the section it replaced (%s).'
                 % ', '.join('%s %s N = %d' % key for key in sorted(kept)))
    return text


def role_per_domain(rows):
    """The role's requests and time per domain at each N measured, and why its reads do not follow the account's size."""
    role = sorted((r for r in rows if r['label'] == 'role per domain'), key=lambda r: (r['n'], r['phase'] != 'first run'))
    if not role:
        return ''
    parts = []
    for r in role:
        parts.append('%s over %d domains %s requests per domain (%s reads, %s writes), %.2f s of task time per domain'
                     % (r['phase'], r['n'], per(r['reads'] + r['writes'], r['n']), per(r['reads'], r['n']),
                        per(r['writes'], r['n']), r['task_s'] / r['n']))
    return ('The role, per domain: %s. Its reads per domain do not depend on the account\'s size: each of its modules '
            'reads its domain by name (`GET /domains/<domain>`), never the paged domain list, and %d aliases are one '
            'alias page; a first run reads the domain, its aliases and its DNS check and writes the domain\'s POST and '
            'one bulk POST of its aliases, a rerun only reads (docs/user-guide.md says why a run of 2026-11-29 once '
            'showed more reads per domain over 500 domains than over 100: the two sizes were measured on different '
            'code).%s' % ('; '.join(parts), ALIASES_PER_DOMAIN, controller_time(role)))


def controller_time(role):
    """A sentence when the role's time per domain grew with N while its requests per domain did not and no 429 came."""
    firsts = [r for r in role if r['phase'] == 'first run']
    if len(firsts) < 2:
        return ''
    small, large = firsts[0], firsts[-1]
    same_requests = all((r['reads'] + r['writes']) * small['n'] == (small['reads'] + small['writes']) * r['n'] for r in firsts)
    if not same_requests or any(r['r429'] for r in role) or large['task_s'] / large['n'] <= 1.1 * small['task_s'] / small['n']:
        return ''
    return (' Its first run\'s time per domain grew from N = %d to N = %d and its requests per domain did not: with no 429 answer '
            'and an API time far above the floor the API\'s limits were never met, so that time is Ansible\'s work '
            'per host and task (a module process each) on this 2-CPU controller, not the API\'s.' % (small['n'], large['n']))


def per(total, count):
    """total / count, as an integer where it divides."""
    return '%d' % (total // count) if total % count == 0 else '%.2f' % (total / count)


def environment():
    try:
        from ansible.release import __version__ as ansible_version  # pylint: disable=import-outside-toplevel
    except ImportError:
        ansible_version = 'unknown'
    load = ''
    if LOADS:
        load = ', 1-minute load average %.1f to %.1f during the runs' % (min(LOADS), max(LOADS))
    return ('Python %s, ansible-core %s, %s, %d CPUs (shared with other work while measured%s), simulator on '
            'loopback with the API\'s limits scaled %dx; %s.' % (
                platform.python_version(), ansible_version, platform.platform(terse=True), os.cpu_count() or 1, load,
                SCALE, datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--sizes', type=int, nargs='*', default=[100, 500],
                        help='numbers of domains for improvmx_domains (default: 100 500)')
    parser.add_argument('--role-sizes', type=int, nargs='*', default=[100],
                        help='numbers of domains for the role once per domain (default: 100)')
    parser.add_argument('--forks', type=int, default=10, help='forks of the role runs (default: 10)')
    parser.add_argument('--repeat', type=int, default=1,
                        help='runs of each improvmx_domains size (first run and rerun); the table shows the run of '
                             'median task time with every run\'s task time (default: 1)')
    parser.add_argument('--output', default=RESULTS_FILE,
                        help='the Markdown file whose fleet section is (re)written (default: benchmarks/RESULTS.md; '
                             '"-" for none)')
    parser.add_argument('--keep-other-rows', action='store_true',
                        help='keep the rows of the --output section that this run does not measure (another how, '
                             'run or N), saying when they were measured: e.g. re-measure improvmx_domains only with '
                             '--role-sizes --keep-other-rows')
    args = parser.parse_args()
    kept = {}
    if args.keep_other_rows and args.output != '-':
        kept = previous_section(args.output)

    simulator_class = load_simulator()
    sim = simulator_class(api_key=API_KEY, rate_limit_scale=SCALE)
    sim.start()
    workdir = tempfile.mkdtemp(prefix='improvmx-fleet-benchmark-')
    try:
        runner = PlaybookRunner(sim, workdir, API_KEY)
        rows = []
        for count in args.sizes:
            rows += measure_module(runner, count, args.repeat)
        for count in args.role_sizes:
            rows += measure_role(runner, count, args.forks)
    finally:
        sim.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    command = 'python benchmarks/fleet.py' + ''.join(
        ' %s%s' % (flag, ''.join(' %s' % v for v in values)) for flag, values, default in (
            ('--sizes', args.sizes, [100, 500]), ('--role-sizes', args.role_sizes, [100])) if values != default)
    if args.repeat != 1:
        command += ' --repeat %d' % args.repeat
    measured_keys = set(row_key(r) for r in rows)
    kept = dict((key, line) for key, line in kept.items() if key not in measured_keys)
    if kept:
        command += ' --keep-other-rows'

    per_domain = role_per_domain(rows)
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
        'the work: the API time plus the local work of the task, that is Ansible templating the N entries into '
        'the task\'s arguments, building and starting the module process(es), the module\'s checks and planning, '
        'and Ansible taking its result back (the rerun rows show that local work alone: their API time is almost '
        'nothing). The floor here is 60 times shorter than on the real API and the local work is not: its share '
        'of the task time is 60 times smaller there. Whole run includes starting `ansible-playbook`.',
        '',
        table(rows, kept),
        '',
        measured(args, kept),
        '',
    ] + ([per_domain, ''] if per_domain else []) + [
        environment(),
        '',
    ])
    sys.stdout.write(text)
    if args.output and args.output != '-':
        write_section(args.output, FLEET_SECTION, text)
        print('results written to %s' % os.path.relpath(args.output), file=sys.stderr)


if __name__ == '__main__':
    main()
