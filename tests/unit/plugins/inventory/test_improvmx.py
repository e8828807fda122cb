# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The inventory plugin's pure parts: the checks that matter, the host variables, the file names it takes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.improvmx.email.plugins.inventory import improvmx

DOMAIN = {'domain': 'example.com', 'active': False, 'routing_engine': '', 'dkim_selector': 'sel',
          'notification_email': None, 'webhook': None, 'whitelabel': None, 'display': 'example.com',
          'aliases': [{'alias': '*', 'forward': 'x@example.org'}]}


def check(**valid):
    """A check answer with these checks valid (True) or not (False); the others left out."""
    records = {'valid': all(valid.values())}
    for name, ok in valid.items():
        records[name] = {'valid': ok, 'expected': None, 'values': None}
    return records


def test_relevant_checks():
    assert improvmx.relevant_checks(0) == ['mx', 'spf']
    assert improvmx.relevant_checks(2) == ['mx', 'spf', 'dkim1', 'dkim2']


def test_dns_state_without_credentials_ignores_dkim_and_dmarc():
    state = improvmx.dns_state(DOMAIN, check(mx=True, spf=True, dkim1=False, dkim2=False, dmarc=False), 0)
    assert state == {'dns_valid': True, 'dns_checks': ['mx', 'spf'], 'dns_invalid_checks': [],
                     'dns_missing_records': [], 'credential_count': 0}


def test_dns_state_with_credentials_names_the_dkim_records_of_the_domains_selector():
    state = improvmx.dns_state(DOMAIN, check(mx=True, spf=False, dkim1=True, dkim2=False, dmarc=False), 1)
    assert state['dns_valid'] is False
    assert state['dns_invalid_checks'] == ['spf', 'dkim2']
    assert [(r['check'], r['type'], r['name']) for r in state['dns_missing_records']] == [
        ('spf', 'TXT', 'example.com'), ('dkim2', 'CNAME', 'sel2._domainkey.example.com')]


def test_dns_state_counts_a_check_the_api_leaves_out_as_not_valid():
    state = improvmx.dns_state(DOMAIN, {'valid': True, 'mx': {'valid': True}}, 0)
    assert state['dns_valid'] is False
    assert state['dns_invalid_checks'] == ['spf']


def test_domain_hostvars_prefix_every_field_and_count_aliases():
    hostvars = improvmx.domain_hostvars({'domain': dict(DOMAIN, banned=False), 'alias_count': 1})
    assert hostvars['improvmx_domain'] == 'example.com'
    assert hostvars['improvmx_routing_engine'] == 'alias'
    assert hostvars['improvmx_dkim_selector'] == 'sel'
    assert hostvars['improvmx_banned'] is False
    assert hostvars['improvmx_alias_count'] == 1
    assert 'improvmx_aliases' not in hostvars
    assert all(key.startswith('improvmx_') for key in hostvars)
    with_dns = improvmx.domain_hostvars({'domain': DOMAIN, 'alias_count': 0, 'dns': {'dns_valid': True}})
    assert with_dns['improvmx_dns_valid'] is True


@pytest.mark.parametrize('name, taken', [
    ('improvmx.yml', True),
    ('improvmx.yaml', True),
    ('production.improvmx.yml', True),
    ('prod_improvmx.yaml', True),
    ('inventory.yml', False),
    ('improvmx.yml.bak', False),
    ('improvmx.json', False),
])
def test_verify_file_takes_files_named_improvmx_yml(tmp_path, name, taken):
    path = tmp_path / name
    path.write_text('plugin: improvmx.email.improvmx\n', encoding='utf-8')
    assert improvmx.InventoryModule().verify_file(str(path)) is taken


def test_verify_file_refuses_a_missing_file(tmp_path):
    assert improvmx.InventoryModule().verify_file(str(tmp_path / 'improvmx.yml')) is False
