# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One rule for destinations: aliases, rules and the domain sets parse and compare them alike."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest
from hypothesis import given, strategies as st

from ansible_collections.improvmx.email.plugins.module_utils import aliases, destinations, rules


def test_destination_is_an_address_or_an_http_url():
    assert destinations.check(' Ops@Example.ORG ') == 'Ops@example.org'
    assert destinations.check('https://hooks.example.org/In?x=1') == 'https://hooks.example.org/In?x=1'
    assert destinations.key('Ops@example.org') == 'ops@example.org'
    assert destinations.key('https://h.example.org/In') == 'https://h.example.org/In'
    for bad, problem in (('ftp://x', "'ftp://x' is neither"), ('a b', "'a b' is neither"),
                         ('b@exa mple.org', 'invalid domain'), ('http://', 'no host')):
        with pytest.raises(ValueError, match=problem):
            destinations.check(bad)
    assert destinations.checked_list('a@example.org, https://h.example.org/x,A@example.org') == [
        'a@example.org', 'https://h.example.org/x']


@pytest.mark.parametrize('written', ['null', 'NULL', ' Null '])
def test_null_is_a_destination_compared_as_itself(written):
    assert destinations.check(written) == 'null'
    assert destinations.checked_list([written]) == ['null']
    assert destinations.same('null', [written])
    assert not destinations.same('null', 'null@example.org')
    assert destinations.checked_list(['ops@example.org', written, 'null']) == ['ops@example.org', 'null']


def test_the_error_names_null_among_the_kinds():
    with pytest.raises(ValueError, match=r"'nope' is neither an e-mail address nor an http:// or https:// URL \(nor null\)"):
        destinations.check('nope')
    with pytest.raises(ValueError, match='an e-mail address, an http\\(s\\) URL or null'):
        destinations.checked_list([])


def test_urls_compare_exactly_as_the_api_facts_say():
    # The API stores the string it is given; a URL is compared as written (docs/api-behaviour.md).
    assert not destinations.same('https://Hooks.example.org/x', 'https://hooks.example.org/x')
    assert not destinations.same('https://h.example.org/In', 'https://h.example.org/in')
    assert destinations.same('OPS@example.org,https://h.example.org/In', ['https://h.example.org/In', 'ops@example.org'])


@pytest.mark.parametrize('stored, wanted', [
    ('https://Hooks.example.org/x', ['https://hooks.example.org/x']),
    ('OPS@Example.org', ['ops@example.org']),
    ('null', ['NULL']),
    ('a@example.org,null', ['null', 'A@example.org']),
    ('https://h.example.org/In', ['https://h.example.org/in']),
])
def test_aliases_and_rules_agree_on_every_destination(stored, wanted):
    """The same stored forward and the same wanted list: an alias and a rule decide the same change."""
    alias_changed = aliases.plan_changes({'x': stored}, {'x': aliases.forward_list(wanted)}).updated != []
    rule_changed = rules.forward_key(stored) != rules.forward_key(rules.forward_list(wanted))
    assert alias_changed == rule_changed


DESTINATION = st.sampled_from(['a@example.org', 'A@Example.org', 'null', 'NULL', 'https://h.example.org/x',
                               'https://h.example.org/X', 'b@example.org'])


@given(st.lists(DESTINATION, min_size=1, max_size=6), st.randoms())
def test_a_checked_forward_is_the_same_in_any_order_and_as_a_string(items, rnd):
    checked = destinations.checked_list(items)
    shuffled = list(checked)
    rnd.shuffle(shuffled)
    assert destinations.same(checked, shuffled)
    assert destinations.same(destinations.as_string(checked), checked)
    assert destinations.checked_list(destinations.as_string(checked)) == checked
    assert len(set(destinations.key(item) for item in checked)) == len(checked)
