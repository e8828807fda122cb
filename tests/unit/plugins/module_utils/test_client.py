# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The client's HTTP rules beyond test_api.py: the retry loop's edges, unreachable APIs, redirects,
TLS verification against the environment, redaction, ambiguous writes and rate-limit pacing.

Like test_api.py, this file needs only requests, urllib3, pytest and the simulator (no Ansible):
tests/integration/test_client_versions.py runs both files with the oldest and the newest declared requests/urllib3.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import html
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time

from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

from ansible_collections.improvmx.email.plugins.module_utils import api
from ansible_collections.improvmx.email.plugins.module_utils.api import errors, transport
from ansible_collections.improvmx.email.plugins.module_utils.api import (
    REDACTED,
    ImprovMXClient,
    ImprovMXError,
    RateLimitState,
    RetryPolicy,
    api_path,
)

FAST = RetryPolicy(retries=3, max_wait=2.0, max_total_wait=5.0, backoff_factor=0.05, jitter=0.05)
ALIASES = api_path('domains', 'example.com', 'aliases', collection=True)


@pytest.fixture
def state_dir(tmp_path):
    return str(tmp_path / 'ratelimit')


@pytest.fixture
def client(simulator, tmp_path):
    return ImprovMXClient(simulator.api_key, simulator.url, timeout=5, retry_policy=FAST,
                          rate_state_dir=str(tmp_path))


@pytest.fixture
def slept(monkeypatch):
    """time.sleep of the client recorded, not slept."""
    waits = []
    monkeypatch.setattr(transport.time, 'sleep', waits.append)
    return waits


def _closed_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


# -- a tiny local server for answers the simulator does not give ------------------------------------


class _Canned(BaseHTTPRequestHandler):
    """Answers every request with the server's canned (status, headers, body); records what it got."""

    def _answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        self.server.seen.append((self.command, self.path, self.rfile.read(length) if length else b''))
        status, headers, body = self.server.canned
        data = body.encode('utf-8')
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture
def canned():
    """canned(status, headers, body, tls_context=None) -> (server, base url of its /v3/)."""
    servers = []

    def start(status, headers=None, body='', tls_context=None):
        server = HTTPServer(('127.0.0.1', 0), _Canned)
        server.canned = (status, headers or {}, body)
        server.seen = []
        if tls_context is not None:
            server.socket = tls_context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append(server)
        scheme = 'https' if tls_context is not None else 'http'
        return server, '%s://127.0.0.1:%d/v3/' % (scheme, server.server_address[1])

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# -- unreachable APIs fail fast, naming api_url ---------------------------------------------------------


def test_a_refused_connection_fails_within_seconds_naming_api_url(slept):
    url = 'http://127.0.0.1:%d/v3/' % _closed_port()
    client = ImprovMXClient('k', url, timeout=5)  # the default RetryPolicy: 8 retries, 300 s
    started = time.monotonic()
    with pytest.raises(ImprovMXError) as info:
        client.get('account/')
    error = info.value
    assert 'could not connect to the API at api_url %s' % url in str(error)
    assert 'connection was refused' in str(error) and 'IMPROVMX_API_URL' in str(error)
    assert error.unreachable and not error.ambiguous and error.status is None
    # Two short retries, not eight over minutes: well within 15 s by default.
    assert len(slept) == RetryPolicy().unreachable_retries == 2
    assert sum(slept) + (time.monotonic() - started) < 15
    assert client.request_count == 3
    assert [line.split(': ', 1)[1] for line in client.retry_events] == [
        'could not connect, retrying after %.1f s' % wait for wait in slept]


def test_a_host_name_that_does_not_resolve_fails_within_seconds(monkeypatch, slept):
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == 'api.improvmx.invalid':
            raise socket.gaierror(socket.EAI_NONAME, 'Name or service not known')
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, 'getaddrinfo', getaddrinfo)
    client = ImprovMXClient('k', 'https://api.improvmx.invalid/v3/', timeout=5)
    with pytest.raises(ImprovMXError) as info:
        client.post('domains/', {'domain': 'example.com'})
    message = str(info.value)
    assert 'could not connect to the API at api_url https://api.improvmx.invalid/v3/' in message
    assert 'host name does not resolve' in message
    assert info.value.unreachable and not info.value.ambiguous
    assert len(slept) <= 1 and sum(slept) < 15


def test_a_write_whose_connection_was_never_made_is_sent_again(simulator, client, monkeypatch):
    """A connect timeout: the request never reached the API, so even a POST is re-sent."""
    simulator.seed_domain('example.com', aliases={})
    real = client.session.request
    calls = []

    def flaky(method, url, **kwargs):
        calls.append(method)
        if len(calls) == 1:
            raise requests.exceptions.ConnectTimeout('connect timed out')
        return real(method, url, **kwargs)

    monkeypatch.setattr(client.session, 'request', flaky)
    answer = client.post(ALIASES, {'alias': 'info', 'forward': 'a@example.org'})
    assert answer['alias']['alias'] == 'info'
    assert calls == ['POST', 'POST'] and len(simulator.writes()) == 1
    assert 'the connection timed out, retrying after' in client.retry_events[0]


def test_a_write_whose_connection_dropped_is_not_sent_again(simulator, client):
    simulator.seed_domain('example.com', aliases={})
    simulator.add_fault('POST', '/aliases', kind='drop')
    with pytest.raises(ImprovMXError) as info:
        client.post(ALIASES, {'alias': 'info', 'forward': 'a@example.org'})
    assert info.value.ambiguous and not info.value.unreachable
    assert len(simulator.writes()) == 1 and client.retry_events == []


@pytest.mark.parametrize('exception, kind', [
    (requests.exceptions.ConnectTimeout('x'), 'connect-timeout'),
    (requests.exceptions.ReadTimeout('x'), 'read-timeout'),
    (requests.exceptions.SSLError('x'), 'tls'),
    (requests.exceptions.ConnectionError(ConnectionRefusedError(111, 'Connection refused')), 'refused'),
    (requests.exceptions.ConnectionError(socket.gaierror(-2, 'Name or service not known')), 'unresolvable'),
    (requests.exceptions.ConnectionError(ConnectionResetError(104, 'Connection reset by peer')), 'dropped'),
])
def test_transport_errors_are_classified(exception, kind):
    assert api.classify_transport_error(exception) == kind


# -- redirects are never followed ---------------------------------------------------------------------


def test_a_redirected_write_fails_naming_location_and_the_api_url_to_use(canned):
    server, url = canned(301, {'Location': 'https://api.example.test/v3/domains/'})
    client = ImprovMXClient('k', url, timeout=5, retry_policy=FAST)
    with pytest.raises(ImprovMXError) as info:
        client.post('domains/', {'domain': 'example.com'})
    message = str(info.value)
    assert 'HTTP 301' in message and 'redirecting to https://api.example.test/v3/domains/' in message
    assert 'set api_url to https://api.example.test/v3/ instead' in message
    assert info.value.location == 'https://api.example.test/v3/domains/'
    assert info.value.status == 301 and not info.value.ambiguous
    assert [(method, path) for method, path, _body in server.seen] == [('POST', '/v3/domains/')]


@pytest.mark.parametrize('status', [301, 302, 307, 308])
def test_a_redirected_read_is_an_error_naming_location(canned, status):
    server, url = canned(status, {'Location': 'https://elsewhere.example.test/api/v3/account/'})
    client = ImprovMXClient('k', url, timeout=5, retry_policy=FAST)
    with pytest.raises(ImprovMXError) as info:
        client.get('account/')
    assert 'HTTP %d' % status in str(info.value)
    assert 'https://elsewhere.example.test/api/v3/account/' in str(info.value)
    assert 'set api_url to https://elsewhere.example.test/api/v3/ instead' in str(info.value)
    assert len(server.seen) == 1


def test_a_relative_location_is_made_absolute(canned):
    _server, url = canned(308, {'Location': '/api/v3/account/'})
    client = ImprovMXClient('k', url, timeout=5, retry_policy=FAST)
    with pytest.raises(ImprovMXError) as info:
        client.get('account/')
    base = url.replace('/v3/', '/api/v3/')
    assert 'redirecting to %saccount/' % base in str(info.value)
    assert 'set api_url to %s instead' % base in str(info.value)


# -- validate_certs wins over the environment ----------------------------------------------------------


@pytest.fixture(scope='module')
def self_signed(tmp_path_factory):
    openssl = shutil.which('openssl')
    if openssl is None:
        pytest.skip('openssl is not installed: no self-signed certificate for the TLS tests')
    folder = tmp_path_factory.mktemp('tls')
    cert, key = str(folder / 'cert.pem'), str(folder / 'key.pem')
    subprocess.run([openssl, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
                    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return cert, context


@pytest.mark.parametrize('variable', ['REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'])
def test_validate_certs_false_wins_over_a_ca_bundle_in_the_environment(canned, self_signed, monkeypatch, tmp_path, variable):
    _cert, context = self_signed
    _server, url = canned(200, {'Content-Type': 'application/json'}, '{"success": true}', tls_context=context)
    other_ca = tmp_path / 'other-ca.pem'
    other_ca.write_text(open(requests.certs.where()).read())
    monkeypatch.setenv(variable, str(other_ca))

    insecure = ImprovMXClient('k', url, validate_certs=False, timeout=5, retry_policy=FAST)
    assert insecure.get('account/') == {'success': True}

    secure = ImprovMXClient('k', url, validate_certs=True, timeout=5, retry_policy=RetryPolicy(retries=0))
    with pytest.raises(ImprovMXError) as info:
        secure.get('account/')
    assert 'TLS connection' in str(info.value) and 'validate_certs' in str(info.value)


def test_validate_certs_true_uses_the_ca_bundle_of_the_environment(canned, self_signed, monkeypatch):
    cert, context = self_signed
    _server, url = canned(200, {'Content-Type': 'application/json'}, '{"success": true}', tls_context=context)
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', cert)
    assert ImprovMXClient('k', url, timeout=5, retry_policy=FAST).get('account/') == {'success': True}


# -- the API key and other secrets never show, in any form, however the text is shortened ----------------

PASSWORD = 'P\u00e4sswort 42/&x'  # a non-ASCII letter, a blank, a slash and an ampersand


def _leaks(text, secret):
    """Every prefix of 6 characters or more of secret (in any of its forms) found in text."""
    found = []
    for form in api.secret_forms(secret):
        for end in range(6, len(form) + 1):
            if form[:end].lower() in text.lower():
                found.append(form[:end])
    return found


def _body_with(secret):
    forms = [secret, json.dumps(secret)[1:-1], ' '.join(secret.split()), secret.replace(' ', '\n  '),
             requests.utils.quote(secret, safe=''), requests.utils.quote(secret).lower()]
    # Padding so that a form straddles the 200-character cut of the quoted body.
    return json.dumps({'errors': {'password': ['x' * 180 + ' ' + ' / '.join(forms)]}}, ensure_ascii=True)


def test_every_form_of_a_registered_secret_is_redacted_before_shortening(simulator, client):
    client.add_secret(PASSWORD)
    simulator.seed_domain('example.com')
    simulator.add_fault('POST', '/credentials', status=400, body=_body_with(PASSWORD))
    with pytest.raises(ImprovMXError) as info:
        client.post(api_path('domains', 'example.com', 'credentials', collection=True),
                    {'username': 'u', 'password': PASSWORD})
    shown = str(info.value) + json.dumps(info.value.errors)
    assert REDACTED in shown
    assert _leaks(shown, PASSWORD) == []


def test_a_secret_in_a_body_quoted_by_api_retries_is_redacted(simulator, client):
    """The confirmed write's event quotes the ambiguous answer: no prefix of the password may reach it."""
    client.add_secret(PASSWORD)
    simulator.seed_domain('example.com', aliases={})
    body = 'x' * 190 + PASSWORD + ' ' + json.dumps(PASSWORD)
    simulator.add_fault('POST', '/aliases', kind='apply_then_status', status=502, body=body)
    path = api_path('domains', 'example.com', 'aliases', 'info')
    client.write('POST', ALIASES, {'alias': 'info', 'forward': 'a@example.org'}, confirm=lambda: client.get_or_none(path))
    events = ' '.join(client.retry_events)
    assert 'applied' in events and REDACTED in events
    assert _leaks(events, PASSWORD) == []


def test_the_api_key_echoed_by_the_api_is_redacted(simulator):
    key = 'sk_live_0123456789abcdef'
    client = ImprovMXClient(key, simulator.url, timeout=5, retry_policy=FAST)
    simulator.add_fault('GET', '/account', count=None, status=401, body={'error': 'bad key %s (%s)' % (key, key.upper())})
    with pytest.raises(ImprovMXError) as info:
        client.get('account/')
    assert _leaks(str(info.value), key) == [] and REDACTED in str(info.value)


def test_redact_walks_lists_and_dicts():
    secrets = ['hunter2 x', None, '']
    value = {'a hunter2 x': ['hunter2%20x', 'HUNTER2 X', 5], 'b': 'hunter2\n x'}
    assert api.redact(value, secrets) == {'a ' + REDACTED: [REDACTED, REDACTED, 5], 'b': REDACTED}
    assert api.redact('abc', []) == 'abc'


# The key and a password in the forms an API or a proxy may echo them: the Basic-auth value the client sends
# (base64 of api:KEY) or the key alone in base64, and a password HTML-escaped.
KEY = 'sk_live_B64~key?>>0123456789'
HTML_PASSWORD = 'P\u00f6ss"w&rd <42>\'x'


def _base64_forms(key):
    forms = []
    for value in ('api:' + key, key):
        encoded = base64.b64encode(value.encode('utf-8')).decode('ascii')
        forms.extend([encoded, encoded.rstrip('='), requests.utils.quote(encoded, safe=''), json.dumps(encoded)[1:-1]])
    return forms


def _html_forms(secret):
    named = html.escape(secret, quote=True).replace('\u00f6', '&ouml;')
    return [
        html.escape(secret, quote=True),                                      # &quot; &amp; &lt; &gt; &#x27;
        named,                                                                # and &ouml;
        ''.join('&#%d;' % ord(char) for char in secret),                       # every character numeric
        ''.join('&#x%X;' % ord(char) if not char.isalnum() else char for char in secret),  # hex, upper case
        named.replace('&quot;', '&#34;').replace('&amp;', '&#038;'),         # mixed, zero-padded
    ]


def test_the_basic_auth_value_or_the_key_echoed_in_base64_is_redacted(simulator):
    client = ImprovMXClient(KEY, simulator.url, timeout=5, retry_policy=FAST)
    forms = _base64_forms(KEY)
    simulator.add_fault('GET', '/account', count=None, status=401,
                        body={'error': 'rejected Authorization: Basic %s' % ' and '.join(forms)})
    with pytest.raises(ImprovMXError) as info:
        client.get('account/')
    message = str(info.value)
    assert message.count(REDACTED) == len(forms), message
    for form in forms:
        assert form not in message and form[:12] not in message, (form, message)


def test_a_password_echoed_html_escaped_is_redacted(simulator, client):
    client.add_secret(HTML_PASSWORD)
    forms = _html_forms(HTML_PASSWORD)
    simulator.seed_domain('example.com')
    simulator.add_fault('POST', '/credentials', status=400,
                        body={'errors': {'password': ['<p>%s</p> is too weak' % form for form in forms]}})
    with pytest.raises(ImprovMXError) as info:
        client.post(api_path('domains', 'example.com', 'credentials', collection=True),
                    {'username': 'u', 'password': HTML_PASSWORD})
    shown = str(info.value) + json.dumps(info.value.errors)
    assert shown.count(REDACTED) == 2 * len(forms), shown  # in the message and in errors
    for form in forms:
        assert form[:10] not in shown, (form, shown)
    assert 'is too weak' in shown


def test_encoded_secrets_quoted_by_api_retries_are_redacted(simulator_factory):
    """The confirmed write's event quotes the ambiguous answer, which echoes both encoded forms."""
    simulator = simulator_factory(api_key=KEY)
    client = ImprovMXClient(KEY, simulator.url, timeout=5, retry_policy=FAST)
    client.add_secret(HTML_PASSWORD)
    simulator.seed_domain('example.com', aliases={})
    body = 'upstream said: %s %s' % (_base64_forms(KEY)[0], _html_forms(HTML_PASSWORD)[2])
    simulator.add_fault('POST', '/aliases', kind='apply_then_status', status=502, body=body)
    path = api_path('domains', 'example.com', 'aliases', 'info')
    client.write('POST', ALIASES, {'alias': 'info', 'forward': 'a@example.org'}, confirm=lambda: client.get_or_none(path))
    events = ' '.join(client.retry_events)
    assert 'applied' in events and events.count(REDACTED) == 2, events
    assert _base64_forms(KEY)[0][:12] not in events and '&#80;&#246;' not in events


@pytest.mark.parametrize('text', ['&amp;', 'P&ouml;ss', 'api:', 'c2tf', '&#34;w&#38;rd', 'a plain message'])
def test_pieces_of_an_encoded_secret_alone_are_not_redacted(text):
    """Only a whole secret is redacted: entities and base64 in other text stay as they are."""
    assert api.redact(text, [KEY, HTML_PASSWORD]) == text


def test_a_key_that_cannot_be_sent_is_refused_without_showing_it():
    with pytest.raises(ValueError) as info:
        ImprovMXClient('sk_\u20ac123', 'http://127.0.0.1:9/v3/')
    assert 'api_key' in str(info.value) and '\u20ac' not in str(info.value) and 'sk_' not in str(info.value)


# -- an ambiguous write that cannot be confirmed ---------------------------------------------------------


def test_an_ambiguous_write_whose_reread_fails_says_it_may_have_been_applied(simulator, client):
    simulator.seed_domain('example.com', aliases={})
    simulator.add_fault('POST', '/aliases', kind='apply_then_status', status=502)
    simulator.add_fault('GET', '/aliases/info', count=None, status=503)
    path = api_path('domains', 'example.com', 'aliases', 'info')
    with pytest.raises(ImprovMXError) as info:
        client.write('POST', ALIASES, {'alias': 'info', 'forward': 'a@example.org'}, confirm=lambda: client.get_or_none(path))
    message = str(info.value)
    assert message.startswith('POST %s: the API failed with HTTP 502' % ALIASES)
    assert 'may have been applied' in message and 'HTTP 503' in message
    assert 'running the task again converges' in message
    assert info.value.ambiguous and info.value.status == 502
    assert len(simulator.writes()) == 1


# -- api_retries names each request once ------------------------------------------------------------------


def _named_twice(line):
    """Whether an api_retries line repeats the "METHOD path:" it starts with."""
    head = line.split(': ', 1)[0]
    return line.count(head + ':') > 1


def test_a_confirmed_write_names_its_request_once(simulator, client):
    simulator.seed_domain('example.com', aliases={})
    simulator.add_fault('POST', '/aliases', kind='apply_then_status', status=502)
    path = api_path('domains', 'example.com', 'aliases', 'info')

    client.write('POST', ALIASES, {'alias': 'info', 'forward': 'a@example.org'}, confirm=lambda: client.get_or_none(path))

    assert client.retry_events == ['POST %s: the API failed with HTTP 502: Simulated fault (HTTP 502); '
                                   'a re-read shows the change was applied' % ALIASES]


def test_an_idempotent_write_sent_again_names_its_request_once(simulator, client):
    simulator.seed_domain('example.com', credentials=['newsletter'])
    simulator.add_fault('PUT', '/credentials/newsletter', kind='apply_then_status', status=502)
    path = api_path('domains', 'example.com', 'credentials', 'newsletter')

    client.write('PUT', path, {'password': 'long-enough-1'}, idempotent=True)

    assert client.retry_events == ['PUT %s: the API failed with HTTP 502: Simulated fault (HTTP 502); it cannot be '
                                   're-read, so the same (idempotent) request was sent again' % path]


def test_a_delete_of_an_object_already_gone_names_its_request_once(simulator, client):
    simulator.seed_domain('example.com', aliases={})
    path = api_path('domains', 'example.com', 'aliases', 'gone')

    assert client.remove(path) is False

    assert len(client.retry_events) == 1 and not _named_twice(client.retry_events[0]), client.retry_events
    assert client.retry_events[0].startswith('DELETE %s: not found (HTTP 404' % path)


def test_a_message_that_does_not_name_its_request_gets_the_name_once():
    error = ImprovMXError('the answer lacks the object')
    assert errors.named('POST', 'domains/', error) == 'POST domains/: the answer lacks the object'
    named = ImprovMXError('POST domains/: the API failed with HTTP 502')
    assert errors.named('POST', 'domains/', named) == 'POST domains/: the API failed with HTTP 502'


# -- 403 -------------------------------------------------------------------------------------------------


def test_403_names_both_causes(simulator, client):
    simulator.configure(premium=False)
    simulator.seed_domain('example.com')
    with pytest.raises(ImprovMXError) as info:
        client.get(api_path('domains', 'example.com', 'credentials', collection=True))
    message = str(info.value)
    assert info.value.status == 403
    assert 'premium' in message and 'the API key may not do this' in message


def test_auth_is_basic_with_user_api(simulator, client):
    assert client.session.auth == ('api', simulator.api_key)
    assert client.get('account/')['success']


# -- rate-limit pacing ------------------------------------------------------------------------------------


def _headers(limit, remaining, reset):
    return {'X-RateLimit-Limit': str(limit), 'X-RateLimit-Remaining': str(remaining), 'X-RateLimit-Reset': str(reset)}


def test_pacing_spaces_requests_when_the_budget_runs_low(state_dir):
    state = RateLimitState('https://api.example.test/v3/', 'key', state_dir)
    now = 1000000000.0
    state.learn('GET', _headers(150, 100, now + 30), now=now)
    assert state.reserve('GET', now=now) == 0  # plenty left
    state.learn('GET', _headers(150, 9, now + 30), now=now)
    wait = state.reserve('GET', now=now)
    assert 0 < wait == pytest.approx(30 / 10.0)  # the rest of the window shared by what is left
    state.learn('GET', _headers(150, 0, now + 30), now=now)
    assert state.reserve('GET', now=now + 10) == pytest.approx(20)  # until the reset, never later
    assert state.reserve('GET', now=now + 31) == 0  # the window is over
    assert state.reserve('POST', now=now) == 0  # every method has its own budget


def test_pacing_has_no_effect_without_headers(state_dir):
    state = RateLimitState('https://api.example.test/v3/', 'key', state_dir)
    state.learn('GET', {})
    state.learn('GET', {'X-RateLimit-Remaining': '0'})  # no reset time: nothing to space by
    assert state.reserve('GET') == 0
    assert not os.path.exists(state.path) or json.load(open(state.path)) == {}


def test_pacing_state_is_a_locked_file_per_key_hash_shared_by_clients(state_dir):
    now = time.time()
    first = RateLimitState('https://api.example.test/v3/', 'sk_secret_key', state_dir)
    second = RateLimitState('https://api.example.test/v3/', 'sk_secret_key', state_dir)  # another process
    other = RateLimitState('https://api.example.test/v3/', 'another_key', state_dir)
    assert first.path == second.path != other.path
    assert 'sk_secret_key' not in first.path
    first.learn('DELETE', _headers(60, 0, int(now) + 20))
    assert second.reserve('DELETE') > 15
    assert other.reserve('DELETE') == 0
    with open(first.path) as handle:
        text = handle.read()
    assert 'sk_secret_key' not in text and json.loads(text)['DELETE']['remaining'] == 0
    assert oct(os.stat(first.path).st_mode & 0o777) == oct(0o600)


def test_pacing_tolerates_a_missing_or_corrupt_state_file(state_dir):
    state = RateLimitState('https://api.example.test/v3/', 'key', state_dir)
    os.makedirs(state_dir, 0o700)
    with open(state.path, 'w') as handle:
        handle.write('{not json')
    assert state.reserve('GET') == 0
    state.learn('GET', _headers(150, 0, int(time.time()) + 5))
    assert state.reserve('GET') > 0
    os.remove(state.path)
    assert state.reserve('GET') == 0
    # A directory that cannot be made (under a file): the state is kept in the process instead.
    missing = RateLimitState('https://api.example.test/v3/', 'key', os.path.join(state.path + '.file', 'dir'))
    with open(state.path + '.file', 'w') as handle:
        handle.write('')
    missing.learn('GET', _headers(150, 0, int(time.time()) + 5))
    assert missing.reserve('GET') > 0


def test_pacing_state_file_stays_exact_when_it_shrinks_or_grows(state_dir):
    """The state is written over the old one and only the excess is cut: never a tail of the old state."""
    state = RateLimitState('https://api.example.test/v3/', 'key', state_dir)
    now = 1000000000.0
    os.makedirs(state_dir, 0o700)
    with open(state.path, 'w') as handle:
        json.dump({'GET': {'limit': 150.0, 'remaining': 100.0, 'reset': now + 30}}, handle, indent=60)  # longer than compact
    state.learn('GET', _headers(150, 99, now + 30), now=now)
    with open(state.path) as handle:
        shrunk = json.load(handle)  # a tail of the longer old content would not parse
    assert shrunk['GET']['remaining'] == 99 and len(json.dumps(shrunk, sort_keys=True)) == os.path.getsize(state.path)
    state.learn('POST', _headers(60, 59, now + 30), now=now)
    assert state.reserve('GET', now=now) == 0
    with open(state.path) as handle:
        grown = json.load(handle)
    assert sorted(grown) == ['GET', 'POST'] and grown['GET']['remaining'] == 98


def test_pacing_waits_are_capped_by_max_wait(simulator, tmp_path, slept):
    policy = RetryPolicy(retries=0, max_wait=0.5, max_total_wait=1.0)
    client = ImprovMXClient(simulator.api_key, simulator.url, timeout=5, retry_policy=policy, rate_state_dir=str(tmp_path))
    client.rate_state.learn('GET', _headers(150, 0, int(time.time()) + 50))
    assert client.get('account/')['success']
    assert slept == [0.5] and client.paced_seconds == 0.5
    assert client.retry_events == []


def test_paced_clients_sharing_an_account_avoid_429(simulator_factory, tmp_path):
    """Two clients (as two forks would) share the account's budget of 4 reads a second: no 429."""
    sim = simulator_factory(rate_limit_get=4, rate_limit_window=1)
    clients = [ImprovMXClient(sim.api_key, sim.url, timeout=5, retry_policy=FAST, rate_state_dir=str(tmp_path))
               for _index in range(2)]
    for index in range(10):
        assert clients[index % 2].get('account/')['success']
    statuses = [r['status'] for r in sim.requests]
    assert statuses == [200] * 10, statuses
    assert sum(c.paced_seconds for c in clients) > 0
    assert all(c.retry_events == [] for c in clients)


def test_without_pacing_the_same_load_meets_429(simulator_factory, tmp_path):
    """The control for the test above: the simulator really limits that load."""
    sim = simulator_factory(rate_limit_get=4, rate_limit_window=1)
    policy = RetryPolicy(retries=3, max_wait=2.0, max_total_wait=5.0, backoff_factor=0.05, jitter=0.05, pacing=False)
    clients = [ImprovMXClient(sim.api_key, sim.url, timeout=5, retry_policy=policy) for _index in range(2)]
    for index in range(10):
        clients[index % 2].get('account/')
    assert 429 in [r['status'] for r in sim.requests]


def test_no_state_file_without_rate_limit_headers(simulator, tmp_path):
    client = ImprovMXClient(simulator.api_key, simulator.url, timeout=5, retry_policy=FAST, rate_state_dir=str(tmp_path))
    assert client.get('account/')['success']
    assert os.listdir(str(tmp_path)) == []
