# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""improvmx_domain_check, improvmx_domain_info, improvmx_account_info and improvmx_log_info in real
ansible-playbook runs against the simulator."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

WRITE_METHODS = ('POST', 'PUT', 'DELETE')


def writes(simulator):
    return [r for r in simulator.requests if r['method'] in WRITE_METHODS]


POLL_PLAYBOOK = """
- name: Wait for the DNS of a domain
  hosts: localhost
  gather_facts: false
  tasks:
    - name: First check
      improvmx.email.improvmx_domain_check:
        domain: example.com
      register: first

    - name: Records to publish
      ansible.builtin.debug:
        msg: "{{ item.type }} {{ item.name }} {{ item.value }} {{ item.priority }}"
      loop: "{{ first.dns_records }}"
      loop_control:
        label: "{{ item.check }}"
      when: not item.valid

    - name: Poll until valid
      improvmx.email.domain_check:
        domain: example.com
      register: result
      until: result.valid
      retries: 5
      delay: 0
"""


def test_domain_check_polling_and_short_name(run_playbook, simulator, sim_env):
    simulator.seed_domain('example.com')
    simulator.set_dns('example.com', mx=True, spf=False, dkim1=False, dkim2=False, dmarc=False, valid_after=3)
    simulator.clear_requests()

    result = run_playbook(POLL_PLAYBOOK, env=sim_env)

    assert result.rc == 0, result
    assert result.total('changed') == 0
    first = result.result('First check')
    assert first['valid'] is False
    assert first['invalid_checks'] == ['spf', 'dkim1', 'dkim2', 'dmarc']
    assert [(r['type'], r['name'], r['priority']) for r in first['dns_records']] == [
        ('MX', 'example.com', 10), ('MX', 'example.com', 20), ('TXT', 'example.com', None),
        ('CNAME', 'dkimprovmx1._domainkey.example.com', None), ('CNAME', 'dkimprovmx2._domainkey.example.com', None),
        ('TXT', '_dmarc.example.com', None)]

    # Only the records that are not valid are handed on.
    published = result.result('Records to publish')['results']
    assert [item['item']['check'] for item in published if not item.get('skipped')] == ['spf', 'dkim1', 'dkim2', 'dmarc']
    assert [item['item']['check'] for item in published if item.get('skipped')] == ['mx', 'mx']

    # improvmx.email.domain_check is routed to improvmx_domain_check. The first 3 checks answer the
    # DNS state as set, the 4th (the poll's 3rd attempt) sees every record valid.
    poll = result.result('Poll until valid')
    assert poll['valid'] is True and poll['invalid_checks'] == []
    assert poll['attempts'] == 3
    # Per check, a GET of the check and one of the domain (its DKIM selector names the DKIM records); nothing else.
    assert [(r['method'], r['path']) for r in simulator.requests] == [('GET', '/domains/example.com/check'),
                                                                      ('GET', '/domains/example.com')] * 4


DOMAIN_INFO_PLAYBOOK = """
- name: Domain info
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/improvmx.email.improvmx:
      api_key: "{{ key }}"
      api_url: "{{ url }}"
  tasks:
    - name: Every domain
      improvmx.email.improvmx_domain_info:
      register: every

    - name: One domain
      improvmx.email.improvmx_domain_info:
        domain: shop.example
      register: one

    - name: A missing domain
      improvmx.email.improvmx_domain_info:
        domain: missing.example
      register: missing

    - name: Active shops
      improvmx.email.improvmx_domain_info:
        q: shop
        is_active: true
      register: active_shops

    - name: Check the answers
      ansible.builtin.assert:
        that:
          - every.domains | length == 232
          - one.domains | map(attribute='domain') | list == ['shop.example']
          - missing.domains == []
          - active_shops.domains | map(attribute='domain') | list == ['shop.example']
"""


def test_domain_info_pages_search_and_single_domain(run_playbook, simulator):
    for index in range(230):
        simulator.seed_domain('client%03d.example' % index)
    simulator.seed_domain('shop.example', active=True)
    simulator.seed_domain('shop-eu.example', active=False)
    simulator.clear_requests()

    result = run_playbook(DOMAIN_INFO_PLAYBOOK, extra_vars={'key': simulator.api_key, 'url': simulator.url})

    assert result.rc == 0, result
    assert result.total('changed') == 0
    names = [d['domain'] for d in result.result('Every domain')['domains']]
    assert len(names) == len(set(names)) == 232
    assert 'client229.example' in names and 'shop-eu.example' in names
    pages = [r['query'].get('page') for r in simulator.requests if r['path'] == '/domains']
    assert pages[:3] == ['1', '2', '3']
    assert writes(simulator) == []


ACCOUNT_AND_LOGS_PLAYBOOK = """
- name: Account and logs
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Account
      improvmx.email.improvmx_account_info:
      register: account

    - name: First logs
      improvmx.email.improvmx_log_info:
        domain: example.com
        max_entries: 30
      register: first_page

    - name: Following logs
      improvmx.email.improvmx_log_info:
        domain: example.com
        max_entries: 30
        next_cursor: "{{ first_page.next_cursor }}"
      register: second_page
      when: first_page.next_cursor is not none

    - name: Logs of one alias
      improvmx.email.improvmx_log_info:
        domain: example.com
        alias: contact
      register: contact_logs
"""


def test_account_info_and_log_info(run_playbook, simulator_factory):
    simulator = simulator_factory(log_page_size=20)
    simulator.seed_whitelabel('example.net')
    simulator.seed_domain('example.com', aliases={'contact': 'owner@example.org', 'sales': 'sales@example.org'})
    ids = simulator.seed_logs('example.com', 45)
    env = {'IMPROVMX_API_KEY': simulator.api_key, 'IMPROVMX_API_URL': simulator.url}

    result = run_playbook(ACCOUNT_AND_LOGS_PLAYBOOK, env=env)

    assert result.rc == 0, result
    assert result.total('changed') == 0
    account = result.result('Account')
    assert account['account']['email'] == 'owner@example.net'
    assert account['whitelabels'] == [{'name': 'example.net'}]
    first = result.result('First logs')
    assert [e['id'] for e in first['logs']] == ids[:30]
    assert first['next_cursor'] == ids[29]
    second = result.result('Following logs')
    assert [e['id'] for e in second['logs']] == ids[30:]
    assert second['next_cursor'] is None
    contact = result.result('Logs of one alias')['logs']
    assert contact and all(e['recipient']['email'] == 'contact@example.com' for e in contact)
    assert writes(simulator) == []


def test_log_info_bound_must_be_positive(run_playbook, simulator, sim_env):
    simulator.seed_domain('example.com')
    playbook = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Zero entries
      improvmx.email.improvmx_log_info:
        domain: example.com
        max_entries: 0
"""
    result = run_playbook(playbook, env=sim_env)

    assert result.rc != 0, result
    assert 'max_entries must be at least 1' in result.result('Zero entries')['msg']
    assert simulator.requests == []
