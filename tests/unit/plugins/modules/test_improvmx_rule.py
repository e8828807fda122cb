# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""improvmx_rule run in-process against the API simulator (loopback HTTP)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.improvmx.email.plugins.modules import improvmx_rule

DOMAIN = 'example.com'
LIST_PATH = '/domains/example.com/rules'


@pytest.fixture
def rule(run_module, sim_args, simulator):
    simulator.seed_domain(DOMAIN, routing_engine='rules')
    simulator.clear_requests()

    def run(check_mode=False, diff=False, **args):
        full = dict(sim_args, domain=DOMAIN)
        full.update(args)
        return run_module(improvmx_rule, full, check_mode=check_mode, diff=diff)
    return run


def _rules(simulator):
    return simulator.state_snapshot()['domains'][DOMAIN]['rules']


def _writes(simulator):
    return [(r['method'], r['path']) for r in simulator.writes()]


CASES = [
    (dict(type='alias', alias='sales', forward=['a@example.org']),
     dict(forward=['b@example.org', 'https://hooks.example.org/sales'], active=False, rank=5)),
    (dict(type='regex', regex='(?i)invoice', scopes=['subject'], forward=['a@example.org']),
     dict(forward=['b@example.org'], active=False, rank=0.5)),
    (dict(type='cel', expression="subject.contains('finance')", forward=['a@example.org']),
     dict(forward=['a@example.org', 'c@example.org'], rank=2)),
]


@pytest.mark.parametrize('key, changes', CASES, ids=['alias', 'regex', 'cel'])
def test_create_update_remove_every_type(rule, simulator, key, changes):
    # Check mode first: nothing is sent but reads.
    preview = rule(check_mode=True, diff=True, **key)
    assert preview['changed'] is True and preview['diff']['before'] == {}
    assert preview['diff']['after']['rule'].endswith('-> a@example.org')
    assert _writes(simulator) == []

    created = rule(**key)
    assert created['changed'] is True, created
    assert created['rule']['id'] and created['rule']['type'] == key['type']
    assert _writes(simulator) == [('POST', LIST_PATH)]
    assert simulator.writes()[0]['body']['config']['forward'] == 'a@example.org'

    simulator.clear_requests()
    again = rule(**key)
    assert again['changed'] is False and again['rule']['id'] == created['rule']['id']
    assert _writes(simulator) == []

    wanted = dict(key, **changes)
    preview = rule(check_mode=True, diff=True, **wanted)
    assert preview['changed'] is True and _writes(simulator) == []
    updated = rule(diff=True, **wanted)
    assert updated['changed'] is True, updated
    assert _writes(simulator) == [('PUT', LIST_PATH + '/' + created['rule']['id'])]
    stored = _rules(simulator)[0]
    assert set(stored['config']['forward'].split(',')) == set(changes['forward'])
    if 'active' in changes:
        assert stored['active'] is changes['active'] and updated['diff']['after']['rule'].endswith('(inactive)')
    assert stored['rank'] == float(changes['rank'])
    simulator.clear_requests()
    assert rule(**wanted)['changed'] is False and _writes(simulator) == []

    assert rule(check_mode=True, state='absent', **key)['changed'] is True and _writes(simulator) == []
    removed = rule(state='absent', **key)
    assert removed['changed'] is True and removed['rule'] == {}
    assert _rules(simulator) == []
    simulator.clear_requests()
    assert rule(state='absent', **key)['changed'] is False and _writes(simulator) == []


def test_scopes_change_by_id_and_type_change(rule, simulator):
    created = rule(type='regex', regex='^billing', scopes=['sender'], forward=['a@example.org'])
    ident = created['rule']['id']
    changed = rule(id=ident, type='regex', regex='^billing', scopes=['sender', 'recipient'])
    assert changed['changed'] is True
    assert sorted(_rules(simulator)[0]['config']['scopes']) == ['recipient', 'sender']
    # By key, other scopes mean another rule.
    other = rule(type='regex', regex='^billing', scopes=['subject'], forward=['a@example.org'])
    assert other['rule']['id'] != ident and len(_rules(simulator)) == 2
    simulator.clear_requests()
    assert rule(id=ident, active=True)['changed'] is False and _writes(simulator) == []
    assert rule(id=ident, type='alias', alias='billing')['rule']['type'] == 'alias'


def test_two_rules_with_one_key_fail_listing_them(rule, simulator):
    simulator.seed_domain(DOMAIN, merge=True, rules=[
        {'id': 'r1', 'type': 'alias', 'config': {'alias': 'sales', 'forward': 'a@example.org'}, 'rank': 1},
        {'id': 'r2', 'type': 'alias', 'config': {'alias': 'sales', 'forward': 'b@example.org'}, 'rank': 2}])
    simulator.clear_requests()
    result = rule(type='alias', alias='sales', forward=['a@example.org'])
    assert result['failed'] is True and 'r1' in result['msg'] and 'r2' in result['msg'], result
    assert _writes(simulator) == []
    assert rule(id='r2', forward=['c@example.org'])['changed'] is True


@pytest.mark.parametrize('args, option', [
    (dict(type='alias', forward=['a@example.org']), 'alias'),
    (dict(type='regex', regex='x', forward=['a@example.org']), 'scopes'),
    (dict(type='regex', regex='x', scopes=['header'], forward=['a@example.org']), 'scopes'),
    (dict(type='cel', forward=['a@example.org']), 'expression'),
    (dict(type='smtp', alias='x', forward=['a@example.org']), 'type'),
    (dict(alias='x', forward=['a@example.org']), 'type'),
    (dict(type='alias', alias='x', forward=[]), 'forward'),
    (dict(type='alias', alias='x', forward=['nobody']), 'forward'),
    (dict(type='alias', alias='x', forward=['a@example.org'], rank='first'), 'rank'),
])
def test_bad_input_sends_nothing(rule, simulator, args, option):
    result = rule(**args)
    assert result['failed'] is True and option in result['msg'], result
    assert simulator.requests == []


def test_the_servers_regex_verdict_is_shown(rule, simulator):
    result = rule(type='regex', regex='([unclosed', scopes=['body'], forward=['a@example.org'])
    assert result['failed'] is True and result['status'] == 400 and 'regex' in result['msg'], result
    assert _rules(simulator) == []


def test_a_top_level_answer_to_writes(rule, simulator):
    simulator.configure(rule_envelope='top')
    created = rule(type='alias', alias='team', forward=['a@example.org'])
    assert created['rule']['config']['alias'] == 'team'
    assert [r['method'] for r in simulator.requests] == ['GET', 'POST', 'GET']  # the last: the domain's routing_engine
    assert rule(type='alias', alias='team', forward=['b@example.org'])['rule']['config']['forward'] == 'b@example.org'


def test_a_lost_create_answer_is_confirmed_by_reading_the_list(rule, simulator):
    simulator.add_fault(method='POST', path_regex='/rules$', kind='apply_then_status', status=502)
    created = rule(type='alias', alias='ops', forward=['a@example.org'])
    assert created['changed'] is True and created['rule']['id'], created
    assert len(_rules(simulator)) == 1
    assert [r['method'] for r in simulator.writes()] == ['POST']


# -- issue 21.1, 21.8d, 21.8e: writes answered without the rule, envelope keys ---------------------


def test_a_create_answered_without_the_rule_and_not_applied_fails_safely(rule, simulator):
    simulator.add_fault(method='POST', path_regex='/rules$', kind='no_object')
    result = rule(type='alias', alias='ops', forward=['a@example.org'])
    assert result['failed'] is True and result['changed'] is False, result
    assert 'answered success without the rule object' in result['msg'], result
    assert 'not applied' in result['msg'] and 'running the task again is safe' in result['msg'], result
    assert _rules(simulator) == []


def test_a_create_answered_without_the_rule_but_applied_is_found_again(rule, simulator):
    simulator.add_fault(method='POST', path_regex='/rules$', kind='apply_then_no_object')
    created = rule(type='alias', alias='ops', forward=['a@example.org'])
    assert created['changed'] is True and created['rule']['id'] == _rules(simulator)[0]['id'], created
    assert 'success' not in created['rule']


def test_an_update_answered_without_the_rule_and_not_applied_fails_safely(rule, simulator):
    created = rule(type='alias', alias='ops', forward=['a@example.org'])
    simulator.add_fault(method='PUT', path_regex='/rules/', kind='no_object')
    result = rule(type='alias', alias='ops', forward=['b@example.org'])
    assert result['failed'] is True and result['changed'] is False, result
    assert 'answered success without the rule object' in result['msg'] and 'running the task again is safe' in result['msg']
    assert _rules(simulator)[0]['config']['forward'] == 'a@example.org'
    assert created['rule']['id'] == _rules(simulator)[0]['id']


def test_an_update_without_the_rule_and_a_failing_reread_may_have_been_applied(rule, simulator):
    created = rule(type='alias', alias='ops', forward=['a@example.org'])
    simulator.add_fault(method='PUT', path_regex='/rules/', kind='apply_then_no_object')
    simulator.add_fault(method='GET', path_regex='/rules/' + created['rule']['id'], status=500, count=5)
    result = rule(type='alias', alias='ops', forward=['b@example.org'])
    assert result['failed'] is True, result
    assert 'may have been applied' in result['msg'] and 'again' in result['msg'], result


@pytest.mark.parametrize('envelope', ['rule', 'top'])
def test_no_envelope_key_in_a_returned_rule(rule, simulator, envelope):
    simulator.configure(rule_envelope=envelope)
    created = rule(type='alias', alias='team', forward=['a@example.org'])
    assert created['rule']['id'] and 'success' not in created['rule'], created
    updated = rule(id=created['rule']['id'], forward=['b@example.org'])
    assert updated['rule']['config']['forward'] == 'b@example.org' and 'success' not in updated['rule'], updated


def _seed_many(simulator, count):
    simulator.seed_domain(DOMAIN, merge=True, rules=[
        {'id': 'r%03d' % i, 'type': 'alias', 'config': {'alias': 'user%03d' % i, 'forward': 'u%03d@example.org' % i},
         'rank': i + 1} for i in range(count)])
    simulator.clear_requests()


def test_a_rule_on_the_third_page_of_a_list_paged_by_the_api_is_found(rule, simulator):
    # issue 22.2: the API pages by 25 whatever limit says, and answers no total.
    simulator.configure(rules_page_size=25)
    _seed_many(simulator, 60)
    result = rule(type='alias', alias='user055', forward=['u055@example.org'])
    assert result['changed'] is False and result['rule']['id'] == 'r055', result
    assert _writes(simulator) == [] and len(_rules(simulator)) == 60


def test_an_alias_rule_pattern_is_not_another_case_of_it(rule, simulator):
    # issue 21.6: '^[a-z]+$' must not take over (and overwrite) the rule '^[A-Z]+$'.
    simulator.seed_domain(DOMAIN, merge=True, rules=[
        {'id': 'upper', 'type': 'alias', 'config': {'alias': '^[A-Z]+$', 'forward': 'upper@example.org'}, 'rank': 1}])
    simulator.clear_requests()
    created = rule(type='alias', alias='^[a-z]+$', forward=['lower@example.org'])
    assert created['changed'] is True and created['rule']['id'] != 'upper', created
    stored = dict((r['id'], r) for r in _rules(simulator))
    assert stored['upper']['config'] == {'alias': '^[A-Z]+$', 'forward': 'upper@example.org'}
    assert created['rule']['config']['alias'] == '^[a-z]+$'
    simulator.clear_requests()
    assert rule(type='alias', alias='^[a-z]+$', forward=['lower@example.org'])['changed'] is False
    assert _writes(simulator) == []


@pytest.mark.parametrize('pattern', ['sales*', 'Sales*', '^invoice-[0-9]+$', '(contact|support)'])
def test_wildcard_and_regex_alias_rules_are_kept_as_written(rule, simulator, pattern):
    # issue 22.4: the simulator takes alias-rule patterns as the API does, and keeps them as written.
    created = rule(type='alias', alias=pattern, forward=['a@example.org'])
    assert created['changed'] is True and created['rule']['config']['alias'] == pattern, created
    assert _rules(simulator)[0]['config']['alias'] == pattern
    simulator.clear_requests()
    assert rule(type='alias', alias=pattern, forward=['a@example.org'])['changed'] is False and _writes(simulator) == []


def test_an_unrecognised_rule_is_never_matched_nor_changed(rule, simulator, run_module):
    # issue 22.3: an alias rule without its alias is not the rule 'x'; by id it is refused; a warning names it.
    simulator.seed_domain(DOMAIN, merge=True, rules=[
        {'id': 'bare', 'type': 'alias', 'config': {'forward': 'a@example.org'}, 'rank': 1}])
    simulator.clear_requests()
    refused = rule(id='bare', forward=['b@example.org'])
    assert refused['failed'] is True and 'not a rule the collection recognises' in refused['msg'], refused
    created = rule(type='alias', alias='x', forward=['a@example.org'])
    assert created['changed'] is True and created['rule']['id'] != 'bare'
    assert any('rule bare' in warning for warning in run_module.warnings), run_module.warnings
    assert _writes(simulator) == [('POST', LIST_PATH)]


def test_check_mode_on_a_domain_the_run_would_create(run_module, sim_args, simulator):
    # issue 21.5: predicted as created, changed, only reads sent.
    simulator.clear_requests()
    args = dict(sim_args, domain='new.example.com', type='alias', alias='sales', forward=['a@example.org'])
    result = run_module(improvmx_rule, args, check_mode=True)
    assert result.get('failed') is not True and result['changed'] is True, result
    assert result['rule']['config']['alias'] == 'sales'
    assert all(r['method'] == 'GET' for r in simulator.requests)
    absent = run_module(improvmx_rule, dict(args, state='absent'), check_mode=True)
    assert absent.get('failed') is not True and absent['changed'] is False, absent


def test_the_wrapped_answer_to_writes(rule, simulator):
    # issue 22.10b: the top-level answer is the simulator's default; {"rule": ...} is the option; both are read.
    simulator.clear_requests()
    created = rule(type='alias', alias='top', forward=['a@example.org'])
    assert created['rule']['config']['alias'] == 'top' and 'success' not in created['rule']
    simulator.configure(rule_envelope='rule')
    wrapped = rule(type='alias', alias='wrapped', forward=['a@example.org'])
    assert wrapped['changed'] is True and wrapped['rule']['config']['alias'] == 'wrapped', wrapped
    updated = rule(type='alias', alias='wrapped', forward=['b@example.org'])
    assert updated['rule']['config']['forward'] == 'b@example.org'


def test_a_free_plan_is_told_rules_are_not_in_it(rule, simulator):
    # issue 22.7
    simulator.configure(premium=False)
    result = rule(type='alias', alias='x', forward=['a@example.org'])
    assert result['failed'] is True and 'plan does not include rules routing' in result['msg'], result


def test_a_rule_change_on_a_domain_routed_by_aliases_warns(rule, simulator, run_module):
    # issue 22.8
    simulator.seed_domain(DOMAIN, routing_engine='alias')
    rule(type='alias', alias='x', forward=['a@example.org'])
    assert any('routes mail by aliases' in warning for warning in run_module.warnings), run_module.warnings
