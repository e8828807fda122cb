# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""improvmx_alias_info run in-process against the API simulator (loopback HTTP)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.improvmx.email.plugins.modules import improvmx_alias_info

DOMAIN = 'example.com'


@pytest.fixture
def info(run_module, sim_args, simulator):
    aliases = [('*', 'owner@example.net')]
    aliases += [('user%03d' % i, 'user%03d@example.org' % i) for i in range(225)]
    aliases += [('sales', 'alice@example.org,bob@example.org'), ('sales-eu', 'bob@example.org'),
                ('support', 'helpdesk@example.org'), ('alice', 'alice@example.org')]
    simulator.seed_domain(DOMAIN, aliases=aliases)
    simulator.clear_requests()

    def run(check_mode=False, **args):
        full = dict(sim_args, domain=DOMAIN)
        full.update(args)
        return run_module(improvmx_alias_info, full, check_mode=check_mode)
    return run


def test_every_alias_across_pages(info, simulator):
    result = info()
    assert result['changed'] is False
    names = [a['alias'] for a in result['aliases']]
    assert len(names) == 230 and len(set(names)) == 230
    assert '*' in names and 'user224' in names
    assert [r['query']['page'] for r in simulator.requests] == ['1', '2', '3']
    assert simulator.writes() == []


def test_alias_prefix(info, simulator):
    result = info(alias='SALES')
    assert sorted(a['alias'] for a in result['aliases']) == ['sales', 'sales-eu']
    assert simulator.requests[0]['query']['alias'] == 'sales'


def test_catch_all_by_prefix(info):
    assert [a['alias'] for a in info(alias='*')['aliases']] == ['*']


def test_q_matches_alias_or_destination(info):
    result = info(q='alice')
    assert sorted(a['alias'] for a in result['aliases']) == ['alice', 'sales']


def test_check_mode_reads(info, simulator):
    result = info(check_mode=True, alias='support')
    assert result['aliases'][0]['forward'] == 'helpdesk@example.org'
    assert simulator.writes() == []


def test_missing_domain(info):
    result = info(domain='missing.example')
    assert result['failed'] is True and 'missing.example is not in the ImprovMX account' in result['msg']


def test_blank_prefix_is_refused(info, simulator):
    result = info(alias='  ')
    assert result['failed'] is True and result['msg'].startswith('alias is empty')
    assert simulator.requests == []


# --- issue 12 -------------------------------------------------------------------------------------

@pytest.mark.parametrize('order', ['name', 'id'])
def test_numeric_prefix_never_returns_the_alias_with_that_id(info, simulator, order):
    simulator.configure(alias_segment=order)
    simulator.seed_domain('example.com', aliases=[{'alias': 'sales', 'forward': 'sales@example.org', 'id': 2024},
                                                  {'alias': '2024', 'forward': 'year@example.org', 'id': 7}])
    result = info(alias='2024', check_mode=True)
    assert [(a['alias'], a['id']) for a in result['aliases']] == [('2024', 7)]
    # Even when the API's answer holds another alias, only names with the prefix come back.
    simulator.add_fault(method='GET', path_regex=r'/aliases$', status=200,
                        body={'aliases': [{'alias': 'sales', 'forward': 'sales@example.org', 'id': 2024},
                                          {'alias': '2024', 'forward': 'year@example.org', 'id': 7}],
                              'total': 2, 'limit': 100, 'page': 1, 'success': True})
    result = info(alias='2024')
    assert [(a['alias'], a['id']) for a in result['aliases']] == [('2024', 7)]
    assert simulator.writes() == []


def test_regex_and_webhook_aliases_are_listed_as_written(info, simulator):
    simulator.seed_domain('example.com', aliases={'^Invoice-.*$': 'billing@example.org,https://hooks.example.org/Bill',
                                                  'sales': 'a@example.org'})
    result = info(alias='^Invoice')
    assert [(a['alias'], a['forward']) for a in result['aliases']] == [
        ('^Invoice-.*$', 'billing@example.org,https://hooks.example.org/Bill')]
    result = info(q='https://hooks.example.org')
    assert [a['alias'] for a in result['aliases']] == ['^Invoice-.*$']
