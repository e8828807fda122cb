# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""improvmx_alias, improvmx_aliases and improvmx_alias_info through real ansible-playbook runs against the simulator.

What the ansible-test targets (tests/integration/targets/improvmx_alias, improvmx_aliases) do not
do: a domain of 230 aliases (three pages; a set of about 250 written in two bulk requests), the requests
counted per task, the purge diff as the default callback prints it, and entries the API refuses."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

DOMAIN = 'example.com'
WRITES = ('POST', 'PUT', 'DELETE')

PLAYBOOK = """
- name: Aliases of example.com
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/improvmx.email.improvmx: {}
  tasks:
    - name: The catch-all is an ordinary alias
      improvmx.email.improvmx_alias:
        domain: example.com
        alias: "*"
        forward: postmaster@example.org
      register: catch_all

    - name: One alias, destinations as a string
      improvmx.email.improvmx_alias:
        domain: example.com
        alias: Sales
        forward: "bob@example.org, alice@example.org"

    - name: Rename an alias by id
      improvmx.email.improvmx_alias:
        domain: example.com
        id: "{{ support_id }}"
        alias: help

    - name: Remove an alias
      improvmx.email.improvmx_alias:
        domain: example.com
        alias: user007
        state: absent

    - name: The whole set, past the first page
      improvmx.email.improvmx_aliases:
        domain: example.com
        aliases: "{{ wanted }}"
      register: whole_set

    - name: Read them back
      improvmx.email.improvmx_alias_info:
        domain: example.com
      register: info

    - name: Check what was read
      ansible.builtin.assert:
        that:
          - info.aliases | length == whole_set.aliases | length
          - (info.aliases | selectattr('alias', 'equalto', '*') | first).forward == 'postmaster@example.org'
          - info.aliases | selectattr('alias', 'equalto', 'help') | list | length == 1
"""


def _seed(simulator, count=230):
    aliases = [('*', 'owner@example.net')] + [('user%03d' % i, 'user%03d@example.org' % i) for i in range(count - 1)]
    simulator.seed_domain(DOMAIN, aliases=aliases)
    simulator.clear_requests()


SUPPORT_ID = 9000


def _wanted():
    # The seeded ones (user007 aside) unchanged, 10 changed, 20 new, plus Sales reordered.
    wanted = []
    for i in range(228):
        if i == 7:
            continue
        forward = ['backup@example.org', 'user%03d@example.org' % i] if i < 10 else ['user%03d@example.org' % i]
        wanted.append({'alias': 'USER%03d' % i, 'forward': forward})
    wanted += [{'alias': 'new%02d' % i, 'forward': 'new%02d@example.org,team@example.org' % i} for i in range(20)]
    wanted.append({'alias': 'sales', 'forward': ['alice@example.org', 'bob@example.org']})
    return wanted


def _aliases(simulator):
    return {a['alias']: a['forward'] for a in simulator.state_snapshot()['domains'][DOMAIN]['aliases']}


def test_playbook_converges_and_second_run_writes_nothing(run_playbook, simulator, sim_env):
    _seed(simulator, 229)
    simulator.seed_alias(DOMAIN, 'support', 'helpdesk@example.org', id=SUPPORT_ID)
    simulator.clear_requests()
    extra_vars = {'wanted': _wanted(), 'support_id': SUPPORT_ID}
    first = run_playbook(PLAYBOOK, extra_vars=extra_vars, env=sim_env, diff=True)
    assert first.rc == 0, first
    whole = first.result('The whole set, past the first page')
    assert whole['changed'] is True
    assert sorted(whole['added']) == ['new%02d' % i for i in range(20)]
    assert len(whole['updated']) == 9  # user000..user009 without the removed user007
    assert whole['removed'] == []  # purge is off: '*' and 'help' stay
    state = _aliases(simulator)
    assert len(state) == 230 - 1 + 20 + 1  # seeded (support now help), minus user007, plus new and sales
    assert state['*'] == 'postmaster@example.org'
    assert set(state['sales'].split(',')) == {'alice@example.org', 'bob@example.org'}
    assert 'support' not in state and state['help'] == 'helpdesk@example.org'
    assert 'user007' not in state
    # New and changed aliases in one bulk request (issue 27: update creates the new ones too).
    assert [w['path'] for w in simulator.writes() if 'bulk' in w['path']] == ['/domains/example.com/aliases/bulk']

    simulator.clear_requests()
    second = run_playbook(PLAYBOOK, extra_vars=extra_vars, env=sim_env)
    assert second.rc == 0, second
    assert second.total('changed') == 0, second
    assert [r for r in simulator.requests if r['method'] in WRITES] == []
    # improvmx_alias tasks cost one GET each (the rename finds its alias by the new name).
    single = [r for r in simulator.requests if r['path'].startswith('/domains/example.com/aliases/')]
    assert len(single) == 4


def test_purge_in_check_mode_reports_deletions_and_sends_nothing(run_playbook, simulator, sim_env):
    _seed(simulator)
    playbook = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Keep only these aliases
      improvmx.email.improvmx_aliases:
        domain: example.com
        aliases:
          - {alias: user001, forward: user001@example.org}
          - {alias: user002, forward: other@example.org}
          - {alias: fresh, forward: fresh@example.org}
        purge: true
"""
    result = run_playbook(playbook, env=sim_env, check=True, diff=True, callback='default')
    assert result.rc == 0, result
    task = result.result('Keep only these aliases')
    assert task['changed'] is True
    assert len(task['removed']) == 228 and '*' in task['removed']
    assert task['added'] == ['fresh'] and task['updated'] == ['user002']
    assert [a['alias'] for a in task['aliases']] == ['fresh', 'user001', 'user002']
    assert {r['method'] for r in simulator.requests} == {'GET'}
    assert len(simulator.requests) == 4  # 230 aliases: three pages, then the domain (routing_engine)
    assert len(_aliases(simulator)) == 230
    assert '-    "*": "owner@example.net"' in result.stdout.replace('        ', '    ')


def test_bulk_failed_entries_fail_the_task(run_playbook, simulator, sim_env):
    simulator.seed_domain(DOMAIN)
    simulator.configure(destinations_limit=1)
    # The module checks the account's limits.destinations before writing (see the reliability
    # tests); an account answer without it leaves the check to the API, which refuses the entry.
    simulator.add_fault(method='GET', path_regex='^/account', status=200, body={'account': {}, 'success': True})
    simulator.clear_requests()
    playbook = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Some aliases the API will refuse
      improvmx.email.improvmx_aliases:
        domain: example.com
        aliases:
          - {alias: fine, forward: a@example.org}
          - {alias: toomany, forward: [a@example.org, b@example.org]}
"""
    result = run_playbook(playbook, env=sim_env)
    assert result.rc == 2, result
    task = result.result('Some aliases the API will refuse')
    assert result.task('Some aliases the API will refuse')['status'] == {'localhost': 'failed'}
    assert task['changed'] is True
    assert "'toomany'" in task['msg'] and 'every other change was applied' in task['msg']
    assert [entry['alias'] for entry in task['failed_aliases']] == ['toomany']
    assert task['added'] == ['fine']
    assert 'fine' in _aliases(simulator) and 'toomany' not in _aliases(simulator)
