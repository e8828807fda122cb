# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""improvmx_alias run in-process against the API simulator (loopback HTTP)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.improvmx.email.plugins.modules import improvmx_alias

DOMAIN = 'example.com'
ALIAS_PATH = '/domains/example.com/aliases'


@pytest.fixture
def alias(run_module, sim_args, simulator):
    simulator.seed_domain(DOMAIN)
    simulator.clear_requests()

    def run(check_mode=False, diff=False, **args):
        full = dict(sim_args, domain=DOMAIN)
        full.update(args)
        return run_module(improvmx_alias, full, check_mode=check_mode, diff=diff)
    return run


def _calls(simulator):
    return [(r['method'], r['path']) for r in simulator.requests]


def _aliases(simulator):
    return dict((obj['alias'], obj['forward']) for obj in simulator.state_snapshot()['domains'][DOMAIN]['aliases'])


def test_create_then_noop_costs_one_get(alias, simulator):
    result = alias(alias='Sales', forward='b@example.org, a@example.org', diff=True)
    assert result['changed'] is True, result
    assert result['alias']['alias'] == 'sales'
    assert result['alias']['forward'] == 'b@example.org,a@example.org'
    assert isinstance(result['alias']['id'], int)
    assert result['diff'] == {'before': {}, 'after': {'alias': 'sales', 'forward': 'b@example.org,a@example.org'}}
    # Two destinations: the account's limits.destinations is read before the write.
    assert _calls(simulator) == [('GET', ALIAS_PATH + '/sales'), ('GET', '/account'), ('POST', ALIAS_PATH),
                                 ('GET', '/domains/example.com')]
    assert simulator.writes()[0]['body'] == {'alias': 'sales', 'forward': 'b@example.org,a@example.org'}

    simulator.clear_requests()
    again = alias(alias='SALES', forward=['A@example.org', 'b@example.org'])
    assert again['changed'] is False, again
    assert again['alias']['id'] == result['alias']['id']
    assert _calls(simulator) == [('GET', ALIAS_PATH + '/sales')]


def test_update_destinations_puts_by_name(alias, simulator):
    simulator.seed_alias(DOMAIN, 'sales', 'a@example.org')
    simulator.clear_requests()
    result = alias(alias='sales', forward=['a@example.org', 'c@example.org'], diff=True)
    assert result['changed'] is True
    assert result['diff']['before'] == {'alias': 'sales', 'forward': 'a@example.org'}
    assert result['diff']['after'] == {'alias': 'sales', 'forward': 'a@example.org,c@example.org'}
    assert _calls(simulator) == [('GET', ALIAS_PATH + '/sales'), ('GET', '/account'), ('PUT', ALIAS_PATH + '/sales'),
                                 ('GET', '/domains/example.com')]
    assert simulator.writes()[0]['body'] == {'forward': 'a@example.org,c@example.org'}
    assert _aliases(simulator)['sales'] == 'a@example.org,c@example.org'


def test_catch_all_is_an_ordinary_alias(alias, simulator):
    # seed_domain gives the catch-all * -> the account e-mail, as the API does.
    result = alias(alias='*', forward='postmaster@example.org')
    assert result['changed'] is True
    assert _calls(simulator) == [('GET', ALIAS_PATH + '/*'), ('PUT', ALIAS_PATH + '/*'), ('GET', '/domains/example.com')]
    simulator.clear_requests()
    assert alias(alias='*', forward='postmaster@example.org')['changed'] is False
    assert simulator.writes() == []
    result = alias(alias='*', state='absent')
    assert result['changed'] is True and result['alias'] == {}
    assert '*' not in _aliases(simulator)
    simulator.clear_requests()
    assert alias(alias='*', state='absent')['changed'] is False
    assert _calls(simulator) == [('GET', ALIAS_PATH + '/*')]


def test_check_mode_sends_no_write(alias, simulator):
    result = alias(alias='new', forward='a@example.org', check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['alias'] == {'alias': 'new', 'forward': 'a@example.org'}
    simulator.seed_alias(DOMAIN, 'old', 'a@example.org')
    assert alias(alias='old', forward='b@example.org', check_mode=True)['alias']['forward'] == 'b@example.org'
    assert alias(alias='old', state='absent', check_mode=True)['changed'] is True
    assert simulator.writes() == []
    assert 'new' not in _aliases(simulator)


def test_delete(alias, simulator):
    simulator.seed_alias(DOMAIN, 'gone', 'a@example.org')
    simulator.clear_requests()
    result = alias(alias='Gone', state='absent', diff=True)
    assert result['changed'] is True
    assert result['diff'] == {'before': {'alias': 'gone', 'forward': 'a@example.org'}, 'after': {}}
    assert _calls(simulator) == [('GET', ALIAS_PATH + '/gone'), ('DELETE', ALIAS_PATH + '/gone'), ('GET', '/domains/example.com')]
    assert alias(alias='gone', state='absent')['changed'] is False


def test_rename_by_id(alias, simulator):
    old = simulator.seed_alias(DOMAIN, 'support', 'help@example.org')
    simulator.clear_requests()
    result = alias(alias='help', id=old['id'], diff=True)
    assert result['changed'] is True, result
    assert result['alias']['alias'] == 'help' and result['alias']['id'] == old['id']
    assert result['diff'] == {'before': {'alias': 'support', 'forward': 'help@example.org'},
                              'after': {'alias': 'help', 'forward': 'help@example.org'}}
    put = simulator.writes()
    assert [(w['method'], w['path']) for w in put] == [('PUT', '%s/%d' % (ALIAS_PATH, old['id']))]
    assert put[0]['body'] == {'alias': 'help', 'forward': 'help@example.org'}
    aliases = _aliases(simulator)
    assert 'support' not in aliases and aliases['help'] == 'help@example.org'

    simulator.clear_requests()
    again = alias(alias='help', id=old['id'])
    assert again['changed'] is False
    assert _calls(simulator) == [('GET', ALIAS_PATH + '/help')]

    # Rename and change the destinations in one go.
    result = alias(alias='helpdesk', id=old['id'], forward=['desk@example.org'])
    assert result['changed'] is True and _aliases(simulator)['helpdesk'] == 'desk@example.org'


def test_rename_by_id_refuses_a_taken_name_or_unknown_id(alias, simulator):
    first = simulator.seed_alias(DOMAIN, 'one', 'a@example.org')
    simulator.seed_alias(DOMAIN, 'two', 'b@example.org')
    simulator.clear_requests()
    result = alias(alias='two', id=first['id'])
    assert result['failed'] and "already has it" in result['msg']
    result = alias(alias='three', id=99999)
    assert result['failed'] and 'no alias with id 99999' in result['msg']
    assert simulator.writes() == []


def test_create_that_meets_already_exists_converges(alias, simulator):
    """A concurrent run created the alias between our GET and our POST."""
    simulator.seed_alias(DOMAIN, 'race', 'other@example.org')
    simulator.clear_requests()
    simulator.add_fault(method='GET', path_regex=r'/aliases/race$', count=1, status=404,
                        body={'error': 'Alias not found', 'success': False})
    result = alias(alias='race', forward='mine@example.org')
    assert result['changed'] is True, result
    assert result['alias']['forward'] == 'mine@example.org'
    assert _calls(simulator) == [('GET', ALIAS_PATH + '/race'), ('POST', ALIAS_PATH),
                                 ('GET', ALIAS_PATH + '/race'), ('PUT', ALIAS_PATH + '/race'), ('GET', '/domains/example.com')]
    assert _aliases(simulator)['race'] == 'mine@example.org'


def test_ambiguous_create_is_confirmed_not_repeated(alias, simulator):
    simulator.add_fault(method='POST', path_regex=r'/aliases$', kind='apply_then_status', status=502)
    result = alias(alias='flaky', forward='a@example.org')
    assert result['changed'] is True and not result.get('failed'), result
    assert result['alias']['alias'] == 'flaky'
    assert [w['method'] for w in simulator.writes()] == ['POST']
    assert any('re-read shows the change was applied' in line for line in result['api_retries'])


def test_missing_domain(alias, simulator):
    result = alias(domain='missing.example', alias='x', forward='a@example.org')
    assert result['failed'] and 'missing.example is not in the ImprovMX account' in result['msg']
    assert alias(domain='missing.example', alias='x', state='absent')['changed'] is False


@pytest.mark.parametrize('args, problem', [
    (dict(alias='sales'), 'forward is required'),
    (dict(alias='sales', forward='nope'), 'forward '),
    (dict(alias='sales', forward=[]), 'forward is empty'),
    (dict(alias='sales@example.com', forward='a@example.org'), 'alias '),
    (dict(alias='sales', id=3, state='absent'), 'id is only used with state=present'),
    (dict(alias='sales', id=0), 'positive alias id'),
])
def test_bad_input_fails_before_any_request(alias, simulator, args, problem):
    result = alias(**args)
    assert result['failed'] and problem in result['msg'], result
    assert simulator.requests == []


# --- issue 12: numeric names, webhook destinations, regex names, rules routing --------------------

def _numeric_domain(simulator, order):
    """An alias named 2024 (id 7) beside the alias sales whose id is 2024; the API resolving digits by name or id first."""
    simulator.configure(alias_segment=order)
    simulator.seed_domain(DOMAIN, aliases=[{'alias': 'sales', 'forward': 'sales@example.org', 'id': 2024},
                                           {'alias': '2024', 'forward': 'year@example.org', 'id': 7}])
    simulator.clear_requests()


@pytest.mark.parametrize('order', ['name', 'id'])
def test_numeric_name_present_update_and_noop(alias, simulator, order):
    _numeric_domain(simulator, order)
    preview = alias(alias='2024', forward='new@example.org', check_mode=True)
    assert preview['changed'] is True and preview['alias']['id'] == 7, preview
    assert simulator.writes() == []

    result = alias(alias='2024', forward='new@example.org')
    assert result['changed'] is True and result['alias']['alias'] == '2024' and result['alias']['id'] == 7, result
    assert _aliases(simulator) == {'sales': 'sales@example.org', '2024': 'new@example.org'}
    expected_path = ALIAS_PATH + ('/2024' if order == 'name' else '/7')
    assert [(w['method'], w['path']) for w in simulator.writes()] == [('PUT', expected_path)]

    simulator.clear_requests()
    again = alias(alias='2024', forward='new@example.org')
    assert again['changed'] is False, again
    assert simulator.writes() == []


@pytest.mark.parametrize('order', ['name', 'id'])
def test_numeric_name_absent_removes_only_that_alias(alias, simulator, order):
    _numeric_domain(simulator, order)
    preview = alias(alias='2024', state='absent', check_mode=True)
    assert preview['changed'] is True and simulator.writes() == []

    result = alias(alias='2024', state='absent')
    assert result['changed'] is True, result
    assert _aliases(simulator) == {'sales': 'sales@example.org'}

    simulator.clear_requests()
    again = alias(alias='2024', state='absent')
    assert again['changed'] is False and simulator.writes() == [], again
    assert _aliases(simulator) == {'sales': 'sales@example.org'}


@pytest.mark.parametrize('order', ['name', 'id'])
def test_numeric_name_that_is_only_an_id_is_absent(alias, simulator, order):
    """No alias is named 2024: the alias whose id is 2024 (sales) is never touched."""
    simulator.configure(alias_segment=order)
    simulator.seed_domain(DOMAIN, aliases=[{'alias': 'sales', 'forward': 'sales@example.org', 'id': 2024}])
    simulator.clear_requests()

    assert alias(alias='2024', state='absent')['changed'] is False
    preview = alias(alias='2024', forward='x@example.org', check_mode=True)
    assert preview['changed'] is True and 'id' not in preview['alias']
    assert simulator.writes() == []

    result = alias(alias='2024', forward='x@example.org')
    assert result['changed'] is True and result['alias']['alias'] == '2024', result
    assert [(w['method'], w['path']) for w in simulator.writes()] == [('POST', ALIAS_PATH)]
    assert _aliases(simulator) == {'sales': 'sales@example.org', '2024': 'x@example.org'}


@pytest.mark.parametrize('order', ['name', 'id'])
def test_numeric_name_rename_by_id(alias, simulator, order):
    simulator.configure(alias_segment=order)
    simulator.seed_domain(DOMAIN, aliases=[{'alias': 'sales', 'forward': 'sales@example.org', 'id': 2024},
                                           {'alias': 'year', 'forward': 'year@example.org', 'id': 7}])
    simulator.clear_requests()
    preview = alias(id=7, alias='2024', check_mode=True)
    assert preview['changed'] is True and simulator.writes() == []

    result = alias(id=7, alias='2024')
    assert result['changed'] is True and result['alias']['id'] == 7, result
    assert _aliases(simulator) == {'sales': 'sales@example.org', '2024': 'year@example.org'}

    simulator.clear_requests()
    again = alias(id=7, alias='2024')
    assert again['changed'] is False and simulator.writes() == [], again


def test_rename_refused_when_the_id_segment_names_another_alias(alias, simulator):
    """An alias named 7 makes aliases/7 ambiguous: renaming the alias whose id is 7 writes nothing."""
    simulator.seed_domain(DOMAIN, aliases=[{'alias': 'year', 'forward': 'year@example.org', 'id': 7},
                                           {'alias': '7', 'forward': 'seven@example.org', 'id': 8}])
    simulator.clear_requests()
    result = alias(id=7, alias='annual')
    assert result['failed'] and 'does not address alias id 7' in result['msg'], result
    assert simulator.writes() == []


def test_numeric_name_refused_when_neither_segment_addresses_it(alias, simulator):
    """2024 (id 7) beside sales (id 2024) and an alias named 7: under id-first order no segment is safe."""
    simulator.configure(alias_segment='id')
    simulator.seed_domain(DOMAIN, aliases=[{'alias': 'sales', 'forward': 'sales@example.org', 'id': 2024},
                                           {'alias': '2024', 'forward': 'year@example.org', 'id': 7},
                                           {'alias': '7', 'forward': 'seven@example.org', 'id': 2025}])
    simulator.configure(alias_segment='name')
    simulator.add_fault(method='GET', path_regex=r'/aliases/2024$', status=200,
                        body={'alias': {'alias': 'sales', 'forward': 'sales@example.org', 'id': 2024}, 'success': True})
    simulator.clear_requests()
    result = alias(alias='2024', state='absent')
    assert result['failed'] and 'cannot be addressed safely' in result['msg'], result
    assert simulator.writes() == []
    assert len(_aliases(simulator)) == 3


def test_webhook_and_regex_alias(alias, simulator):
    forward = ['ops@example.org', 'https://hooks.example.org/In']
    preview = alias(alias='^Invoice-[0-9]+$', forward=forward, check_mode=True)
    assert preview['changed'] is True and simulator.writes() == []

    result = alias(alias='^Invoice-[0-9]+$', forward=forward, diff=True)
    assert result['changed'] is True, result
    assert result['alias']['alias'] == '^Invoice-[0-9]+$'  # never lower-cased
    assert simulator.writes()[0]['body'] == {'alias': '^Invoice-[0-9]+$', 'forward': 'ops@example.org,https://hooks.example.org/In'}
    assert _aliases(simulator)['^Invoice-[0-9]+$'] == 'ops@example.org,https://hooks.example.org/In'

    simulator.clear_requests()
    again = alias(alias='^Invoice-[0-9]+$', forward='https://hooks.example.org/In, OPS@example.org')
    assert again['changed'] is False and simulator.writes() == [], again

    # A URL is compared exactly: another letter case in its path is another destination.
    changed = alias(alias='^Invoice-[0-9]+$', forward=['ops@example.org', 'https://hooks.example.org/in'])
    assert changed['changed'] is True
    assert [w['method'] for w in simulator.writes()] == ['PUT']

    gone = alias(alias='^Invoice-[0-9]+$', state='absent')
    assert gone['changed'] is True and '^Invoice-[0-9]+$' not in _aliases(simulator)


@pytest.mark.parametrize('forward, named', [('ftp://x', "'ftp://x'"), ('a b', "'a b'"),
                                            (['ops@example.org', 'https://'], "'https://'")])
def test_bad_destination_fails_before_any_request(alias, simulator, forward, named):
    result = alias(alias='sales', forward=forward)
    assert result['failed']
    assert result['msg'].startswith('forward ') and named in result['msg'], result
    assert simulator.requests == []


def test_bad_regex_name_fails_before_any_request(alias, simulator):
    result = alias(alias='(' + 'x' * 150 + ')', forward='a@example.org')
    assert result['failed'] and result['msg'].startswith('alias ') and 'at most 150' in result['msg'], result
    assert simulator.requests == []


def test_rules_routing_domain_warns(alias, simulator, run_module):
    simulator.seed_domain(DOMAIN, routing_engine='rules')
    simulator.clear_requests()
    result = alias(alias='sales', forward='a@example.org')
    assert result['changed'] is True
    assert any('routes mail by rules' in warning for warning in run_module.warnings), run_module.warnings
    alias(alias='sales', forward='a@example.org')
    assert run_module.warnings == []  # a run that changes nothing reads only the alias

    simulator.seed_domain(DOMAIN, routing_engine='alias', merge=True)
    alias(alias='other', forward='a@example.org')
    assert run_module.warnings == []
