# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""improvmx_rules run in-process against the API simulator (loopback HTTP)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.improvmx.email.plugins.modules import improvmx_rules

DOMAIN = 'example.com'
LIST_PATH = '/domains/example.com/rules'


@pytest.fixture
def sync(run_module, sim_args, simulator):
    simulator.seed_domain(DOMAIN, routing_engine='rules')
    simulator.clear_requests()

    def run(rules, check_mode=False, diff=False, **args):
        full = dict(sim_args, domain=DOMAIN, rules=rules)
        full.update(args)
        return run_module(improvmx_rules, full, check_mode=check_mode, diff=diff)
    return run


def _state(simulator):
    return simulator.state_snapshot()['domains'][DOMAIN]['rules']


def _keys(simulator):
    return [r['config'].get('alias') or r['config'].get('regex') or r['config'].get('expression') for r in _state(simulator)]


def _calls(simulator):
    return [(r['method'], r['path']) for r in simulator.requests]


def _alias(name, forward='team@example.org', **extra):
    return dict({'type': 'alias', 'alias': name, 'forward': [forward]}, **extra)


MIXED = [
    _alias('sales'),
    {'type': 'regex', 'regex': '(?i)invoice', 'scopes': ['subject', 'body'], 'forward': ['acc@example.org']},
    {'type': 'cel', 'expression': "subject.contains('urgent')", 'forward': ['https://hooks.example.org/u']},
]


def test_converge_from_empty_then_nothing_to_do(sync, simulator):
    preview = sync(MIXED, check_mode=True, diff=True)
    assert preview['changed'] is True and len(preview['created']) == 3
    assert [(m, p) for m, p in _calls(simulator) if m != 'GET'] == []
    assert preview['diff']['after']['rules'][2] == "[3] cel subject.contains('urgent') -> https://hooks.example.org/u"

    simulator.clear_requests()
    first = sync(MIXED)
    assert first['changed'] is True, first
    # the list, the writes, then the domain (a change on a domain routed by aliases warns: issue 22.8)
    assert _calls(simulator) == [('GET', LIST_PATH)] + [('POST', LIST_PATH)] * 3 + [('GET', '/domains/example.com')]
    assert [r['rank'] for r in first['rules']] == [1.0, 2.0, 3.0]
    assert _keys(simulator) == ['sales', '(?i)invoice', "subject.contains('urgent')"]

    simulator.clear_requests()
    again = sync(MIXED, check_mode=True)
    assert again['changed'] is False
    again = sync(MIXED, diff=True)
    assert again['changed'] is False and again['created'] == again['updated'] == again['removed'] == []
    assert _calls(simulator) == [('GET', LIST_PATH)] * 2
    assert again['diff']['before'] == again['diff']['after']


def test_reorder_re_ranks_only_what_moved(sync, simulator):
    sync([_alias('a%d' % i) for i in range(1, 6)])
    simulator.clear_requests()
    order = ['a4', 'a1', 'a2', 'a3', 'a5']
    result = sync([_alias(name) for name in order])
    assert result['changed'] is True
    writes = simulator.writes()
    assert len(writes) == 1 and writes[0]['method'] == 'PUT' and writes[0]['body'] == {'rank': 0.5}
    assert _keys(simulator) == order
    assert [r['config']['alias'] for r in result['rules']] == order
    simulator.clear_requests()
    assert sync([_alias(name) for name in order])['changed'] is False and simulator.writes() == []


def test_updates_of_forward_active_rank_and_scopes(sync, simulator):
    sync(MIXED)
    simulator.clear_requests()
    wanted = [
        _alias('sales', forward='boss@example.org'),
        dict(MIXED[1], scopes=['subject'], active=False),  # other scopes: another rule
        dict(MIXED[2], rank=10),
    ]
    result = sync(wanted, purge=True)
    assert result['changed'] is True, result
    methods = sorted(w['method'] for w in simulator.writes())
    assert methods == ['DELETE', 'POST', 'PUT', 'PUT']
    state = _state(simulator)
    assert [r['config']['forward'] for r in state] == ['boss@example.org', 'acc@example.org', 'https://hooks.example.org/u']
    assert state[1]['config']['scopes'] == ['subject'] and state[1]['active'] is False
    assert state[2]['rank'] == 10.0
    simulator.clear_requests()
    assert sync(wanted, purge=True)['changed'] is False and simulator.writes() == []


def test_purge_removes_exactly_the_unlisted_rules(sync, simulator):
    sync([_alias('a%d' % i) for i in range(1, 6)] + MIXED[1:])
    before = dict(zip(_keys(simulator), [r['id'] for r in _state(simulator)]))
    simulator.clear_requests()
    keep = [_alias('a2'), _alias('a4'), MIXED[2]]
    preview = sync(keep, purge=True, check_mode=True)
    assert len(preview['removed']) == 4 and simulator.writes() == []
    result = sync(keep, purge=True)
    deleted = sorted(w['path'] for w in simulator.writes() if w['method'] == 'DELETE')
    assert deleted == sorted(LIST_PATH + '/' + before[name] for name in ('a1', 'a3', 'a5', '(?i)invoice'))
    assert _keys(simulator) == ['a2', 'a4', "subject.contains('urgent')"]
    assert len(result['removed']) == 4


def test_purge_with_an_empty_list_needs_allow_empty_purge(sync, simulator):
    sync(MIXED)
    simulator.clear_requests()
    refused = sync([], purge=True)
    assert refused['failed'] is True and 'allow_empty_purge' in refused['msg'] and simulator.requests == []
    done = sync([], purge=True, allow_empty_purge=True)
    assert done['changed'] is True and _state(simulator) == []


def test_fifty_rules_one_read_fifty_posts_then_only_reads(sync, simulator):
    wanted = [_alias('user%02d' % i, forward='user%02d@example.org' % i) for i in range(50)]
    result = sync(wanted)
    assert _calls(simulator) == [('GET', LIST_PATH)] + [('POST', LIST_PATH)] * 50 + [('GET', '/domains/example.com')]
    assert len(result['rules']) == 50 and [r['rank'] for r in result['rules']] == [float(i + 1) for i in range(50)]
    simulator.clear_requests()
    assert sync(wanted)['changed'] is False
    assert [m for m, _p in _calls(simulator)] == ['GET']


@pytest.mark.parametrize('rules, words', [
    ([{'type': 'nope', 'alias': 'x', 'forward': ['a@example.org']}], 'type'),
    ([{'type': 'alias', 'forward': ['a@example.org']}], 'rules[0]: alias'),
    ([{'type': 'regex', 'regex': 'x', 'scopes': ['headers'], 'forward': ['a@example.org']}], 'scopes'),
    ([_alias('ok'), {'type': 'cel', 'expression': 'true', 'forward': []}], 'rules[1]: forward'),
    ([{'type': 'alias', 'alias': 'x', 'forward': ['a@example.org'], 'rank': 'top'}], 'rank'),
    ([_alias('x'), _alias('X')], 'the same rule'),
])
def test_bad_input_sends_nothing(sync, simulator, rules, words):
    result = sync(rules)
    assert result['failed'] is True and words in result['msg'], result
    assert simulator.requests == []


def test_two_rules_with_a_listed_key_fail_listing_them(sync, simulator):
    simulator.seed_domain(DOMAIN, merge=True, rules=[
        {'id': 'r1', 'type': 'cel', 'config': {'expression': 'true', 'forward': 'a@example.org'}, 'rank': 1},
        {'id': 'r2', 'type': 'cel', 'config': {'expression': 'true', 'forward': 'b@example.org'}, 'rank': 2}])
    simulator.clear_requests()
    result = sync([{'type': 'cel', 'expression': 'true', 'forward': ['a@example.org']}])
    assert result['failed'] is True and 'r1' in result['msg'] and 'r2' in result['msg']
    assert simulator.writes() == [] and len(result['rules']) == 2


# -- property: any current set, any wanted list, one fault: one run converges, the next writes nothing --

KEYS = {
    'a': {'type': 'alias', 'alias': 'sales'},
    'b': {'type': 'alias', 'alias': 'info'},
    'r': {'type': 'regex', 'regex': '^inv', 'scopes': ['subject']},
    's': {'type': 'regex', 'regex': '^inv', 'scopes': ['subject', 'body']},
    'c': {'type': 'cel', 'expression': 'true'},
}
FORWARD = st.sampled_from(['a@example.org', 'b@example.org', 'https://hooks.example.org/x'])
FAULTS = st.sampled_from([
    None,
    dict(method='GET', path_regex='/rules$', status=502),
    dict(method='POST', path_regex='/rules$', kind='apply_then_status', status=502),
    dict(method='POST', path_regex='/rules$', kind='apply_then_drop'),
    dict(method='PUT', path_regex='/rules/', kind='apply_then_drop'),
    dict(method='PUT', path_regex='/rules/', kind='apply_then_no_object'),
    dict(method='DELETE', path_regex='/rules/', kind='apply_then_status', status=503),
])


def _config(key, forward):
    config = dict((k, v) for k, v in KEYS[key].items() if k != 'type')
    config['forward'] = forward
    return config


def _key_of(rule):
    for name, spec in KEYS.items():
        config = rule['config']
        if rule['type'] == spec['type'] and all(
                (sorted(config.get(k) or []) == sorted(v)) if k == 'scopes' else config.get(k) == v
                for k, v in spec.items() if k != 'type'):
            return name
    raise AssertionError(rule)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(current=st.dictionaries(st.sampled_from(sorted(KEYS)), st.tuples(st.integers(-2, 6), FORWARD, st.booleans()), max_size=5),
       wanted=st.lists(st.tuples(st.sampled_from(sorted(KEYS)), FORWARD, st.sampled_from([None, False, True])),
                       max_size=5, unique_by=lambda item: item[0]),
       purge=st.booleans(), fault=FAULTS)
def test_one_run_converges_despite_a_fault_and_a_second_writes_nothing(
        run_module, sim_args, simulator, current, wanted, purge, fault):
    simulator.reset()
    simulator.seed_domain(DOMAIN, routing_engine='rules', rules=[
        {'type': KEYS[key]['type'], 'config': _config(key, fwd), 'rank': rank, 'active': active, 'id': 'seed-' + key}
        for key, (rank, fwd, active) in current.items()])
    if fault:
        simulator.add_fault(count=1, **fault)
    items = [dict(KEYS[key], forward=[fwd], **({'active': act} if act is not None else {})) for key, fwd, act in wanted]
    args = dict(sim_args, domain=DOMAIN, rules=items, purge=purge, allow_empty_purge=True)

    first = run_module(improvmx_rules, args)
    assert not first.get('failed'), (fault, first)
    state = _state(simulator)
    keys = [_key_of(rule) for rule in state]
    listed = [key for key, _f, _a in wanted]
    assert [key for key in keys if key in listed] == listed, (fault, state)
    assert set(keys) == (set(listed) if purge else set(listed) | set(current)), (fault, state)
    for key, fwd, act in wanted:
        rule = state[keys.index(key)]
        assert rule['config']['forward'] == fwd and (act is None or rule['active'] is act), (fault, rule)
    assert [_key_of(rule) for rule in first['rules']] == keys

    simulator.clear_faults()
    simulator.clear_requests()
    second = run_module(improvmx_rules, args)
    assert second['changed'] is False, second
    assert simulator.writes() == []


def test_creates_answered_without_the_rule_fail_and_list_nothing(sync, simulator):
    simulator.add_fault(method='POST', path_regex='/rules$', kind='no_object', count=2)
    result = sync([_alias('one'), _alias('two')])
    assert result['failed'] is True and result['changed'] is False, result
    assert 'answered success without the rule object' in result['msg'] and 'running the task again is safe' in result['msg']
    assert result['created'] == [] and _state(simulator) == []


def test_an_update_answered_without_the_rule_is_not_reported_updated(sync, simulator):
    sync([_alias('one')])
    simulator.add_fault(method='PUT', path_regex='/rules/', kind='no_object')
    result = sync([_alias('one', forward='other@example.org')])
    assert result['failed'] is True and result['changed'] is False and result['updated'] == [], result
    assert 'not applied' in result['msg']


def test_purge_over_a_list_paged_by_the_api_writes_nothing(sync, simulator):
    # issue 22.2: 60 rules, pages of 25 whatever limit says, no total: every rule is read before deciding.
    simulator.configure(rules_page_size=25)
    simulator.seed_domain(DOMAIN, merge=True, rules=[
        {'id': 'r%03d' % i, 'type': 'alias', 'config': {'alias': 'user%03d' % i, 'forward': 'u%03d@example.org' % i},
         'rank': i + 1} for i in range(60)])
    simulator.clear_requests()
    wanted = [_alias('user%03d' % i, forward='u%03d@example.org' % i) for i in range(60)]
    result = sync(wanted, purge=True)
    assert result['changed'] is False and result['removed'] == [] and result['created'] == [], result
    assert [m for m, _p in _calls(simulator) if m != 'GET'] == [] and len(_state(simulator)) == 60


def test_two_alias_rule_patterns_that_differ_in_case_both_listed(sync, simulator):
    # issue 21.6: both may be listed; neither overwrites the other.
    wanted = [_alias('^[A-Z]+$', forward='upper@example.org'), _alias('^[a-z]+$', forward='lower@example.org')]
    first = sync(wanted)
    assert first['changed'] is True and len(first['created']) == 2, first
    assert sorted(r['config']['alias'] for r in _state(simulator)) == ['^[A-Z]+$', '^[a-z]+$']
    again = sync(wanted, purge=True)
    assert again['changed'] is False, again


UNRECOGNISED = [
    {'id': 'fall', 'type': 'fallback', 'config': {'forward': 'owner@example.net'}, 'rank': 2.5, 'active': True,
     'created': 1767225600},
    {'id': 'bare', 'type': 'alias', 'config': {'forward': 'a@example.org'}, 'rank': 0.5, 'active': True,
     'created': 1767225600},
]


def test_unrecognised_rules_are_kept_and_named_in_a_warning(sync, simulator, run_module):
    # issue 22.3: kept by purge, never re-ranked, named in a warning; the simulator holds them.
    simulator.seed_domain(DOMAIN, merge=True, rules=UNRECOGNISED + [
        {'id': 'x', 'type': 'alias', 'config': {'alias': 'x', 'forward': 'a@example.org'}, 'rank': 1},
        {'id': 'y', 'type': 'alias', 'config': {'alias': 'y', 'forward': 'a@example.org'}, 'rank': 2}])
    simulator.clear_requests()
    result = sync([_alias('y', forward='a@example.org'), _alias('x', forward='a@example.org')], purge=True)
    assert result['changed'] is True and result['removed'] == [], result
    state = dict((rule['id'], rule) for rule in _state(simulator))
    assert state['fall'] == dict(UNRECOGNISED[0]) and state['bare'] == dict(UNRECOGNISED[1])
    assert not any('/rules/fall' in path or '/rules/bare' in path for method, path in _calls(simulator) if method != 'GET')
    assert any('rule fall' in warning and 'fallback' in warning for warning in run_module.warnings), run_module.warnings
    assert any('rule bare' in warning for warning in run_module.warnings), run_module.warnings


def test_check_mode_on_a_domain_the_run_would_create(run_module, sim_args, simulator):
    # issue 21.5: every listed rule predicted as created, changed, only reads sent.
    simulator.clear_requests()
    result = run_module(improvmx_rules, dict(sim_args, domain='new.example.com', rules=MIXED), check_mode=True)
    assert result.get('failed') is not True and result['changed'] is True, result
    assert len(result['created']) == 3 and len(result['rules']) == 3
    assert all(r['method'] == 'GET' for r in simulator.requests)
    real = run_module(improvmx_rules, dict(sim_args, domain='new.example.com', rules=MIXED))
    assert real['failed'] is True and 'not in the ImprovMX account' in real['msg']


def test_the_destinations_limit_is_checked_before_the_first_write(sync, simulator):
    # issue 21.8a: the second rule is over the limit: nothing is created, not even the first.
    simulator.configure(destinations_limit=2)
    many = ['a@example.org', 'b@example.org', 'c@example.org']
    result = sync([_alias('one'), {'type': 'alias', 'alias': 'two', 'forward': many}])
    assert result['failed'] is True and 'at most 2' in result['msg'] and 'nothing was changed' in result['msg'], result
    assert [m for m, _p in _calls(simulator) if m != 'GET'] == [] and _state(simulator) == []


def test_a_free_plan_is_told_rules_are_not_in_it(sync, simulator):
    # issue 22.7: the simulator refuses the rules endpoints on a free account as the API refuses plan features.
    simulator.configure(premium=False)
    result = sync([_alias('one')])
    assert result['failed'] is True and result['status'] == 403, result
    assert 'plan does not include rules routing' in result['msg'], result
    assert _state(simulator) == []


def test_rule_changes_on_a_domain_routed_by_aliases_warn(run_module, sim_args, simulator):
    # issue 22.8: routing_engine alias or empty: the rules do not route mail.
    for engine in ('', 'alias'):
        simulator.seed_domain(DOMAIN, routing_engine=engine)
        result = run_module(improvmx_rules, dict(sim_args, domain=DOMAIN, rules=[_alias('one')]))
        assert result['changed'] is True
        assert any('routes mail by aliases' in warning for warning in run_module.warnings), (engine, run_module.warnings)
        run_module(improvmx_rules, dict(sim_args, domain=DOMAIN, rules=[_alias('one')]))
        assert not any('routes mail by aliases' in warning for warning in run_module.warnings)  # no change, no warning
    simulator.seed_domain(DOMAIN, routing_engine='rules')
    run_module(improvmx_rules, dict(sim_args, domain=DOMAIN, rules=[_alias('two')]))
    assert not any('routes mail by aliases' in warning for warning in run_module.warnings), run_module.warnings


def test_deleting_every_rule_is_one_rules_all_request(sync, simulator):
    # issue 22.9: an empty list with allow_empty_purge, no unrecognised rule: DELETE /domains/:d/rules-all.
    sync([_alias('one'), _alias('two'), _alias('three')])
    simulator.clear_requests()
    preview = sync([], purge=True, allow_empty_purge=True, check_mode=True)
    assert preview['changed'] is True and len(preview['removed']) == 3 and simulator.writes() == []
    result = sync([], purge=True, allow_empty_purge=True)
    assert result['changed'] is True and len(result['removed']) == 3 and result['rules'] == [], result
    assert [(w['method'], w['path']) for w in simulator.writes()] == [('DELETE', '/domains/example.com/rules-all')]
    assert _state(simulator) == []


def test_an_unrecognised_rule_keeps_deletes_one_by_one(sync, simulator):
    # issue 22.9: rules-all would take the unrecognised rule too: one DELETE per rule instead.
    simulator.seed_domain(DOMAIN, merge=True, rules=UNRECOGNISED[:1] + [
        {'id': 'x', 'type': 'alias', 'config': {'alias': 'x', 'forward': 'a@example.org'}, 'rank': 1},
        {'id': 'y', 'type': 'alias', 'config': {'alias': 'y', 'forward': 'a@example.org'}, 'rank': 2}])
    simulator.clear_requests()
    result = sync([], purge=True, allow_empty_purge=True)
    assert sorted(w['path'] for w in simulator.writes()) == [LIST_PATH + '/x', LIST_PATH + '/y'], result
    assert [rule['id'] for rule in _state(simulator)] == ['fall']
