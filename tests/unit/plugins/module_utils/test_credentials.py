# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.improvmx.email.plugins.module_utils import credentials
from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError, ImprovMXNotFound


class FakeClient(object):
    def __init__(self, answer=None, error=None):
        self.answer = answer
        self.error = error
        self.paths = []

    def get(self, path, params=None):
        self.paths.append(path)
        if self.error is not None:
            raise self.error
        return self.answer


def test_credentials_path_quotes_segments():
    assert credentials.credentials_path('example.com') == 'domains/example.com/credentials/'
    assert credentials.credentials_path('example.com', 'a+b') == 'domains/example.com/credentials/a%2Bb'


def test_public_credential_drops_password_fields():
    obj = {'username': 'bob', 'usage': 3, 'created': 1, 'password': 'x', 'Password_Hash': 'y'}
    assert credentials.public_credential(obj) == {'username': 'bob', 'usage': 3, 'created': 1}
    assert credentials.public_credential(None) == {}


def test_list_credentials_reads_the_list():
    client = FakeClient({'credentials': [{'username': 'a', 'usage': 0, 'created': 5, 'password': 'p'}], 'success': True})
    assert credentials.list_credentials(client, 'example.com') == [{'username': 'a', 'usage': 0, 'created': 5}]
    assert client.paths == ['domains/example.com/credentials/']


def test_list_credentials_missing_domain():
    client = FakeClient(error=ImprovMXNotFound('GET ...: not found', status=404))
    with pytest.raises(credentials.DomainMissing, match='example.com is not in the ImprovMX account'):
        credentials.list_credentials(client, 'example.com')


def test_list_credentials_other_errors_pass_through():
    client = FakeClient(error=ImprovMXError('boom', status=403))
    with pytest.raises(ImprovMXError, match='boom'):
        credentials.list_credentials(client, 'example.com')


def test_find_credential_ignores_case():
    creds = [{'username': 'Alice'}, {'username': 'bob'}]
    assert credentials.find_credential(creds, 'alice') == {'username': 'Alice'}
    assert credentials.find_credential(creds, 'carol') is None


@pytest.mark.parametrize('exists, update_password, given, expected', [
    (False, 'on_create', True, 'create'),
    (False, 'always', True, 'create'),
    (True, 'on_create', True, None),
    (True, 'on_create', False, None),
    (True, 'always', True, 'update'),
])
def test_plan_present(exists, update_password, given, expected):
    assert credentials.plan_present(exists, update_password, given) == expected


@pytest.mark.parametrize('exists, update_password, problem', [
    (False, 'on_create', 'required to create'),
    (False, 'always', 'required to create'),
    (True, 'always', 'required with update_password=always'),
])
def test_plan_present_needs_a_password(exists, update_password, problem):
    with pytest.raises(ValueError, match=problem):
        credentials.plan_present(exists, update_password, False)


@pytest.mark.parametrize('value, problem', [('', 'is empty'), ('   ', 'only white space')])
def test_check_password_rejects_blank(value, problem):
    with pytest.raises(ValueError, match=problem):
        credentials.check_password(value)


def test_check_password_keeps_the_value_and_never_echoes_it():
    assert credentials.check_password(' s3cret ') == ' s3cret '
    with pytest.raises(ValueError) as info:
        credentials.check_password('\t')
    assert '\t' not in str(info.value)


def test_redact_nested():
    value = {'password': ['too short: hunter2', 'x'], 'hunter2': 'key KEY123'}
    assert credentials.redact(value, ['hunter2', 'KEY123', None]) == {
        'password': ['too short: ********', 'x'], '********': 'key ********'}
    assert credentials.redact('abc', []) == 'abc'
    assert credentials.redact(5, ['5']) == 5


def test_explain_error_premium():
    error = ImprovMXError('GET domains/example.com/credentials/: the account may not use this feature (HTTP 403: no)',
                          method='GET', path='domains/example.com/credentials/', status=403)
    explained = credentials.explain_error(error)
    assert str(explained).startswith('SMTP credentials need a premium ImprovMX plan')
    assert 'HTTP 403' in str(explained)
    assert explained.status == 403 and explained.method == 'GET'


def test_explain_error_removes_secrets():
    error = ImprovMXError('POST x: the API refused the request with HTTP 400: password: pw-ABC is too short',
                          method='POST', path='x', status=400, errors={'password': ['pw-ABC is too short']})
    explained = credentials.explain_error(error, ['pw-ABC'])
    assert 'pw-ABC' not in str(explained)
    assert explained.errors == {'password': ['******** is too short']}
    assert 'is too short' in str(explained)


def test_explain_error_keeps_other_exceptions():
    error = ValueError('x')
    assert credentials.explain_error(error) is error


def test_dkim_warning_points_to_domain_check():
    text = credentials.dkim_warning('example.com', 'bob')
    assert 'bob@example.com is the first' in text
    assert 'two new DKIM CNAME records' in text
    assert 'improvmx.email.improvmx_domain_check' in text
    assert 'would be the first' in credentials.dkim_warning('example.com', 'bob', check_mode=True)
