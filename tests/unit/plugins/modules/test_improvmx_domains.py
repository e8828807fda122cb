# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of improvmx_domains: the module runs in-process against the simulator."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.improvmx.email.plugins.modules import improvmx_domains as module_under_test


def test_alias_changes_on_a_rules_domain_warn_without_another_request(run_module, simulator, sim_args):
    simulator.seed_domain('rules.example', aliases={'*': 'owner@example.org'}, routing_engine='rules')
    simulator.clear_requests()
    args = dict(sim_args, domains=[{'domain': 'rules.example', 'aliases': [{'alias': 'sales', 'forward': ['a@example.org']}]}])

    result = run_module(module_under_test, args)

    assert not result.get('failed'), result
    assert result['changes']['rules.example']['aliases']['added'] == ['sales']
    assert any('routes mail by rules' in warning for warning in run_module.warnings)
    assert [(r['method'], r['path']) for r in simulator.requests] == [
        ('GET', '/domains'), ('POST', '/domains/rules.example/aliases/bulk')]


def test_an_unchanged_account_reads_one_page_per_100_domains(run_module, simulator, sim_args):
    for index in range(250):
        simulator.seed_domain('d%03d.example' % index, aliases={'a': 'x@example.org'})
    simulator.clear_requests()
    domains = [{'domain': 'd%03d.example' % index, 'aliases': [{'alias': 'a', 'forward': ['x@example.org']}],
                'purge_aliases': True} for index in range(250)]

    result = run_module(module_under_test, dict(sim_args, domains=domains, purge=True))

    assert result['changed'] is False and result['changes'] == {}, result
    assert [(r['method'], r['query'].get('page')) for r in simulator.requests] == [('GET', '1'), ('GET', '2'), ('GET', '3')]


def test_an_entry_option_of_the_wrong_type_is_refused_before_any_request(run_module, simulator, sim_args):
    simulator.seed_domain('alpha.example')
    simulator.clear_requests()
    domains = [{'domain': 'alpha.example', 'aliases': [{'alias': 'sales', 'forward': ['a@example.org']}]},
               {'domain': 'beta.example', 'purge_aliases': 'sometimes', 'aliases': [{'alias': 'info'}]}]

    result = run_module(module_under_test, dict(sim_args, domains=domains, purge=True))

    assert result['failed'] and result['changed'] is False, result
    assert result['msg'].startswith('domains: entry 2'), result['msg']
    assert "entry 2 (domain 'beta.example'): purge_aliases must be a boolean, got str 'sometimes'" in result['msg']
    assert "entry 2 (domain 'beta.example'): aliases: entry 1: forward is required" in result['msg']
    assert simulator.requests == []


def test_an_option_given_with_its_alias_warns_and_the_alias_wins(run_module, simulator, sim_args):
    simulator.clear_requests()
    domains = [{'domain': 'alpha.example', 'name': 'beta.example'}]

    result = run_module(module_under_test, dict(sim_args, domains=domains), check_mode=True)

    assert not result.get('failed'), result
    assert result['added'] == ['beta.example']
    assert run_module.warnings == ['domains: both option domain and its alias name are set; name is used']


def _answer_without_taking(simulator, domain, **shown):
    """The next PUT of the domain answers success with the domain as it was (fields not taken)."""
    stored = dict(simulator.state_snapshot()['domains'][domain])
    stored.update(shown)
    simulator.add_fault(method='PUT', path_regex='/domains/%s$' % domain.replace('.', r'\.'), kind='no_object', count=None,
                        body={'success': True, 'domain': dict((key, stored.get(key)) for key in
                                                               ('domain', 'notification_email', 'webhook', 'whitelabel',
                                                                'routing_engine'))})


def test_a_field_the_api_did_not_take_fails_naming_it_and_is_no_change(run_module, simulator, sim_args):
    simulator.seed_domain('a.example', routing_engine='')
    _answer_without_taking(simulator, 'a.example')
    args = dict(sim_args, domains=[{'domain': 'a.example', 'routing_engine': 'rules'}])

    for _run in range(2):  # every run says so: never "set" on one run and again on the next
        result = run_module(module_under_test, args)
        assert result['failed'] is True, result
        assert "routing_engine" in result['msg'] and "instead of 'rules'" in result['msg'], result
        assert result['changed'] is False and result['changes'] == {}, result


def test_a_refused_field_beside_a_taken_one_reports_only_the_taken_one(run_module, simulator, sim_args):
    simulator.seed_domain('a.example', notification_email='old@example.org')
    _answer_without_taking(simulator, 'a.example', notification_email='new@example.org')
    args = dict(sim_args, domains=[{'domain': 'a.example', 'notification_email': 'new@example.org',
                                    'webhook': 'https://hooks.example.org/in'}])

    result = run_module(module_under_test, args)

    assert result['failed'] is True and result['changed'] is True, result
    assert "the API did not take webhook: it answered with webhook=None instead of 'https://hooks.example.org/in'" in result['msg']
    assert result['changes']['a.example']['fields'] == {'notification_email': 'new@example.org'}


def test_new_domains_with_the_catch_all_take_one_bulk_write_each(run_module, simulator, sim_args):
    """10 new domains declaring * and two aliases: the list, then per domain its POST and one bulk update (issue 27)."""
    simulator.clear_requests()
    domains = [{'domain': 'n%02d.example' % index, 'purge_aliases': True,
                'aliases': [{'alias': '*', 'forward': ['catch@example.org']}, {'alias': 'sales', 'forward': 's@example.org'},
                            {'alias': 'info', 'forward': 'i@example.org'}]} for index in range(10)]

    result = run_module(module_under_test, dict(sim_args, domains=domains))

    assert result['changed'] is True and not result.get('failed'), result
    assert len(simulator.requests) == 21, [(r['method'], r['path']) for r in simulator.requests]
    bulks = [r['body']['behavior'] for r in simulator.requests if r['path'].endswith('/aliases/bulk')]
    assert bulks == ['update'] * 10
    state = simulator.state_snapshot()['domains']
    for entry in domains:
        assert {a['alias']: a['forward'] for a in state[entry['domain']]['aliases']} == {
            '*': 'catch@example.org', 'sales': 's@example.org', 'info': 'i@example.org'}
        assert sorted(result['changes'][entry['domain']]['aliases']['added']) == ['info', 'sales']
        assert result['changes'][entry['domain']]['aliases']['updated'] == ['*']

    simulator.clear_requests()
    again = run_module(module_under_test, dict(sim_args, domains=domains))
    assert again['changed'] is False and simulator.writes() == []


def test_the_diff_says_what_is_removed(run_module, simulator, sim_args):
    simulator.seed_domain('keep.example', aliases={'*': 'o@example.org', 'stale': 's@example.org'})
    simulator.seed_domain('gone.example')
    args = dict(sim_args, purge=True, domains=[{'domain': 'keep.example', 'purge_aliases': True,
                                                'aliases': [{'alias': '*', 'forward': 'o@example.org'}]}])
    for check_mode in (True, False):
        result = run_module(module_under_test, args, check_mode=check_mode, diff=True)
        assert result['diff']['after']['gone.example'] == {'removed': ['domain gone.example, with its aliases']}, result
        assert result['diff']['after']['keep.example']['removed'] == ['alias stale']
        assert 'stale' not in result['diff']['after']['keep.example']['aliases']
