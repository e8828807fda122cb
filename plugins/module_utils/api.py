# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one HTTP client of the collection: every module talks to the ImprovMX API through it.

Retries are an explicit, bounded loop in ImprovMXClient.request() (requests' own adapter
never retries and never follows a redirect):

* reads (GET) are retried on 429, 502, 503, 504, timeouts and dropped connections;
* writes (POST, PUT, DELETE) are re-sent only where they cannot have been applied:
  a 429 answer and a connection that was never made. Any other failure of a write
  is raised as an *ambiguous* error and the caller re-reads the object to decide
  (see ImprovMXClient.write()), so a write is never sent twice blindly;
* a connection that is refused, or a host name that does not resolve, is retried
  only briefly (RetryPolicy.unreachable_retries): the API is not there, and saying
  so quickly beats minutes of silence.

Waits honour Retry-After, then X-RateLimit-Reset, then an exponential backoff with
jitter; each wait and the total time spent waiting are capped.

Pacing: the answers' X-RateLimit-Limit/Remaining/Reset headers are kept, per HTTP
method, in a small locked file in a directory private to the user (RateLimitState: by
default ~/.ansible/tmp/improvmx.email), named after a hash of the API URL and key (never
the key itself), so that the module processes of one controller that share an account
also share what the API last said about its budget. When the budget runs low, requests
are spaced out until the reset time (never later, and never more than one window of 60 s
ahead), each wait capped; a wait of more than a few seconds is listed in retry_events.
Without these headers nothing is paced. A state file that is not safe to use is refused
with one warning, and the process keeps its own state.

Secrets: the API key, and every secret a caller registers with add_secret(), are
replaced by REDACTED in every message and event the client produces, in every form
they may take in an answer (as is, with white space collapsed, JSON-escaped,
URL-encoded, HTML-escaped with named or numeric entities, base64-encoded alone or as
the Basic-auth value api:SECRET), before any text is shortened.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import errno
import hashlib
import json
import math
import os
import random
import re
import socket
import stat
import time
import traceback

from email.utils import parsedate_to_datetime
from html.entities import codepoint2name

from urllib.parse import quote, quote_plus, urlencode, urljoin, urlsplit

from ansible_collections.improvmx.email.plugins.module_utils.version import COLLECTION_VERSION

try:
    import fcntl
except ImportError:  # not on POSIX: the pacing state stays in the process
    fcntl = None

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3 import exceptions as urllib3_exceptions
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True

DEFAULT_API_URL = 'https://api.improvmx.com/v3/'
USER_AGENT = 'improvmx.email-ansible-collection/%s' % COLLECTION_VERSION
WRITE_METHODS = frozenset(['POST', 'PUT', 'DELETE'])
RETRY_STATUSES = frozenset([429, 502, 503, 504])
PAGE_LIMIT = 100
REDACTED = '********'
SNIPPET_SIZE = 200
RATE_STATE_PREFIX = 'improvmx-email-ratelimit-'
RATE_STATE_DIR_NAME = 'improvmx.email'  # the default directory of the state: ~/.ansible/tmp/improvmx.email
RATE_STATE_OFF = 'off'                  # rate_limit_state: keep the state in the module's process
RATE_WINDOW = 60.0   # the API's rate-limit window: a reset is never believed further ahead than this
PACE_REPORTED = 3.0  # a pacing wait longer than this many seconds is listed in api_retries


class RetryPolicy(object):
    """Bounds of the retry loop and of pacing; tests shrink them."""

    def __init__(self, retries=8, max_wait=60.0, max_total_wait=300.0, backoff_factor=1.0, jitter=1.0,
                 unreachable_retries=2, pacing=True):
        self.retries = retries                # retries of one request, all causes together
        self.max_wait = max_wait              # cap of a single wait, seconds
        self.max_total_wait = max_total_wait  # cap of all waits of one request, seconds
        self.backoff_factor = backoff_factor  # first backoff wait when the API gives no hint
        self.jitter = jitter                  # up to this many seconds are added at random
        # retries of a request whose connection was refused or whose host name does not resolve
        # (at most `retries`); a host name that does not resolve is retried at most once
        self.unreachable_retries = unreachable_retries
        self.pacing = pacing                  # space requests out when X-RateLimit-Remaining runs low


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


def api_path(*segments, **kwargs):
    """Join URL-quoted path segments; collection=True adds the trailing slash the API documents for lists."""
    path = '/'.join(quote(str(segment), safe='') for segment in segments)
    if kwargs.get('collection'):
        path += '/'
    return path


# -- secrets ------------------------------------------------------------------


def _base64_forms(secret):
    """The base64 forms of a secret: alone, and as the Basic-auth value api:SECRET the client sends, with and without padding."""
    forms = set()
    for value in (secret, 'api:' + secret):
        try:
            encoded = base64.b64encode(value.encode('utf-8')).decode('ascii')
        except UnicodeError:
            continue
        forms.add(encoded)
        forms.add(encoded.rstrip('='))
    return forms


def secret_forms(secret):
    """Every literal form in which a secret may show up in an answer or an exception text.

    HTML-escaped forms, whose characters may each be escaped differently, are matched by a
    pattern instead (_html_pattern).
    """
    if not isinstance(secret, str) or not secret:
        return set()
    bases = set([secret])
    collapsed = ' '.join(secret.split())
    if collapsed:
        bases.add(collapsed)
    bases.update(_base64_forms(secret))
    forms = set()
    for base in bases:
        forms.add(base)
        escaped = json.dumps(base)[1:-1]
        forms.add(escaped)
        forms.add(escaped.replace('/', '\\/'))
        forms.add(json.dumps(base, ensure_ascii=False)[1:-1])
        forms.add(quote(base, safe=''))
        forms.add(quote(base))
        forms.add(quote_plus(base))
        try:  # UTF-8 read as Latin-1, as requests does for a text answer without a charset
            forms.add(base.encode('utf-8').decode('latin-1'))
        except UnicodeError:
            pass
    forms.discard('')
    return forms


def _html_pattern(secret):
    """A regular expression for the secret HTML-escaped: each character as itself, a named entity
    (&quot; &amp; &ouml;) or a numeric one (&#246; &#xf6;), the ';' optional; white space as any."""
    parts = []
    for char in secret:
        if char.isspace():
            parts.append(r'(?:\s|&nbsp;?|&#0*(?:9|10|13|32|160);?|&#x0*(?:9|a|d|20|a0);?)+')
            continue
        choices = [re.escape(char), '&#0*%d;?' % ord(char), '&#x0*%x;?' % ord(char)]
        name = codepoint2name.get(ord(char))
        if name:
            choices.append('&%s;?' % name)
        if char == "'":
            choices.append('&apos;?')
        parts.append('(?:%s)' % '|'.join(choices))
    return ''.join(parts)


def _secret_pattern(secrets):
    forms = set()
    html = set()
    for secret in secrets:
        forms.update(secret_forms(secret))
        if isinstance(secret, str) and secret.strip():
            html.add(secret)
            html.add(' '.join(secret.split()))
    if not forms:
        return None
    # Longest first, so that a longer form is never cut by a shorter one; escapes (\u00e4, %C3)
    # are matched without case, as encoders differ in the case of hex digits; white space inside
    # a secret matches any white space (a body re-wrapped or collapsed). The HTML-escaped forms
    # come first: each matches the secret as is too, and any longer escaped spelling of it.
    ordered = sorted(forms, key=lambda form: (-len(form), form))
    alternatives = [_html_pattern(secret) for secret in sorted(html, key=lambda text: (-len(text), text))]
    alternatives.extend(r'\s+'.join(re.escape(part) for part in form.split()) if form.strip() else re.escape(form)
                        for form in ordered)
    return re.compile('|'.join(alternatives), re.IGNORECASE)


def redact(value, secrets):
    """value (a string, or lists and dicts of them) with every form of every secret replaced by REDACTED."""
    pattern = _secret_pattern([s for s in (secrets or ()) if s])
    if pattern is None:
        return value
    return _redact_with(pattern, value)


def _redact_with(pattern, value):
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, dict):
        return dict((_redact_with(pattern, k), _redact_with(pattern, v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_redact_with(pattern, v) for v in value]
    return value


def _collapse(text):
    return ' '.join((text or '').split())


def _shorten(text, size=SNIPPET_SIZE):
    return text if len(text) <= size else text[:size] + '...'


def _text_of(response):
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


def _api_message(body):
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


# -- transport failures ---------------------------------------------------------

NAME_RESOLUTION_HINTS = ('name or service not known', 'nodename nor servname', 'getaddrinfo failed',
                         'temporary failure in name resolution', 'failed to resolve', 'no address associated',
                         'name resolution')


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
    if isinstance(exc, requests.exceptions.SSLError):
        return 'tls'
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return 'connect-timeout'
    if isinstance(exc, requests.exceptions.Timeout):
        return 'read-timeout'
    if any(isinstance(c, socket.gaierror) for c in causes) or \
            (name_resolution and any(isinstance(c, name_resolution) for c in causes)) or \
            any(hint in text for hint in NAME_RESOLUTION_HINTS):
        return 'unresolvable'
    if isinstance(exc, requests.exceptions.ProxyError):
        return 'refused'
    if (new_connection and any(isinstance(c, new_connection) for c in causes)) or \
            any(isinstance(c, ConnectionRefusedError) for c in causes) or 'refused' in text:
        return 'refused'
    if 'timed out' in text:
        return 'read-timeout'
    return 'dropped'


# -- pacing -----------------------------------------------------------------------


def _finite(value):
    """value as a float when it is a finite number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return None
    return value


def _header_number(headers, name):
    """A header's value as a finite float; None when it is missing, not a number, infinite or NaN."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        return _finite(float(str(value).strip()))
    except (ValueError, OverflowError):
        return None


def reset_time(value, now):
    """The Unix time an X-RateLimit-Reset value means, never more than one window (RATE_WINDOW) ahead of now.

    The API sends a Unix time in seconds; a small number is read as seconds from now, a huge one
    as milliseconds since the epoch (a proxy's). None for a value that is not a finite number >= 0.
    """
    value = _finite(value)
    if value is None or value < 0:
        return None
    if value > 1e11:  # milliseconds since the epoch: 1e11 seconds is the year 5138
        value /= 1000.0
    if value < 1e9:  # seconds from now rather than a Unix time
        value += now
    return min(value, now + RATE_WINDOW)


class _Refused(Exception):
    """The shared state file, or its directory, is not safe to use (the reason is the message)."""


def default_rate_state_dir():
    """Where the rate-limit state is shared by default: ~/.ansible/tmp/improvmx.email (the user's own)."""
    return os.path.join(os.path.expanduser('~'), '.ansible', 'tmp', RATE_STATE_DIR_NAME)


class RateLimitState(object):
    """What the API last said about the account's budget, per HTTP method, shared through a locked file.

    The file (JSON, mode 0600) lives in a directory private to the user (directory, by default
    ~/.ansible/tmp/improvmx.email: created with mode 0700; its owner and mode are checked before
    each use) and is named after a hash of the API URL and key; it holds only numbers:
    {method: {"limit", "remaining", "reset"}}. It is opened without following a symbolic link and
    without blocking, and used only when it is a regular file of the user with no other link.
    Anything else (a symbolic link, a FIFO, another user's file or directory, a directory that
    cannot be written) is refused once: the state then stays in this process, and warn(message),
    when given, is called that one time. With shared=False, or without fcntl, the state stays in
    this process from the start. A missing or corrupt file counts as knowing nothing.
    """

    def __init__(self, api_url, api_key, directory=None, shared=True, warn=None):
        digest = hashlib.sha256(('improvmx.email rate limit\0%s\0%s' % (api_url, api_key)).encode('utf-8', 'replace'))
        self.directory = directory or default_rate_state_dir()
        self.path = os.path.join(self.directory, RATE_STATE_PREFIX + digest.hexdigest()[:32] + '.json')
        self.shared = shared and fcntl is not None
        self.refused = None  # why the file is not used (set once, when it is refused)
        self._warn = warn
        self._local = {}

    def _refuse(self, reason):
        self.refused = reason
        if self._warn is not None:
            self._warn('the shared rate-limit state %s is not used: %s. This task spaces its API requests out on '
                       'its own, not together with the other tasks that use the same account. Set the option '
                       'rate_limit_state (or IMPROVMX_RATE_LIMIT_STATE) to a directory of your own (mode 0700), '
                       'or to off to keep the state per task without this warning' % (self.path, reason))

    def _directory(self):
        """Make sure the directory is a real directory of this user that no one else may enter, or raise _Refused."""
        directory = self.directory
        if not os.path.isabs(directory):
            raise _Refused('its directory %r is not an absolute path' % directory)
        try:
            info = os.lstat(directory)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise _Refused('its directory cannot be read (%s)' % exc.strerror)
            try:
                os.makedirs(directory, 0o700)
            except OSError as made:
                if made.errno != errno.EEXIST:
                    raise _Refused('its directory cannot be created (%s)' % made.strerror)
            info = os.lstat(directory)
        if stat.S_ISLNK(info.st_mode):
            raise _Refused('its directory %s is a symbolic link' % directory)
        if not stat.S_ISDIR(info.st_mode):
            raise _Refused('%s is not a directory' % directory)
        if info.st_uid != os.geteuid():
            raise _Refused('its directory %s belongs to another user (uid %d)' % (directory, info.st_uid))
        if info.st_mode & 0o077:
            raise _Refused('its directory %s is open to other users (mode %04o; it must be 0700)'
                           % (directory, stat.S_IMODE(info.st_mode)))

    def _open(self):
        """The state file, opened read-write (created when missing): a file descriptor, or raise _Refused."""
        self._directory()
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0)
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _Refused('it is a symbolic link')
            raise _Refused('it cannot be opened (%s)' % exc.strerror)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise _Refused('it is not a regular file')
            if info.st_uid != os.geteuid():
                raise _Refused('it belongs to another user (uid %d)' % info.st_uid)
            if info.st_nlink != 1:
                raise _Refused('it has other hard links')
            if info.st_mode & 0o022:
                raise _Refused('other users may write it (mode %04o)' % stat.S_IMODE(info.st_mode))
        except _Refused:
            os.close(fd)
            raise
        return fd

    def _update(self, change, create=True):
        """Apply change(state) -> result under the lock and save the state; returns the result.

        Without create, a missing file is not made: only an answer with rate-limit headers creates it.
        """
        if not self.shared or self.refused is not None or (not create and not os.path.lexists(self.path)):
            return change(self._local)
        try:
            fd = self._open()
        except _Refused as exc:
            self._refuse(str(exc))
            return change(self._local)
        except OSError:
            return change(self._local)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = b''
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                raw += chunk
            try:
                state = json.loads(raw.decode('utf-8')) if raw.strip() else {}
            except ValueError:
                state = {}
            if not isinstance(state, dict):
                state = {}
            result = change(state)
            data = json.dumps(state, sort_keys=True).encode('utf-8')
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, data)
            if len(data) < len(raw):
                # Only cut what the old state had beyond the new one: truncating to zero first costs a
                # file system round trip on every request (milliseconds on a busy disk).
                os.ftruncate(fd, len(data))
            return result
        except (OSError, ValueError):
            return change(self._local)
        finally:
            os.close(fd)

    def learn(self, bucket, headers, now=None):
        """Keep what an answer's X-RateLimit-* headers say; answers without them change nothing.

        A fresh answer replaces what was known, except within the same window (the same reset),
        where an answer that arrived late must not restore spent budget. A reset is never
        believed more than one window ahead (reset_time).
        """
        now = time.time() if now is None else now
        remaining = _header_number(headers, 'X-RateLimit-Remaining')
        reset = reset_time(_header_number(headers, 'X-RateLimit-Reset'), now)
        if remaining is None or reset is None:
            return
        limit = _header_number(headers, 'X-RateLimit-Limit')

        def change(state):
            known = state.get(bucket)
            if isinstance(known, dict) and _finite(known.get('reset')) == reset:
                stored = _finite(known.get('remaining'))
                remaining_now = remaining if stored is None else min(remaining, stored)
            else:
                remaining_now = remaining
            state[bucket] = {'limit': limit, 'remaining': max(0.0, remaining_now), 'reset': reset}

        self._update(change)

    def reserve(self, bucket, now=None):
        """Seconds to wait before one more request of this bucket (0 when the budget is fine), and count it."""
        return self.reserve_why(bucket, now)[0]

    def reserve_why(self, bucket, now=None):
        """(seconds to wait, why) before one more request of this bucket, and count it; why is None without a wait.

        A stored state that cannot be true (a reset more than one window ahead, a number that is
        not finite) is dropped, as if nothing were known.
        """
        now = time.time() if now is None else now

        def change(state):
            known = state.get(bucket)
            if not isinstance(known, dict):
                return 0.0, None
            reset = _finite(known.get('reset'))
            remaining = _finite(known.get('remaining'))
            if reset is None or remaining is None or remaining < 0 or reset > now + RATE_WINDOW + 1:
                del state[bucket]
                return 0.0, None
            if reset <= now:
                return 0.0, None
            limit = _finite(known.get('limit'))
            low = max(1.0, (limit or 10.0) * 0.1)
            until_reset = reset - now
            said = 'the API said %d%s %s requests were left in its rate-limit window, which resets in %.0f s' % (
                remaining, ' of %d' % limit if limit else '', bucket, until_reset)
            if remaining < 1:
                return until_reset, said  # the window is spent: the next request fits after its reset
            known['remaining'] = remaining - 1
            if remaining > low:
                return 0.0, None
            return until_reset / (remaining + 1), said + ', so the requests are spread over that time'

        return self._update(change, create=False) or (0.0, None)


# -- the client ---------------------------------------------------------------------


class ImprovMXClient(object):
    """A requests.Session bound to one ImprovMX account."""

    def __init__(self, api_key, api_url=DEFAULT_API_URL, validate_certs=True, timeout=30, retry_policy=None,
                 rate_state_dir=None, share_rate_state=True, warn=None):
        """rate_state_dir: where the rate-limit state is shared (default_rate_state_dir() when None);
        share_rate_state=False keeps it in this process; warn(message) receives the client's warnings
        (they are also kept in self.warnings)."""
        check_api_key(api_key)
        self.base_url = api_url.rstrip('/') + '/'
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.policy = retry_policy or RetryPolicy()
        self.retry_events = []
        self.warnings = []
        self._warn_to = warn
        self.request_count = 0
        self.paced_seconds = 0.0  # time spent spacing requests out because the rate-limit budget ran low
        self._secrets = [api_key]
        self._pattern = _secret_pattern(self._secrets)
        self.rate_state = RateLimitState(self.base_url, api_key, rate_state_dir, shared=share_rate_state,
                                         warn=self._warning) if self.policy.pacing else None
        self.session = requests.Session()
        self.session.auth = ('api', api_key)
        self.session.verify = validate_certs
        self.session.headers.update({
            'User-Agent': USER_AGENT,
            'Accept': 'application/json',
        })
        # The adapter never retries and never follows a redirect: request() decides.
        adapter = HTTPAdapter(max_retries=0)
        self.session.mount('http://', adapter)
        self.session.mount('https://', adapter)

    # -- secrets ----------------------------------------------------------

    def add_secret(self, secret):
        """Register one more secret (a password) to keep out of every message, error and event."""
        if isinstance(secret, str) and secret and secret not in self._secrets:
            self._secrets.append(secret)
            self._pattern = _secret_pattern(self._secrets)

    def redact(self, value):
        """value (a string, or lists and dicts of them) without any registered secret, in any form."""
        if self._pattern is None:
            return value
        return _redact_with(self._pattern, value)

    def _snippet(self, text, size=SNIPPET_SIZE):
        """Text from an answer, fit to quote: secrets removed, then white space collapsed, then shortened."""
        return _shorten(self.redact(_collapse(self.redact(text or ''))), size)

    def _error(self, message, cls=None, **kwargs):
        for key in ('errors', 'detail'):
            if kwargs.get(key):
                kwargs[key] = self.redact(kwargs[key])
        return (cls or ImprovMXError)(self.redact(message), **kwargs)

    def _event(self, text):
        self.retry_events.append(self.redact(text))

    def _warning(self, text):
        text = self.redact(text)
        self.warnings.append(text)
        if self._warn_to is not None:
            self._warn_to(text)

    # -- requests -------------------------------------------------------

    def request(self, method, path, data=None, params=None, accept_unsuccessful=False):
        """Send one request (with the retries that are safe) and return the decoded JSON answer.

        A 2xx answer whose body says "success": false is raised as an error, unless
        accept_unsuccessful is true: the DNS check answers success false (with its records)
        when the domain's entries are not valid.
        """
        method = method.upper()
        write = method in WRITE_METHODS
        url = self.base_url + path.lstrip('/')
        shown = path + ('?' + urlencode(sorted(params.items())) if params else '')
        policy = self.policy
        retries = 0
        unreachable = 0
        waited = 0.0
        just_waited = False
        while True:
            if not just_waited:
                waited += self._pace(method, shown, waited)
            just_waited = False
            self.request_count += 1
            try:
                response = self.session.request(method, url, json=data, params=params, timeout=self.timeout,
                                                verify=self.validate_certs, allow_redirects=False)
            except requests.exceptions.RequestException as exc:
                kind = classify_transport_error(exc)
                never_made = kind in ('unresolvable', 'refused', 'connect-timeout')
                retry = never_made or (not write and kind in ('read-timeout', 'dropped'))
                if kind in ('unresolvable', 'refused'):
                    limit = 1 if kind == 'unresolvable' else policy.unreachable_retries
                    retry = retry and unreachable < min(limit, policy.retries)
                    unreachable += 1
                error = self._transport_error(method, path, exc, kind, write)
                if not retry or retries >= policy.retries or waited >= policy.max_total_wait:
                    raise error
                cause = self._transport_cause(kind)
                hint = None
            else:
                if self.rate_state is not None:
                    self.rate_state.learn(method, response.headers)
                status = response.status_code
                retry = status == 429 or (not write and status in RETRY_STATUSES)
                if not retry or retries >= policy.retries or waited >= policy.max_total_wait:
                    return self._decode(method, path, response, write, accept_unsuccessful, retries, waited)
                cause = 'HTTP %s' % status
                hint = self._hint(response)
            retries += 1
            wait = hint if hint is not None else self._backoff(retries)
            wait = max(0.0, min(wait, policy.max_wait, policy.max_total_wait - waited))
            self._event('%s %s: %s, retrying after %.1f s' % (method, shown, cause, wait))
            waited += wait
            just_waited = True
            if wait > 0:
                time.sleep(wait)

    def _backoff(self, retries):
        return self.policy.backoff_factor * (2 ** (retries - 1)) + random.random() * self.policy.jitter

    @staticmethod
    def _hint(response):
        """The wait the API asks for: Retry-After (seconds or an HTTP date), else, on a 429, X-RateLimit-Reset.

        A value that is not a finite number is no hint; the caller caps the wait.
        """
        value = response.headers.get('Retry-After')
        if value is not None:
            seconds = _header_number(response.headers, 'Retry-After')
            if seconds is not None:
                return max(0.0, seconds)
            try:
                when = parsedate_to_datetime(value.strip())
                if when is not None:
                    return max(0.0, when.timestamp() - time.time())
            except (TypeError, ValueError, IndexError, OverflowError):
                pass
        if response.status_code == 429:
            now = time.time()
            reset = reset_time(_header_number(response.headers, 'X-RateLimit-Reset'), now)
            if reset is not None:
                return max(reset - now, 0.0) + 0.5
        return None

    def _pace(self, method, shown, waited):
        """Space requests out when the shared rate-limit budget of this method runs low; returns the wait.

        A wait longer than PACE_REPORTED seconds is listed in retry_events, with what the API said.
        """
        if self.rate_state is None:
            return 0.0
        try:
            wait, why = self.rate_state.reserve_why(method)
        except Exception:  # pacing is an optimisation: never fail a request over it
            return 0.0
        wait = max(0.0, min(wait, self.policy.max_wait, self.policy.max_total_wait - waited))
        if wait > PACE_REPORTED:
            self._event('%s %s: waited %.1f s before sending it, to stay within the API\'s rate limit: %s'
                        % (method, shown, wait, why))
        if wait > 0:
            self.paced_seconds += wait
            time.sleep(wait)
        return wait

    @staticmethod
    def _transport_cause(kind):
        return {
            'unresolvable': 'the host name does not resolve',
            'refused': 'could not connect',
            'connect-timeout': 'the connection timed out',
            'read-timeout': 'no answer in time',
        }.get(kind, 'the connection dropped')

    def _transport_error(self, method, path, exc, kind, write):
        text = self._snippet(str(exc), 300)
        where = '%s %s' % (method, path)
        if kind == 'read-timeout':
            message = ('%s: no answer within %s seconds (the timeout option); raise timeout '
                       'if the API is slow' % (where, self.timeout))
        elif kind in ('unresolvable', 'refused'):
            why = 'the host name does not resolve' if kind == 'unresolvable' else 'the connection was refused'
            message = ('%s: could not connect to the API at api_url %s (%s); check api_url or IMPROVMX_API_URL, '
                       'and the network, DNS and proxy settings of the host that runs the module: %s'
                       % (where, self.base_url, why, text))
        elif kind == 'connect-timeout':
            message = ('%s: could not connect to the API at api_url %s within %s seconds (the timeout option): %s'
                       % (where, self.base_url, self.timeout, text))
        elif kind == 'tls':
            message = ('%s: the TLS connection to %s failed: %s; for a test server with a self-signed certificate '
                       'set validate_certs to false' % (where, self.base_url, text))
        else:
            message = '%s: the connection failed: %s' % (where, text)
        return self._error(message, method=method, path=path, ambiguous=write and kind in ('read-timeout', 'dropped'),
                           timeout=kind in ('read-timeout', 'connect-timeout'),
                           unreachable=kind in ('unresolvable', 'refused'))

    def _decode(self, method, path, response, write, accept_unsuccessful=False, retries=0, waited=0.0):
        status = response.status_code
        if 300 <= status < 400:
            raise self._redirect_error(method, path, response)
        body = None
        decoded = False
        if response.content:
            try:
                body = response.json()
                decoded = True
            except ValueError:
                pass
        if 200 <= status < 300:
            if not decoded:
                what = 'an empty body' if not response.content else 'a body that is not JSON (%s: %s)' % (
                    response.headers.get('Content-Type', 'no content type'), self._snippet(_text_of(response)))
                raise self._error('%s %s: the API answered HTTP %s with %s' % (method, path, status, what),
                                  method=method, path=path, status=status, ambiguous=write)
            if isinstance(body, dict) and body.get('success') is False and not accept_unsuccessful:
                detail, errors = _api_message(body)
                detail = self._snippet(detail) if detail else self._snippet(_text_of(response))
                raise self._error('%s %s: the API reported a failure: %s' % (method, path, detail),
                                  method=method, path=path, status=status, errors=errors, detail=detail)
            return body
        raise self._status_error(method, path, response, body, decoded, write, retries, waited)

    def _redirect_error(self, method, path, response):
        status = response.status_code
        location = response.headers.get('Location')
        where = '%s %s' % (method, path)
        if not location:
            return self._error('%s: the API answered HTTP %s, a redirect without a Location; redirects are not '
                               'followed: check api_url (%s)' % (where, status, self.base_url),
                               method=method, path=path, status=status)
        requested = response.request.url if response.request is not None else None
        try:
            location = self.redact(urljoin(requested or self.base_url, location))  # a relative Location made absolute
        except ValueError:
            location = self.redact(location)
        suggestion = _base_of(location, requested, self.base_url)
        advice = 'set api_url to %s instead' % suggestion if suggestion else 'correct api_url (%s)' % self.base_url
        if method in WRITE_METHODS:
            what = 'the write was not sent again there (a redirect may turn it into a GET that writes nothing)'
        else:
            what = 'redirects are not followed'
        return self._error('%s: the API answered HTTP %s, redirecting to %s; %s: %s'
                           % (where, status, location, what, advice),
                           method=method, path=path, status=status, location=location)

    def _status_error(self, method, path, response, body, decoded, write, retries=0, waited=0.0):
        status = response.status_code
        detail, errors = _api_message(body)
        if detail is None:
            if decoded or not response.content:
                detail = self._snippet(_text_of(response)) or 'no details given'
            else:
                detail = 'the answer is not JSON (%s): %s' % (response.headers.get('Content-Type', 'no content type'),
                                                              self._snippet(_text_of(response)))
        else:
            detail = self._snippet(detail)
        where = '%s %s' % (method, path)
        kwargs = dict(method=method, path=path, status=status, errors=errors, detail=detail)
        if status == 401:
            return self._error('%s: the API key was rejected (HTTP 401: %s); check api_key or IMPROVMX_API_KEY'
                               % (where, detail), **kwargs)
        if status == 403:
            return self._error('%s: the account may not use this feature, or the API key may not do this (HTTP 403: %s); '
                               'either the feature needs a premium ImprovMX plan the account does not have, or the key '
                               'is not allowed this request' % (where, detail), **kwargs)
        if status == 404:
            return self._error('%s: not found (HTTP 404: %s)' % (where, detail), cls=ImprovMXNotFound, **kwargs)
        if status == 429:
            return self._error('%s: still rate limited by the API (HTTP 429) after %d retries and %.0f s of waiting; '
                               'giving up (%s)' % (where, retries, waited, detail), **kwargs)
        if status >= 500:
            return self._error('%s: the API failed with HTTP %s: %s' % (where, status, detail),
                               ambiguous=write, **kwargs)
        return self._error('%s: the API refused the request with HTTP %s: %s' % (where, status, detail), **kwargs)

    def get(self, path, params=None, accept_unsuccessful=False):
        return self.request('GET', path, params=params, accept_unsuccessful=accept_unsuccessful)

    def get_or_none(self, path, params=None):
        """GET an object; None when the API says it does not exist."""
        try:
            return self.get(path, params=params)
        except ImprovMXNotFound:
            return None

    def post(self, path, data):
        return self.request('POST', path, data=data)

    def put(self, path, data):
        return self.request('PUT', path, data=data)

    def delete(self, path):
        return self.request('DELETE', path)

    def write(self, method, path, data=None, confirm=None, idempotent=False):
        """Send a write; when its outcome is unknown, ask confirm() whether it took effect.

        confirm re-reads the object and returns the answer to use in place of the
        write's own (for instance the object now stored) when the write did take
        effect, or None when it did not, in which case the original error is raised.
        A write is never sent a second time, with one exception: a write that no re-read
        can confirm (confirm is None) and that is idempotent (a PUT of absolute values,
        such as a password) is sent once more when its outcome is unknown; sending it
        twice has the effect of sending it once.
        """
        try:
            return self.request(method, path, data=data)
        except ImprovMXError as exc:
            if not exc.ambiguous:
                raise
            if confirm is None:
                if not idempotent:
                    raise
                self._event('%s; it cannot be re-read, so the same (idempotent) request was sent again'
                            % _named(method, path, exc))
                return self.request(method, path, data=data)
            return self.confirm_write(method, path, exc, confirm)

    def confirm_write(self, method, path, exc, confirm):
        """Decide an ambiguous write (exc) by confirm(): its answer when the re-read shows the change, else raise exc.

        exc's message then says whether the write was not applied (running again is safe) or
        whether that is unknown because the re-read failed too (running again converges).
        """
        try:
            result = confirm()
        except ImprovMXError as reread:
            exc.message = self.redact(
                '%s; the write may have been applied: reading it back to check also failed (%s); running the task '
                'again converges (it reads the current state first)' % (exc.message, reread.message))
            raise exc
        if result is None:
            exc.message = ('%s; a re-read does not show the change, so it was not applied (or not yet): '
                           'running the task again is safe' % exc.message)
            raise exc
        self._event('%s; a re-read shows the change was applied' % _named(method, path, exc))
        return result

    def remove(self, path, confirm=None):
        """DELETE an object that was seen a moment ago, through write() (confirm as there).

        Returns True when this request removed it, False when the API answers 404: another
        run removed it in the meantime, so it is absent all the same and this run changed nothing.
        """
        try:
            self.write('DELETE', path, confirm=confirm)
        except ImprovMXNotFound as exc:
            self._event('%s; it was already removed (by another run), so it is absent all the same'
                        % _named('DELETE', path, exc))
            return False
        return True

    # -- lists ----------------------------------------------------------

    def paginate(self, path, key, params=None, limit=PAGE_LIMIT):
        """Yield every item of a page/limit list.

        With a total in the answers, the walk goes on until the items seen reach it; a page
        that brings nothing new before that, a total that changes from one page to the next
        or more items than the total is a listing that contradicts itself (a page lost, an
        object added or removed meanwhile): the list is read again from page 1, yielding only
        what was not yielded yet, and when it contradicts itself again an ImprovMXError is
        raised, so that nothing is ever decided on an incomplete list. Without a total, the
        walk stops at an empty page, a page shorter than the page size the server says it
        used (a server that ignores limit reports its own) or a page that repeats what was seen.
        """
        yielded = set()
        for attempt in (1, 2):
            try:
                for item in self._walk(path, key, params, limit):
                    mark = _identity(item)
                    if mark in yielded:
                        continue
                    yielded.add(mark)
                    yield item
                return
            except _Contradiction as exc:
                shown = '%s %s' % ('GET', path)
                if attempt == 2:
                    raise self._error('%s: the list contradicts itself again when read a second time from page 1 (%s); '
                                      'nothing was decided on it: running the task again reads it afresh'
                                      % (shown, exc), method='GET', path=path)
                self._event('%s: the list contradicts itself (%s); reading it again from page 1' % (shown, exc))

    def _walk(self, path, key, params, limit):
        """One walk of a page/limit list from page 1 (see paginate); raises _Contradiction."""
        query = dict(params or {})
        page = 1
        seen = 0
        seen_ids = set()
        first_total = None
        while True:
            query.update({'limit': limit, 'page': page})
            body = self.get(path, params=query) or {}
            items = body.get(key) or []
            total = body.get('total')
            total = total if isinstance(total, int) and not isinstance(total, bool) else None
            if page == 1:
                first_total = total
            elif total != first_total:
                raise _Contradiction('page %d says total %s, page 1 said %s' % (page, total, first_total))
            new = 0
            for item in items:
                ident = item.get('id') if isinstance(item, dict) else None
                if ident is not None:
                    if ident in seen_ids:
                        continue
                    seen_ids.add(ident)
                new += 1
                yield item
            seen += new
            if total is not None:
                if seen > total:
                    raise _Contradiction('%d items seen by page %d, more than the total of %d' % (seen, page, total))
                if seen == total:
                    return
                if new == 0:
                    raise _Contradiction('page %d brings %s although total says %d and %d were seen'
                                         % (page, 'no new item' if items else 'an empty list', total, seen))
                page += 1
                continue
            page_size = body.get('limit') or limit
            if not items or new == 0 or len(items) < page_size:
                return
            page += 1

    def cursor_list(self, path, key, cursor=None, max_items=None, params=None):
        """Collect a cursor list (logs); return (items, next_cursor).

        Each request asks for the items after the cursor, the id of the last item seen
        (or the next_cursor the server gives). next_cursor is None exactly when the server
        has nothing more; when max_items stopped the walk, it is where to resume. To tell the
        two apart, a walk that reaches max_items at the end of a page reads one page more.
        params (such as a filter) go with every request.
        """
        items = []
        while True:
            query = dict(params or {})
            if cursor:
                query['next_cursor'] = cursor
            body = self.get(path, params=query or None) or {}
            page = body.get(key) or []
            if not page:
                return items, None
            items.extend(page)
            if max_items is not None and len(items) > max_items:
                del items[max_items:]
                return items, _last_id(items)
            following = body.get('next_cursor') or _last_id(page)
            if not following or following == cursor:
                return items, None
            cursor = following


def check_api_key(api_key):
    """Raise ValueError (never quoting the key) when api_key cannot be sent as the Basic-auth password."""
    if not isinstance(api_key, str) or not api_key.strip():
        raise ValueError('api_key is missing: set the api_key option or the IMPROVMX_API_KEY environment variable '
                         'to the key from the API page of the ImprovMX dashboard')
    try:
        api_key.encode('latin-1')
    except UnicodeEncodeError:
        raise ValueError('api_key holds a character that cannot be sent in an HTTP header (ImprovMX API keys are '
                         'plain ASCII): copy the key again from the API page of the ImprovMX dashboard; '
                         'the key is not shown here')
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in api_key):
        raise ValueError('api_key holds a control character (a line break?): copy the key again from the API page '
                         'of the ImprovMX dashboard; the key is not shown here')


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


def _named(method, path, error):
    """An error's message naming its request once: the client's own messages start with "METHOD path: "."""
    text = str(error)
    where = '%s %s' % (method, path)
    if text == where or text.startswith(where + ':') or text.startswith(where + ' '):
        return text
    return '%s: %s' % (where, text)


class _Contradiction(Exception):
    """A listing whose pages contradict each other (paginate reads it again, then fails)."""


def _identity(item):
    """What tells two items of a list apart across two walks: the id, else the whole item."""
    if isinstance(item, dict) and item.get('id') is not None:
        return ('id', str(item['id']))
    return ('item', json.dumps(item, sort_keys=True, default=str))


def _last_id(items):
    for item in reversed(items):
        if isinstance(item, dict) and item.get('id'):
            return item['id']
    return None
