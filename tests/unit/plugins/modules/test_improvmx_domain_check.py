# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of improvmx_domain_check: the module runs in-process against the simulator or a fake client."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest


from ansible_collections.improvmx.email.plugins.module_utils import runner
from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError
from ansible_collections.improvmx.email.plugins.modules import improvmx_domain_check as module_under_test


@pytest.fixture
def run(run_module, monkeypatch):
    """run(args, client=None) -> (result, failed): main() through the shared run_module fixture."""
    def _run(args, client=None):
        if client is not None:
            monkeypatch.setattr(runner, 'client_from_module', lambda module: client)
        result = run_module(module_under_test, args)
        return result, bool(result.pop('failed', False))

    return _run


def sim_args(simulator, **args):
    args.update(api_key=simulator.api_key, api_url=simulator.url)
    return args


class FakeClient(object):
    """Answers every GET with one body (or raises one error); records what was asked."""

    def __init__(self, answer=None, error=None, domain=None):
        self.answer = answer
        self.error = error
        self.domain = domain
        self.calls = []
        self.retry_events = []

    def get_or_none(self, path, params=None):
        self.calls.append((path, params, None))
        return {'domain': self.domain} if self.domain is not None else None

    def get(self, path, params=None, accept_unsuccessful=False):
        self.calls.append((path, params, accept_unsuccessful))
        if self.error is not None:
            raise self.error
        return self.answer


def test_invalid_domain_reports_all_records(run, simulator):
    simulator.seed_domain('example.com')
    simulator.set_dns('example.com', mx=True, spf=False, dkim1=False, dkim2=False, dmarc=False,
                      spf_value='v=spf1 include:mail.example.org ~all', error='SPF record missing the ImprovMX include')
    simulator.clear_requests()

    result, failed = run(sim_args(simulator, domain='Example.COM'))

    assert not failed, result
    assert result['changed'] is False
    assert result['valid'] is False
    assert result['error'] == 'SPF record missing the ImprovMX include'
    # Only the checks that matter (issue 25): no SMTP credentials, so no DKIM; DMARC never.
    assert result['relevant_checks'] == ['mx', 'spf']
    assert result['invalid_checks'] == ['spf']
    assert result['records']['mx']['valid'] is True
    assert result['records']['dkim1']['expected'] == 'dkimprovmx1.improvmx.com.'  # as the API sent it
    assert result['dns_records'] == [
        {'check': 'mx', 'type': 'MX', 'name': 'example.com', 'value': 'mx1.improvmx.com', 'priority': 10, 'valid': True},
        {'check': 'mx', 'type': 'MX', 'name': 'example.com', 'value': 'mx2.improvmx.com', 'priority': 20, 'valid': True},
        {'check': 'spf', 'type': 'TXT', 'name': 'example.com',
         'value': 'v=spf1 include:mail.example.org include:spf.improvmx.com ~all', 'priority': None, 'valid': False},
        {'check': 'dkim1', 'type': 'CNAME', 'name': 'dkimprovmx1._domainkey.example.com',
         'value': 'dkimprovmx1.improvmx.com', 'priority': None, 'valid': False},
        {'check': 'dkim2', 'type': 'CNAME', 'name': 'dkimprovmx2._domainkey.example.com',
         'value': 'dkimprovmx2.improvmx.com', 'priority': None, 'valid': False},
        {'check': 'dmarc', 'type': 'TXT', 'name': '_dmarc.example.com', 'value': 'v=DMARC1; p=none;',
         'priority': None, 'valid': False},
    ]
    # Three requests: the check, the domain (for its DKIM selector) and its credentials (whether DKIM matters).
    assert [(r['method'], r['path']) for r in simulator.requests] == [('GET', '/domains/example.com/check'),
                                                                      ('GET', '/domains/example.com'),
                                                                      ('GET', '/domains/example.com/credentials')]
    assert result['dkim_selector'] == 'dkimprovmx'
    assert 'api_retries' not in result


def test_valid_domain(run, simulator):
    simulator.seed_domain('example.com', active=True)

    result, failed = run(sim_args(simulator, name='example.com'))

    assert not failed, result
    assert result['valid'] is True
    assert result['invalid_checks'] == []
    assert result['error'] is None
    assert all(record['valid'] for record in result['dns_records'])
    assert len(result['dns_records']) == 6


def test_dns_becomes_valid_after_some_checks(run, simulator):
    simulator.seed_domain('example.com')
    simulator.set_dns('example.com', valid=False, valid_after=2)

    verdicts = [run(sim_args(simulator, domain='example.com'))[0]['valid'] for dummy in range(3)]

    assert verdicts == [False, False, True]
    assert simulator.writes() == []


def test_unknown_domain_fails_with_a_hint(run, simulator):
    result, failed = run(sim_args(simulator, domain='missing.example'))

    assert failed
    assert result['status'] == 404
    assert 'missing.example' in result['msg'] and 'improvmx_domain' in result['msg']
    assert result['changed'] is False


def test_invalid_domain_option_fails_before_any_request(run, simulator):
    result, failed = run(sim_args(simulator, domain='not a domain'))

    assert failed
    assert result['msg'].startswith('domain ')
    assert simulator.requests == []


def test_unsuccessful_answer_with_records_still_counts(run, simulator):
    """The reference: the check "will return true in success when the MX are well configured, false otherwise"."""
    simulator.seed_domain('example.com')
    body = {'records': {'mx': {'expected': ['mx1.improvmx.com', 'mx2.improvmx.com'], 'valid': False, 'values': None},
                        'valid': False, 'error': 'No MX record found'},
            'success': False}
    simulator.add_fault('GET', r'/check$', status=200, body=body)

    result, failed = run(sim_args(simulator, domain='example.com'))

    assert not failed, result
    assert result['valid'] is False
    assert result['error'] == 'No MX record found'
    # spf matters and the answer does not report it: not known to be valid.
    assert result['invalid_checks'] == ['mx', 'spf']
    assert [r['value'] for r in result['dns_records']] == ['mx1.improvmx.com', 'mx2.improvmx.com']


def test_rate_limited_check_is_retried_and_reported(run, simulator):
    simulator.seed_domain('example.com', active=True)
    simulator.add_fault('GET', r'/check$', status=429, headers={'Retry-After': '0'})

    result, failed = run(sim_args(simulator, domain='example.com'))

    assert not failed, result
    assert result['valid'] is True
    assert len(result['api_retries']) == 1 and 'HTTP 429' in result['api_retries'][0]


def test_whitelabel_values_from_the_api(run):
    answer = {'records': {
        'mx': {'expected': ['mx1.mail.example.net', 'mx2.mail.example.net'], 'valid': False, 'values': None},
        'spf': {'expected': ['v=spf1 include:spf.example.net ~all'], 'valid': False, 'values': None},
        'dkim1': {'expected': 'dkim1.example.net.', 'valid': True, 'values': 'dkim1.example.net.'},
        'dkim2': {'expected': 'dkim2.example.net.', 'valid': True, 'values': ['dkim2.example.net.']},
        'dmarc': {'expected': 'v=DMARC1; p=none;', 'valid': True, 'values': 'v=DMARC1; p=none;'},
        'valid': False, 'error': None}, 'success': True}
    client = FakeClient(answer, domain={'domain': 'customer.example', 'dkim_selector': 'wlsel'})

    result, failed = run({'api_key': 'k', 'domain': 'customer.example'}, client=client)

    assert not failed, result
    assert client.calls == [('domains/customer.example/check', None, True), ('domains/customer.example', None, None),
                            ('domains/customer.example/credentials/', None, False)]
    assert result['dkim_selector'] == 'wlsel'
    assert [(r['type'], r['name'], r['value']) for r in result['dns_records']] == [
        ('MX', 'customer.example', 'mx1.mail.example.net'),
        ('MX', 'customer.example', 'mx2.mail.example.net'),
        ('TXT', 'customer.example', 'v=spf1 include:spf.example.net ~all'),
        ('CNAME', 'wlsel1._domainkey.customer.example', 'dkim1.example.net'),
        ('CNAME', 'wlsel2._domainkey.customer.example', 'dkim2.example.net'),
        ('TXT', '_dmarc.customer.example', 'v=DMARC1; p=none;'),
    ]
    assert result['invalid_checks'] == ['mx', 'spf']


@pytest.mark.parametrize('answer', [{'success': True}, {'records': None, 'success': False, 'error': 'Domain is locked'}, []])
def test_answer_without_records_fails(run, answer):
    result, failed = run({'api_key': 'k', 'domain': 'example.com'}, client=FakeClient(answer))

    assert failed
    assert 'no records object' in result['msg']
    if isinstance(answer, dict) and answer.get('error'):
        assert 'Domain is locked' in result['msg']


def test_api_error_is_reported(run):
    client = FakeClient(error=ImprovMXError('GET domains/example.com/check: the API failed with HTTP 500: boom', status=500))

    result, failed = run({'api_key': 'k', 'domain': 'example.com'}, client=client)

    assert failed
    assert result['status'] == 500 and 'boom' in result['msg']
    assert result['changed'] is False


def test_check_mode_reads_normally(run, simulator):
    simulator.seed_domain('example.com', active=True)

    result, failed = run(sim_args(simulator, domain='example.com', _ansible_check_mode=True))

    assert not failed, result
    assert result['valid'] is True
    assert [r['method'] for r in simulator.requests] == ['GET', 'GET', 'GET']  # the check, the domain, its credentials


def test_dkim_record_names_follow_the_domain_selector(run, simulator):
    """A domain whose dkim_selector is not dkimprovmx: its DKIM records are <selector>1/2._domainkey.<domain>."""
    simulator.seed_domain('example.com', dkim_selector='acme', credentials=['mailer'])
    simulator.set_dns('example.com', mx=True, spf=True, dkim1=False, dkim2=False, dmarc=True)

    result, failed = run(sim_args(simulator, domain='example.com'))

    assert not failed, result
    assert result['dkim_selector'] == 'acme'
    dkim = [(r['check'], r['type'], r['name'], r['value']) for r in result['dns_records'] if r['check'].startswith('dkim')]
    assert dkim == [('dkim1', 'CNAME', 'acme1._domainkey.example.com', 'acme1.improvmx.com'),
                    ('dkim2', 'CNAME', 'acme2._domainkey.example.com', 'acme2.improvmx.com')]
    assert result['invalid_checks'] == ['dkim1', 'dkim2']
    assert simulator.writes() == []


@pytest.mark.parametrize('shape', ['records', 'top'])
def test_both_check_shapes_give_the_same_result_with_record_sets(run, simulator, shape):
    simulator.seed_domain('example.com')
    simulator.set_dns('example.com', mx=True, spf_value='v=spf1 include:_spf.google.com -all')
    simulator.configure(check_shape=shape)

    result, failed = run(sim_args(simulator, domain='example.com'))

    assert not failed, result
    assert result['records']['mx']['valid'] is True
    assert result['invalid_checks'] == ['spf']
    assert 'success' not in result['records']
    sets = result['record_sets']
    assert [(s['check'], s['type'], s['action']) for s in sets] == [
        ('mx', 'MX', 'replace'), ('spf', 'TXT', 'merge'), ('dkim1', 'CNAME', 'replace'), ('dkim2', 'CNAME', 'replace'),
        ('dmarc', 'TXT', 'create')]
    assert sets[0]['values'] == ['10 mx1.improvmx.com', '20 mx2.improvmx.com']
    assert sets[1]['found'] == ['v=spf1 include:_spf.google.com -all']


def test_invalid_checks_count_dkim_only_with_smtp_credentials_and_never_dmarc(run, simulator):
    simulator.seed_domain('example.com', credentials=['mailer'])
    simulator.set_dns('example.com', mx=True, spf=True, dkim1=False, dkim2=False, dmarc=False)
    result, failed = run(sim_args(simulator, domain='example.com'))
    assert not failed, result
    assert result['relevant_checks'] == ['mx', 'spf', 'dkim1', 'dkim2']
    assert result['invalid_checks'] == ['dkim1', 'dkim2']
    assert [r['check'] for r in result['dns_records'] if not r['valid']] == ['dkim1', 'dkim2', 'dmarc']  # every check stays
    # Told what the playbook knows, the module reads only the check.
    simulator.clear_requests()
    told, failed = run(sim_args(simulator, domain='example.com', dkim_selector='dkimprovmx', has_credentials=False))
    assert not failed and told['invalid_checks'] == [] and told['relevant_checks'] == ['mx', 'spf'], told
    assert [r['path'] for r in simulator.requests] == ['/domains/example.com/check']


def test_wait_polls_until_the_checks_that_matter_are_valid(run, simulator, monkeypatch):
    from ansible_collections.improvmx.email.plugins.modules import improvmx_domain_check as module
    slept = []
    monkeypatch.setattr(module.time, 'sleep', slept.append)
    simulator.seed_domain('example.com', active=True)
    invalid = {'records': {'mx': {'expected': ['mx1.improvmx.com', 'mx2.improvmx.com'], 'valid': False, 'values': None},
                           'spf': {'expected': 'v=spf1 include:spf.improvmx.com ~all', 'valid': False, 'values': None},
                           'valid': False}, 'success': False}
    simulator.add_fault('GET', r'/check$', count=2, status=200, body=invalid)  # the third check finds the records
    result, failed = run(sim_args(simulator, domain='example.com', wait=True, delay=5, wait_timeout=60, has_credentials=False))
    assert not failed, result
    assert [poll['attempt'] for poll in result['polls']] == [1, 2, 3]
    assert result['polls'][0]['invalid_checks'] and result['polls'][-1]['invalid_checks'] == []
    assert slept == [5, 5] and result['invalid_checks'] == []


def test_wait_fails_after_the_timeout_naming_what_was_found(run, simulator, monkeypatch):
    from ansible_collections.improvmx.email.plugins.modules import improvmx_domain_check as module
    clock = [1000.0]
    monkeypatch.setattr(module.time, 'time', lambda: clock[0])
    monkeypatch.setattr(module.time, 'sleep', lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    simulator.seed_domain('example.com')
    simulator.set_dns('example.com', mx=True, spf=False, spf_value='v=spf1 include:_spf.google.com ~all')
    result, failed = run(sim_args(simulator, domain='example.com', wait=True, delay=10, wait_timeout=30, has_credentials=False))
    assert failed, result
    assert 'still not valid after 30 s (4 checks, 10 s apart)' in result['msg'], result['msg']
    assert 'spf TXT example.com' in result['msg'] and 'found v=spf1 include:_spf.google.com ~all' in result['msg']
    assert len(result['polls']) == 4 and result['invalid_checks'] == ['spf']
