# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Errors: the one failure shape of the client, and the words that explain each failure.

This file owns:

* ImprovMXError (ImprovMXNotFound for a 404), which every caller handles;
* api_message(): the API's own explanation, from any error shape the API uses;
* classify_transport_error(): what a requests exception means for a retry (the retry loop in
  transport.py decides on it);
* build(), status_error(), redirect_error() and transport_error(): the error of a failed
  request, naming the request once ("METHOD path: ...") and saying what to do. Each takes the
  client's Redactor (redaction.py), and every text passes it before it is kept, so no secret
  reaches a message, an errors entry or a detail.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import socket

from urllib.parse import urljoin, urlsplit

try:
    from requests import exceptions as requests_exceptions
    from urllib3 import exceptions as urllib3_exceptions
except ImportError:  # transport.py says so (HAS_REQUESTS) before any request is made
    requests_exceptions = urllib3_exceptions = None

NAME_RESOLUTION_HINTS = ('name or service not known', 'nodename nor servname', 'getaddrinfo failed',
                         'temporary failure in name resolution', 'failed to resolve', 'no address associated',
                         'name resolution')


class ImprovMXError(Exception):
    """An API request that failed.

    status is the HTTP status (None when no answer came), method and path say which
    request (the API key is never part of either), errors holds the API's
    per-field messages when it sent them ({field: [messages]}, or a list of messages),
    detail the API's own explanation alone (without the request; None when the error
    did not come from an API answer). ambiguous is true for a write whose outcome
    is unknown (5xx, no answer, an answer that is not JSON): it may have been applied.
    unreachable is true when no connection could be made (refused, host name unknown);
    location is the Location of a redirect the client did not follow.
    """

    def __init__(self, message, method=None, path=None, status=None, errors=None, ambiguous=False, timeout=False,
                 unreachable=False, location=None, detail=None):
        super(ImprovMXError, self).__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.errors = errors
        self.ambiguous = ambiguous
        self.timeout = timeout
        self.unreachable = unreachable
        self.location = location
        self.detail = detail

    def __str__(self):
        return self.message


class ImprovMXNotFound(ImprovMXError):
    """HTTP 404: the object does not exist."""


def build(redactor, message, cls=None, **kwargs):
    """An ImprovMXError (or cls) with every secret removed from its message, errors and detail."""
    for key in ('errors', 'detail'):
        if kwargs.get(key):
            kwargs[key] = redactor.redact(kwargs[key])
    return (cls or ImprovMXError)(redactor.redact(message), **kwargs)


def named(method, path, error):
    """An error's message naming its request once: the client's own messages start with "METHOD path: "."""
    text = str(error)
    where = '%s %s' % (method, path)
    if text == where or text.startswith(where + ':') or text.startswith(where + ' '):
        return text
    return '%s: %s' % (where, text)


# -- what an answer says --------------------------------------------------------------


def text_of(response):
    """The answer's text: UTF-8 when it decodes as such (requests assumes Latin-1 without a charset)."""
    try:
        return response.content.decode('utf-8')
    except UnicodeError:
        return response.text


def _messages(value):
    """The messages of one errors entry (a message, or a list of them), as strings."""
    if not isinstance(value, list):
        value = [value]
    return [str(message) for message in value if message not in (None, '')]


def api_message(body):
    """(the API's explanation, its errors) from any error shape it uses.

    {"errors": {field: [messages]}} gives "field: message; message, field: message";
    {"errors": [messages]} the messages joined by "; "; {"error": message} the message.
    errors is what the API sent under "errors" (a dict or a list), else None.
    """
    if not isinstance(body, dict):
        return None, None
    errors = body.get('errors')
    if isinstance(errors, dict) and errors:
        parts = []
        for field in sorted(errors, key=str):
            parts.append('%s: %s' % (field, '; '.join(_messages(errors[field]))))
        return ', '.join(parts), errors
    if isinstance(errors, list) and _messages(errors):
        return '; '.join(_messages(errors)), errors
    if body.get('error'):
        return str(body['error']), None
    if isinstance(errors, str) and errors:
        return errors, None
    return None, None


def status_error(redactor, method, path, response, body, decoded, write, retries=0, waited=0.0):
    """The error of an answer that is not a success (4xx, 5xx, a 429 retried too often).

    A 5xx to a write is ambiguous: it may have been applied.
    """
    status = response.status_code
    detail, errors = api_message(body)
    if detail is None:
        if decoded or not response.content:
            detail = redactor.snippet(text_of(response)) or 'no details given'
        else:
            detail = 'the answer is not JSON (%s): %s' % (response.headers.get('Content-Type', 'no content type'),
                                                          redactor.snippet(text_of(response)))
    else:
        detail = redactor.snippet(detail)
    where = '%s %s' % (method, path)
    kwargs = dict(method=method, path=path, status=status, errors=errors, detail=detail)
    if status == 401:
        return build(redactor, '%s: the API key was rejected (HTTP 401: %s); check api_key or IMPROVMX_API_KEY'
                     % (where, detail), **kwargs)
    if status == 403:
        return build(redactor, '%s: the account may not use this feature, or the API key may not do this (HTTP 403: '
                     '%s); either the feature needs a premium ImprovMX plan the account does not have, or the key '
                     'is not allowed this request' % (where, detail), **kwargs)
    if status == 404:
        return build(redactor, '%s: not found (HTTP 404: %s)' % (where, detail), cls=ImprovMXNotFound, **kwargs)
    if status == 429:
        return build(redactor, '%s: still rate limited by the API (HTTP 429) after %d retries and %.0f s of waiting; '
                     'giving up (%s)' % (where, retries, waited, detail), **kwargs)
    if status >= 500:
        return build(redactor, '%s: the API failed with HTTP %s: %s' % (where, status, detail),
                     ambiguous=write, **kwargs)
    return build(redactor, '%s: the API refused the request with HTTP %s: %s' % (where, status, detail), **kwargs)


def redirect_error(redactor, base_url, method, path, response, write):
    """The error of a 3xx: redirects are never followed; it says which api_url to use instead, when it can tell."""
    status = response.status_code
    location = response.headers.get('Location')
    where = '%s %s' % (method, path)
    if not location:
        return build(redactor, '%s: the API answered HTTP %s, a redirect without a Location; redirects are not '
                     'followed: check api_url (%s)' % (where, status, base_url),
                     method=method, path=path, status=status)
    requested = response.request.url if response.request is not None else None
    try:
        location = redactor.redact(urljoin(requested or base_url, location))  # a relative Location made absolute
    except ValueError:
        location = redactor.redact(location)
    suggestion = _base_of(location, requested, base_url)
    advice = 'set api_url to %s instead' % suggestion if suggestion else 'correct api_url (%s)' % base_url
    if write:
        what = 'the write was not sent again there (a redirect may turn it into a GET that writes nothing)'
    else:
        what = 'redirects are not followed'
    return build(redactor, '%s: the API answered HTTP %s, redirecting to %s; %s: %s'
                 % (where, status, location, what, advice),
                 method=method, path=path, status=status, location=location)


def _base_of(location, requested_url, base_url):
    """The api_url to use instead, from a redirect's Location: the Location minus the path asked for."""
    if not requested_url:
        return None
    try:
        if not urlsplit(location).scheme:
            return None
        relative = requested_url[len(base_url):] if requested_url.startswith(base_url) else None
    except ValueError:
        return None
    if relative is None:
        return None
    relative_path = relative.split('?', 1)[0]
    location_path = location.split('?', 1)[0]
    if relative_path and location_path.endswith(relative_path):
        return location_path[:len(location_path) - len(relative_path)]
    if not relative_path:
        return location_path
    return None


# -- transport failures ---------------------------------------------------------


def _causes(exc):
    """exc and what it wraps (requests -> urllib3 MaxRetryError -> reason -> socket error)."""
    seen = []
    todo = [exc]
    while todo and len(seen) < 12:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.append(getattr(current, 'reason', None))
        todo.append(getattr(current, '__cause__', None))
        todo.append(getattr(current, '__context__', None))
        for arg in getattr(current, 'args', ()):
            if isinstance(arg, BaseException):
                todo.append(arg)
    return seen


def classify_transport_error(exc):
    """What a requests exception means for a retry: one of

    'unresolvable' (the host name does not resolve), 'refused' (no connection could be made),
    'connect-timeout' (the connection was not made in time), 'tls' (the TLS handshake failed),
    'read-timeout' (sent, no answer in time), 'dropped' (the connection broke after it was made).
    Only the last two can leave a write applied.
    """
    causes = _causes(exc)
    text = ' '.join(str(c) for c in causes).lower()
    new_connection = getattr(urllib3_exceptions, 'NewConnectionError', ())
    name_resolution = getattr(urllib3_exceptions, 'NameResolutionError', ())
    if isinstance(exc, requests_exceptions.SSLError):
        return 'tls'
    if isinstance(exc, requests_exceptions.ConnectTimeout):
        return 'connect-timeout'
    if isinstance(exc, requests_exceptions.Timeout):
        return 'read-timeout'
    if any(isinstance(c, socket.gaierror) for c in causes) or \
            (name_resolution and any(isinstance(c, name_resolution) for c in causes)) or \
            any(hint in text for hint in NAME_RESOLUTION_HINTS):
        return 'unresolvable'
    if isinstance(exc, requests_exceptions.ProxyError):
        return 'refused'
    if (new_connection and any(isinstance(c, new_connection) for c in causes)) or \
            any(isinstance(c, ConnectionRefusedError) for c in causes) or 'refused' in text:
        return 'refused'
    if 'timed out' in text:
        return 'read-timeout'
    return 'dropped'


def transport_cause(kind):
    """The words for a transport failure of this kind (classify_transport_error) in a retry event."""
    return {
        'unresolvable': 'the host name does not resolve',
        'refused': 'could not connect',
        'connect-timeout': 'the connection timed out',
        'read-timeout': 'no answer in time',
    }.get(kind, 'the connection dropped')


def transport_error(redactor, base_url, timeout, method, path, exc, kind, write):
    """The error of a request that got no answer; a write is ambiguous only when it may have arrived."""
    text = redactor.snippet(str(exc), 300)
    where = '%s %s' % (method, path)
    if kind == 'read-timeout':
        message = ('%s: no answer within %s seconds (the timeout option); raise timeout '
                   'if the API is slow' % (where, timeout))
    elif kind in ('unresolvable', 'refused'):
        why = 'the host name does not resolve' if kind == 'unresolvable' else 'the connection was refused'
        message = ('%s: could not connect to the API at api_url %s (%s); check api_url or IMPROVMX_API_URL, '
                   'and the network, DNS and proxy settings of the host that runs the module: %s'
                   % (where, base_url, why, text))
    elif kind == 'connect-timeout':
        message = ('%s: could not connect to the API at api_url %s within %s seconds (the timeout option): %s'
                   % (where, base_url, timeout, text))
    elif kind == 'tls':
        message = ('%s: the TLS connection to %s failed: %s; for a test server with a self-signed certificate '
                   'set validate_certs to false' % (where, base_url, text))
    else:
        message = '%s: the connection failed: %s' % (where, text)
    return build(redactor, message, method=method, path=path, ambiguous=write and kind in ('read-timeout', 'dropped'),
                 timeout=kind in ('read-timeout', 'connect-timeout'),
                 unreachable=kind in ('unresolvable', 'refused'))
