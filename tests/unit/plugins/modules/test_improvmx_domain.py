# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.improvmx.email.plugins.module_utils import common
from ansible_collections.improvmx.email.plugins.modules import improvmx_domain


def _domain(simulator, name):
    return simulator.state_snapshot()['domains'].get(name)


def test_create_then_rerun_is_unchanged(simulator, sim_args, run_module):
    args = dict(sim_args, domain='Example.COM', notification_email='ops@example.org', webhook='https://hooks.example.org/x')
    result = run_module(improvmx_domain, args)
    assert result['changed'] is True
    assert result['domain']['domain'] == 'example.com'
    assert result['domain']['webhook'] == 'https://hooks.example.org/x'
    assert result['domain']['notification_email'] == 'ops@example.org'
    assert [(r['method'], r['path'].rstrip('/')) for r in simulator.writes()] == [
        ('POST', '/domains'), ('PUT', '/domains/example.com')]
    # The API adds the catch-all alias to a new domain.
    assert any(a['alias'] == '*' for a in result['domain']['aliases'])

    simulator.clear_requests()
    again = run_module(improvmx_domain, args)
    assert again['changed'] is False
    assert simulator.writes() == []
    assert len(simulator.requests) == 1


def test_idn_domain_is_idna_encoded(simulator, sim_args, run_module):
    result = run_module(improvmx_domain, dict(sim_args, domain='bücher.example'))
    assert result['changed'] and result['domain']['domain'] == 'xn--bcher-kva.example'
    assert simulator.writes()[0]['body'] == {'domain': 'xn--bcher-kva.example'}


def test_update_only_sends_changed_fields_with_diff(simulator, sim_args, run_module):
    simulator.seed_domain('example.com', notification_email='old@example.org', webhook='https://a.example.org/')
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com', notification_email='new@example.org',
                                              webhook='https://a.example.org/'), diff=True)
    assert result['changed']
    assert [w['body'] for w in simulator.writes()] == [{'notification_email': 'new@example.org'}]
    assert result['diff']['before'] == {'domain': 'example.com', 'notification_email': 'old@example.org',
                                        'webhook': 'https://a.example.org/'}
    assert result['diff']['after']['notification_email'] == 'new@example.org'


def test_unmanaged_fields_are_left_alone(simulator, sim_args, run_module):
    simulator.seed_domain('example.com', notification_email='keep@example.org')
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com'))
    assert result['changed'] is False
    assert _domain(simulator, 'example.com')['notification_email'] == 'keep@example.org'


def test_empty_string_clears_a_field(simulator, sim_args, run_module):
    simulator.seed_domain('example.com', webhook='https://a.example.org/')
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com', webhook=''))
    assert result['changed']
    assert not _domain(simulator, 'example.com')['webhook']
    simulator.clear_requests()
    assert run_module(improvmx_domain, dict(sim_args, domain='example.com', webhook=''))['changed'] is False
    assert simulator.writes() == []


def test_check_mode_sends_no_write(simulator, sim_args, run_module):
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com', notification_email='a@example.org'),
                        check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['diff']['before'] == {}
    assert result['diff']['after'] == {'domain': 'example.com', 'notification_email': 'a@example.org'}
    simulator.seed_domain('other.example')
    result = run_module(improvmx_domain, dict(sim_args, domain='other.example', state='absent'), check_mode=True)
    assert result['changed'] is True
    assert simulator.writes() == []
    assert 'other.example' in simulator.state_snapshot()['domains']


def test_absent_removes_then_is_unchanged(simulator, sim_args, run_module):
    simulator.seed_domain('example.com')
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com', state='absent'), diff=True)
    assert result['changed'] and result['domain'] == {}
    assert result['diff']['after'] == {}
    assert 'example.com' not in simulator.state_snapshot()['domains']
    simulator.clear_requests()
    again = run_module(improvmx_domain, dict(sim_args, domain='example.com', state='absent'))
    assert again['changed'] is False and simulator.writes() == []


def test_create_race_already_registered_converges(simulator, sim_args, run_module):
    # The first read misses the domain, which another run adds before our POST.
    simulator.seed_domain('example.com')
    simulator.add_fault('GET', r'^/domains/example\.com/?$', status=404,
                        body={'error': 'Domain not found', 'code': 404, 'success': False})
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com', notification_email='ops@example.org'))
    assert not result.get('failed'), result
    assert result['changed'] is True
    assert _domain(simulator, 'example.com')['notification_email'] == 'ops@example.org'
    assert len(simulator.state_snapshot()['domains']) == 1


def test_create_answered_502_after_applying_is_not_a_failure(simulator, sim_args, run_module):
    simulator.add_fault('POST', r'^/domains/?$', kind='apply_then_status', status=502)
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com'))
    assert not result.get('failed'), result
    assert result['changed'] is True and result['domain']['domain'] == 'example.com'
    assert len(simulator.writes()) == 1
    assert result['api_retries']


def test_domain_registered_elsewhere_fails_with_the_api_message(simulator, sim_args, run_module):
    simulator.add_fault('POST', r'^/domains/?$', status=400,
                        body={'errors': {'domain': ['example.com is already registered']}, 'success': False})
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com'))
    assert result['failed'] and result['status'] == 400
    assert 'already registered' in result['msg']
    assert result['api_errors'] == {'domain': ['example.com is already registered']}


@pytest.mark.parametrize('option, value, problem', [
    ('domain', 'exa mple.com', 'domain '),
    ('domain', '.example.com', 'starts with a dot'),
    ('notification_email', 'not-an-email', 'notification_email '),
    ('webhook', 'ftp://hooks.example.org', 'webhook '),
    ('whitelabel', 'no_such thing', 'whitelabel '),
    ('api_key', '   ', 'api_key is empty'),
    ('api_url', 'not a url', 'api_url '),
    ('timeout', 0, 'timeout must be'),
])
def test_bad_input_fails_before_any_request(simulator, sim_args, run_module, option, value, problem):
    args = dict(sim_args, domain='example.com')
    args[option] = value
    result = run_module(improvmx_domain, args)
    assert result['failed']
    assert problem in result['msg']
    assert simulator.requests == []


def test_wrong_key_fails_clearly(simulator, sim_args, run_module):
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com', api_key='not-the-key-31337'))
    assert result['failed'] and result['status'] == 401
    assert 'API key was rejected' in result['msg']
    assert 'not-the-key-31337' not in repr(result)


def test_missing_requests_is_reported(simulator, sim_args, run_module, monkeypatch):
    monkeypatch.setattr(common, 'HAS_REQUESTS', False)
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com'))
    assert result['failed']
    assert 'requests' in result['msg'] and 'Failed to import' in result['msg']
    assert simulator.requests == []


def test_max_retries_bounds_the_retries(simulator, sim_args, run_module):
    simulator.add_fault('GET', r'^/domains/example\.com', count=None, status=503)
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com', max_retries=1, max_retry_wait=0.5))
    assert result['failed'] and result['status'] == 503
    assert 'GET domains/example.com' in result['msg']
    assert len(simulator.requests) == 2
    assert len(result['api_retries']) == 1


def test_max_retries_zero_turns_retries_off(simulator, sim_args, run_module):
    simulator.add_fault('GET', r'^/domains/example\.com', status=429, headers={'Retry-After': '1'})
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com', max_retries=0))
    assert result['failed'] and result['status'] == 429
    assert len(simulator.requests) == 1


@pytest.mark.parametrize('option, value', [('max_retries', -1), ('max_retry_wait', -2)])
def test_negative_retry_bounds_are_refused(simulator, sim_args, run_module, option, value):
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com', **{option: value}))
    assert result['failed'] and result['msg'].startswith(option)
    assert simulator.requests == []


def test_routing_engine_is_sent_with_the_put(simulator, sim_args, run_module):
    args = dict(sim_args, domain='example.com', routing_engine='rules')
    preview = run_module(improvmx_domain, args, check_mode=True, diff=True)
    assert preview['changed'] is True and simulator.writes() == []
    result = run_module(improvmx_domain, args, diff=True)
    assert result['changed'] is True and result['domain']['routing_engine'] == 'rules'
    writes = [(r['method'], r['path'].rstrip('/'), r['body']) for r in simulator.writes()]
    assert writes == [('POST', '/domains', {'domain': 'example.com'}),
                      ('PUT', '/domains/example.com', {'routing_engine': 'rules'})]
    assert result['diff']['after']['routing_engine'] == 'rules'
    simulator.clear_requests()
    assert run_module(improvmx_domain, args)['changed'] is False and simulator.writes() == []
    # An empty routing_engine is alias routing: asking for alias on such a domain is no change.
    simulator.seed_domain('example.net')
    simulator.clear_requests()
    assert run_module(improvmx_domain, dict(args, domain='example.net', routing_engine='alias'))['changed'] is False
    assert simulator.writes() == []


def test_routing_engine_refused_by_the_api_is_explained(simulator, sim_args, run_module):
    simulator.seed_domain('example.com')
    simulator.add_fault(method='PUT', path_regex='/domains/example.com$', status=400,
                        body={'success': False, 'errors': {'routing_engine': ['Unknown field.']}})
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com', routing_engine='rules'))
    assert result['failed'] is True and result['status'] == 400
    assert 'inferred from the live API' in result['msg'] and 'Unknown field' in result['msg'], result


def test_routing_engine_ignored_by_the_api_fails(simulator, sim_args, run_module):
    simulator.seed_domain('example.com')
    simulator.add_fault(method='PUT', path_regex='/domains/example.com$', kind='no_object', status=200,
                        body={'success': True, 'domain': {'domain': 'example.com', 'routing_engine': ''}})
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com', routing_engine='rules'))
    assert result['failed'] is True and 'inferred from the live API' in result['msg'], result


def test_unknown_routing_engine_sends_nothing(simulator, sim_args, run_module):
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com', routing_engine='regex'))
    assert result['failed'] is True and 'routing_engine' in result['msg'] and simulator.requests == []


def test_a_refused_field_alone_is_no_change(simulator, sim_args, run_module):
    simulator.seed_domain('example.com', notification_email='old@example.org')
    simulator.add_fault(method='PUT', path_regex='/domains/example.com$', kind='no_object', status=200,
                        body={'success': True, 'domain': {'domain': 'example.com', 'notification_email': 'old@example.org'}})
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com', notification_email='new@example.org'))
    assert result['failed'] is True and result['changed'] is False, result
    assert "did not take notification_email: it answered with notification_email='old@example.org' instead of " \
        "'new@example.org'" in result['msg'], result


def test_a_refused_routing_engine_alone_is_no_change(simulator, sim_args, run_module):
    simulator.seed_domain('example.com')
    simulator.add_fault(method='PUT', path_regex='/domains/example.com$', kind='no_object', status=200,
                        body={'success': True, 'domain': {'domain': 'example.com', 'routing_engine': ''}})
    result = run_module(improvmx_domain, dict(sim_args, domain='example.com', routing_engine='rules'))
    assert result['failed'] is True and result['changed'] is False, result
