# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""improvmx_credential run in-process against the API simulator (loopback HTTP)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest


from ansible_collections.improvmx.email.plugins.module_utils import credentials
from ansible_collections.improvmx.email.plugins.modules import improvmx_credential

PASSWORD = 'Pw-unit-7c1e9a-secret'
DOMAIN = 'example.com'


@pytest.fixture
def run(run_module, sim_args):
    """run(args, check_mode=False) -> (failed, result, warnings); connection options point at the simulator."""
    def _run(args, check_mode=False, module=improvmx_credential):
        result = run_module(module, dict(sim_args, **args), check_mode=check_mode)
        return bool(result.get('failed')), result, list(run_module.warnings)

    return _run


def cred_args(**kwargs):
    args = dict(domain=DOMAIN, username='bighead', password=PASSWORD)
    args.update(kwargs)
    return args


def writes(simulator):
    return [(r['method'], r['path']) for r in simulator.writes()]


def methods(simulator):
    return [r['method'] for r in simulator.writes()]


def assert_no_secret(result):
    assert PASSWORD not in json.dumps(result)


def test_create_first_credential_warns_about_dkim(run, simulator):
    simulator.seed_domain(DOMAIN)
    failed, result, warnings = run(cred_args(username='BigHead'))
    assert not failed, result
    assert result['changed'] is True
    assert result['credential']['username'] == 'bighead'
    assert set(result['credential']) == {'username', 'usage', 'created', 'is_limited'}  # is_limited: the live API's flag (api-behaviour.md)
    assert result['requires_new_mx_check'] is True
    assert len(warnings) == 1
    assert 'two new DKIM CNAME records' in warnings[0] and 'improvmx.email.improvmx_domain_check' in warnings[0]
    assert methods(simulator) == ['POST']
    assert simulator.writes()[0]['path'].rstrip('/').endswith('/domains/example.com/credentials')
    assert simulator.writes()[0]['body'] == {'username': 'bighead', 'password': PASSWORD}
    assert simulator.check_password(DOMAIN, 'bighead', PASSWORD)
    assert result['diff'] == {'before': {}, 'after': {'domain': DOMAIN, 'username': 'bighead', 'password_set': True}}
    assert_no_secret(result)


def test_second_credential_needs_no_new_check(run, simulator):
    simulator.seed_domain(DOMAIN, credentials=['richard'])
    failed, result, warnings = run(cred_args())
    assert not failed, result
    assert result['changed'] is True
    assert result['requires_new_mx_check'] is False
    assert warnings == []


def test_rerun_on_create_sends_no_write(run, simulator):
    simulator.seed_domain(DOMAIN, credentials=[{'username': 'bighead', 'password': 'old-password-1'}])
    failed, result, warnings = run(cred_args())
    assert not failed, result
    assert result['changed'] is False
    assert result['credential']['username'] == 'bighead'
    assert result['requires_new_mx_check'] is False
    assert writes(simulator) == []
    assert simulator.check_password(DOMAIN, 'bighead', 'old-password-1')
    assert result['diff']['before'] == result['diff']['after']
    # The password is not needed to leave an existing credential alone.
    failed, result, warnings = run(dict(domain=DOMAIN, username='bighead'))
    assert not failed and result['changed'] is False
    assert writes(simulator) == []


def test_update_password_always_puts_every_run(run, simulator):
    simulator.seed_domain(DOMAIN, credentials=[{'username': 'bighead', 'password': 'old-password-1'}])
    for dummy in range(2):
        failed, result, warnings = run(cred_args(update_password='always'))
        assert not failed, result
        assert result['changed'] is True
        assert result['credential']['username'] == 'bighead'
        assert result['diff']['after']['password_set'] is True
        assert result['diff']['before']['password_set'] is False
        assert_no_secret(result)
    assert methods(simulator) == ['PUT', 'PUT']
    assert simulator.writes()[0]['path'].endswith('/domains/example.com/credentials/bighead')
    assert simulator.writes()[0]['body'] == {'password': PASSWORD}
    assert simulator.check_password(DOMAIN, 'bighead', PASSWORD)


def test_always_on_a_new_credential_creates_it_once(run, simulator):
    simulator.seed_domain(DOMAIN)
    failed, result, warnings = run(cred_args(update_password='always'))
    assert not failed, result
    assert methods(simulator) == ['POST']


def test_absent_deletes_then_is_unchanged(run, simulator):
    simulator.seed_domain(DOMAIN, credentials=['bighead', 'richard'])
    failed, result, warnings = run(dict(domain=DOMAIN, username='bighead', state='absent'))
    assert not failed, result
    assert result['changed'] is True
    assert result['credential'] == {}
    assert result['diff']['after'] == {}
    assert result['diff']['before']['username'] == 'bighead'
    assert methods(simulator) == ['DELETE']
    simulator.clear_requests()
    failed, result, warnings = run(dict(domain=DOMAIN, username='bighead', state='absent'))
    assert not failed, result
    assert result['changed'] is False
    assert result['diff'] == {'before': {}, 'after': {}}
    assert writes(simulator) == []
    assert [c['username'] for c in simulator.state_snapshot()['domains'][DOMAIN]['credentials']] == ['richard']


def test_absent_on_a_missing_domain_is_unchanged(run, simulator):
    failed, result, warnings = run(dict(domain=DOMAIN, username='bighead', state='absent'))
    assert not failed, result
    assert result['changed'] is False
    assert writes(simulator) == []


def test_present_on_a_missing_domain_fails_clearly(run, simulator):
    failed, result, warnings = run(cred_args())
    assert failed
    assert 'example.com is not in the ImprovMX account' in result['msg']
    assert 'improvmx_domain' in result['msg']
    assert writes(simulator) == []


def test_check_mode_on_a_missing_domain_predicts_creation(run, simulator):
    failed, result, warnings = run(cred_args(), check_mode=True)
    assert not failed, result
    assert result['changed'] is True
    assert result['requires_new_mx_check'] is True
    assert writes(simulator) == []


def test_create_without_password_fails_before_any_write(run, simulator):
    simulator.seed_domain(DOMAIN)
    failed, result, warnings = run(dict(domain=DOMAIN, username='bighead'))
    assert failed
    assert result['msg'].startswith('password is required to create the SMTP credential')
    assert 'bighead@example.com' in result['msg']
    assert writes(simulator) == []


def test_always_without_password_fails_before_any_request(run, simulator):
    simulator.seed_domain(DOMAIN, credentials=['bighead'])
    failed, result, warnings = run(dict(domain=DOMAIN, username='bighead', update_password='always'))
    assert failed
    assert 'password is required with update_password=always' in result['msg']
    assert simulator.requests == []


@pytest.mark.parametrize('password, problem', [('', 'password is empty'), ('  ', 'password is only white space')])
def test_blank_password_fails_naming_the_option(run, simulator, password, problem):
    simulator.seed_domain(DOMAIN)
    failed, result, warnings = run(cred_args(password=password))
    assert failed
    assert result['msg'].startswith(problem)
    assert simulator.requests == []


@pytest.mark.parametrize('username, problem', [
    ('bighead@example.com', 'only the part before the @'),
    ('*', 'not a valid mailbox name'),
    ('', 'is empty'),
])
def test_bad_username_fails_naming_the_option(run, simulator, username, problem):
    failed, result, warnings = run(cred_args(username=username))
    assert failed
    assert result['msg'].startswith('username ')
    assert problem in result['msg']
    assert simulator.requests == []


def test_bad_domain_fails_naming_the_option(run, simulator):
    failed, result, warnings = run(cred_args(domain='not a domain'))
    assert failed
    assert result['msg'].startswith('domain ')
    assert simulator.requests == []


def test_check_mode_create_sends_no_write(run, simulator):
    simulator.seed_domain(DOMAIN)
    failed, result, warnings = run(cred_args(), check_mode=True)
    assert not failed, result
    assert result['changed'] is True
    assert result['credential'] == {'username': 'bighead'}
    assert result['requires_new_mx_check'] is True
    assert 'would be the first' in warnings[0]
    assert result['diff']['after'] == {'domain': DOMAIN, 'username': 'bighead', 'password_set': True}
    assert writes(simulator) == []
    assert_no_secret(result)


def test_check_mode_always_and_absent_send_no_write(run, simulator):
    simulator.seed_domain(DOMAIN, credentials=['bighead'])
    failed, result, warnings = run(cred_args(update_password='always'), check_mode=True)
    assert not failed and result['changed'] is True
    assert result['diff']['after']['password_set'] is True
    failed, result, warnings = run(dict(domain=DOMAIN, username='bighead', state='absent'), check_mode=True)
    assert not failed and result['changed'] is True
    assert result['diff']['after'] == {}
    failed, result, warnings = run(cred_args(), check_mode=True)
    assert not failed and result['changed'] is False
    assert writes(simulator) == []


def test_non_premium_account_fails_with_a_clear_message(run, simulator):
    simulator.seed_domain(DOMAIN)
    simulator.configure(premium=False)
    failed, result, warnings = run(cred_args())
    assert failed
    assert result['msg'].startswith('SMTP credentials need a premium ImprovMX plan')
    assert result['status'] == 403
    assert result['changed'] is False
    assert writes(simulator) == []


def test_api_rejected_password_shows_the_api_message(run, simulator):
    simulator.seed_domain(DOMAIN)
    failed, result, warnings = run(cred_args(password='short'))
    assert failed
    assert result['status'] == 400
    assert 'at least 8 characters' in result['msg']
    assert 'password' in result['api_errors']
    assert 'short' not in json.dumps(result)
    assert simulator.state_snapshot()['domains'][DOMAIN]['credentials'] == []


def test_api_message_that_echoes_the_password_is_redacted(run, simulator):
    simulator.seed_domain(DOMAIN)
    simulator.add_fault(method='POST', path_regex='/credentials', status=400,
                        body={'errors': {'password': ['%s is too common' % PASSWORD]}, 'success': False})
    failed, result, warnings = run(cred_args())
    assert failed
    assert 'is too common' in result['msg']
    assert result['api_errors'] == {'password': ['******** is too common']}
    assert_no_secret(result)


def test_create_answered_with_5xx_is_confirmed_by_a_reread(run, simulator):
    simulator.seed_domain(DOMAIN)
    simulator.add_fault(method='POST', path_regex='/credentials', kind='apply_then_status', status=502)
    failed, result, warnings = run(cred_args())
    assert not failed, result
    assert result['changed'] is True
    assert result['credential']['username'] == 'bighead'
    assert result['requires_new_mx_check'] is True
    assert any('re-read shows the change was applied' in line for line in result['api_retries'])
    assert methods(simulator) == ['POST']
    assert_no_secret(result)


def test_create_lost_before_applied_fails_without_resending(run, simulator):
    simulator.seed_domain(DOMAIN)
    simulator.add_fault(method='POST', path_regex='/credentials', kind='status', status=500)
    failed, result, warnings = run(cred_args())
    assert failed
    assert result['status'] == 500
    assert methods(simulator) == ['POST']
    assert_no_secret(result)


def test_update_answered_with_5xx_fails_and_says_rerunning_is_safe(run, simulator):
    simulator.seed_domain(DOMAIN, credentials=['bighead'])
    # The client sends an unconfirmable idempotent PUT once more when its answer is lost
    # (tests/unit/reliability); here the second answer is lost too.
    simulator.add_fault(method='PUT', path_regex='/credentials/', kind='apply_then_status', status=502, count=2)
    failed, result, warnings = run(cred_args(update_password='always'))
    assert failed
    assert 'running the task again is safe' in result['msg']
    assert methods(simulator) == ['PUT', 'PUT']
    assert_no_secret(result)


def test_delete_answered_with_5xx_is_confirmed_by_a_reread(run, simulator):
    simulator.seed_domain(DOMAIN, credentials=['bighead'])
    simulator.add_fault(method='DELETE', path_regex='/credentials/', kind='apply_then_status', status=502)
    failed, result, warnings = run(dict(domain=DOMAIN, username='bighead', state='absent'))
    assert not failed, result
    assert result['changed'] is True
    assert methods(simulator) == ['DELETE']


def test_created_meanwhile_by_someone_else_converges(run, simulator, monkeypatch):
    simulator.seed_domain(DOMAIN, credentials=['bighead'])
    real = credentials.list_credentials
    calls = []

    def stale_first_read(client, domain):
        calls.append(domain)
        return [] if len(calls) == 1 else real(client, domain)

    monkeypatch.setattr(credentials, 'list_credentials', stale_first_read)
    failed, result, warnings = run(cred_args())
    assert not failed, result
    assert result['changed'] is False
    assert result['credential']['username'] == 'bighead'
    assert warnings == []
    assert methods(simulator) == ['POST']


# --- is_limited -----------------------------------------------------------------------------------

def test_is_limited_on_create_then_idempotent(run, simulator):
    simulator.seed_domain(DOMAIN)
    failed, result, _warnings = run(cred_args(is_limited=True), check_mode=True)
    assert not failed, result
    assert result['changed'] is True and result['credential']['is_limited'] is True
    assert simulator.writes() == []

    failed, result, _warnings = run(cred_args(is_limited=True))
    assert not failed, result
    assert result['changed'] is True and result['credential']['is_limited'] is True
    assert writes(simulator) == [('POST', '/domains/example.com/credentials')]
    assert simulator.writes()[0]['body']['is_limited'] is True
    assert simulator.state_snapshot()['domains'][DOMAIN]['credentials'][0]['is_limited'] is True

    simulator.clear_requests()
    failed, result, _warnings = run(cred_args(is_limited=True))
    assert not failed and result['changed'] is False, result
    assert simulator.writes() == []


def test_is_limited_changed_on_an_existing_credential(run, simulator):
    simulator.seed_domain(DOMAIN, credentials=[{'username': 'bighead', 'password': PASSWORD, 'is_limited': False}])
    simulator.clear_requests()

    failed, result, _warnings = run(cred_args(is_limited=True, password=None), check_mode=True)
    assert not failed, result
    assert result['changed'] is True and result['credential']['is_limited'] is True
    assert simulator.writes() == []

    failed, result, _warnings = run(cred_args(is_limited=True, password=None))
    assert not failed, result
    assert result['changed'] is True and result['credential']['is_limited'] is True
    assert writes(simulator) == [('PUT', '/domains/example.com/credentials/bighead')]
    assert simulator.writes()[0]['body'] == {'is_limited': True}  # the password is left as it is
    assert simulator.check_password(DOMAIN, 'bighead', PASSWORD)

    simulator.clear_requests()
    failed, result, _warnings = run(cred_args(is_limited=True, password=None))
    assert not failed and result['changed'] is False, result
    assert simulator.writes() == []

    # Left out, the flag is not managed.
    failed, result, _warnings = run(cred_args(password=None))
    assert not failed and result['changed'] is False, result
    assert result['credential']['is_limited'] is True
    assert simulator.writes() == []


def test_is_limited_not_reported_by_the_api_warns(run, simulator, monkeypatch):
    simulator.seed_domain(DOMAIN, credentials=[{'username': 'bighead', 'password': PASSWORD}])
    simulator.clear_requests()
    plain = credentials.public_credential
    monkeypatch.setattr(credentials, 'public_credential',
                        lambda obj: dict((k, v) for k, v in plain(obj).items() if k != 'is_limited'))
    failed, result, warnings = run(cred_args(is_limited=True, password=None))
    assert not failed and result['changed'] is False, result
    assert any('does not report is_limited' in warning for warning in warnings)
    assert simulator.writes() == []
