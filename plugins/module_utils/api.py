# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one HTTP client of the collection: every module talks to the ImprovMX API through it.

Retries live here, on urllib3's Retry (through a requests HTTPAdapter):

* reads (GET) are retried on 429, 502, 503, 504, timeouts and dropped connections;
* writes (POST, PUT, DELETE) are retried only where they cannot have been applied:
  a 429 answer and a connection that was never made. Any other failure of a write
  is raised as an *ambiguous* error and the caller re-reads the object to decide
  (see ImprovMXClient.write()), so a write is never sent twice blindly.

Waits honour Retry-After, then X-RateLimit-Reset, then an exponential backoff with
jitter; each wait and the total time spent waiting are capped.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import random
import time
import traceback

from urllib.parse import quote

from ansible_collections.improvmx.email.plugins.module_utils.version import COLLECTION_VERSION

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    Retry = object
else:
    HAS_REQUESTS = True

DEFAULT_API_URL = 'https://api.improvmx.com/v3/'
USER_AGENT = 'improvmx.email-ansible-collection/%s' % COLLECTION_VERSION
WRITE_METHODS = frozenset(['POST', 'PUT', 'DELETE'])
PAGE_LIMIT = 100


class RetryPolicy(object):
    """Bounds of the retry loop; tests shrink them."""

    def __init__(self, retries=8, max_wait=60.0, max_total_wait=300.0, backoff_factor=1.0, jitter=1.0):
        self.retries = retries                # retries of one request, all causes together
        self.max_wait = max_wait              # cap of a single wait, seconds
        self.max_total_wait = max_total_wait  # cap of all waits of one request, seconds
        self.backoff_factor = backoff_factor  # first backoff wait when the API gives no hint
        self.jitter = jitter                  # up to this many seconds are added at random


class ImprovMXError(Exception):
    """An API request that failed.

    status is the HTTP status (None when no answer came), method and path say which
    request (the API key is never part of either), errors holds the API's
    per-field messages when it sent them. ambiguous is true for a write whose outcome
    is unknown (5xx, no answer, an answer that is not JSON): it may have been applied.
    """

    def __init__(self, message, method=None, path=None, status=None, errors=None, ambiguous=False, timeout=False):
        super(ImprovMXError, self).__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.errors = errors
        self.ambiguous = ambiguous
        self.timeout = timeout

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


def _api_message(body):
    """The API's explanation from either error shape it uses."""
    if not isinstance(body, dict):
        return None, None
    errors = body.get('errors')
    if isinstance(errors, dict) and errors:
        parts = []
        for field in sorted(errors):
            messages = errors[field]
            if not isinstance(messages, list):
                messages = [messages]
            parts.append('%s: %s' % (field, '; '.join(str(m) for m in messages)))
        return ', '.join(parts), errors
    if body.get('error'):
        return str(body['error']), None
    if isinstance(errors, (list, str)) and errors:
        return str(errors), None
    return None, None


def _snippet(text, size=200):
    text = ' '.join((text or '').split())
    return text if len(text) <= size else text[:size] + '...'


class _Retry(Retry):
    """urllib3 Retry with the API's rate-limit headers, bounded waits and a log of what it did."""

    def __init__(self, *args, **kwargs):
        self.policy = kwargs.pop('policy', None) or RetryPolicy()
        self.events = kwargs.pop('events', None)
        self.waited = kwargs.pop('waited', 0.0)
        super(_Retry, self).__init__(*args, **kwargs)
        if self.events is None:
            self.events = []

    def new(self, **kw):
        kw.setdefault('policy', self.policy)
        kw.setdefault('events', self.events)
        kw.setdefault('waited', self.waited)
        return super(_Retry, self).new(**kw)

    def is_retry(self, method, status_code, has_retry_after=False):
        # A 429 means the API refused the request unseen: safe to repeat for every method.
        if status_code == 429:
            return True
        return super(_Retry, self).is_retry(method, status_code, has_retry_after)

    def is_exhausted(self):
        if self.waited >= self.policy.max_total_wait:
            return True
        return super(_Retry, self).is_exhausted()

    def get_retry_after(self, response):
        value = response.headers.get('Retry-After')
        if value is not None:
            try:
                return self.parse_retry_after(value)
            except Exception:  # an unparsable header: fall back to the next hint
                pass
        reset = response.headers.get('X-RateLimit-Reset')
        if reset is not None and response.status == 429:
            try:
                return max(float(reset) - time.time(), 0.0) + 0.5
            except ValueError:
                pass
        return None

    def get_backoff_time(self):
        consecutive = 0
        for entry in reversed(self.history):
            if entry.redirect_location is not None:
                break
            consecutive += 1
        if consecutive == 0:
            return 0.0
        return self.policy.backoff_factor * (2 ** (consecutive - 1)) + random.random() * self.policy.jitter

    def sleep(self, response=None):
        wait = None
        if response is not None:
            wait = self.get_retry_after(response)
        if wait is None:
            wait = self.get_backoff_time()
        wait = max(0.0, min(wait, self.policy.max_wait, self.policy.max_total_wait - self.waited))
        last = self.history[-1] if self.history else None
        if last is not None:
            cause = 'HTTP %s' % last.status if last.status else type(last.error).__name__
            self.events.append('%s %s: %s, retrying after %.1f s' % (
                last.method, _path_of(last.url), cause, wait))
        # The Retry object is copied for every attempt: keep the running total shared.
        self.waited += wait
        if wait > 0:
            time.sleep(wait)


def _path_of(url):
    url = url or ''
    marker = '/v3/'
    return url.split(marker, 1)[1] if marker in url else url


class ImprovMXClient(object):
    """A requests.Session bound to one ImprovMX account."""

    def __init__(self, api_key, api_url=DEFAULT_API_URL, validate_certs=True, timeout=30, retry_policy=None):
        self.base_url = api_url.rstrip('/') + '/'
        self.timeout = timeout
        self.policy = retry_policy or RetryPolicy()
        self.retry_events = []
        self.request_count = 0
        self.session = requests.Session()
        self.session.auth = ('api', api_key)
        self.session.verify = validate_certs
        self.session.headers.update({
            'User-Agent': USER_AGENT,
            'Accept': 'application/json',
        })
        adapter = HTTPAdapter(max_retries=self._retry())
        self.session.mount('http://', adapter)
        self.session.mount('https://', adapter)

    def _retry(self):
        return _Retry(
            total=self.policy.retries,
            connect=self.policy.retries,
            read=self.policy.retries,
            status=self.policy.retries,
            other=0,
            redirect=0,
            allowed_methods=frozenset(['GET', 'HEAD']),
            status_forcelist=frozenset([429, 502, 503, 504]),
            raise_on_status=False,
            raise_on_redirect=False,
            respect_retry_after_header=True,
            policy=self.policy,
            events=self.retry_events,
        )

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
        self.request_count += 1
        try:
            response = self.session.request(method, url, json=data, params=params, timeout=self.timeout)
        except requests.exceptions.RequestException as exc:
            raise self._transport_error(method, path, exc, write)
        return self._decode(method, path, response, write, accept_unsuccessful)

    def _transport_error(self, method, path, exc, write):
        text = str(exc)
        timed_out = isinstance(exc, requests.exceptions.Timeout) or 'timed out' in text.lower()
        refused = isinstance(exc, requests.exceptions.ConnectTimeout) or 'refused' in text.lower()
        if timed_out and not isinstance(exc, requests.exceptions.ConnectTimeout):
            message = ('%s %s: no answer within %s seconds (the timeout option); raise timeout '
                       'if the API is slow' % (method, path, self.timeout))
        elif refused:
            message = '%s %s: could not connect to %s: %s' % (method, path, self.base_url, _snippet(text, 300))
        else:
            message = '%s %s: the connection failed: %s' % (method, path, _snippet(text, 300))
        return ImprovMXError(message, method=method, path=path, ambiguous=write and not refused, timeout=timed_out)

    def _decode(self, method, path, response, write, accept_unsuccessful=False):
        status = response.status_code
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
                    response.headers.get('Content-Type', 'no content type'), _snippet(response.text))
                raise ImprovMXError('%s %s: the API answered HTTP %s with %s' % (method, path, status, what),
                                    method=method, path=path, status=status, ambiguous=write)
            if isinstance(body, dict) and body.get('success') is False and not accept_unsuccessful:
                detail, errors = _api_message(body)
                raise ImprovMXError('%s %s: the API reported a failure: %s' % (method, path, detail or _snippet(response.text)),
                                    method=method, path=path, status=status, errors=errors)
            return body
        raise self._status_error(method, path, response, body, decoded, write)

    def _status_error(self, method, path, response, body, decoded, write):
        status = response.status_code
        detail, errors = _api_message(body)
        if detail is None:
            if decoded or not response.content:
                detail = _snippet(response.text) or 'no details given'
            else:
                detail = 'the answer is not JSON (%s): %s' % (response.headers.get('Content-Type', 'no content type'),
                                                              _snippet(response.text))
        where = '%s %s' % (method, path)
        kwargs = dict(method=method, path=path, status=status, errors=errors)
        if status == 401:
            return ImprovMXError('%s: the API key was rejected (HTTP 401: %s); check api_key or IMPROVMX_API_KEY'
                                 % (where, detail), **kwargs)
        if status == 403:
            return ImprovMXError('%s: the account may not use this feature (HTTP 403: %s); it needs a premium '
                                 'ImprovMX plan' % (where, detail), **kwargs)
        if status == 404:
            return ImprovMXNotFound('%s: not found (HTTP 404: %s)' % (where, detail), **kwargs)
        if status == 429:
            retries, waited = self._retries_of(response)
            return ImprovMXError('%s: still rate limited by the API (HTTP 429) after %d retries and %.0f s of waiting; '
                                 'giving up (%s)' % (where, retries, waited, detail), **kwargs)
        if status >= 500:
            return ImprovMXError('%s: the API failed with HTTP %s: %s' % (where, status, detail),
                                 ambiguous=write, **kwargs)
        return ImprovMXError('%s: the API refused the request with HTTP %s: %s' % (where, status, detail), **kwargs)

    @staticmethod
    def _retries_of(response):
        retry = getattr(response.raw, 'retries', None)
        return len(getattr(retry, 'history', ())), getattr(retry, 'waited', 0.0)

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
                self.retry_events.append('%s %s: %s; it cannot be re-read, so the same (idempotent) request was sent again'
                                         % (method, path, exc))
                return self.request(method, path, data=data)
            try:
                result = confirm()
            except ImprovMXError:
                raise exc
            if result is None:
                exc.message = ('%s; a re-read does not show the change, so it was not applied (or not yet): '
                               'running the task again is safe' % exc.message)
                raise exc
            self.retry_events.append('%s %s: %s; a re-read shows the change was applied' % (method, path, exc))
            return result

    def remove(self, path, confirm=None):
        """DELETE an object that was seen a moment ago, through write() (confirm as there).

        Returns True when this request removed it, False when the API answers 404: another
        run removed it in the meantime, so it is absent all the same and this run changed nothing.
        """
        try:
            self.write('DELETE', path, confirm=confirm)
        except ImprovMXNotFound as exc:
            self.retry_events.append('%s; it was already removed (by another run), so it is absent all the same' % exc)
            return False
        return True

    # -- lists ----------------------------------------------------------

    def paginate(self, path, key, params=None, limit=PAGE_LIMIT):
        """Yield every item of a page/limit list.

        Stops when the items seen reach the answer's total, or a page comes back empty or
        shorter than the page size the server says it used (a server that ignores limit
        reports its own), or a page repeats what was already seen.
        """
        query = dict(params or {})
        page = 1
        seen = 0
        seen_ids = set()
        while True:
            query.update({'limit': limit, 'page': page})
            body = self.get(path, params=query) or {}
            items = body.get(key) or []
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
            total = body.get('total')
            page_size = body.get('limit') or limit
            if not items or new == 0:
                return
            if isinstance(total, int) and seen >= total:
                return
            if len(items) < page_size:
                return
            page += 1

    def cursor_list(self, path, key, cursor=None, max_items=None):
        """Collect a cursor list (logs); return (items, next_cursor).

        Each request asks for the items after the cursor, the id of the last item seen
        (or the next_cursor the server gives). next_cursor is None exactly when the server
        has nothing more; when max_items stopped the walk, it is where to resume. To tell the
        two apart, a walk that reaches max_items at the end of a page reads one page more.
        """
        items = []
        while True:
            params = {'next_cursor': cursor} if cursor else None
            body = self.get(path, params=params) or {}
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


def _last_id(items):
    for item in reversed(items):
        if isinstance(item, dict) and item.get('id'):
            return item['id']
    return None
