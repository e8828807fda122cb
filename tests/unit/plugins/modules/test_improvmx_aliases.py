# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""improvmx_aliases run in-process against the API simulator (loopback HTTP)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math

import pytest

from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.improvmx.email.plugins.modules import improvmx_aliases

DOMAIN = 'example.com'
LIST_PATH = '/domains/example.com/aliases'
BULK_PATH = '/domains/example.com/aliases/bulk'


@pytest.fixture
def sync(run_module, sim_args, simulator):
    def run(aliases, check_mode=False, diff=False, **args):
        full = dict(sim_args, domain=DOMAIN, aliases=aliases)
        full.update(args)
        return run_module(improvmx_aliases, full, check_mode=check_mode, diff=diff)
    return run


def _aliases(simulator, domain=DOMAIN):
    return dict((obj['alias'], obj['forward']) for obj in simulator.state_snapshot()['domains'][domain]['aliases'])


def _calls(simulator):
    return [(r['method'], r['path']) for r in simulator.requests]


def _many(count, prefix='user', forward='{name}@example.org'):
    return [{'alias': '%s%03d' % (prefix, i), 'forward': forward.format(name='%s%03d' % (prefix, i))} for i in range(count)]


def test_230_new_aliases_on_an_empty_domain(sync, simulator):
    simulator.seed_domain(DOMAIN)
    simulator.clear_requests()
    wanted = _many(230)
    result = sync(wanted)
    assert result['changed'] is True, result
    assert sorted(result['added']) == sorted(a['alias'] for a in wanted)
    assert result['updated'] == [] and result['removed'] == []
    assert len(result['aliases']) == 231  # with the catch-all, kept: purge is off
    assert all(isinstance(a['id'], int) for a in result['aliases'])
    assert _calls(simulator) == [('GET', LIST_PATH), ('POST', BULK_PATH), ('GET', '/domains/example.com')]
    body = simulator.writes()[0]['body']
    assert body['behavior'] == 'add' and len(body['aliases']) == 230
    assert body['aliases'][0] == {'alias': 'user000', 'forward': 'user000@example.org'}
    n = 230
    assert len(simulator.requests) <= math.ceil(n / 100) + math.ceil(n / 500) + 2

    # Rerun: the list is read page by page (231 aliases: 3 pages of 100) and nothing is written.
    simulator.clear_requests()
    again = sync(wanted)
    assert again['changed'] is False, again
    assert again['added'] == again['updated'] == again['removed'] == []
    assert len(again['aliases']) == 231
    reads = simulator.requests
    assert [(r['method'], r['path'], r['query']['page'], r['query']['limit']) for r in reads] == [
        ('GET', LIST_PATH, str(page), '100') for page in (1, 2, 3)]


def test_reordered_destinations_are_no_change(sync, simulator):
    simulator.seed_domain(DOMAIN, aliases={'*': 'owner@example.net', 'team': 'a@example.org,b@example.org,c@example.org'})
    simulator.clear_requests()
    result = sync([{'alias': 'TEAM', 'forward': ['C@example.org', 'a@example.org', 'b@example.org']},
                   {'alias': '*', 'forward': 'owner@example.net'}], purge=True)
    assert result['changed'] is False, result
    assert simulator.writes() == []


def test_updates_go_through_bulk_update(sync, simulator):
    simulator.seed_domain(DOMAIN, aliases={'*': 'owner@example.net', 'a': 'a@example.org', 'b': 'b@example.org'})
    simulator.clear_requests()
    result = sync([{'alias': 'a', 'forward': 'a2@example.org,a@example.org'}, {'alias': '*', 'forward': 'catch@example.org'}],
                  diff=True)
    assert result['changed'] is True
    assert sorted(result['updated']) == ['*', 'a'] and result['added'] == [] and result['removed'] == []
    writes = simulator.writes()
    assert len(writes) == 1 and writes[0]['path'] == BULK_PATH and writes[0]['body']['behavior'] == 'update'
    assert _aliases(simulator) == {'*': 'catch@example.org', 'a': 'a2@example.org,a@example.org', 'b': 'b@example.org'}
    assert result['diff']['before']['aliases'] == {'*': 'owner@example.net', 'a': 'a@example.org', 'b': 'b@example.org'}
    assert result['diff']['after']['aliases'] == {'*': 'catch@example.org', 'a': 'a2@example.org,a@example.org', 'b': 'b@example.org'}
    returned = dict((a['alias'], a) for a in result['aliases'])
    assert returned['a']['forward'] == 'a2@example.org,a@example.org' and 'created' in returned['a']


def test_purge_deletes_unlisted_including_the_catch_all(sync, simulator):
    simulator.seed_domain(DOMAIN, aliases={'*': 'owner@example.net', 'keep': 'k@example.org', 'old': 'o@example.org'})
    simulator.clear_requests()
    result = sync([{'alias': 'keep', 'forward': 'k@example.org'}, {'alias': 'new', 'forward': 'n@example.org'}], purge=True)
    assert result['changed'] is True
    assert result['added'] == ['new'] and sorted(result['removed']) == ['*', 'old']
    assert _aliases(simulator) == {'keep': 'k@example.org', 'new': 'n@example.org'}
    deletes = sorted(w['path'] for w in simulator.writes() if w['method'] == 'DELETE')
    assert deletes == [LIST_PATH + '/*', LIST_PATH + '/old']
    # The bulk write comes before the deletes.
    assert [w['method'] for w in simulator.writes()] == ['POST', 'DELETE', 'DELETE']


def test_purge_in_check_mode_reports_and_sends_nothing(sync, simulator):
    simulator.seed_domain(DOMAIN, aliases={'*': 'owner@example.net', 'keep': 'k@example.org', 'old': 'o@example.org',
                                           'moved': 'm@example.org'})
    simulator.clear_requests()
    result = sync([{'alias': 'keep', 'forward': 'k@example.org'}, {'alias': 'moved', 'forward': 'm2@example.org'},
                   {'alias': 'new', 'forward': 'n@example.org'}], purge=True, check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['added'] == ['new'] and result['updated'] == ['moved'] and sorted(result['removed']) == ['*', 'old']
    assert [a['alias'] for a in result['aliases']] == ['keep', 'moved', 'new']
    assert result['diff']['after']['aliases'] == {'keep': 'k@example.org', 'moved': 'm2@example.org', 'new': 'n@example.org'}
    assert [r['method'] for r in simulator.requests] == ['GET', 'GET']  # the list, then the domain (routing_engine)
    assert len(_aliases(simulator)) == 4


def test_without_purge_other_aliases_stay(sync, simulator):
    simulator.seed_domain(DOMAIN, aliases={'*': 'owner@example.net', 'other': 'o@example.org'})
    simulator.clear_requests()
    result = sync([{'alias': 'new', 'forward': 'n@example.org'}])
    assert result['removed'] == []
    assert _aliases(simulator) == {'*': 'owner@example.net', 'other': 'o@example.org', 'new': 'n@example.org'}


def test_more_than_500_changes_are_sent_in_chunks(sync, simulator):
    simulator.seed_domain(DOMAIN, aliases=[('u%04d' % i, 'old@example.org') for i in range(120)])
    simulator.clear_requests()
    wanted = [{'alias': 'u%04d' % i, 'forward': 'new@example.org'} for i in range(1150)]
    result = sync(wanted, purge=True)
    assert result['changed'] is True
    assert len(result['added']) == 1030 and len(result['updated']) == 120
    bulk = [(w['body']['behavior'], len(w['body']['aliases'])) for w in simulator.writes()]
    assert bulk == [('add', 500), ('add', 500), ('update', 150)]
    assert set(_aliases(simulator).values()) == {'new@example.org'} and len(_aliases(simulator)) == 1150


def test_bulk_failed_entries_surface_after_the_rest_is_applied(sync, simulator):
    simulator.seed_domain(DOMAIN, aliases={'*': 'owner@example.net', 'gone': 'g@example.org'})
    simulator.configure(destinations_limit=2)
    # The module checks the account's limits.destinations before writing (see the reliability
    # tests); an account answer without it leaves the check to the API, which refuses the entries.
    simulator.add_fault(method='GET', path_regex='^/account', status=200, body={'account': {}, 'success': True})
    simulator.clear_requests()
    too_many = 'a@example.org,b@example.org,c@example.org'
    result = sync([{'alias': 'ok1', 'forward': 'a@example.org'}, {'alias': 'big1', 'forward': too_many},
                   {'alias': 'ok2', 'forward': 'b@example.org'}, {'alias': 'big2', 'forward': too_many},
                   {'alias': '*', 'forward': 'owner@example.net'}], purge=True)
    assert result['failed'] is True, result
    assert result['changed'] is True
    assert "'big1'" in result['msg'] and "'big2'" in result['msg'] and 'at most 2 destinations' in result['msg']
    assert 'every other change was applied' in result['msg']
    assert sorted(entry['alias'] for entry in result['failed_aliases']) == ['big1', 'big2']
    assert sorted(result['added']) == ['ok1', 'ok2'] and result['removed'] == ['gone']
    assert _aliases(simulator) == {'*': 'owner@example.net', 'ok1': 'a@example.org', 'ok2': 'b@example.org'}


def test_bulk_entry_refused_as_existing_surfaces(sync, simulator):
    """Another run added the alias between our read and our bulk add: the API lists it under failed."""
    simulator.seed_domain(DOMAIN)
    simulator.add_fault(method='POST', path_regex='/aliases/bulk$', kind='status', status=200, body={
        'added': [{'alias': 'one', 'forward': 'one@example.org', 'id': 501}],
        'updated': [],
        'failed': [{'alias': 'two', 'forward': 'two@example.org', 'id': 502, 'error': 'This alias already exists.'}],
        'success': True,
    })
    result = sync([{'alias': 'one', 'forward': 'one@example.org'}, {'alias': 'two', 'forward': 'two@example.org'}])
    assert result['failed'] is True
    assert result['failed_aliases'] == [{'alias': 'two', 'forward': 'two@example.org', 'error': 'This alias already exists.'}]
    assert "'two' (This alias already exists.)" in result['msg']


@pytest.mark.parametrize('aliases, problem', [
    ([{'alias': 'Sales', 'forward': 'a@example.org'}, {'alias': 'sales', 'forward': 'b@example.org'}], 'listed twice'),
    ([{'alias': 'sales', 'forward': 'not-an-email'}], 'is not an e-mail address'),
    ([{'alias': 'sales', 'forward': []}], 'forward is empty'),
    ([{'alias': 'sales', 'forward': ''}], 'forward is empty'),
    ([{'alias': 'bad alias', 'forward': 'a@example.org'}], 'not a valid mailbox name'),
])
def test_bad_input_is_rejected_before_any_request(sync, simulator, aliases, problem):
    simulator.seed_domain(DOMAIN)
    simulator.clear_requests()
    result = sync(aliases, purge=True)
    assert result['failed'] is True and problem in result['msg'], result
    assert simulator.requests == []


def test_missing_domain_fails_clearly(sync, simulator):
    result = sync([{'alias': 'a', 'forward': 'a@example.org'}], domain='missing.example')
    assert result['failed'] is True and 'missing.example is not in the ImprovMX account' in result['msg']
    assert simulator.writes() == []


def test_ambiguous_bulk_is_confirmed_not_repeated(sync, simulator):
    simulator.seed_domain(DOMAIN)
    simulator.add_fault(method='POST', path_regex='/aliases/bulk$', kind='apply_then_drop')
    result = sync(_many(3))
    assert result['changed'] is True and not result.get('failed'), result
    assert sorted(result['added']) == ['user000', 'user001', 'user002']
    assert [w['method'] for w in simulator.writes()] == ['POST']
    assert any('re-read shows the change was applied' in line for line in result['api_retries'])


def test_bulk_server_error_not_applied_fails_unchanged(sync, simulator):
    simulator.seed_domain(DOMAIN)
    simulator.add_fault(method='POST', path_regex='/aliases/bulk$', kind='status', status=500)
    result = sync(_many(3))
    assert result['failed'] is True and result['changed'] is False
    assert 'HTTP 500' in result['msg']
    assert [w['method'] for w in simulator.writes()] == ['POST']
    assert _aliases(simulator) == {'*': 'owner@example.net'}


def test_server_error_after_a_first_chunk_reports_changed(sync, simulator):
    simulator.seed_domain(DOMAIN)
    simulator.add_fault(method='POST', path_regex='/aliases/bulk$', kind='delay', delay=0, count=1)
    simulator.add_fault(method='POST', path_regex='/aliases/bulk$', kind='status', status=500, count=1)
    result = sync(_many(700))
    assert result['failed'] is True and result['changed'] is True, result
    assert len(result['added']) == 500


# --- property: one converge reaches any desired set, a second one writes nothing -----------------

NAMES = st.sampled_from(['*', 'a', 'b', 'sales', 'info', 'x.y'])
FORWARD = st.lists(st.sampled_from(['a@example.org', 'b@example.org', 'C@example.net']), min_size=1, max_size=3, unique=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(current=st.dictionaries(NAMES, FORWARD, max_size=6), desired=st.dictionaries(NAMES, FORWARD, max_size=6),
       purge=st.booleans())
def test_converge_property_against_the_simulator(sync, simulator, current, desired, purge):
    simulator.seed_domain(DOMAIN, aliases=list(current.items()))
    simulator.clear_requests()
    entries = [{'alias': name.upper(), 'forward': forward} for name, forward in desired.items()]
    # allow_empty_purge: an empty desired set with purge is part of the property (explicitly allowed)
    first = sync(entries, purge=purge, allow_empty_purge=True)
    assert not first.get('failed'), first
    state = _aliases(simulator)
    expected = dict((name, set(f.lower() for f in forward)) for name, forward in current.items()) if not purge else {}
    expected.update((name, set(f.lower() for f in forward)) for name, forward in desired.items())
    assert dict((name, set(f.lower() for f in forward.split(','))) for name, forward in state.items()) == expected
    simulator.clear_requests()
    second = sync(entries, purge=purge, allow_empty_purge=True)
    assert second['changed'] is False
    assert simulator.writes() == []


# --- issue 12: webhook destinations, regex names, numeric names, rules routing --------------------

LIVE_ALIASES = {
    '*': 'owner@example.net',
    'orders': 'orders@example.org,https://hooks.example.org/Orders',
    '(contact|support)': 'desk@example.org',
    '^Invoice-.*$': 'billing@example.org',
    '^old-.*$': 'old@example.org',
    'hook-only': 'https://hooks.example.org/legacy',
    'sales': 'sales@example.org',
}


def test_purge_keeps_declared_webhook_and_regex_aliases_and_removes_only_the_others(sync, simulator, run_module):
    simulator.seed_domain(DOMAIN, aliases=LIVE_ALIASES)
    simulator.clear_requests()
    declared = [
        {'alias': '*', 'forward': 'owner@example.net'},
        {'alias': 'orders', 'forward': ['https://hooks.example.org/Orders', 'ORDERS@example.org']},
        {'alias': '(contact|support)', 'forward': 'desk@example.org'},
        {'alias': '^Invoice-.*$', 'forward': 'billing@example.org,https://hooks.example.org/Bill'},
        {'alias': 'Sales', 'forward': 'sales@example.org'},
        {'alias': '^[A-Z]{2}$', 'forward': 'https://hooks.example.org/codes'},
    ]
    preview = sync(declared, purge=True, check_mode=True, diff=True)
    assert preview['changed'] is True
    assert preview['added'] == ['^[A-Z]{2}$'] and preview['updated'] == ['^Invoice-.*$']
    assert sorted(preview['removed']) == ['^old-.*$', 'hook-only']
    assert preview['diff']['after']['aliases']['^Invoice-.*$'] == 'billing@example.org,https://hooks.example.org/Bill'
    assert simulator.writes() == []

    result = sync(declared, purge=True)
    assert result['changed'] is True, result
    assert result['added'] == ['^[A-Z]{2}$'] and result['updated'] == ['^Invoice-.*$']
    assert sorted(result['removed']) == ['^old-.*$', 'hook-only']
    deletes = sorted(w['path'] for w in simulator.writes() if w['method'] == 'DELETE')
    assert deletes == [LIST_PATH + '/^old-.*$', LIST_PATH + '/hook-only']
    assert _aliases(simulator) == {
        '*': 'owner@example.net',
        'orders': 'orders@example.org,https://hooks.example.org/Orders',
        '(contact|support)': 'desk@example.org',
        '^Invoice-.*$': 'billing@example.org,https://hooks.example.org/Bill',
        'sales': 'sales@example.org',
        '^[A-Z]{2}$': 'https://hooks.example.org/codes',
    }
    assert not any('routes mail by rules' in warning for warning in run_module.warnings)

    simulator.clear_requests()
    again = sync(declared, purge=True)
    assert again['changed'] is False and again['added'] == again['updated'] == again['removed'] == [], again
    assert simulator.writes() == []


@pytest.mark.parametrize('order', ['name', 'id'])
def test_purge_of_a_numeric_name_beside_that_id(sync, simulator, order):
    simulator.configure(alias_segment=order)
    simulator.seed_domain(DOMAIN, aliases=[{'alias': 'sales', 'forward': 'sales@example.org', 'id': 2024},
                                           {'alias': '2024', 'forward': 'year@example.org', 'id': 7}])
    simulator.clear_requests()
    keep_sales = [{'alias': 'sales', 'forward': 'sales@example.org'}]
    preview = sync(keep_sales, purge=True, check_mode=True)
    assert preview['removed'] == ['2024'] and simulator.writes() == []

    result = sync(keep_sales, purge=True)
    assert result['removed'] == ['2024'], result
    assert [(w['method'], w['path']) for w in simulator.writes()] == [('DELETE', LIST_PATH + '/7')]
    assert _aliases(simulator) == {'sales': 'sales@example.org'}

    simulator.clear_requests()
    assert sync(keep_sales, purge=True)['changed'] is False and simulator.writes() == []


@pytest.mark.parametrize('order', ['name', 'id'])
def test_numeric_names_added_and_updated_in_bulk_beside_those_ids(sync, simulator, order):
    simulator.configure(alias_segment=order)
    simulator.seed_domain(DOMAIN, aliases=[{'alias': 'sales', 'forward': 'sales@example.org', 'id': 2024},
                                           {'alias': '2024', 'forward': 'year@example.org', 'id': 7}])
    simulator.clear_requests()
    wanted = [{'alias': '2024', 'forward': 'new@example.org'}, {'alias': '7', 'forward': 'seven@example.org'}]
    result = sync(wanted)
    assert result['added'] == ['7'] and result['updated'] == ['2024'], result
    assert _aliases(simulator) == {'sales': 'sales@example.org', '2024': 'new@example.org', '7': 'seven@example.org'}
    simulator.clear_requests()
    assert sync(wanted)['changed'] is False and simulator.writes() == []


def test_bad_destination_in_a_list_fails_before_any_request(sync, simulator):
    result = sync([{'alias': 'ok', 'forward': 'a@example.org'}, {'alias': 'bad', 'forward': ['a@example.org', 'ftp://x']}])
    assert result['failed'] and "'ftp://x'" in result['msg'] and 'forward' in result['msg'], result
    assert simulator.requests == []


def test_rules_routing_domain_warns_on_change(sync, simulator, run_module):
    simulator.seed_domain(DOMAIN, routing_engine='rules')
    simulator.clear_requests()
    sync([{'alias': 'sales', 'forward': 'a@example.org'}], check_mode=True)
    assert any('routes mail by rules' in warning for warning in run_module.warnings), run_module.warnings
    assert simulator.writes() == []


@pytest.mark.parametrize('known, warns', [('rules', True), ('alias', False)])
def test_known_routing_engine_warns_without_reading_the_domain(sync, simulator, run_module, known, warns):
    """known_routing_engine (issue 27): what the playbook already knows replaces the read of the domain."""
    simulator.seed_domain(DOMAIN, routing_engine='rules' if warns else '')
    simulator.clear_requests()
    result = sync([{'alias': 'sales', 'forward': 'a@example.org'}], known_routing_engine=known)
    assert result['changed'] is True and result['added'] == ['sales'], result
    assert any('routes mail by rules' in warning for warning in run_module.warnings) is warns, run_module.warnings
    assert ('GET', '/domains/' + DOMAIN) not in [(m, p.rstrip('/')) for m, p in _calls(simulator)], _calls(simulator)


def test_without_known_routing_engine_a_change_reads_the_domain_once(sync, simulator):
    simulator.seed_domain(DOMAIN)
    simulator.clear_requests()
    sync([{'alias': 'sales', 'forward': 'a@example.org'}])
    assert [(m, p.rstrip('/')) for m, p in _calls(simulator)].count(('GET', '/domains/' + DOMAIN)) == 1, _calls(simulator)
