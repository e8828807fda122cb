# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""improvmx_rule, improvmx_rules and improvmx_rule_info through real ansible-playbook runs against the simulator."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

DOMAIN = 'example.com'
WRITES = ('POST', 'PUT', 'DELETE')
LIST_PATH = '/domains/example.com/rules'

PLAYBOOK = """
- name: Rules of example.com
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/improvmx.email.improvmx: {}
  tasks:
    - name: The rule set, in order
      improvmx.email.improvmx_rules:
        domain: example.com
        rules: "{{ wanted }}"
        purge: true
      register: whole_set

    - name: One more rule, inactive, placed first
      improvmx.email.improvmx_rule:
        domain: example.com
        type: cel
        expression: "size > 1000000"
        forward: [big@example.org]
        active: false
        rank: 0.25

    - name: Remove a rule by its key
      improvmx.email.improvmx_rule:
        domain: example.com
        type: alias
        alias: gone
        state: absent
"""


def _wanted(order):
    rules = {
        'sales': {'type': 'alias', 'alias': 'sales', 'forward': ['alice@example.org', 'https://hooks.example.org/s']},
        'invoice': {'type': 'regex', 'regex': '(?i)invoice', 'scopes': ['subject', 'body'], 'forward': 'acc@example.org'},
        'urgent': {'type': 'cel', 'expression': "subject.contains('urgent')", 'forward': ['ops@example.org']},
    }
    return [rules[name] for name in order]


def _state(simulator):
    return simulator.state_snapshot()['domains'][DOMAIN]['rules']


def test_rules_converge_reorder_and_rerun_writes_nothing(run_playbook, simulator, sim_env):
    simulator.seed_domain(DOMAIN, routing_engine='rules', rules=[
        {'id': 'gone-1', 'type': 'alias', 'config': {'alias': 'gone', 'forward': 'x@example.org'}, 'rank': 1},
        {'id': 'stale-1', 'type': 'alias', 'config': {'alias': 'stale', 'forward': 'x@example.org'}, 'rank': 2}])
    simulator.clear_requests()

    first = run_playbook(PLAYBOOK, extra_vars={'wanted': _wanted(['sales', 'invoice', 'urgent'])}, env=sim_env, diff=True)
    assert first.rc == 0, first
    whole = first.result('The rule set, in order')
    assert len(whole['created']) == 3 and len(whole['removed']) == 2, whole
    writes = [(r['method'], r['path']) for r in simulator.writes()]
    assert sorted(writes) == sorted([('POST', LIST_PATH)] * 4 + [('DELETE', LIST_PATH + '/gone-1'),
                                                                 ('DELETE', LIST_PATH + '/stale-1')])
    state = _state(simulator)
    assert [r['type'] for r in state] == ['cel', 'alias', 'regex', 'cel']
    assert state[0]['active'] is False and state[1]['config']['forward'] == 'alice@example.org,https://hooks.example.org/s'

    # Reordered: only the moved rule is re-ranked; the rule set by improvmx_rule is not listed, and
    # purge would remove it, so this run lists it by its id.
    simulator.clear_requests()
    extra = [{'id': state[0]['id'], 'rank': 0.25}]
    urgent = state[3]['id']
    order = ['urgent', 'sales', 'invoice']
    second = run_playbook(PLAYBOOK, extra_vars={'wanted': _wanted(order) + extra}, env=sim_env)
    assert second.rc == 0, second
    assert [(r['method'], r['path'], r['body']) for r in simulator.writes()] == [
        ('PUT', LIST_PATH + '/' + urgent, {'rank': 0.5})]
    assert [r['config'].get('expression') or r['config'].get('alias') or r['config'].get('regex')
            for r in _state(simulator)][1:] == ["subject.contains('urgent')", 'sales', '(?i)invoice']

    simulator.clear_requests()
    third = run_playbook(PLAYBOOK, extra_vars={'wanted': _wanted(order) + extra}, env=sim_env)
    assert third.rc == 0, third
    assert third.total('changed') == 0, third
    assert [r for r in simulator.requests if r['method'] in WRITES] == []
    assert {(r['method'], r['path']) for r in simulator.requests} == {('GET', LIST_PATH)}

    simulator.clear_requests()
    check = run_playbook(PLAYBOOK, extra_vars={'wanted': _wanted(['invoice'])}, env=sim_env, check=True)
    assert check.rc == 0, check
    assert check.result('The rule set, in order')['changed'] is True
    assert [r for r in simulator.requests if r['method'] in WRITES] == []
