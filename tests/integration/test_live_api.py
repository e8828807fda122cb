# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 12 through real ansible-playbook runs against the simulator: the live API beyond the reference.

Webhook destinations and regex alias names (purge keeps the declared ones, removes only the
others), numeric alias names beside alias ids (in both orders the API may resolve a numeric
path segment), DKIM record names from the domain's selector, rules routing warnings, failed
deliveries only, and the is_limited flag of SMTP credentials. Every test asserts the
simulator's request log: a second run writes nothing, check mode writes nothing.
"""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.integration

DOMAIN = 'example.com'
ALIASES = '/domains/example.com/aliases'
WRITES = ('POST', 'PUT', 'DELETE')


def _aliases(simulator):
    return {a['alias']: a['forward'] for a in simulator.state_snapshot()['domains'][DOMAIN]['aliases']}


def _writes(simulator):
    return [(r['method'], r['path']) for r in simulator.requests if r['method'] in WRITES]


# --- webhook destinations and regex names ---------------------------------------------------------

PURGE_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Exactly these aliases
      improvmx.email.improvmx_aliases:
        domain: example.com
        purge: true
        aliases:
          - {alias: "*", forward: owner@example.net}
          - {alias: orders, forward: ["https://hooks.example.org/Orders", "ORDERS@example.org"]}
          - {alias: "(contact|support)", forward: desk@example.org}
          - {alias: "^Invoice-.*$", forward: "billing@example.org, https://hooks.example.org/Bill"}
          - {alias: "^[A-Z]{2}$", forward: "https://hooks.example.org/codes"}
      register: converged

    - name: One webhook alias on its own
      improvmx.email.improvmx_alias:
        domain: example.com
        alias: "^Invoice-.*$"
        forward: ["https://hooks.example.org/Bill", "billing@example.org"]
      register: single
"""


def test_purge_keeps_declared_webhook_and_regex_aliases_and_removes_only_the_others(run_playbook, simulator, sim_env):
    simulator.seed_domain(DOMAIN, aliases={
        '*': 'owner@example.net',
        'orders': 'orders@example.org,https://hooks.example.org/Orders',
        '(contact|support)': 'desk@example.org',
        '^Invoice-.*$': 'billing@example.org',
        '^old-.*$': 'old@example.org',
        'hook-only': 'https://hooks.example.org/legacy',
    })
    simulator.clear_requests()

    preview = run_playbook(PURGE_PLAYBOOK, env=sim_env, check=True, diff=True)
    assert preview.rc == 0, preview
    task = preview.result('Exactly these aliases')
    assert task['added'] == ['^[A-Z]{2}$'] and task['updated'] == ['^Invoice-.*$']
    assert sorted(task['removed']) == ['^old-.*$', 'hook-only']
    assert _writes(simulator) == []

    first = run_playbook(PURGE_PLAYBOOK, env=sim_env)
    assert first.rc == 0, first
    task = first.result('Exactly these aliases')
    assert sorted(task['removed']) == ['^old-.*$', 'hook-only']
    assert sorted(path for method, path in _writes(simulator) if method == 'DELETE') == [
        ALIASES + '/^old-.*$', ALIASES + '/hook-only']
    assert first.result('One webhook alias on its own')['changed'] is False  # same set, other order
    assert _aliases(simulator) == {
        '*': 'owner@example.net',
        'orders': 'orders@example.org,https://hooks.example.org/Orders',
        '(contact|support)': 'desk@example.org',
        '^Invoice-.*$': 'billing@example.org,https://hooks.example.org/Bill',
        '^[A-Z]{2}$': 'https://hooks.example.org/codes',
    }

    simulator.clear_requests()
    second = run_playbook(PURGE_PLAYBOOK, env=sim_env)
    assert second.rc == 0, second
    assert second.total('changed') == 0, second
    assert _writes(simulator) == []


def test_bad_destinations_fail_before_any_request(run_playbook, simulator, sim_env):
    simulator.seed_domain(DOMAIN)
    simulator.clear_requests()
    playbook = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: ftp is no destination
      improvmx.email.improvmx_alias:
        domain: example.com
        alias: sales
        forward: "ops@example.org, ftp://x"
      ignore_errors: true
    - name: white space is no destination
      improvmx.email.improvmx_aliases:
        domain: example.com
        aliases:
          - {alias: sales, forward: "a b"}
      ignore_errors: true
"""
    result = run_playbook(playbook, env=sim_env)
    first = result.result('ftp is no destination')
    assert first['failed'] and first['msg'].startswith('forward ') and "'ftp://x'" in first['msg'], first
    second = result.result('white space is no destination')
    assert second['failed'] and "'a b'" in second['msg'] and 'forward' in second['msg'], second
    assert simulator.requests == []


# --- numeric names --------------------------------------------------------------------------------

NUMERIC_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Update the alias named 2024
      improvmx.email.improvmx_alias:
        domain: example.com
        alias: "2024"
        forward: new-year@example.org
      register: updated

    - name: Rename the alias whose id is 9 to 2025
      improvmx.email.improvmx_alias:
        domain: example.com
        id: 9
        alias: "2025"

    - name: Remove the alias named 2026 (there is none; the alias whose id is 2026 stays)
      improvmx.email.improvmx_alias:
        domain: example.com
        alias: "2026"
        state: absent
      register: absent_2026

    - name: The aliases named 2024...
      improvmx.email.improvmx_alias_info:
        domain: example.com
        alias: "2024"
      register: info

    - name: Only the alias named 2024 was read
      ansible.builtin.assert:
        that:
          - info.aliases | map(attribute='alias') | list == ['2024']
          - updated.alias.id == 7
          - not absent_2026.changed
"""

ABSENT_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Remove the alias named 2024
      improvmx.email.improvmx_alias:
        domain: example.com
        alias: "2024"
        state: absent
"""


@pytest.mark.parametrize('order', ['name', 'id'])
def test_numeric_names_beside_those_ids(run_playbook, simulator, sim_env, order):
    """An alias named 2024 beside the alias whose id is 2024: every state, check mode, then a rerun."""
    simulator.configure(alias_segment=order)
    seeded = {
        'sales': ('sales@example.org', 2024),
        '2024': ('year@example.org', 7),
        'help': ('help@example.org', 9),
        'support': ('support@example.org', 2025),
        'billing': ('billing@example.org', 2026),
    }
    simulator.seed_domain(DOMAIN, aliases=[{'alias': name, 'forward': forward, 'id': ident}
                                           for name, (forward, ident) in seeded.items()])
    simulator.clear_requests()

    for playbook in (NUMERIC_PLAYBOOK, ABSENT_PLAYBOOK):
        simulator.clear_requests()
        preview = run_playbook(playbook, env=sim_env, check=True)
        assert preview.rc == 0, preview
        assert _writes(simulator) == []

        first = run_playbook(playbook, env=sim_env)
        assert first.rc == 0, first
        writes = _writes(simulator)
        # Every write addressed the alias it meant: through the name when a GET of the name answered
        # with that alias, otherwise through its own id.
        if playbook is NUMERIC_PLAYBOOK:
            assert _aliases(simulator) == {'sales': 'sales@example.org', '2024': 'new-year@example.org',
                                           '2025': 'help@example.org', 'support': 'support@example.org',
                                           'billing': 'billing@example.org'}
            assert writes == [('PUT', ALIASES + ('/2024' if order == 'name' else '/7')), ('PUT', ALIASES + '/9')]
        else:
            assert _aliases(simulator) == {'sales': 'sales@example.org', '2025': 'help@example.org',
                                           'support': 'support@example.org', 'billing': 'billing@example.org'}
            assert writes == [('DELETE', ALIASES + ('/2024' if order == 'name' else '/7'))]

        simulator.clear_requests()
        second = run_playbook(playbook, env=sim_env)
        assert second.rc == 0, second
        assert second.total('changed') == 0, second
        assert _writes(simulator) == []


# --- DKIM selector and rules routing through the role -----------------------------------------------

ROLE_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: improvmx.email.domain_onboarding
    - name: Report
      ansible.builtin.debug:
        msg:
          result: "{{ domain_onboarding_result }}"
          published: "{{ published_dns_record_sets | default([]) }}"
"""


def test_role_names_dkim_records_from_the_selector_and_warns_about_rules_routing(run_playbook, simulator, sim_env):
    record_dns = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'onboarding', 'record_dns.yml')
    simulator.seed_domain(DOMAIN, dkim_selector='acme', routing_engine='rules')
    simulator.set_dns(DOMAIN, mx=True, spf=True, dkim1=False, dkim2=False, dmarc=False)
    simulator.clear_requests()
    extra = {
        'domain_onboarding_domain': DOMAIN,
        'domain_onboarding_aliases': [
            {'alias': '*', 'forward': ['inbox@example.org']},
            {'alias': '^invoice-.*$', 'forward': 'billing@example.org,https://hooks.example.org/bill'},
        ],
        'domain_onboarding_credentials': [{'username': 'mailer', 'password': 'Pw-acme-1234-secret'}],
        'domain_onboarding_wait': False,
        'domain_onboarding_dns_tasks': record_dns,
    }
    result = run_playbook(ROLE_PLAYBOOK, extra_vars=extra, env=sim_env, callback='default')
    assert result.rc == 0, result
    assert 'routes mail by rules' in result.output
    report = result.result('Report')['msg']
    assert report['result']['dkim_selector'] == 'acme'
    assert report['result']['routing_engine'] == 'rules'
    assert [(r['check'], r['name'], r['values'][0]) for r in report['published']] == [
        ('dkim1', 'acme1._domainkey.example.com', 'acme1.improvmx.com'),
        ('dkim2', 'acme2._domainkey.example.com', 'acme2.improvmx.com'),
    ]
    assert _aliases(simulator)['^invoice-.*$'] == 'billing@example.org,https://hooks.example.org/bill'

    simulator.clear_requests()
    again = run_playbook(ROLE_PLAYBOOK, extra_vars=extra, env=sim_env)
    assert again.rc == 0, again
    assert again.total('changed') == 0, again
    assert _writes(simulator) == []


def test_domain_check_module_uses_the_selector(run_playbook, simulator, sim_env):
    simulator.seed_domain(DOMAIN, dkim_selector='wl', credentials=['mailer'])
    simulator.clear_requests()
    playbook = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Check
      improvmx.email.improvmx_domain_check:
        domain: example.com
      register: check
"""
    result = run_playbook(playbook, env=sim_env, check=True)
    assert result.rc == 0, result
    check = result.result('Check')
    assert check['dkim_selector'] == 'wl'
    assert {r['name'] for r in check['dns_records'] if r['check'].startswith('dkim')} == {
        'wl1._domainkey.example.com', 'wl2._domainkey.example.com'}
    assert {r['method'] for r in simulator.requests} == {'GET'}


# --- domains, logs and credentials ------------------------------------------------------------------

def test_domain_fields_failed_logs_and_is_limited(run_playbook, simulator, sim_env):
    simulator.seed_domain(DOMAIN, routing_engine='rules', daily_quota=500, logs=40,
                          credentials=[{'username': 'mailer', 'password': 'Pw-mailer-1-secret', 'is_limited': False}])
    simulator.clear_requests()
    playbook = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Domain
      improvmx.email.improvmx_domain_info:
        domain: example.com
      register: info
    - name: Failed deliveries
      improvmx.email.improvmx_log_info:
        domain: example.com
        only_failed: true
      register: failed_logs
    - name: Limit the credential
      improvmx.email.improvmx_credential:
        domain: example.com
        username: mailer
        is_limited: true
    - name: Credentials
      improvmx.email.improvmx_credential_info:
        domain: example.com
      register: creds
    - name: What came back
      ansible.builtin.assert:
        that:
          - info.domains[0].routing_engine == 'rules'
          - info.domains[0].dkim_selector == 'dkimprovmx'
          - info.domains[0].daily_quota == 500
          - info.domains[0].banned is false
          - failed_logs.logs | length > 0
          - failed_logs.logs | map(attribute='created') | map('type_debug') | unique == ['int']
          - failed_logs.logs | map(attribute='events') | map('last') | map(attribute='status') | difference(['REFUSED', 'SOFT-BOUNCE', 'HARD-BOUNCE']) == []
          - creds.credentials[0].is_limited is true
"""
    first = run_playbook(playbook, env=sim_env)
    assert first.rc == 0, first
    assert _writes(simulator) == [('PUT', '/domains/example.com/credentials/mailer')]
    filters = [r['query'].get('filter') for r in simulator.requests if '/logs' in r['path']]
    assert filters and set(filters) == {'failure'}, filters  # on every page
    simulator.clear_requests()
    second = run_playbook(playbook, env=sim_env)
    assert second.rc == 0, second
    assert second.total('changed') == 0 and _writes(simulator) == []
