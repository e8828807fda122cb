# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""improvmx_domains through real ansible-playbook runs against the simulator, asserting the requests it served.

Here: several domains converged at once with every request counted, a partial drift's exact writes
and diff, and playbooks/export_account.yml's round trip. Check mode, purge, an empty purge and bad
input are in the ansible-test target tests/integration/targets/improvmx_domains."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import os

import yaml

PLAYBOOK = """
- name: The account as one declaration
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Domains
      improvmx.email.improvmx_domains:
        domains: "{{ declared }}"
        purge: "{{ purge | default(false) }}"
        allow_empty_purge: "{{ allow_empty | default(false) }}"
      register: fleet
"""

WRITES = ('POST', 'PUT', 'DELETE')


def declaration():
    return [
        {'domain': 'alpha.example', 'notification_email': 'ops@example.org',
         'aliases': [{'alias': 'sales', 'forward': ['a@example.org', 'b@example.org']},
                     {'alias': 'info', 'forward': 'c@example.org'}]},
        {'domain': 'beta.example', 'webhook': 'https://hooks.example.org/beta', 'purge_aliases': True,
         'aliases': [{'alias': '*', 'forward': ['catch@example.org']}, {'alias': 'team', 'forward': ['t@example.org']}]},
        {'domain': 'gamma.example'},
    ]


def requests_of(simulator):
    return [(r['method'], r['path']) for r in simulator.requests]


def writes_of(simulator):
    return [(r['method'], r['path']) for r in simulator.requests if r['method'] in WRITES]


def aliases_of(simulator, domain):
    return dict((a['alias'], a['forward']) for a in simulator.state_snapshot()['domains'][domain]['aliases'])


def test_converge_from_empty_then_rerun_without_writes(run_playbook, simulator, sim_env):
    first = run_playbook(PLAYBOOK, extra_vars={'declared': declaration()}, env=sim_env)

    assert first.rc == 0, first
    result = first.result('Domains')
    assert result['changed'] is True
    assert result['added'] == ['alpha.example', 'beta.example', 'gamma.example']
    assert result['updated'] == [] and result['removed'] == []
    assert result['changes']['alpha.example'] == {
        'status': 'added', 'fields': {}, 'aliases': {'added': ['sales', 'info'], 'updated': [], 'removed': []}}
    assert result['changes']['beta.example'] == {
        'status': 'added', 'fields': {'webhook': 'https://hooks.example.org/beta'},
        'aliases': {'added': ['team'], 'updated': ['*'], 'removed': []}}
    # One list read; per domain a POST, a PUT only for the webhook (POST cannot set it), one bulk request
    # for its new and changed aliases together; the account read because an alias has two destinations.
    counts = collections.Counter(requests_of(simulator))
    assert counts == collections.Counter({
        ('GET', '/domains'): 1, ('GET', '/account'): 1, ('POST', '/domains'): 3, ('PUT', '/domains/beta.example'): 1,
        ('POST', '/domains/alpha.example/aliases/bulk'): 1, ('POST', '/domains/beta.example/aliases/bulk'): 1,
    }), simulator.requests
    state = simulator.state_snapshot()['domains']
    assert state['alpha.example']['notification_email'] == 'ops@example.org'
    assert aliases_of(simulator, 'alpha.example') == {'*': 'owner@example.net', 'sales': 'a@example.org,b@example.org',
                                                      'info': 'c@example.org'}
    assert aliases_of(simulator, 'beta.example') == {'*': 'catch@example.org', 'team': 't@example.org'}
    assert state['beta.example']['webhook'] == 'https://hooks.example.org/beta'
    assert aliases_of(simulator, 'gamma.example') == {'*': 'owner@example.net'}

    simulator.clear_requests()
    second = run_playbook(PLAYBOOK, extra_vars={'declared': declaration()}, env=sim_env)

    assert second.rc == 0, second
    assert second.total('changed') == 0
    assert second.result('Domains')['changes'] == {}
    assert requests_of(simulator) == [('GET', '/domains')]


def test_partial_drift_sends_only_the_writes_that_differ(run_playbook, simulator, sim_env):
    simulator.seed_domain('alpha.example', notification_email='old@example.org',
                          aliases={'*': 'owner@example.net', 'sales': 'a@example.org,b@example.org', 'info': 'x@example.org'})
    simulator.seed_domain('beta.example', webhook='https://hooks.example.org/beta',
                          aliases={'*': 'catch@example.org', 'team': 't@example.org', 'stale': 's@example.org'})
    simulator.seed_domain('gamma.example')
    simulator.seed_domain('unlisted.example')
    simulator.clear_requests()

    result = run_playbook(PLAYBOOK, extra_vars={'declared': declaration()}, env=sim_env, diff=True)

    assert result.rc == 0, result
    fleet = result.result('Domains')
    assert fleet['added'] == [] and fleet['removed'] == []
    assert fleet['updated'] == ['alpha.example', 'beta.example']
    assert fleet['changes'] == {
        'alpha.example': {'status': 'updated', 'fields': {'notification_email': 'ops@example.org'},
                          'aliases': {'added': [], 'updated': ['info'], 'removed': []}},
        'beta.example': {'status': 'updated', 'fields': {}, 'aliases': {'added': [], 'updated': [], 'removed': ['stale']}},
    }
    assert writes_of(simulator) == [('PUT', '/domains/alpha.example'), ('POST', '/domains/alpha.example/aliases/bulk'),
                                    ('DELETE', '/domains/beta.example/aliases/stale')]
    # The diff shows only the domains that change.
    assert sorted(fleet['diff']['before']) == ['alpha.example', 'beta.example']
    assert fleet['diff']['before']['alpha.example']['notification_email'] == 'old@example.org'
    assert fleet['diff']['after']['alpha.example']['aliases']['info'] == 'c@example.org'
    assert 'stale' not in fleet['diff']['after']['beta.example']['aliases']
    assert 'unlisted.example' in simulator.state_snapshot()['domains']


EXPORT_PLAYBOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                               'playbooks', 'export_account.yml')

CONVERGE_EXPORT = """
- name: Converge on the exported vars file
  hosts: localhost
  gather_facts: false
  vars_files: ["{{ export_file }}"]
  tasks:
    - name: Domains
      improvmx.email.improvmx_domains:
        domains: "{{ improvmx_domains }}"
        purge: true
      register: fleet
"""


def test_export_then_converge_with_the_export_changes_nothing_and_only_lists(run_playbook, simulator, sim_env, tmp_path):
    simulator.seed_domain('alpha.example', notification_email='ops@example.org',
                          aliases={'*': 'owner@example.org', 'sales': 'a@example.org,b@example.org'})
    simulator.seed_domain('beta.example', webhook='https://hooks.example.org/beta', aliases={'team': 't@example.org'})
    simulator.seed_domain('big.example', aliases=dict(('user%03d' % i, 'u%03d@example.org' % i) for i in range(250)))
    simulator.seed_domain('empty.example', aliases={})
    export_file = str(tmp_path / 'improvmx_account.yml')
    simulator.clear_requests()

    exported = run_playbook(EXPORT_PLAYBOOK, extra_vars={'improvmx_export_file': export_file}, env=sim_env)

    assert exported.rc == 0, exported
    with open(export_file, encoding='utf-8') as handle:
        document = yaml.safe_load(handle)
    by_name = dict((entry['domain'], entry) for entry in document['improvmx_domains'])
    assert sorted(by_name) == ['alpha.example', 'beta.example', 'big.example', 'empty.example']
    assert by_name['alpha.example'] == {
        'domain': 'alpha.example', 'notification_email': 'ops@example.org', 'webhook': '', 'whitelabel': '',
        'aliases': [{'alias': '*', 'forward': ['owner@example.org']},
                    {'alias': 'sales', 'forward': ['a@example.org', 'b@example.org']}],
        'purge_aliases': True,
        # export_account.yml includes credentials and rules (issue 24); this domain has neither
        'credentials': [], 'purge_credentials': False, 'rules': [], 'purge_rules': False}
    assert by_name['beta.example']['webhook'] == 'https://hooks.example.org/beta'
    assert len(by_name['big.example']['aliases']) == 250  # past the 200 the domain list embeds
    assert by_name['empty.example']['aliases'] == [] and by_name['empty.example']['purge_aliases'] is False
    assert all(r['method'] == 'GET' for r in simulator.requests)

    simulator.clear_requests()
    converged = run_playbook(CONVERGE_EXPORT, extra_vars={'export_file': export_file}, env=sim_env)

    assert converged.rc == 0, converged
    assert converged.total('changed') == 0
    assert converged.result('Domains')['changes'] == {}
    # Only list reads: the domain list, and the alias list of the one domain that embeds 200 aliases (no
    # domain has credentials or rules, so their empty lists without purge are not read).
    assert [(r['method'], r['path'], r['query'].get('page')) for r in simulator.requests] == [
        ('GET', '/domains', '1'), ('GET', '/domains/big.example/aliases', '1'),
        ('GET', '/domains/big.example/aliases', '2'), ('GET', '/domains/big.example/aliases', '3')]
