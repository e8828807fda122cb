# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""improvmx_rule_info run in-process against the API simulator (loopback HTTP)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.improvmx.email.plugins.modules import improvmx_rule_info

DOMAIN = 'example.com'


def _seed(simulator, count):
    simulator.seed_domain(DOMAIN, routing_engine='rules', rules=[
        {'id': 'r%03d' % i, 'type': 'alias', 'config': {'alias': 'user%03d' % i, 'forward': 'u%03d@example.org' % i},
         'rank': count - i} for i in range(count)])
    simulator.clear_requests()


def test_every_page_in_rank_order(run_module, sim_args, simulator):
    _seed(simulator, 130)
    result = run_module(improvmx_rule_info, dict(sim_args, domain=DOMAIN))
    assert result['changed'] is False
    assert [r['id'] for r in result['rules']] == ['r%03d' % i for i in reversed(range(130))]
    assert [r['query'].get('page') for r in simulator.requests] == ['1', '2']


def test_search_and_one_by_id(run_module, sim_args, simulator):
    _seed(simulator, 5)
    found = run_module(improvmx_rule_info, dict(sim_args, domain=DOMAIN, search='user003'))
    assert [r['id'] for r in found['rules']] == ['r003']
    assert simulator.requests[0]['query'].get('search') == 'user003'
    one = run_module(improvmx_rule_info, dict(sim_args, domain=DOMAIN, id='r002'))
    assert one['rules'][0]['config']['alias'] == 'user002'
    assert run_module(improvmx_rule_info, dict(sim_args, domain=DOMAIN, id='nope'))['rules'] == []


def test_a_missing_domain_and_bad_input(run_module, sim_args, simulator):
    missing = run_module(improvmx_rule_info, dict(sim_args, domain='nowhere.example'))
    assert missing['failed'] is True and missing['status'] == 404 and 'not in the ImprovMX account' in missing['msg']
    simulator.clear_requests()
    bad = run_module(improvmx_rule_info, dict(sim_args, domain=DOMAIN, search=' '))
    assert bad['failed'] is True and bad['msg'].startswith('search ') and simulator.requests == []


def test_one_by_id_without_envelope_keys(run_module, sim_args, simulator):
    _seed(simulator, 2)
    one = run_module(improvmx_rule_info, dict(sim_args, domain=DOMAIN, id='r001'))
    assert one['rules'][0]['id'] == 'r001' and 'success' not in one['rules'][0], one


def test_a_list_paged_by_the_apis_own_size_without_paging_fields(run_module, sim_args, simulator):
    # issue 22.2: limit ignored, pages of 25, only {"rules", "success"}: read on until an empty page.
    simulator.configure(rules_page_size=25)
    _seed(simulator, 60)
    result = run_module(improvmx_rule_info, dict(sim_args, domain=DOMAIN))
    assert len(result['rules']) == 60 and len(set(r['id'] for r in result['rules'])) == 60, result
    assert [r['query'].get('page') for r in simulator.requests] == ['1', '2', '3', '4']


def test_an_unrecognised_rule_is_returned_as_given_and_named(run_module, sim_args, simulator):
    # issue 22.3: a rule of an unknown type, or without its type's keys, as the API gave it, with a warning.
    odd = {'id': 'fall', 'type': 'fallback', 'config': {'forward': 'owner@example.net'}, 'rank': 0.5, 'active': True,
           'created': 1767225600}
    _seed(simulator, 2)
    simulator.seed_domain(DOMAIN, merge=True, rules=[odd])
    result = run_module(improvmx_rule_info, dict(sim_args, domain=DOMAIN))
    assert result['rules'][0] == odd and len(result['rules']) == 3, result
    assert any('rule fall' in warning for warning in run_module.warnings), run_module.warnings
    one = run_module(improvmx_rule_info, dict(sim_args, domain=DOMAIN, id='fall'))
    assert one['rules'] == [odd] and any('rule fall' in warning for warning in run_module.warnings)


def test_an_id_on_a_missing_domain_fails_with_the_missing_domain_message(run_module, sim_args, simulator):
    # issue 21.8c: not "rules: []".
    result = run_module(improvmx_rule_info, dict(sim_args, domain='nowhere.example', id='r001'))
    assert result['failed'] is True and 'nowhere.example is not in the ImprovMX account' in result['msg'], result


def test_check_mode_on_a_domain_the_run_would_create(run_module, sim_args, simulator):
    # issue 21.5: no rules yet, a warning, no failure.
    result = run_module(improvmx_rule_info, dict(sim_args, domain='new.example.com'), check_mode=True)
    assert result.get('failed') is not True and result['rules'] == [], result
    assert any('new.example.com' in warning for warning in run_module.warnings)


def test_a_free_plan_is_told_rules_are_not_in_it(run_module, sim_args, simulator):
    # issue 22.7
    _seed(simulator, 1)
    simulator.configure(premium=False)
    result = run_module(improvmx_rule_info, dict(sim_args, domain=DOMAIN))
    assert result['failed'] is True and result['status'] == 403 and 'plan does not include rules routing' in result['msg']
