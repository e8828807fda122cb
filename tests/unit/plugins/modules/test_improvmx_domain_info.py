# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of improvmx_domain_info: the module runs in-process against the simulator."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest


from ansible_collections.improvmx.email.plugins.modules import improvmx_domain_info as module_under_test


@pytest.fixture
def run(run_module):
    """run(args) -> (result, failed): main() through the shared run_module fixture."""
    def _run(args):
        result = run_module(module_under_test, args)
        return result, bool(result.pop('failed', False))

    return _run


def sim_args(simulator, **args):
    args.update(api_key=simulator.api_key, api_url=simulator.url)
    return args


def gets(simulator):
    return [(r['path'], r['query']) for r in simulator.requests if r['method'] == 'GET']


def test_every_domain_over_all_pages(run, simulator):
    names = ['d%03d.example.com' % index for index in range(230)]
    for name in names:
        simulator.seed_domain(name)

    result, failed = run(sim_args(simulator))

    assert not failed, result
    assert result['changed'] is False
    assert sorted(d['domain'] for d in result['domains']) == names
    assert [query for _path, query in gets(simulator)] == [
        {'limit': '100', 'page': '1'}, {'limit': '100', 'page': '2'}, {'limit': '100', 'page': '3'}]
    assert simulator.writes() == []


def test_no_domain_gives_an_empty_list(run, simulator):
    result, failed = run(sim_args(simulator))

    assert not failed, result
    assert result['domains'] == []


def test_one_domain(run, simulator):
    simulator.seed_domain('example.com', aliases={'contact': 'owner@example.org'}, notification_email='ops@example.org')
    simulator.seed_domain('example.org')

    result, failed = run(sim_args(simulator, domain='Example.COM.'))

    assert not failed, result
    assert len(result['domains']) == 1
    domain = result['domains'][0]
    assert domain['domain'] == 'example.com'
    assert domain['notification_email'] == 'ops@example.org'
    assert [(a['alias'], a['forward']) for a in domain['aliases']] == [('contact', 'owner@example.org')]
    assert gets(simulator) == [('/domains/example.com', {})]


def test_strict_mxes_is_returned_with_the_other_domain_fields(run, simulator):
    simulator.seed_domain('example.com', strict_mxes=True)
    simulator.seed_domain('example.org')
    result, failed = run(sim_args(simulator))
    assert not failed, result
    assert dict((d['domain'], d['strict_mxes']) for d in result['domains']) == {'example.com': True, 'example.org': False}


def test_missing_domain_is_an_empty_list_not_an_error(run, simulator):
    simulator.seed_domain('example.com')

    result, failed = run(sim_args(simulator, name='missing.example'))

    assert not failed, result
    assert result['domains'] == []


def test_prefix_and_active_filters(run, simulator):
    simulator.seed_domain('shop.example', active=True)
    simulator.seed_domain('shop-eu.example', active=False)
    simulator.seed_domain('blog.example', active=True)

    by_prefix, failed = run(sim_args(simulator, q='SHOP'))
    assert not failed, by_prefix
    assert sorted(d['domain'] for d in by_prefix['domains']) == ['shop-eu.example', 'shop.example']

    active, failed = run(sim_args(simulator, q='shop', is_active=True))
    assert not failed, active
    assert [d['domain'] for d in active['domains']] == ['shop.example']

    inactive, failed = run(sim_args(simulator, is_active=False))
    assert not failed, inactive
    assert [d['domain'] for d in inactive['domains']] == ['shop-eu.example']

    queries = [query for _path, query in gets(simulator)]
    assert queries[0]['q'] == 'shop'
    assert queries[1]['q'] == 'shop' and queries[1]['is_active'] == '1'
    assert queries[2]['is_active'] == '0' and 'q' not in queries[2]


def test_aliases_embedded_in_domains_are_capped_by_the_api(run, simulator):
    aliases = {'a%03d' % index: 'owner@example.org' for index in range(250)}
    simulator.seed_domain('example.com', aliases=aliases)

    result, failed = run(sim_args(simulator, domain='example.com'))

    assert not failed, result
    assert len(result['domains'][0]['aliases']) == 200


@pytest.mark.parametrize('args, problem', [
    ({'domain': 'example.com', 'q': 'ex'}, 'mutually exclusive'),
    ({'domain': 'example.com', 'is_active': True}, 'mutually exclusive'),
    ({'q': '   '}, 'q is empty'),
    ({'q': 'ex ample'}, 'q '),
    ({'domain': 'bad_domain'}, 'domain '),
])
def test_bad_options_fail_before_any_request(run, simulator, args, problem):
    result, failed = run(sim_args(simulator, **args))

    assert failed
    assert problem in result['msg']
    assert simulator.requests == []


def test_api_errors_fail_the_module(run, simulator):
    result, failed = run(dict(sim_args(simulator), api_key='wrong-secret-key'))

    assert failed
    assert result['status'] == 401
    assert 'api_key' in result['msg']
    assert 'wrong-secret-key' not in repr(result)


def test_check_mode_reads_normally(run, simulator):
    simulator.seed_domain('example.com')

    result, failed = run(sim_args(simulator, _ansible_check_mode=True))

    assert not failed, result
    assert [d['domain'] for d in result['domains']] == ['example.com']
    assert simulator.writes() == []


def test_export_is_the_input_of_improvmx_domains_with_every_alias(run, simulator):
    simulator.seed_domain('example.com', aliases={'*': 'owner@example.org'}, notification_email='ops@example.org')
    simulator.seed_domain('big.example', aliases=dict(('u%03d' % i, 'x@example.org') for i in range(201)))
    simulator.clear_requests()

    result, failed = run(sim_args(simulator))

    assert not failed, result
    export = dict((entry['domain'], entry) for entry in result['export'])
    assert export['example.com'] == {'domain': 'example.com', 'notification_email': 'ops@example.org', 'webhook': '',
                                     'whitelabel': '', 'aliases': [{'alias': '*', 'forward': ['owner@example.org']}],
                                     'purge_aliases': True}
    assert len(export['big.example']['aliases']) == 201
    assert [path for path, _query in gets(simulator)] == ['/domains', '/domains/big.example/aliases',
                                                          '/domains/big.example/aliases', '/domains/big.example/aliases']


def test_no_export_for_one_domain(run, simulator):
    simulator.seed_domain('example.com')
    result, failed = run(sim_args(simulator, domain='example.com'))
    assert not failed, result
    assert 'export' not in result
