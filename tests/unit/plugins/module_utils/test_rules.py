# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The pure part of module_utils/rules.py: checking wanted rules, keys, lines and the set planner."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from hypothesis import given, settings, strategies as st

from ansible_collections.improvmx.email.plugins.module_utils.resource import TaskError
from ansible_collections.improvmx.email.plugins.module_utils.rules import (
    apply_plan,
    increasing_run,
    parse_rule,
    parse_rules,
    plan_rules,
    position_ranks,
    rule_key,
    rule_line,
    rule_of,
)

DOMAIN = 'example.com'


def _rule(ident, rule_type, rank, forward='a@example.org', active=True, **config):
    return {'id': ident, 'type': rule_type, 'config': dict(config, forward=forward), 'rank': float(rank),
            'active': active, 'created': 1767225600}


@pytest.mark.parametrize('item, option', [
    ({'type': 'smtp', 'alias': 'a', 'forward': ['a@example.org']}, 'type'),
    ({'alias': 'a', 'forward': ['a@example.org']}, 'type'),
    ({'type': 'alias', 'forward': ['a@example.org']}, 'alias'),
    ({'type': 'regex', 'scopes': ['subject'], 'forward': ['a@example.org']}, 'regex'),
    ({'type': 'regex', 'regex': 'x', 'forward': ['a@example.org']}, 'scopes'),
    ({'type': 'regex', 'regex': 'x', 'scopes': ['subject', 'header'], 'forward': ['a@example.org']}, 'scopes'),
    ({'type': 'cel', 'forward': ['a@example.org']}, 'expression'),
    ({'type': 'cel', 'expression': ' ', 'forward': ['a@example.org']}, 'expression'),
    ({'type': 'alias', 'alias': 'a', 'forward': []}, 'forward'),
    ({'type': 'alias', 'alias': 'a'}, 'forward'),
    ({'type': 'alias', 'alias': 'a', 'forward': ['not an address']}, 'forward'),
    ({'type': 'alias', 'alias': 'a', 'forward': ['ftp://x.example.org']}, 'forward'),
    ({'type': 'alias', 'alias': 'a', 'forward': ['a@example.org'], 'rank': 'first'}, 'rank'),
    ({'type': 'alias', 'alias': 'a', 'forward': ['a@example.org'], 'rank': float('nan')}, 'rank'),
    ({'type': 'alias', 'alias': 'a', 'regex': 'x', 'forward': ['a@example.org']}, 'regex'),
])
def test_bad_input_names_the_option(item, option):
    with pytest.raises(ValueError) as exc:
        parse_rule(item, where='rules[0]')
    assert str(exc.value).startswith('rules[0]: %s ' % option), str(exc.value)


def test_a_regex_is_not_judged_locally_and_destinations_may_be_webhooks():
    spec = parse_rule({'type': 'regex', 'regex': '([unclosed', 'scopes': 'body,SUBJECT',
                       'forward': ['A@Example.org', 'https://hooks.example.org/x', 'a@example.org']})
    assert spec.config == {'regex': '([unclosed', 'scopes': ['subject', 'body']}
    assert spec.forward == ['A@example.org', 'https://hooks.example.org/x']
    assert spec.key == ('regex', '([unclosed', frozenset(['subject', 'body']))


def test_duplicates_in_the_wanted_list_are_refused():
    with pytest.raises(ValueError) as exc:
        parse_rules([{'type': 'alias', 'alias': 'Sales', 'forward': ['a@example.org']},
                     {'type': 'alias', 'alias': 'sales', 'forward': ['b@example.org']},
                     {'type': 'regex', 'regex': 'x', 'scopes': ['body', 'subject'], 'forward': ['a@example.org']},
                     {'type': 'regex', 'regex': 'x', 'scopes': ['subject', 'body'], 'forward': ['a@example.org']}])
    assert 'rules[1]: the same rule as rules[0]' in str(exc.value)
    assert 'rules[3]: the same rule as rules[2]' in str(exc.value)


def test_rule_line_and_envelopes():
    rule = _rule('r1', 'regex', 2.5, forward='a@example.org,b@example.org', active=False, regex='^inv', scopes=['body', 'sender'])
    assert rule_line(rule) == '[2.5] regex ^inv on sender,body -> a@example.org,b@example.org (inactive)'
    assert rule_line(_rule('r2', 'cel', 3, expression="subject.contains('x')")) == "[3] cel subject.contains('x') -> a@example.org"
    assert rule_of(rule) == rule
    assert rule_of({'rule': rule, 'success': True}) == rule
    assert rule_of(dict(rule, success=True)) == rule  # a top-level answer, without its envelope keys
    assert rule_of({'success': True}) is None


def test_keys_match_without_case_and_scopes_as_a_set():
    assert rule_key(_rule('a', 'alias', 1, alias='Sales')) == rule_key(_rule('b', 'alias', 1, alias='sales'))
    assert rule_key(_rule('a', 'regex', 1, regex='x', scopes=['body', 'subject'])) == \
        rule_key(_rule('b', 'regex', 1, regex='x', scopes=['subject', 'body']))
    assert rule_key(_rule('a', 'regex', 1, regex='X', scopes=['body'])) != rule_key(_rule('b', 'regex', 1, regex='x', scopes=['body']))


def test_updates_forward_active_rank_and_scopes_by_key():
    current = [_rule('r1', 'alias', 1, alias='sales'), _rule('r2', 'regex', 2, regex='x', scopes=['body'])]
    specs = parse_rules([
        {'type': 'alias', 'alias': 'SALES', 'forward': ['b@example.org'], 'active': False},
        {'type': 'regex', 'regex': 'x', 'scopes': ['body'], 'forward': ['a@example.org'], 'rank': 7},
    ])
    steps = plan_rules(current, specs, DOMAIN)
    assert [(s.action, s.current['id'], s.body) for s in steps] == [
        ('update', 'r1', {'config': {'alias': 'sales', 'forward': 'b@example.org'}, 'active': False}),
        ('update', 'r2', {'rank': 7.0}),
    ]
    # Scopes are part of the key: other scopes make another rule.
    steps = plan_rules(current, parse_rules([{'type': 'regex', 'regex': 'x', 'scopes': ['body', 'subject'],
                                              'forward': ['a@example.org']}]), DOMAIN)
    assert [s.action for s in steps] == ['create']


def test_by_id_the_key_and_type_may_change():
    current = [_rule('r1', 'alias', 1, alias='sales')]
    steps = plan_rules(current, parse_rules([{'id': 'r1', 'type': 'regex', 'regex': 'y', 'scopes': ['subject']}]), DOMAIN)
    assert steps[0].body == {'type': 'regex', 'config': {'regex': 'y', 'scopes': ['subject'], 'forward': 'a@example.org'}}
    with pytest.raises(TaskError, match='no rule with id r9'):
        plan_rules(current, parse_rules([{'id': 'r9', 'forward': ['a@example.org']}]), DOMAIN)


def test_two_rules_with_one_key_are_an_error_listing_them():
    current = [_rule('r1', 'alias', 1, alias='sales'), _rule('r2', 'alias', 2, alias='Sales')]
    with pytest.raises(TaskError) as exc:
        plan_rules(current, parse_rules([{'type': 'alias', 'alias': 'sales', 'forward': ['a@example.org']}]), DOMAIN)
    assert 'r1 ([1] alias sales' in str(exc.value) and 'r2 ([2] alias sales' in str(exc.value)


def test_purge_removes_exactly_the_unlisted_rules():
    current = [_rule('r%d' % i, 'alias', i, alias='a%d' % i) for i in range(1, 5)]
    specs = parse_rules([{'type': 'alias', 'alias': 'a2', 'forward': ['a@example.org']},
                         {'type': 'alias', 'alias': 'a4', 'forward': ['a@example.org']}])
    assert [s.current['id'] for s in plan_rules(current, specs, DOMAIN, purge=True) if s.action == 'delete'] == ['r1', 'r3']
    assert plan_rules(current, specs, DOMAIN, purge=False) == []


def test_only_rules_whose_order_changed_are_re_ranked():
    current = [_rule('r%d' % i, 'alias', i, alias='a%d' % i) for i in range(1, 6)]
    # a5 moves to the front, a new rule goes between a2 and a3: one re-rank, one create.
    order = ['a5', 'a1', 'a2', 'new', 'a3', 'a4']
    specs = parse_rules([{'type': 'alias', 'alias': name, 'forward': ['a@example.org']} for name in order])
    steps = plan_rules(current, specs, DOMAIN)
    assert [(s.action, s.body.get('rank')) for s in steps] == [('update', 0.5), ('create', 2.5)]
    final = apply_plan(current, steps)
    assert [r['config']['alias'] for r in final] == order


def test_position_ranks():
    assert position_ranks([None, None, None]) == [1.0, 2.0, 3.0]
    assert position_ranks([5.0, 1.0, 2.0]) == [0.5, 1.0, 2.0]
    assert position_ranks([1.0, None, None, 4.0]) == [1.0, 2.0, 3.0, 4.0]
    assert position_ranks([1.0, None, 1.5]) == [1.0, 1.25, 1.5]
    assert position_ranks([3.0, None]) == [3.0, 4.0]


KEYS = st.sampled_from(['a', 'b', 'c', 'd', 'e', 'f'])
FORWARDS = st.sampled_from(['a@example.org', 'b@example.org', 'https://hooks.example.org/x'])


def _current(draw_items):
    return [_rule('id-%s' % name, 'alias', rank, forward=fwd, active=active, alias=name)
            for name, (rank, fwd, active) in draw_items.items()]


@settings(max_examples=200, deadline=None)
@given(current=st.dictionaries(KEYS, st.tuples(st.integers(-3, 8).map(float), FORWARDS, st.booleans()), max_size=6),
       wanted=st.lists(st.tuples(KEYS, FORWARDS, st.sampled_from([None, True, False])), max_size=6,
                       unique_by=lambda item: item[0]),
       purge=st.booleans())
def test_one_plan_converges_and_a_second_plan_is_empty(current, wanted, purge):
    rules = _current(current)
    specs = parse_rules([dict({'type': 'alias', 'alias': name, 'forward': [fwd]}, **({'active': act} if act is not None else {}))
                         for name, fwd, act in wanted])
    steps = plan_rules(rules, specs, DOMAIN, purge=purge)
    # Only rules whose place or values differ are written.
    assert len([s for s in steps if s.action == 'create']) == len([n for n, _f, _a in wanted if n not in current])
    final = apply_plan(rules, steps)
    for index, rule in enumerate(final):
        rule.setdefault('id', 'new-%d' % index)
    names = [r['config']['alias'] for r in final]
    wanted_names = [name for name, _f, _a in wanted]
    assert [name for name in names if name in wanted_names] == wanted_names  # list order is rank order
    if purge:
        assert sorted(names) == sorted(wanted_names)
    else:
        assert set(current) | set(wanted_names) == set(names)
    for name, fwd, act in wanted:
        rule = [r for r in final if r['config']['alias'] == name][0]
        assert rule['config']['forward'] == fwd
        if act is not None:
            assert rule['active'] is act
    assert plan_rules(final, specs, DOMAIN, purge=purge) == []


def test_an_alias_rule_pattern_compares_exactly_and_a_plain_name_without_case():
    # issue 21.6: '^[a-z]+$' is not the rule '^[A-Z]+$'; 'Sales*' is not 'sales*'; 'Sales' is 'sales'.
    assert rule_key(_rule('a', 'alias', 1, alias='^[a-z]+$')) != rule_key(_rule('b', 'alias', 1, alias='^[A-Z]+$'))
    assert rule_key(_rule('a', 'alias', 1, alias='Sales*')) != rule_key(_rule('b', 'alias', 1, alias='sales*'))
    assert rule_key(_rule('a', 'alias', 1, alias=' Sales ')) == rule_key(_rule('b', 'alias', 1, alias='sales'))
    assert rule_key(_rule('a', 'alias', 1, alias='*')) == rule_key(_rule('b', 'alias', 1, alias='*'))
    specs = parse_rules([{'type': 'alias', 'alias': '^[a-z]+$', 'forward': ['a@example.org']},
                         {'type': 'alias', 'alias': '^[A-Z]+$', 'forward': ['b@example.org']}])
    assert len(specs) == 2


UNRECOGNISED = [
    {'id': 'fall', 'type': 'fallback', 'config': {'forward': 'owner@example.net'}, 'rank': 2.5, 'active': True},
    {'id': 'bare', 'type': 'alias', 'config': {'forward': 'a@example.org'}, 'rank': 0.5, 'active': True},
    {'id': 'odd', 'type': 'regex', 'config': {'regex': 'x', 'forward': 'a@example.org'}, 'rank': 9, 'active': True},
]


def test_unrecognised_rules_are_kept_by_purge_and_never_moved():
    # issue 22.3: an unknown type, or a config without its type's keys: never matched, re-ranked or purged.
    current = [_rule('a', 'alias', 1, alias='a'), _rule('b', 'alias', 2, alias='b'), _rule('c', 'alias', 3, alias='c')]
    current += [dict(rule) for rule in UNRECOGNISED]
    wanted = parse_rules([{'type': 'alias', 'alias': name, 'forward': ['a@example.org']} for name in 'cba'])
    steps = plan_rules(current, wanted, DOMAIN, purge=True)
    touched = [step.current['id'] for step in steps if step.current is not None]
    assert not set(touched) & {'fall', 'bare', 'odd'}, steps
    assert all(step.action != 'delete' for step in steps)
    assert sorted(rule['id'] for rule in apply_plan(current, steps)) == ['a', 'b', 'bare', 'c', 'fall', 'odd']
    # Nor does a key match one: an alias rule without its alias is not the rule 'x'.
    created = plan_rules(current, parse_rules([{'type': 'alias', 'alias': 'x', 'forward': ['a@example.org']}]), DOMAIN)
    assert [step.action for step in created] == ['create']


def test_an_unrecognised_rule_given_by_id_is_refused():
    current = [dict(rule) for rule in UNRECOGNISED]
    with pytest.raises(TaskError, match='not a rule the collection recognises'):
        plan_rules(current, [parse_rule({'id': 'fall', 'forward': ['b@example.org']})], DOMAIN)


def _quadratic_longest_run_length(values):
    """The length of a longest strictly increasing subsequence, the slow way (the oracle)."""
    best = []
    for i, value in enumerate(values):
        if value is None:
            best.append(0)
            continue
        below = [best[j] for j in range(i) if values[j] is not None and values[j] < value]
        best.append(1 + max(below or [0]))
    return max(best or [0])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-5, 5).map(float), st.floats(-10, 10)), max_size=40))
def test_the_n_log_n_longest_run_is_a_longest_strictly_increasing_one(values):
    # issue 27.3: patience sorting gives a run as long as the quadratic search, strictly increasing, without None.
    kept = sorted(increasing_run(values))
    assert all(values[i] is not None for i in kept)
    assert all(values[a] < values[b] for a, b in zip(kept, kept[1:]))
    assert len(kept) == _quadratic_longest_run_length(values)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-5, 50).map(float), st.floats(-100, 100)), max_size=40))
def test_position_ranks_increase_and_keep_a_longest_run(current):
    # issue 27.3: the planned ranks increase along the list; the rules of a longest increasing run keep theirs
    # unless every rule is numbered again.
    ranks = position_ranks(current)
    assert len(ranks) == len(current)
    assert all(a < b for a, b in zip(ranks, ranks[1:]))
    renumbered = ranks == [float(n + 1) for n in range(len(current))]
    kept = sum(1 for old, new in zip(current, ranks) if old is not None and old == new)
    assert renumbered or kept >= _quadratic_longest_run_length(current)


def test_3000_rules_reversed_plan_every_move_but_one():
    # issue 27.3 (no timing here: benchmarks/rules.py measures it): a reversed set keeps one rule in place.
    current = [_rule('r%d' % i, 'alias', i + 1, alias='user%d' % i) for i in range(3000)]
    wanted = parse_rules([{'type': 'alias', 'alias': 'user%d' % i, 'forward': ['a@example.org']} for i in reversed(range(3000))])
    steps = plan_rules(current, wanted, DOMAIN, purge=True)
    assert len(steps) == 2999 and all(step.action == 'update' and set(step.body) == {'rank'} for step in steps)
    assert plan_rules(current, parse_rules([{'type': 'alias', 'alias': 'user%d' % i, 'forward': ['a@example.org']}
                                            for i in range(3000)]), DOMAIN, purge=True) == []


def test_a_forward_given_as_a_list_is_still_recognised():
    # A live answer might give forward as a list: such a rule is matched, not taken for an unknown one.
    current = [{'id': 'l1', 'type': 'alias', 'config': {'alias': 'sales', 'forward': ['a@example.org']}, 'rank': 1.0,
                'active': True}]
    assert plan_rules(current, parse_rules([{'type': 'alias', 'alias': 'sales', 'forward': ['a@example.org']}]), DOMAIN,
                      purge=True) == []
