# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Transport and retries: ImprovMXClient, the one object that sends HTTP to the ImprovMX API.

This file owns the client (a requests.Session bound to one account), RetryPolicy, api_path()
and check_api_key(). Retries are an explicit, bounded loop in ImprovMXClient.request()
(requests' own adapter never retries and never follows a redirect):

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

Pacing: when the shared rate-limit budget (ratelimit.py) runs low, requests are spaced out
until the reset time, each wait capped; a wait of more than a few seconds is listed in
retry_events. Without the API's rate-limit headers nothing is paced.

The other layers: errors.py words every failure, redaction.py keeps the secrets out of every
message and event, lists.py reads whole lists on top of get().
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import random
import time
import traceback

from email.utils import parsedate_to_datetime

from urllib.parse import quote, urlencode

from ansible_collections.improvmx.email.plugins.module_utils.version import COLLECTION_VERSION
from ansible_collections.improvmx.email.plugins.module_utils.api import errors, lists
from ansible_collections.improvmx.email.plugins.module_utils.api.errors import ImprovMXError, ImprovMXNotFound
from ansible_collections.improvmx.email.plugins.module_utils.api.ratelimit import (
    RateLimitState,
    header_number,
    reset_time,
)
from ansible_collections.improvmx.email.plugins.module_utils.api.redaction import Redactor

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests.adapters import HTTPAdapter
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True

DEFAULT_API_URL = 'https://api.improvmx.com/v3/'
USER_AGENT = 'improvmx.email-ansible-collection/%s' % COLLECTION_VERSION
WRITE_METHODS = frozenset(['POST', 'PUT', 'DELETE'])
RETRY_STATUSES = frozenset([429, 502, 503, 504])
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


def api_path(*segments, **kwargs):
    """Join URL-quoted path segments; collection=True adds the trailing slash the API documents for lists."""
    path = '/'.join(quote(str(segment), safe='') for segment in segments)
    if kwargs.get('collection'):
        path += '/'
    return path


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
        self._redactor = Redactor([api_key])
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

    # -- secrets, errors, events (redaction.py, errors.py) ------------------

    def add_secret(self, secret):
        """Register one more secret (a password) to keep out of every message, error and event."""
        self._redactor.add(secret)

    def redact(self, value):
        """value (a string, or lists and dicts of them) without any registered secret, in any form."""
        return self._redactor.redact(value)

    def error(self, message, cls=None, **kwargs):
        """An ImprovMXError (or cls) for the caller to raise, with every registered secret removed."""
        return errors.build(self._redactor, message, cls, **kwargs)

    def event(self, text):
        """List text (secrets removed) in retry_events, which modules return as api_retries."""
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
                kind = errors.classify_transport_error(exc)
                never_made = kind in ('unresolvable', 'refused', 'connect-timeout')
                retry = never_made or (not write and kind in ('read-timeout', 'dropped'))
                if kind in ('unresolvable', 'refused'):
                    limit = 1 if kind == 'unresolvable' else policy.unreachable_retries
                    retry = retry and unreachable < min(limit, policy.retries)
                    unreachable += 1
                error = errors.transport_error(self._redactor, self.base_url, self.timeout, method, path, exc, kind,
                                               write)
                if not retry or retries >= policy.retries or waited >= policy.max_total_wait:
                    raise error
                cause = errors.transport_cause(kind)
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
            self.event('%s %s: %s, retrying after %.1f s' % (method, shown, cause, wait))
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
            seconds = header_number(response.headers, 'Retry-After')
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
            reset = reset_time(header_number(response.headers, 'X-RateLimit-Reset'), now)
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
            self.event('%s %s: waited %.1f s before sending it, to stay within the API\'s rate limit: %s'
                       % (method, shown, wait, why))
        if wait > 0:
            self.paced_seconds += wait
            time.sleep(wait)
        return wait

    def _decode(self, method, path, response, write, accept_unsuccessful=False, retries=0, waited=0.0):
        status = response.status_code
        if 300 <= status < 400:
            raise errors.redirect_error(self._redactor, self.base_url, method, path, response, write)
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
                    response.headers.get('Content-Type', 'no content type'),
                    self._redactor.snippet(errors.text_of(response)))
                raise self.error('%s %s: the API answered HTTP %s with %s' % (method, path, status, what),
                                 method=method, path=path, status=status, ambiguous=write)
            if isinstance(body, dict) and body.get('success') is False and not accept_unsuccessful:
                detail, api_errors = errors.api_message(body)
                detail = self._redactor.snippet(detail if detail else errors.text_of(response))
                raise self.error('%s %s: the API reported a failure: %s' % (method, path, detail),
                                 method=method, path=path, status=status, errors=api_errors, detail=detail)
            return body
        raise errors.status_error(self._redactor, method, path, response, body, decoded, write, retries, waited)

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

    # -- writes whose outcome is unknown --------------------------------

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
                self.event('%s; it cannot be re-read, so the same (idempotent) request was sent again'
                           % errors.named(method, path, exc))
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
        self.event('%s; a re-read shows the change was applied' % errors.named(method, path, exc))
        return result

    def remove(self, path, confirm=None):
        """DELETE an object that was seen a moment ago, through write() (confirm as there).

        Returns True when this request removed it, False when the API answers 404: another
        run removed it in the meantime, so it is absent all the same and this run changed nothing.
        """
        try:
            self.write('DELETE', path, confirm=confirm)
        except ImprovMXNotFound as exc:
            self.event('%s; it was already removed (by another run), so it is absent all the same'
                       % errors.named('DELETE', path, exc))
            return False
        return True

    # -- lists (lists.py) ---------------------------------------------

    def paginate(self, path, key, params=None, limit=lists.PAGE_LIMIT, until_empty=False):
        """Yield every item of a page/limit list, read to the end (lists.paginate)."""
        return lists.paginate(self, path, key, params, limit, until_empty)

    def cursor_list(self, path, key, cursor=None, max_items=None, params=None):
        """Collect a cursor list (logs); return (items, next_cursor) (lists.cursor_list)."""
        return lists.cursor_list(self, path, key, cursor, max_items, params)
