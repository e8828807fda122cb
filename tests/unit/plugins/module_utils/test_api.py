# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The API client against the simulator: auth, errors, retries and paging."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import os
import re
import time

import pytest
import requests

from ansible_collections.improvmx.email.plugins.module_utils import api
from ansible_collections.improvmx.email.plugins.module_utils.api import (
    ImprovMXClient,
    ImprovMXError,
    ImprovMXNotFound,
    RetryPolicy,
    api_path,
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
FAST = RetryPolicy(retries=3, max_wait=2.0, max_total_wait=5.0, backoff_factor=0.05, jitter=0.05)


@pytest.fixture
def client(simulator):
    return ImprovMXClient(simulator.api_key, simulator.url, timeout=5, retry_policy=FAST)


def _count(simulator, method, path):
    return len([r for r in simulator.requests if r['method'] == method and r['path'].rstrip('/') == path.rstrip('/')])


# -- authentication and headers -----------------------------------------------


def test_basic_auth_header_and_user_agent(client):
    prepared = client.session.prepare_request(requests.Request('GET', client.base_url + 'account/'))
    expected = 'Basic ' + base64.b64encode(b'api:test-api-key').decode('ascii')
    assert prepared.headers['Authorization'] == expected
    assert prepared.headers['User-Agent'].startswith('improvmx.email-ansible-collection/')


def test_user_agent_names_the_galaxy_version():
    # Read without a YAML library: this file also runs in the venvs of tests/integration/test_client_versions.py.
    with open(os.path.join(REPO, 'galaxy.yml')) as handle:
        version = re.search(r'^version:\s*["\']?([^"\'\s#]+)', handle.read(), re.M).group(1)
    assert api.USER_AGENT == 'improvmx.email-ansible-collection/%s' % version


def test_authenticated_request_returns_json(client):
    body = client.get('account/')
    assert body['success'] is True
    assert 'email' in body['account']


def test_rejected_key_says_so_and_never_shows_the_key(simulator):
    client = ImprovMXClient('wrong-key-7f3a9c', simulator.url, retry_policy=FAST)
    with pytest.raises(ImprovMXError) as info:
        client.get('account/')
    assert info.value.status == 401
    assert 'API key was rejected' in str(info.value)
    assert 'GET account/' in str(info.value)
    assert 'wrong-key-7f3a9c' not in str(info.value)


# -- error shapes --------------------------------------------------------------


def test_errors_object_shape_is_reported_per_field(client):
    client.post('domains/', {'domain': 'example.com'})
    with pytest.raises(ImprovMXError) as info:
        client.post('domains/', {'domain': 'example.com'})
    error = info.value
    assert error.status == 400
    assert 'domain' in error.errors
    assert 'domain: ' in str(error) and 'already' in str(error)
    assert error.method == 'POST' and error.path == 'domains/'
    assert not error.ambiguous


def test_errors_as_a_list_of_strings_are_reported_as_the_api_wrote_them(simulator, client):
    simulator.configure(error_shape='list')
    client.post('domains/', {'domain': 'example.com'})
    with pytest.raises(ImprovMXError) as info:
        client.post('domains/', {'domain': 'example.com'})
    error = info.value
    assert error.status == 400
    assert error.errors == ['The domain example.com is already registered.']
    assert str(error) == ('POST domains/: the API refused the request with HTTP 400: '
                          'The domain example.com is already registered.')  # not a Python list's repr
    assert error.detail == 'The domain example.com is already registered.'


@pytest.mark.parametrize('body, detail, errors', [
    ({'errors': ['First problem.', 'Second problem.']}, 'First problem.; Second problem.', ['First problem.', 'Second problem.']),
    ({'errors': {'username': 'One message, not a list.'}}, 'username: One message, not a list.', {'username': 'One message, not a list.'}),
    ({'errors': {'b': ['x'], 'a': ['y', 'z']}}, 'a: y; z, b: x', {'b': ['x'], 'a': ['y', 'z']}),
    ({'errors': 'A bare string.'}, 'A bare string.', None),
    ({'error': 'Domain not found', 'code': 404}, 'Domain not found', None),
    ({'errors': [], 'error': 'Both shapes, one empty.'}, 'Both shapes, one empty.', None),
])
def test_every_error_shape_gives_the_apis_words(simulator, client, body, detail, errors):
    simulator.add_fault('GET', '/account', status=400, body=dict(body, success=False))
    with pytest.raises(ImprovMXError) as info:
        client.get('account/')
    assert info.value.detail == detail and info.value.errors == errors
    assert str(info.value) == 'GET account/: the API refused the request with HTTP 400: %s' % detail


def test_error_code_shape_is_reported(simulator, client):
    simulator.configure(premium=False)
    simulator.seed_domain('example.com')
    with pytest.raises(ImprovMXError) as info:
        client.get(api_path('domains', 'example.com', 'credentials', collection=True))
    assert info.value.status == 403
    assert 'premium' in str(info.value)


def test_not_found_is_its_own_type(client):
    with pytest.raises(ImprovMXNotFound) as info:
        client.get(api_path('domains', 'missing.example'))
    assert info.value.status == 404
    assert client.get_or_none(api_path('domains', 'missing.example')) is None


def test_html_error_page_gives_a_clear_error(simulator, client):
    simulator.add_fault('GET', '/account', count=10, status=500, body='<html><body><h1>Bad gateway</h1></body></html>')
    with pytest.raises(ImprovMXError) as info:
        client.get('account/')
    assert info.value.status == 500
    assert 'not JSON' in str(info.value) and 'Bad gateway' in str(info.value)


def test_empty_success_body_is_an_error(simulator, client):
    simulator.add_fault('GET', '/account', status=200, body='')
    with pytest.raises(ImprovMXError, match='empty body'):
        client.get('account/')


# -- rate limits and retries ---------------------------------------------------


def test_429_with_retry_after_is_waited_for(simulator, client):
    simulator.add_fault('GET', '/account', status=429, headers={'Retry-After': '1'})
    started = time.monotonic()
    assert client.get('account/')['success']
    assert time.monotonic() - started >= 0.9
    assert _count(simulator, 'GET', '/account') == 2
    assert len(client.retry_events) == 1 and 'HTTP 429' in client.retry_events[0]


def test_429_with_only_rate_limit_reset(simulator, client):
    reset = int(time.time()) + 1
    simulator.add_fault('GET', '/account', status=429, headers={'X-RateLimit-Reset': str(reset)})
    assert client.get('account/')['success']
    assert time.time() >= reset
    assert _count(simulator, 'GET', '/account') == 2


def test_429_without_hints_backs_off(simulator, client):
    simulator.add_fault('GET', '/account', count=2, status=429, headers={})
    assert client.get('account/')['success']
    assert _count(simulator, 'GET', '/account') == 3
    assert len(client.retry_events) == 2


def test_429_on_a_write_is_retried_and_applied_once(simulator, client):
    simulator.seed_domain('example.com', aliases={})
    simulator.add_fault('POST', '/aliases', status=429, headers={'Retry-After': '1'})
    answer = client.post(api_path('domains', 'example.com', 'aliases', collection=True),
                         {'alias': 'info', 'forward': 'a@example.org'})
    assert answer['alias']['alias'] == 'info'
    posts = [r for r in simulator.requests if r['method'] == 'POST']
    assert [r['status'] for r in posts] == [429, 200]
    assert len(client.get(api_path('domains', 'example.com', 'aliases', collection=True))['aliases']) == 1


def test_persistent_429_gives_up_within_bounds(simulator, client):
    simulator.add_fault('GET', '/account', count=None, status=429, headers={'Retry-After': '1'})
    started = time.monotonic()
    with pytest.raises(ImprovMXError) as info:
        client.get('account/')
    assert time.monotonic() - started < FAST.max_total_wait + 3
    assert info.value.status == 429
    assert 'giving up' in str(info.value)
    assert _count(simulator, 'GET', '/account') <= FAST.retries + 1


def test_total_wait_is_capped(simulator):
    policy = RetryPolicy(retries=10, max_wait=1.0, max_total_wait=2.0, backoff_factor=0.05, jitter=0)
    client = ImprovMXClient(simulator.api_key, simulator.url, retry_policy=policy)
    simulator.add_fault('GET', '/account', count=None, status=429, headers={'Retry-After': '30'})
    started = time.monotonic()
    with pytest.raises(ImprovMXError, match='giving up'):
        client.get('account/')
    assert time.monotonic() - started < 4


@pytest.mark.parametrize('status', [502, 503, 504])
def test_gateway_errors_on_reads_are_retried(simulator, client, status):
    simulator.add_fault('GET', '/account', count=2, status=status)
    assert client.get('account/')['success']
    assert _count(simulator, 'GET', '/account') == 3


def test_dropped_connection_on_read_is_retried(simulator, client):
    simulator.add_fault('GET', '/account', kind='drop')
    assert client.get('account/')['success']
    assert _count(simulator, 'GET', '/account') == 2


def test_persistent_5xx_fails_with_status_method_and_path(simulator, client):
    simulator.add_fault('GET', '/account', count=None, status=503)
    started = time.monotonic()
    with pytest.raises(ImprovMXError) as info:
        client.get('account/')
    assert time.monotonic() - started < FAST.max_total_wait + 3
    message = str(info.value)
    assert 'GET account/' in message and '503' in message


def test_a_write_answered_5xx_is_not_repeated(simulator, client):
    simulator.seed_domain('example.com', aliases={})
    simulator.add_fault('POST', '/aliases', status=503)
    with pytest.raises(ImprovMXError) as info:
        client.post(api_path('domains', 'example.com', 'aliases', collection=True), {'alias': 'a', 'forward': 'a@example.org'})
    assert info.value.ambiguous
    assert len(simulator.writes()) == 1


def test_an_applied_write_is_confirmed_by_a_reread(simulator, client):
    simulator.seed_domain('example.com', aliases={})
    simulator.add_fault('POST', '/aliases', kind='apply_then_status', status=502)
    path = api_path('domains', 'example.com', 'aliases', 'info')
    answer = client.write('POST', api_path('domains', 'example.com', 'aliases', collection=True),
                          {'alias': 'info', 'forward': 'a@example.org'}, confirm=lambda: client.get_or_none(path))
    assert answer['alias']['alias'] == 'info'
    assert len(simulator.writes()) == 1
    assert 'applied' in client.retry_events[-1]


def test_an_applied_write_then_dropped_connection_is_confirmed(simulator, client):
    simulator.seed_domain('example.com', aliases={})
    simulator.add_fault('POST', '/aliases', kind='apply_then_drop')
    path = api_path('domains', 'example.com', 'aliases', 'info')
    answer = client.write('POST', api_path('domains', 'example.com', 'aliases', collection=True),
                          {'alias': 'info', 'forward': 'a@example.org'}, confirm=lambda: client.get_or_none(path))
    assert answer['alias']['forward'] == 'a@example.org'
    assert len(simulator.writes()) == 1


def test_an_unapplied_write_still_fails_after_the_reread(simulator, client):
    simulator.seed_domain('example.com', aliases={})
    simulator.add_fault('POST', '/aliases', status=500)
    path = api_path('domains', 'example.com', 'aliases', 'info')
    with pytest.raises(ImprovMXError) as info:
        client.write('POST', api_path('domains', 'example.com', 'aliases', collection=True),
                     {'alias': 'info', 'forward': 'a@example.org'}, confirm=lambda: client.get_or_none(path))
    assert info.value.status == 500


def test_timeout_names_the_option(simulator):
    client = ImprovMXClient(simulator.api_key, simulator.url, timeout=0.3,
                            retry_policy=RetryPolicy(retries=1, max_wait=0.1, max_total_wait=1, backoff_factor=0.01, jitter=0))
    simulator.add_fault('GET', '/account', count=None, kind='delay', delay=1.0)
    with pytest.raises(ImprovMXError) as info:
        client.get('account/')
    assert info.value.timeout
    assert 'timeout option' in str(info.value)


def test_refused_connection_is_not_ambiguous():
    client = ImprovMXClient('k', 'http://127.0.0.1:9/v3/', timeout=1,
                            retry_policy=RetryPolicy(retries=1, max_wait=0.1, max_total_wait=1, backoff_factor=0.01, jitter=0))
    with pytest.raises(ImprovMXError) as info:
        client.post('domains/', {'domain': 'example.com'})
    assert not info.value.ambiguous
    assert 'could not connect' in str(info.value)


# -- paging ----------------------------------------------------------------------


def test_paginate_walks_every_page_by_total(simulator, client):
    simulator.seed_domain('example.com', aliases=dict(('user%03d' % i, 'dest@example.org') for i in range(230)))
    aliases = list(client.paginate(api_path('domains', 'example.com', 'aliases', collection=True), 'aliases'))
    assert len(aliases) == 230
    assert len(set(a['alias'] for a in aliases)) == 230
    gets = [r for r in simulator.requests if r['method'] == 'GET']
    assert [r['query'].get('page') for r in gets] == ['1', '2', '3']
    assert all(r['query'].get('limit') == '100' for r in gets)


class _CannedClient(ImprovMXClient):
    """A client whose GET answers come from a list (the paging logic alone)."""

    def __init__(self, pages):  # pylint: disable=super-init-not-called
        self.pages = list(pages)
        self.calls = []

    def get(self, path, params=None, accept_unsuccessful=False):
        self.calls.append(dict(params or {}))
        return self.pages.pop(0) if self.pages else {'items': []}


def _items(start, count):
    return [{'id': i} for i in range(start, start + count)]


def test_paginate_stops_at_a_short_page_without_total():
    client = _CannedClient([{'items': _items(0, 100)}, {'items': _items(100, 30)}])
    assert len(list(client.paginate('x/', 'items'))) == 130
    assert len(client.calls) == 2


def test_paginate_stops_at_an_empty_page():
    client = _CannedClient([{'items': _items(0, 100)}, {'items': []}])
    assert len(list(client.paginate('x/', 'items'))) == 100
    assert len(client.calls) == 2


def test_paginate_tolerates_a_server_that_ignores_limit():
    pages = [{'items': _items(0, 50), 'limit': 50, 'total': 120},
             {'items': _items(50, 50), 'limit': 50, 'total': 120},
             {'items': _items(100, 20), 'limit': 50, 'total': 120}]
    client = _CannedClient(pages)
    assert [i['id'] for i in client.paginate('x/', 'items')] == list(range(120))
    assert len(client.calls) == 3


def test_paginate_stops_when_a_server_ignores_page():
    same = {'items': _items(0, 100)}
    client = _CannedClient([same, same, same])
    assert len(list(client.paginate('x/', 'items'))) == 100
    assert len(client.calls) == 2


def test_cursor_list_follows_the_last_id(simulator, client):
    simulator.seed_domain('example.com')
    simulator.configure(log_page_size=50)
    ids = simulator.seed_logs('example.com', 120)
    logs, cursor = client.cursor_list(api_path('domains', 'example.com', 'logs'), 'logs')
    assert [log['id'] for log in logs] == ids
    assert cursor is None
    cursors = [r['query'].get('next_cursor') for r in simulator.requests]
    assert cursors == [None, ids[49], ids[99], ids[119]]


def test_cursor_list_bound_returns_where_to_resume(simulator, client):
    simulator.seed_domain('example.com')
    simulator.configure(log_page_size=50)
    ids = simulator.seed_logs('example.com', 120)
    logs, cursor = client.cursor_list(api_path('domains', 'example.com', 'logs'), 'logs', max_items=70)
    assert len(logs) == 70 and cursor == ids[69]
    rest, cursor = client.cursor_list(api_path('domains', 'example.com', 'logs'), 'logs', cursor=cursor)
    assert [log['id'] for log in logs + rest] == ids and cursor is None


def test_cursor_list_bound_tells_the_end_from_more():
    entries = [{'id': 'id%d' % index} for index in range(5)]
    client = _CannedClient([{'logs': entries[:3]}, {'logs': entries[3:]}, {'logs': []}])
    assert client.cursor_list('l', 'logs', cursor='c', max_items=3) == (entries[:3], 'id2')
    assert [c.get('next_cursor') for c in client.calls] == ['c', 'id2']
    # Exactly at the end of the logs: one more read shows there is nothing left.
    client = _CannedClient([{'logs': entries}, {'logs': []}])
    assert client.cursor_list('l', 'logs', max_items=5) == (entries, None)
    assert len(client.calls) == 2
    # An entry without id (the reference shows one) does not become the cursor.
    entries = [{'id': 'a'}, {'subject': 'no id'}, {'id': 'c'}]
    assert _CannedClient([{'logs': entries}]).cursor_list('l', 'logs', max_items=2) == (entries[:2], 'a')


def test_cursor_list_uses_next_cursor_when_given():
    client = _CannedClient([{'logs': [{'id': 'a'}], 'next_cursor': 'n1'}, {'logs': [{'id': 'b'}]}, {'logs': []}])
    logs, cursor = client.cursor_list('l', 'logs')
    assert [log['id'] for log in logs] == ['a', 'b'] and cursor is None
    assert [c.get('next_cursor') for c in client.calls] == [None, 'n1', 'b']


def test_api_path_quotes_segments():
    assert api_path('domains', 'example.com', 'aliases', '*') == 'domains/example.com/aliases/%2A'
    assert api_path('domains', collection=True) == 'domains/'
