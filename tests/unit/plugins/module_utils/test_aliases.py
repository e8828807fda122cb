# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The alias-set computations of module_utils/aliases.py, with property tests."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from hypothesis import given, settings, strategies as st

from ansible_collections.improvmx.email.plugins.module_utils import aliases as A


# --- normal forms ---------------------------------------------------------------------------------

@pytest.mark.parametrize('raw, expected', [
    ('Sales', 'sales'),
    (' *  ', '*'),
    ('first.last', 'first.last'),
    ('a+b_c-d', 'a+b_c-d'),
])
def test_alias_name(raw, expected):
    assert A.alias_name(raw) == expected


@pytest.mark.parametrize('raw', ['', 'a b', 'sales@example.com', '.sales', '**'])
def test_alias_name_rejects(raw):
    with pytest.raises(ValueError):
        A.alias_name(raw)


@pytest.mark.parametrize('raw, expected', [
    ('a@example.com', ['a@example.com']),
    ('a@example.com, b@Example.COM', ['a@example.com', 'b@example.com']),
    (['a@example.com', 'b@example.com,c@example.com'], ['a@example.com', 'b@example.com', 'c@example.com']),
    (['a@example.com', 'A@example.com'], ['a@example.com']),
])
def test_forward_list(raw, expected):
    assert A.forward_list(raw) == expected


@pytest.mark.parametrize('raw, problem', [
    ([], 'is empty'),
    ('', 'is empty'),
    ([''], 'is empty'),
    ('a@example.com,', 'empty entry'),
    ('not-an-address', 'exactly one @'),
    (['a@example.com', 'b@@example.com'], 'exactly one @'),
])
def test_forward_list_rejects(raw, problem):
    with pytest.raises(ValueError, match=problem):
        A.forward_list(raw)


def test_forward_compares_as_a_set_without_case():
    assert A.same_forward('a@x.example,b@x.example', ['B@x.example', 'a@x.example'])
    assert A.same_forward('a@x.example, b@x.example', 'b@x.example,a@x.example')
    assert not A.same_forward('a@x.example', 'a@x.example,b@x.example')
    assert A.forward_string(['a@x.example', ' b@x.example ']) == 'a@x.example,b@x.example'
    assert A.split_forward(None) == []


def test_parse_desired_collects_every_problem():
    entries = [
        {'alias': 'Sales', 'forward': 'a@example.com'},
        {'alias': 'sales', 'forward': 'b@example.com'},
        {'alias': 'info', 'forward': []},
        {'alias': 'help', 'forward': 'nope'},
        {'alias': 'bad name', 'forward': 'a@example.com'},
    ]
    with pytest.raises(ValueError) as info:
        A.parse_desired(entries)
    message = str(info.value)
    assert "'sales' is listed twice (also as 'Sales'" in message
    assert "entry 3 (alias 'info'): forward is empty" in message
    assert "entry 4 (alias 'help'): forward 'nope' is neither an e-mail address nor an http:// or https:// URL" in message
    assert 'entry 5: alias' in message


def test_parse_desired_normalises_and_keeps_order():
    desired, order = A.parse_desired([
        {'alias': 'Zed', 'forward': 'z@example.com'},
        {'alias': '*', 'forward': ['b@example.com', 'a@example.com']},
    ])
    assert order == ['zed', '*']
    assert desired == {'zed': ['z@example.com'], '*': ['b@example.com', 'a@example.com']}


def test_plan_changes_examples():
    current = {'*': 'owner@example.net', 'Sales': 'a@example.com,b@example.com', 'old': 'c@example.com'}
    desired = {'sales': ['B@example.com', 'a@example.com'], 'new': ['n@example.com'], '*': ['x@example.com']}
    changes = A.plan_changes(current, desired, purge=False, order=['sales', 'new', '*'])
    assert changes.added == [('new', ['n@example.com'])]
    assert changes.updated == [('*', ['x@example.com'])]
    assert changes.removed == []
    purged = A.plan_changes(current, desired, purge=True)
    assert purged.removed == ['old']
    assert not A.plan_changes(current, {'sales': ['b@example.com', 'a@example.com']})


def test_catch_all_is_removed_by_purge_unless_listed():
    current = {'*': 'owner@example.net', 'sales': 'a@example.com'}
    assert A.plan_changes(current, {'sales': ['a@example.com']}, purge=True).removed == ['*']
    assert not A.plan_changes(current, {'sales': ['a@example.com'], '*': ['owner@example.net']}, purge=True)


def test_bulk_requests_are_chunked_by_behaviour():
    changes = A.AliasChanges(
        added=[('a%d' % i, ['x@example.com']) for i in range(1201)],
        updated=[('u%d' % i, ['y@example.com', 'z@example.com']) for i in range(3)],
        removed=['gone'],
    )
    bodies = A.bulk_requests(changes)
    # One request per 500 entries; the chunk that mixes new and existing aliases is an update (issue 27).
    assert [(b['behavior'], len(b['aliases'])) for b in bodies] == [('add', 500), ('add', 500), ('update', 204)]
    assert bodies[-1]['aliases'][201] == {'alias': 'u0', 'forward': 'y@example.com,z@example.com'}
    assert A.chunked([], 500) == []


def test_diff_view_sorts_destinations():
    view = A.diff_view({'*': {'alias': '*', 'forward': 'b@example.com,a@example.com'}, 'X': 'c@example.com'})
    assert view == {'*': 'a@example.com,b@example.com', 'x': 'c@example.com'}


def test_index_current_lowercases():
    items = [{'alias': 'Sales', 'forward': 'a@example.com', 'id': 1}, {'alias': '*', 'forward': 'b@example.com', 'id': 2}, 'junk']
    assert sorted(A.index_current(items)) == ['*', 'sales']


# --- properties -----------------------------------------------------------------------------------

NAMES = st.sampled_from(['*', 'a', 'b', 'c', 'sales', 'info', 'x.y', 'team+1', 'z_9'])
ADDRESSES = st.sampled_from(['a@example.org', 'b@example.org', 'c@example.net', 'd@sub.example.com', 'e@example.org'])


def _case(address, upper):
    return address.upper() if upper else address


FORWARD = st.lists(st.tuples(ADDRESSES, st.booleans()), min_size=1, max_size=4).map(
    lambda pairs: [_case(address, upper) for address, upper in pairs])
STORED_FORWARD = FORWARD.map(', '.join)
CURRENT = st.dictionaries(NAMES, STORED_FORWARD, max_size=9)
DESIRED = st.dictionaries(NAMES, FORWARD, max_size=9)


def _same_set(left, right):
    return set(left) == set(right) and all(A.same_forward(left[name], right[name]) for name in left)


@settings(max_examples=300, deadline=None)
@given(current=CURRENT, desired=DESIRED)
def test_purge_converges_to_desired_in_one_step(current, desired):
    changes = A.plan_changes(current, desired, purge=True)
    result = A.apply_changes(current, changes)
    assert _same_set(result, desired)
    assert not A.plan_changes(result, desired, purge=True)
    # Nothing is touched that did not need it.
    untouched = set(current) & set(desired)
    for name, _forward in changes.updated:
        assert name in untouched and not A.same_forward(current[name], desired[name])
    for name, _forward in changes.added:
        assert name not in current
    assert set(changes.removed) == set(current) - set(desired)


@settings(max_examples=300, deadline=None)
@given(current=CURRENT, desired=DESIRED)
def test_merge_converges_and_keeps_the_rest(current, desired):
    changes = A.plan_changes(current, desired, purge=False)
    assert changes.removed == []
    result = A.apply_changes(current, changes)
    for name in desired:
        assert A.same_forward(result[name], desired[name])
    for name in set(current) - set(desired):
        assert result[name] == current[name]
    assert not A.plan_changes(result, desired, purge=False)


@settings(max_examples=200, deadline=None)
@given(desired=DESIRED, data=st.data())
def test_reordered_or_recased_destinations_are_no_change(desired, data):
    stored = {}
    for name, forward in desired.items():
        shuffled = data.draw(st.permutations(forward))
        stored[name.upper()] = ','.join(address.swapcase() for address in shuffled)
    assert not A.plan_changes(stored, desired, purge=True)


@settings(max_examples=100, deadline=None)
@given(added=st.integers(min_value=0, max_value=1600), updated=st.integers(min_value=0, max_value=700))
def test_bulk_requests_cover_every_change_once(added, updated):
    changes = A.AliasChanges(
        added=[('n%d' % i, ['a@example.org']) for i in range(added)],
        updated=[('u%d' % i, ['b@example.org']) for i in range(updated)],
        removed=[],
    )
    bodies = A.bulk_requests(changes)
    assert all(0 < len(body['aliases']) <= A.BULK_LIMIT for body in bodies)
    assert len(bodies) == -(-(added + updated) // 500)
    sent = [(entry['alias'], body['behavior']) for body in bodies for entry in body['aliases']]
    assert sorted(name for name, _behavior in sent) == sorted(name for name, _f in list(changes.added) + list(changes.updated))
    # An existing alias is always sent with update (add would refuse it); new ones with add unless they share its chunk.
    assert all(behavior == 'update' for name, behavior in sent if name.startswith('u'))
    for body in bodies:
        assert (body['behavior'] == 'update') == any(entry['alias'].startswith('u') for entry in body['aliases'])


# --- issue 12: webhook destinations and regex alias names -----------------------------------------

def test_destinations_mix_addresses_and_webhook_urls():
    assert A.forward_list('ops@example.org, https://hooks.example.org/In') == ['ops@example.org', 'https://hooks.example.org/In']
    assert A.forward_list(['http://h.example.org/a', 'Ops@Example.ORG']) == ['http://h.example.org/a', 'Ops@example.org']
    # Repeats: addresses without case, URLs exactly (a URL path is case-sensitive).
    assert A.forward_list(['a@example.org', 'A@example.org']) == ['a@example.org']
    assert A.forward_list(['https://h.example.org/a', 'https://h.example.org/A']) == ['https://h.example.org/a',
                                                                                      'https://h.example.org/A']


@pytest.mark.parametrize('raw, named', [
    ('ftp://x', "'ftp://x' is neither an e-mail address nor a webhook URL"),
    ('a b', "'a b' is neither an e-mail address nor an http:// or https:// URL"),
    (['ops@example.org', 'https://'], "'https://' is neither an e-mail address nor a webhook URL"),
    ('mailto:ops@example.org', "'mailto:ops@example.org' is neither"),
])
def test_destinations_neither_address_nor_url_are_refused_by_name(raw, named):
    with pytest.raises(ValueError, match=named.replace('(', r'\(').replace(')', r'\)').replace('?', r'\?')):
        A.forward_list(raw)


def test_forward_compares_urls_exactly_and_addresses_without_case():
    assert A.same_forward('OPS@example.org,https://h.example.org/In', ['https://h.example.org/In', 'ops@example.org'])
    assert not A.same_forward('https://h.example.org/In', 'https://h.example.org/in')
    assert A.diff_view({'x': 'https://h.example.org/b,a@example.org'}) == {'x': 'a@example.org,https://h.example.org/b'}


@pytest.mark.parametrize('raw', ['(contact|support)', '^invoice-.*$', '^[A-Z]{3}-\\d+$', 'a' * 140 + '(x|y)'])
def test_regex_alias_names_are_kept_as_written(raw):
    assert A.alias_name(raw) == raw
    assert A.name_key(raw) == raw


@pytest.mark.parametrize('raw, problem', [
    ('(' + 'a' * 150 + ')', 'at most 150'),
    ('(a|b', 'not a valid regular expression'),
    ('(a| b)', 'white space'),
])
def test_regex_alias_names_rejected(raw, problem):
    with pytest.raises(ValueError, match=problem):
        A.alias_name(raw)


def test_regex_names_compare_exactly_plain_names_without_case():
    assert A.same_name('Sales', 'sales')
    assert not A.same_name('^[A-Z]+$', '^[a-z]+$')
    current = {'^[A-Z]+$': 'a@example.org', 'Sales': 'b@example.org', '(old|gone)': 'c@example.org'}
    desired, order = A.parse_desired([
        {'alias': '^[A-Z]+$', 'forward': 'a@example.org'},
        {'alias': '^[a-z]+$', 'forward': 'd@example.org'},
        {'alias': 'SALES', 'forward': 'B@example.org'},
    ])
    assert order == ['^[A-Z]+$', '^[a-z]+$', 'sales']
    changes = A.plan_changes(current, desired, purge=True, order=order)
    assert changes.added == [('^[a-z]+$', ['d@example.org'])]
    assert changes.updated == []
    assert changes.removed == ['(old|gone)']
    assert A.index_current([{'alias': '^[A-Z]+$', 'id': 1}, {'alias': 'Sales', 'id': 2}]) == {
        '^[A-Z]+$': {'alias': '^[A-Z]+$', 'id': 1}, 'sales': {'alias': 'Sales', 'id': 2}}


def test_regex_names_differing_only_in_case_are_two_aliases():
    desired, order = A.parse_desired([{'alias': '^[A-Z]$', 'forward': 'a@example.org'},
                                      {'alias': '^[a-z]$', 'forward': 'a@example.org'}])
    assert order == ['^[A-Z]$', '^[a-z]$']
    with pytest.raises(ValueError, match='listed twice'):
        A.parse_desired([{'alias': '(a|b)', 'forward': 'a@example.org'}, {'alias': '(a|b)', 'forward': 'b@example.org'}])


class _UpdateThatDoesNotCreate(object):
    """An Aliases stand-in whose bulk update only updates, and lists new aliases as failed (a live API we do not know)."""

    client = None
    domain = 'example.com'

    def __init__(self, mention_new=True):
        self.calls = []
        self.mention_new = mention_new

    def note_ids(self, current):
        pass

    def bulk(self, behavior, chunk):
        self.calls.append((behavior, [name for name, _forward in chunk]))
        existing = [{'alias': name, 'forward': ','.join(forward)} for name, forward in chunk if name == '*']
        new = [{'alias': name, 'forward': ','.join(forward)} for name, forward in chunk if name != '*']
        if behavior == 'update':
            return existing, [dict(entry, error='This alias does not exist.') for entry in new] if self.mention_new else []
        return new, []


@pytest.mark.parametrize('mention_new', [True, False])
def test_new_aliases_an_update_did_not_create_are_added_once(mention_new):
    stub = _UpdateThatDoesNotCreate(mention_new)
    sync = A.AliasSync(stub, destinations_limit=lambda: None)
    sync.run({'*': ['o@example.org'], 'sales': ['s@example.org'], 'info': ['i@example.org']}, ['*', 'sales', 'info'],
             current={'*': {'alias': '*', 'forward': 'old@example.org', 'id': 1}})
    assert stub.calls == [('update', ['sales', 'info', '*']), ('add', ['sales', 'info'])]
    assert sorted(sync.added) == ['info', 'sales'] and sync.updated == ['*'] and sync.failed == []
