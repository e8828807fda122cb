# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Alias-set convergence under faults and concurrent changes (hypothesis).

The planner itself (tests/unit/plugins/module_utils/test_aliases.py) and the fault-free module
(tests/unit/plugins/modules/test_improvmx_aliases.py) already have the property "from any
current set and any desired set, one converge reaches the desired set and a second run computes
no change". This adds what only the reliability work can break: the same property when one
request of the run meets a fault, or when another run changes an alias between our read and
our writes.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from hypothesis import HealthCheck, given, settings, strategies as st

import reliability_scenarios as S

DOMAIN = S.DOMAIN
NAMES = st.sampled_from(['*', 'a', 'b', 'sales', 'info', 'x.y', 'team+1'])
FORWARD = st.lists(st.sampled_from(['a@example.org', 'b@example.org', 'C@example.net', 'd@sub.example.com']),
                   min_size=1, max_size=3, unique=True)
FAULTS = st.sampled_from([
    None,
    dict(method='GET', path_regex='/aliases$', status=502),
    dict(method='GET', path_regex='/aliases$', kind='drop'),
    dict(method='GET', path_regex='/aliases$', status=429, headers={}),
    dict(method='POST', path_regex='/bulk$', status=429, headers={'Retry-After': '1'}),
    dict(method='POST', path_regex='/bulk$', kind='apply_then_status', status=502),
    dict(method='POST', path_regex='/bulk$', kind='apply_then_drop'),
    dict(method='POST', path_regex='/bulk$', kind='apply_then_status', status=200, body='<html>proxy</html>'),
    dict(method='DELETE', path_regex='.', kind='apply_then_status', status=503),
    dict(method='DELETE', path_regex='.', kind='apply_then_drop'),
])


def _state(sim):
    return dict((a['alias'], frozenset(a['forward'].lower().split(','))) for a in sim.state_snapshot()['domains'][DOMAIN]['aliases'])


def _wanted(forward):
    return frozenset(address.lower() for address in forward)


@pytest.fixture
def sim(simulator_factory):
    return simulator_factory(api_key=S.API_KEY)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(current=st.dictionaries(NAMES, FORWARD, max_size=6), desired=st.dictionaries(NAMES, FORWARD, max_size=6),
       purge=st.booleans(), fault=FAULTS, data=st.data())
def test_one_converge_reaches_the_desired_set_despite_a_fault_or_a_concurrent_run(
        sim, run_module, before_write, current, desired, purge, fault, data):
    sim.reset()
    sim.seed_domain(DOMAIN, aliases=list(current.items()))
    if fault:
        sim.add_fault(count=1, **fault)
    # Another run, between our read and our first write: it writes one of the aliases we are
    # about to write (with some destinations), or deletes one we are about to purge. (A change to
    # an alias this run already found as wanted is a conflict between two desired states, which
    # no single run can see: not part of the property.)
    racing = data.draw(st.sampled_from(['none', 'add', 'delete']))
    to_write = sorted(name for name, forward in desired.items()
                      if name not in current or _wanted(current[name]) != _wanted(forward))
    if racing == 'add' and to_write:
        name = data.draw(st.sampled_from(to_write))
        forward = data.draw(FORWARD)
        before_write(lambda: sim.seed_alias(DOMAIN, name, forward))
    elif racing == 'delete' and purge and set(current) - set(desired):
        name = data.draw(st.sampled_from(sorted(set(current) - set(desired))))
        before_write(lambda: sim.domains[DOMAIN]['aliases'].pop(name))
    entries = [{'alias': name.upper(), 'forward': forward} for name, forward in desired.items()]
    args = {'api_key': S.API_KEY, 'api_url': sim.url, 'domain': DOMAIN, 'aliases': entries, 'purge': purge,
            'allow_empty_purge': True}  # an empty desired set with purge is part of the property

    first = run_module(S.MODULES['improvmx_aliases'], args)

    S.assert_clean(first)
    assert not first.get('failed'), (fault, racing, first)
    state = _state(sim)
    for name, forward in desired.items():
        assert state.get(name) == _wanted(forward), (fault, racing, state)
    if purge:
        assert set(state) == set(desired), (fault, racing, state)
    else:
        for name in set(current) - set(desired):
            assert state[name] == _wanted(current[name]), (fault, racing, state)
    assert sorted(a['alias'] for a in first['aliases']) == sorted(state), first

    sim.clear_requests()
    before_write.clear()  # only the first run races (a hook that found no write to precede goes too)
    second = run_module(S.MODULES['improvmx_aliases'], args)
    assert second['changed'] is False, second
    assert sim.writes() == []
