# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection options as a module sees them (common.client_from_module): clear failures naming
the option, never the key, never a traceback; the clear-text warning; an unreachable API."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import socket
import time

from urllib.parse import quote

import pytest

from ansible_collections.improvmx.email.plugins.module_utils import api
from ansible_collections.improvmx.email.plugins.module_utils.api import transport
from ansible_collections.improvmx.email.plugins.modules import improvmx_account_info

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
UNREACHABLE_WORDS = 'could not connect to the API at api_url'


@pytest.fixture
def account(run_module, monkeypatch):
    """Run improvmx_account_info with these connection options; IMPROVMX_* variables cleared."""
    for name in ('IMPROVMX_API_KEY', 'IMPROVMX_API_URL', 'IMPROVMX_MAX_RETRIES', 'IMPROVMX_MAX_RETRY_WAIT',
                 'IMPROVMX_RATE_LIMIT_STATE'):
        monkeypatch.delenv(name, raising=False)

    def run(**args):
        return run_module(improvmx_account_info, args)

    run.warnings = run_module.warnings
    return run


@pytest.fixture
def slept(monkeypatch):
    waits = []
    monkeypatch.setattr(transport.time, 'sleep', waits.append)
    return waits


def test_a_missing_api_key_says_where_the_key_comes_from(account, simulator):
    result = account(api_url=simulator.url)
    assert result['failed']
    assert result['msg'].startswith('api_key is missing: set the api_key option')
    assert 'IMPROVMX_API_KEY' in result['msg']
    assert simulator.requests == []


def test_the_api_key_comes_from_the_environment(account, simulator, monkeypatch):
    monkeypatch.setenv('IMPROVMX_API_KEY', simulator.api_key)
    result = account(api_url=simulator.url)
    assert not result.get('failed'), result
    assert result['account']


def test_a_blank_api_key_counts_as_missing(account, simulator):
    result = account(api_key='  ', api_url=simulator.url)
    assert result['failed'] and 'IMPROVMX_API_KEY' in result['msg']


@pytest.mark.parametrize('key', ['sk_\u20ac_0123456789', 'sk_\u041a\u043b\u044e\u0447_0123'])
def test_an_api_key_that_cannot_be_sent_fails_naming_the_option_without_the_key(account, simulator, key):
    result = account(api_key=key, api_url=simulator.url)
    assert result['failed']
    assert result['msg'].startswith('api_key holds a character that cannot be sent')
    assert key not in result['msg'] and 'sk_' not in result['msg']
    assert simulator.requests == []


@pytest.mark.parametrize('url, words', [
    ('http://[bad', 'Invalid IPv6 URL'),
    ('http://127.0.0.1:99999/v3/', 'not a valid URL'),
    ('ftp://api.improvmx.com/v3/', 'not an http:// or https:// URL'),
    ('api.improvmx.com/v3', 'not an http:// or https:// URL'),
])
def test_a_bad_api_url_fails_naming_the_option(account, url, words):
    result = account(api_key='sk_test', api_url=url)
    assert result['failed']
    assert result['msg'].startswith('api_url ') and words in result['msg'], result['msg']
    assert 'sk_test' not in result['msg']


def test_an_api_url_with_credentials_is_refused_without_showing_it(account):
    result = account(api_key='sk_test', api_url='https://api:sk_secret@api.improvmx.com/v3/')
    assert result['failed'] and result['msg'].startswith('api_url must not hold a user name or password')
    assert 'sk_secret' not in result['msg']


def test_http_to_another_host_warns_that_the_key_travels_in_clear_text(account, monkeypatch, slept):
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == 'api.improvmx.invalid':
            raise socket.gaierror(socket.EAI_NONAME, 'Name or service not known')
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, 'getaddrinfo', getaddrinfo)
    result = account(api_key='sk_test', api_url='http://api.improvmx.invalid/v3/')
    assert any('clear text' in w and 'api.improvmx.invalid' in w for w in account.warnings), account.warnings
    assert result['failed'] and UNREACHABLE_WORDS in result['msg']
    assert 'host name does not resolve' in result['msg']


@pytest.mark.parametrize('host', ['127.0.0.1', 'localhost', '[::1]'])
def test_http_to_the_local_machine_does_not_warn(account, simulator, host):
    url = simulator.url.replace('127.0.0.1', host)
    if host == '[::1]':
        url = 'http://[::1]:9/v3/'  # only the warning matters here
    account(api_key=simulator.api_key, api_url=url, max_retries=0)
    assert not [w for w in account.warnings if 'clear text' in w], account.warnings


def test_a_refused_connection_fails_within_15_seconds_naming_api_url(account, slept):
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    url = 'http://127.0.0.1:%d/v3/' % sock.getsockname()[1]
    sock.close()
    started = time.monotonic()
    result = account(api_key='sk_test', api_url=url)  # default max_retries (8) and max_retry_wait (300)
    assert result['failed']
    assert '%s %s' % (UNREACHABLE_WORDS, url) in result['msg'], result['msg']
    assert len(slept) <= 2 and sum(slept) + (time.monotonic() - started) < 15
    assert len(result['api_retries']) == len(slept)


def test_the_user_guide_uses_the_words_of_the_unreachable_message():
    with open(os.path.join(REPO, 'docs', 'user-guide.md')) as handle:
        guide = handle.read()
    assert UNREACHABLE_WORDS in guide
    assert 'the connection was refused' in guide and 'the host name does not resolve' in guide


def test_no_log_values_are_redacted_from_api_retries(run_module, simulator):
    """A password echoed in an ambiguous answer reaches api_retries only redacted, in every form."""
    from ansible_collections.improvmx.email.plugins.modules import improvmx_credential

    password = 'S3cr\u00e9t pass/word+1'
    simulator.seed_domain('example.com')
    body = '<html>' + 'x' * 185 + password + ' ' + json.dumps(password) + ' ' + quote(password) + '</html>'
    simulator.add_fault('POST', '/credentials', kind='apply_then_status', status=502, body=body)
    result = run_module(improvmx_credential, {'api_key': simulator.api_key, 'api_url': simulator.url,
                                              'domain': 'example.com', 'username': 'mailer', 'password': password})
    assert not result.get('failed'), result
    shown = json.dumps(result, ensure_ascii=False) + json.dumps(result)
    assert any('re-read shows the change was applied' in line for line in result['api_retries']), result
    assert '********' in ' '.join(result['api_retries'])
    for form in api.secret_forms(password):
        for end in range(6, len(form) + 1):
            assert form[:end].lower() not in shown.lower(), form[:end]


# -- rate_limit_state: where the shared rate-limit state lives ------------------------------------------


def _state_files(directory):
    return sorted(os.listdir(str(directory))) if os.path.isdir(str(directory)) else []


def test_rate_limit_state_puts_the_state_in_the_directory_given(account, simulator, tmp_path):
    simulator.configure(rate_limit_get=150)
    directory = tmp_path / 'private' / 'improvmx'

    result = account(api_key=simulator.api_key, api_url=simulator.url, rate_limit_state=str(directory))

    assert not result.get('failed'), result
    files = _state_files(directory)
    assert len(files) == 1 and files[0].startswith(api.RATE_STATE_PREFIX)
    assert oct(os.stat(str(directory)).st_mode & 0o777) == oct(0o700)
    assert account.warnings == []


def test_rate_limit_state_comes_from_the_environment(account, simulator, tmp_path, monkeypatch):
    simulator.configure(rate_limit_get=150)
    directory = tmp_path / 'from-env'
    monkeypatch.setenv('IMPROVMX_RATE_LIMIT_STATE', str(directory))

    result = account(api_key=simulator.api_key, api_url=simulator.url)

    assert not result.get('failed'), result
    assert len(_state_files(directory)) == 1


@pytest.mark.parametrize('value', ['off', 'OFF', ' off '])
def test_rate_limit_state_off_shares_nothing(account, simulator, tmp_path, monkeypatch, value):
    simulator.configure(rate_limit_get=150)
    monkeypatch.setenv('HOME', str(tmp_path))

    result = account(api_key=simulator.api_key, api_url=simulator.url, rate_limit_state=value)

    assert not result.get('failed'), result
    assert os.listdir(str(tmp_path)) == []  # not even ~/.ansible/tmp/improvmx.email
    assert account.warnings == []


def test_rate_limit_state_by_default_is_under_the_users_ansible_tmp(account, simulator, tmp_path, monkeypatch):
    simulator.configure(rate_limit_get=150)
    monkeypatch.setenv('HOME', str(tmp_path))

    result = account(api_key=simulator.api_key, api_url=simulator.url)

    assert not result.get('failed'), result
    assert len(_state_files(tmp_path / '.ansible' / 'tmp' / 'improvmx.email')) == 1


def test_rate_limit_state_must_be_an_absolute_directory(account, simulator):
    result = account(api_key=simulator.api_key, api_url=simulator.url, rate_limit_state='relative/dir')

    assert result['failed']
    assert result['msg'].startswith("rate_limit_state must be off or the absolute path of a directory")
    assert "'relative/dir'" in result['msg']
    assert simulator.requests == []


def test_an_unsafe_rate_limit_state_gives_the_module_one_warning(account, simulator, tmp_path):
    simulator.configure(rate_limit_get=150)
    directory = tmp_path / 'state'
    directory.mkdir(mode=0o700)
    victim = tmp_path / 'victim'
    victim.write_text('keep me')
    state = api.RateLimitState(simulator.url, simulator.api_key, str(directory))
    os.symlink(str(victim), state.path)

    result = account(api_key=simulator.api_key, api_url=simulator.url, rate_limit_state=str(directory))

    assert not result.get('failed'), result
    assert len(simulator.requests) > 1  # several answers with X-RateLimit-* headers, one warning
    assert len(account.warnings) == 1, account.warnings
    assert 'is not used: it is a symbolic link' in account.warnings[0]
    assert simulator.api_key not in account.warnings[0]
    assert victim.read_text() == 'keep me'
