# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of improvmx_log_info: the module runs in-process against the simulator."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest


from ansible_collections.improvmx.email.plugins.modules import improvmx_log_info as module_under_test


@pytest.fixture
def run(run_module):
    """run(args) -> (result, failed): main() through the shared run_module fixture."""
    def _run(args):
        result = run_module(module_under_test, args)
        return result, bool(result.pop('failed', False))

    return _run


@pytest.fixture
def sim(simulator_factory):
    """A simulator answering logs 10 at a time, with example.com and its aliases."""
    simulator = simulator_factory(log_page_size=10)
    simulator.seed_domain('example.com', aliases={'contact': 'owner@example.org', 'sales': 'sales@example.org'})
    return simulator


def sim_args(simulator, **args):
    args.update(api_key=simulator.api_key, api_url=simulator.url)
    return args


def test_every_entry_when_fewer_than_max_entries(run, sim):
    ids = sim.seed_logs('example.com', 25)

    result, failed = run(sim_args(sim, domain='example.com'))

    assert not failed, result
    assert result['changed'] is False
    assert [entry['id'] for entry in result['logs']] == ids
    assert result['next_cursor'] is None
    assert sim.writes() == []


def test_max_entries_bounds_the_walk_and_gives_a_cursor(run, sim):
    ids = sim.seed_logs('example.com', 25)

    first, failed = run(sim_args(sim, domain='example.com', max_entries=12))
    assert not failed, first
    assert [entry['id'] for entry in first['logs']] == ids[:12]
    assert first['next_cursor'] == ids[11]
    # Two pages of 10 were enough for 12 (+1) entries.
    assert len(sim.requests) == 2

    second, failed = run(sim_args(sim, domain='example.com', max_entries=12, next_cursor=first['next_cursor']))
    assert not failed, second
    assert [entry['id'] for entry in second['logs']] == ids[12:24]
    assert second['next_cursor'] == ids[23]

    third, failed = run(sim_args(sim, domain='example.com', max_entries=12, next_cursor=second['next_cursor']))
    assert not failed, third
    assert [entry['id'] for entry in third['logs']] == ids[24:]
    assert third['next_cursor'] is None


@pytest.mark.parametrize('count', [10, 20])
def test_exactly_max_entries_left_gives_no_cursor(run, sim, count):
    ids = sim.seed_logs('example.com', count)

    result, failed = run(sim_args(sim, domain='example.com', max_entries=count))

    assert not failed, result
    assert [entry['id'] for entry in result['logs']] == ids
    assert result['next_cursor'] is None


def test_one_more_than_max_entries_gives_a_cursor(run, sim):
    ids = sim.seed_logs('example.com', 11)

    result, failed = run(sim_args(sim, domain='example.com', max_entries=10))

    assert not failed, result
    assert [entry['id'] for entry in result['logs']] == ids[:10]
    assert result['next_cursor'] == ids[9]


def test_alias_logs(run, sim):
    contact_ids = sim.seed_logs('example.com', 15, alias='contact')
    sim.seed_logs('example.com', 15, alias='sales')
    sim.clear_requests()

    result, failed = run(sim_args(sim, domain='example.com', alias='Contact'))

    assert not failed, result
    assert sorted(entry['id'] for entry in result['logs']) == sorted(contact_ids)
    assert all(entry['recipient']['email'] == 'contact@example.com' for entry in result['logs'])
    assert result['next_cursor'] is None
    assert all(r['path'] == '/domains/example.com/logs/contact' for r in sim.requests)


def test_the_cursor_is_sent_to_the_api(run, sim):
    ids = sim.seed_logs('example.com', 5)
    sim.clear_requests()

    result, failed = run(sim_args(sim, domain='example.com', next_cursor=' %s ' % ids[1]))

    assert not failed, result
    assert [entry['id'] for entry in result['logs']] == ids[2:]
    assert sim.requests[0]['query'] == {'next_cursor': ids[1]}


def test_no_logs(run, sim):
    result, failed = run(sim_args(sim, domain='example.com'))

    assert not failed, result
    assert result['logs'] == []
    assert result['next_cursor'] is None


@pytest.mark.parametrize('args, problem', [
    ({'max_entries': 0}, 'max_entries must be at least 1, got 0'),
    ({'max_entries': -5}, 'max_entries must be at least 1, got -5'),
    ({'next_cursor': ''}, 'next_cursor is empty'),
    ({'next_cursor': 'a b'}, 'next_cursor '),
    ({'alias': 'a@b'}, 'alias '),
    ({'domain': 'nodot'}, 'domain '),
])
def test_bad_options_fail_before_any_request(run, sim, args, problem):
    all_args = sim_args(sim, domain='example.com')
    all_args.update(args)

    result, failed = run(all_args)

    assert failed
    assert problem in result['msg']
    assert sim.requests == []


def test_unknown_domain_fails(run, sim):
    result, failed = run(sim_args(sim, domain='missing.example'))

    assert failed
    assert result['status'] == 404


def test_unknown_cursor_fails_with_the_api_message(run, sim):
    sim.seed_logs('example.com', 3)

    result, failed = run(sim_args(sim, domain='example.com', next_cursor='20200101000000.nope'))

    assert failed
    assert result['status'] == 400
    assert 'next_cursor' in result['api_errors']


def test_check_mode_reads_normally(run, sim):
    ids = sim.seed_logs('example.com', 3)

    result, failed = run(sim_args(sim, domain='example.com', _ansible_check_mode=True))

    assert not failed, result
    assert [entry['id'] for entry in result['logs']] == ids
    assert sim.writes() == []


# --- issue 12: only failed deliveries, times in milliseconds ---------------------------------------

FAILED = ('REFUSED', 'SOFT-BOUNCE', 'HARD-BOUNCE')


def test_only_failed_sends_filter_failure_on_every_page(run, sim):
    sim.seed_logs('example.com', 60)
    every, failed = run(sim_args(sim, domain='example.com', max_entries=200))
    assert not failed, every
    expected = [entry['id'] for entry in every['logs'] if entry['events'][-1]['status'] in FAILED]
    assert 10 < len(expected) < 60  # the seeded logs mix outcomes
    sim.clear_requests()

    result, failed = run(sim_args(sim, domain='example.com', only_failed=True, max_entries=200))

    assert not failed, result
    assert [entry['id'] for entry in result['logs']] == expected
    assert len(sim.requests) >= 2  # more than one page of 10
    assert all(request['query'].get('filter') == 'failure' for request in sim.requests), sim.requests
    assert sim.writes() == []


def test_entries_carry_integer_ms_times_url_saved_and_event_recipient(run, sim):
    sim.seed_logs('example.com', 5)
    result, failed = run(sim_args(sim, domain='example.com'))
    assert not failed, result
    for entry in result['logs']:
        assert isinstance(entry['created'], int) and entry['created'] > 10 ** 12  # milliseconds, not seconds
        assert isinstance(entry['saved'], bool) and entry['url'].startswith('https://')
        for event in entry['events']:
            assert isinstance(event['created'], int) and event['created'] >= entry['created']
            assert '@' in event['recipient']['email']
