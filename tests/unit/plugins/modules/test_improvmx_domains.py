# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of improvmx_domains: the module runs in-process against the simulator."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.improvmx.email.plugins.modules import improvmx_domain_info
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
    answered = dict((key, stored.get(key)) for key in ('domain', 'notification_email', 'webhook', 'whitelabel', 'routing_engine'))
    simulator.add_fault(method='PUT', path_regex='/domains/%s$' % domain.replace('.', r'\.'), kind='no_object', count=None,
                        body={'success': True, 'domain': answered})


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


# -- credentials in the entries (issue 24) --------------------------------------------------------------------


def _users(simulator, domain):
    return sorted(c['username'] for c in simulator.state_snapshot()['domains'][domain]['credentials'])


def test_credentials_are_created_purged_and_a_rerun_writes_nothing(run_module, simulator, sim_args):
    simulator.seed_domain('a.example', credentials=[{'username': 'gavin', 'password': 'Pw-gavin-0000'}])
    simulator.seed_domain('b.example', credentials=['untouched'])
    simulator.clear_requests()
    args = dict(sim_args, domains=[
        {'domain': 'a.example', 'purge_credentials': True,
         'credentials': [{'username': 'BigHead', 'password': 'Pw-bighead-1234', 'is_limited': True}]},
        {'domain': 'b.example'}])

    result = run_module(module_under_test, args, diff=True)

    assert result['changed'] is True and not result.get('failed'), result
    assert result['changes']['a.example']['credentials'] == {'added': ['bighead'], 'updated': [], 'removed': ['gavin']}
    assert _users(simulator, 'a.example') == ['bighead'] and _users(simulator, 'b.example') == ['untouched']
    assert simulator.check_password('a.example', 'bighead', 'Pw-bighead-1234')
    assert result['diff']['after']['a.example']['credentials'] == {'bighead': {'is_limited': True}}
    assert result['diff']['after']['a.example']['removed'] == ['credential gavin']
    # Only the domain that declares credentials has them read.
    reads = [r['path'] for r in simulator.requests if r['method'] == 'GET']
    assert reads == ['/domains', '/domains/a.example/credentials']

    simulator.clear_requests()
    again = run_module(module_under_test, args)
    assert again['changed'] is False and again['changes'] == {} and simulator.writes() == [], again


def test_a_credential_to_create_without_password_fails_before_any_write(run_module, simulator, sim_args):
    simulator.seed_domain('a.example')
    simulator.clear_requests()
    args = dict(sim_args, domains=[{'domain': 'a.example', 'notification_email': 'ops@example.org',
                                    'credentials': [{'username': 'bighead'}]}])

    preview = run_module(module_under_test, args, check_mode=True)
    assert preview['changed'] is True and preview['changes']['a.example']['credentials']['added'] == ['bighead']
    assert any('password is required to create the SMTP credential bighead@a.example' in w and 'would fail' in w
               for w in run_module.warnings), run_module.warnings

    result = run_module(module_under_test, args)
    assert result['failed'] is True and result['changed'] is False, result
    assert 'entry 1 (username' in result['msg'] and 'password is required to create' in result['msg'], result
    assert 'nothing was changed' in result['msg'] and simulator.writes() == []


def test_a_credential_deleted_by_hand_is_drift_in_check_mode(run_module, simulator, sim_args):
    simulator.seed_domain('a.example', credentials=[{'username': 'bighead', 'password': 'Pw-bighead-1234'}])
    exported = run_module(improvmx_domain_info, dict(sim_args, export_include=['credentials']))['export']
    assert exported[0]['credentials'] == [{'username': 'bighead', 'is_limited': False}]
    assert exported[0]['purge_credentials'] is True
    assert any('without their passwords' in w for w in run_module.warnings)

    simulator.clear_requests()
    same = run_module(module_under_test, dict(sim_args, domains=exported, purge=True))
    assert same['changed'] is False and simulator.writes() == [], same

    simulator.seed_domain('a.example', credentials=[], merge=False)
    drift = run_module(module_under_test, dict(sim_args, domains=exported, purge=True), check_mode=True)
    assert drift['changed'] is True and drift['changes']['a.example']['credentials']['added'] == ['bighead']
    assert simulator.writes() == []


def test_an_export_on_a_plan_without_credentials_leaves_them_out_and_says_so(run_module, simulator_factory):
    simulator = simulator_factory(premium=False)
    simulator.seed_domain('a.example')
    simulator.seed_domain('b.example')
    simulator.clear_requests()
    result = run_module(improvmx_domain_info, {'api_key': simulator.api_key, 'api_url': simulator.url,
                                               'export_include': ['credentials']})
    assert not result.get('failed'), result
    assert all('credentials' not in entry for entry in result['export'])
    assert any('holds no credentials' in w and 'plan' in w for w in run_module.warnings), run_module.warnings
    # One refusal is enough: the second domain's credentials are not asked for.
    assert [r['path'] for r in simulator.requests] == ['/domains', '/domains/a.example/credentials']


def test_the_export_round_trip_sends_no_write(run_module, simulator, sim_args):
    """Export, then converge the export with purge: no write, for every kind of alias, credentials,
    more than 100 domains (two list pages) and a domain with more than 200 aliases (issue 24)."""
    for index in range(118):
        simulator.seed_domain('d%03d.example' % index, notification_email='ops%d@example.org' % index)
    simulator.seed_domain('big.example', aliases=dict(('user%03d' % index, 'u%d@example.org' % index) for index in range(230)))
    simulator.seed_domain('kinds.example', webhook='https://hooks.example.org/events', aliases={
        '*': 'catch@example.org', '^invoice-.*$': 'https://hooks.example.org/In', '(contact|support)': 'help@example.org',
        '2024': 'archive@example.org', 'noreply': 'null', 'both': 'a@example.org,null'},
        credentials=[{'username': 'mailer', 'password': 'Pw-mailer-1234', 'is_limited': True}, 'bulk'])
    exported = run_module(improvmx_domain_info, dict(sim_args, export_include=['credentials']))
    assert not exported.get('failed'), exported
    export = exported['export']
    assert len(export) == 120
    big = [entry for entry in export if entry['domain'] == 'big.example'][0]
    assert len(big['aliases']) == 230

    simulator.clear_requests()
    result = run_module(module_under_test, dict(sim_args, domains=export, purge=True))

    assert result['changed'] is False and result['changes'] == {}, result
    assert simulator.writes() == []


# -- rules in the entries (issue 24) ---------------------------------------------------------------------------


def _rules(simulator, domain):
    return sorted((r['type'], r['config'].get('alias') or r['config'].get('regex'), r['config']['forward'], r.get('active'))
                  for r in simulator.state_snapshot()['domains'][domain]['rules'])


RULES = [{'type': 'alias', 'alias': 'sales', 'forward': ['alice@example.org']},
         {'type': 'regex', 'regex': '(?i)invoice', 'scopes': ['subject'], 'forward': 'https://hooks.example.org/In'},
         {'type': 'alias', 'alias': 'noreply', 'forward': 'null'}]


def test_rules_are_created_purged_and_a_rerun_writes_nothing(run_module, simulator, sim_args):
    simulator.seed_domain('r.example', routing_engine='rules', rules=[
        {'id': 'old', 'type': 'alias', 'config': {'alias': 'old', 'forward': 'old@example.org'}, 'rank': 9}])
    simulator.seed_domain('other.example', routing_engine='rules', rules=[
        {'id': 'keep', 'type': 'alias', 'config': {'alias': 'keep', 'forward': 'k@example.org'}, 'rank': 1}])
    simulator.clear_requests()
    args = dict(sim_args, domains=[{'domain': 'r.example', 'rules': RULES, 'purge_rules': True}, {'domain': 'other.example'}])

    result = run_module(module_under_test, args, diff=True)

    assert result['changed'] is True and not result.get('failed'), result
    changes = result['changes']['r.example']['rules']
    assert len(changes['added']) == 3 and changes['updated'] == [] and changes['removed'] == ['[9] alias old -> old@example.org']
    assert result['diff']['after']['r.example']['removed'] == ['rule [9] alias old -> old@example.org']
    assert _rules(simulator, 'r.example') == [('alias', 'noreply', 'null', True), ('alias', 'sales', 'alice@example.org', True),
                                              ('regex', '(?i)invoice', 'https://hooks.example.org/In', True)]
    assert len(simulator.state_snapshot()['domains']['other.example']['rules']) == 1
    # Only the domain that declares rules has them read.
    assert [r['path'] for r in simulator.requests if r['method'] == 'GET' and 'rules' in r['path']] == ['/domains/r.example/rules']

    simulator.clear_requests()
    again = run_module(module_under_test, args)
    assert again['changed'] is False and again['changes'] == {} and simulator.writes() == [], again


def test_a_rule_disabled_by_hand_is_drift_and_the_export_round_trip_writes_nothing(run_module, simulator, sim_args):
    simulator.seed_domain('r.example', routing_engine='rules', rules=[
        {'id': 'a', 'type': 'alias', 'config': {'alias': 'sales', 'forward': 'a@example.org,null'}, 'rank': 1},
        {'id': 'b', 'type': 'cel', 'config': {'expression': "subject.contains('x')", 'forward': 'b@example.org'}, 'rank': 2.5,
         'active': False}])
    exported = run_module(improvmx_domain_info, dict(sim_args, export_include=['rules', 'credentials']))['export']
    assert exported[0]['rules'] == [
        {'type': 'alias', 'alias': 'sales', 'forward': ['a@example.org', 'null'], 'active': True, 'rank': 1.0},
        {'type': 'cel', 'expression': "subject.contains('x')", 'forward': ['b@example.org'], 'active': False, 'rank': 2.5}]
    assert exported[0]['purge_rules'] is True

    simulator.clear_requests()
    same = run_module(module_under_test, dict(sim_args, domains=exported, purge=True))
    assert same['changed'] is False and simulator.writes() == [], same

    state = simulator.state_snapshot()['domains']['r.example']['rules']
    simulator.seed_domain('r.example', routing_engine='rules', rules=[dict(state[0], active=False), state[1]])
    drift = run_module(module_under_test, dict(sim_args, domains=exported, purge=True), check_mode=True)
    assert drift['changed'] is True and len(drift['changes']['r.example']['rules']['updated']) == 1, drift
    assert simulator.writes() == []


def test_rules_on_a_free_plan_say_the_plan_lacks_them(run_module, simulator_factory):
    simulator = simulator_factory(premium=False)
    simulator.seed_domain('r.example')
    result = run_module(module_under_test, {'api_key': simulator.api_key, 'api_url': simulator.url,
                                            'domains': [{'domain': 'r.example', 'rules': RULES[:1]}]})
    assert result['failed'] is True and 'does not include rules routing' in result['msg'], result
    assert simulator.writes() == []
