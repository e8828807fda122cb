# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Simulator: settings, server life cycle, request log, authentication, rate limits."""

from __future__ import absolute_import, division, print_function

import base64
import copy
import math
import random
import re
import threading
import time

from .common import API_PREFIX, API_RATE_LIMITS, ApiError, CHECK_SHAPES, ERROR_SHAPES, match_route, RATE_METHODS, _UNSET, WRITE_METHODS
from .faults import FaultsMixin
from .handlers import API_ROUTES
from .server import _Handler, _Server
from .state import StateMixin

__metaclass__ = type  # pylint: disable=invalid-name


class Simulator(StateMixin, FaultsMixin):
    """A stateful, thread-safe ImprovMX API v3 on loopback."""

    def __init__(self, api_key='test-api-key', host='127.0.0.1', port=0, premium=True,
                 account_email='owner@example.net', rate_limit_get=None, rate_limit_write=None,
                 rate_limit_window=60, log_page_size=50, destinations_limit=5,
                 dns_valid_after=None, seed=None, rate_limit_post=None, rate_limit_put=None,
                 rate_limit_delete=None, rate_limit_api=False, rate_limit_scale=None, rule_envelope='top',
                 alias_segment='name',
                 error_shape='fields', domains_limit=None, aliases_limit=None, credentials_limit=50,
                 rules_page_size=None, check_shape='records'):
        self.api_key = api_key
        self.host = host
        self._requested_port = port
        self._initial_config = {
            'premium': premium,
            'account_email': account_email,
            'rate_limit_get': rate_limit_get,
            'rate_limit_write': rate_limit_write,
            'rate_limit_post': rate_limit_post,
            'rate_limit_put': rate_limit_put,
            'rate_limit_delete': rate_limit_delete,
            'rate_limit_api': rate_limit_api,
            'rate_limit_window': rate_limit_window,
            'rate_limit_scale': rate_limit_scale,
            'log_page_size': log_page_size,
            'destinations_limit': destinations_limit,
            'dns_valid_after': dns_valid_after,
            'rule_envelope': rule_envelope,
            'alias_segment': alias_segment,
            'error_shape': error_shape,
            'domains_limit': domains_limit,
            'aliases_limit': aliases_limit,
            'credentials_limit': credentials_limit,
            'rules_page_size': rules_page_size,
            'check_shape': check_shape,
        }
        self._initial_seed = copy.deepcopy(seed) if seed else None
        self._lock = threading.RLock()
        self.request_context = threading.local()
        self._server = None
        self._thread = None
        self.port = None
        # state (set by reset)
        self.premium = premium
        self.account_email = account_email
        self.rate_limits = {method: 0 for method in RATE_METHODS}
        self.rate_limit_window = rate_limit_window
        self.rate_limit_scale = 1.0
        self.rule_envelope = rule_envelope
        self.alias_segment = alias_segment
        self.log_page_size = log_page_size
        self.destinations_limit = destinations_limit
        self.dns_valid_after = dns_valid_after
        self.credentials_limit = credentials_limit
        self.error_shape = error_shape
        self.check_shape = check_shape
        self.domains_limit = domains_limit
        self.aliases_limit = aliases_limit
        self.rules_page_size = rules_page_size
        self.reset()  # the account's state: domains, DNS, request log, faults, rate-limit windows, ids

    # ---------------------------------------------------------------- server
    def start(self):
        """Start serving in a daemon thread; return the base URL (ending in /v3/)."""
        if self._server is not None:
            return self.url
        self._server = _Server((self.host, self._requested_port), _Handler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.02},
                                        name='improvmx-sim-%d' % self.port, daemon=True)
        self._thread.start()
        return self.url

    def stop(self):
        """Stop serving and close every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_open_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    @property
    def url(self):
        if self.port is None:
            return None
        return 'http://%s:%d/%s/' % (self.host, self.port, API_PREFIX)

    @property
    def auth(self):
        """The Basic-auth pair for requests: ('api', api_key)."""
        return ('api', self.api_key)

    @property
    def base_url(self):
        """Server root (where /_sim/ lives)."""
        if self.port is None:
            return None
        return 'http://%s:%d/' % (self.host, self.port)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # ---------------------------------------------------------------- state hooks
    def reset(self):
        """Back to the initial state: constructor settings and seed, no requests, no faults."""
        with self._lock:
            self.domains = {}
            self.whitelabels = []
            self.dns = {}
            self._requests = []
            self._faults = []
            self._windows = {}
            self._next_alias_id = 1
            self._rng = random.Random(4242)
            self._rule_rng = random.Random(1717)
            self.domains_limit = self.aliases_limit = None
            self.configure(**self._initial_config)
            if self._initial_seed:
                self.load_seed(self._initial_seed)

    def configure(self, premium=None, account_email=None, rate_limit_get=None, rate_limit_write=None,
                  rate_limit_window=None, log_page_size=None, destinations_limit=None, dns_valid_after=_UNSET,
                  rate_limit_post=None, rate_limit_put=None, rate_limit_delete=None, rate_limit_api=None,
                  rate_limit_scale=None, rule_envelope=None, alias_segment=None,
                  error_shape=None, domains_limit=_UNSET, aliases_limit=_UNSET, credentials_limit=None,
                  rules_page_size=_UNSET, check_shape=None):
        """Change settings; None leaves a setting unchanged. A rate limit of 0 turns it off.

        Rate limits are counted per method, each in its own window: ``rate_limit_get`` (GET),
        ``rate_limit_write`` (each of POST, PUT and DELETE), ``rate_limit_post`` / ``_put`` / ``_delete``
        (one method).  ``rate_limit_api=True`` sets the live API's limits (150 GET, 60 of each write
        method); ``False`` turns every limit off.  ``rate_limit_scale=N`` divides the window by N (60:
        the API's per-minute limits per second); given while every limit is off, it also sets the API's
        limits.  ``rule_envelope``: how POST/PUT of a rule answer: ``"rule"`` ({"rule": ..., "success":
        true}) or ``"top"`` (the rule object itself, with ``success``; the default, as the vendor's CLI
        reads it).  ``alias_segment``: what a numeric alias path segment
        (``aliases/2024``) names first, the alias of that ``"name"`` (default) or the alias of that ``"id"``
        (the API's order is not known: docs/api-behaviour.md); the other is the fallback.
        ``dns_valid_after``: default ``valid_after`` of DNS states created from now on (None: never).
        ``error_shape``: how a 400 carries its field errors, ``"fields"`` ({"errors": {field: [messages]}})
        or ``"list"`` ({"errors": [messages], "code": 400}).  ``domains_limit`` / ``aliases_limit``: the
        plan's limit of domains in the account / aliases in a domain (None: not enforced), refused with
        a 400 field error "Your account is limited to N ..."; ``credentials_limit``: SMTP credentials
        per domain (default 50), refused under ``errors.username``.
        ``rules_page_size``: None (default): the rules list pages by ``limit`` and answers ``total``,
        ``limit`` and ``page``; N: the list as public clients show it, ``limit`` ignored, pages of N rules,
        the answer only ``{"rules": [...], "success": true}`` (api-facts.md).
        ``check_shape``: how the DNS check
        answers, ``"records"`` ({"records": {...}, "success": ...}, the reference) or ``"top"`` (the
        records' keys at the top level, as the vendor's CLI reads them).
        Returns the current settings.
        """
        with self._lock:
            if premium is not None:
                self.premium = bool(premium)
            if account_email is not None:
                self.account_email = account_email
            if rate_limit_api is not None:
                for method in RATE_METHODS:
                    self.rate_limits[method] = API_RATE_LIMITS[method] if rate_limit_api else 0
            if rate_limit_get is not None:
                self.rate_limits['GET'] = int(rate_limit_get)
            if rate_limit_write is not None:
                for method in WRITE_METHODS:
                    self.rate_limits[method] = int(rate_limit_write)
            for method, value in (('POST', rate_limit_post), ('PUT', rate_limit_put), ('DELETE', rate_limit_delete)):
                if value is not None:
                    self.rate_limits[method] = int(value)
            if rate_limit_window is not None:
                if float(rate_limit_window) <= 0:
                    raise ValueError('rate_limit_window must be > 0')
                self.rate_limit_window = float(rate_limit_window)
            if rate_limit_scale is not None:
                if float(rate_limit_scale) <= 0:
                    raise ValueError('rate_limit_scale must be > 0')
                self.rate_limit_scale = float(rate_limit_scale)
                if not any(self.rate_limits.values()):
                    self.rate_limits = dict(API_RATE_LIMITS)
            if rule_envelope is not None:
                if rule_envelope not in ('rule', 'top'):
                    raise ValueError('rule_envelope must be "rule" or "top"')
                self.rule_envelope = rule_envelope
            if alias_segment is not None:
                if alias_segment not in ('name', 'id'):
                    raise ValueError('alias_segment must be "name" or "id"')
                self.alias_segment = alias_segment
            if log_page_size is not None:
                if int(log_page_size) < 1:
                    raise ValueError('log_page_size must be >= 1')
                self.log_page_size = int(log_page_size)
            if destinations_limit is not None:
                self.destinations_limit = int(destinations_limit)
            if dns_valid_after is not _UNSET:
                self.dns_valid_after = None if dns_valid_after is None else int(dns_valid_after)
            if error_shape is not None:
                if error_shape not in ERROR_SHAPES:
                    raise ValueError('error_shape must be "fields" or "list"')
                self.error_shape = error_shape
            for name, value in (('domains_limit', domains_limit), ('aliases_limit', aliases_limit)):
                if value is not _UNSET:
                    if value is not None and int(value) < 0:
                        raise ValueError('%s must be >= 0 (or null: not enforced)' % name)
                    setattr(self, name, None if value is None else int(value))
            if rules_page_size is not _UNSET:
                if rules_page_size is not None and int(rules_page_size) < 1:
                    raise ValueError('rules_page_size must be >= 1 (or null: paged by limit)')
                self.rules_page_size = None if rules_page_size is None else int(rules_page_size)
            if check_shape is not None:
                if check_shape not in CHECK_SHAPES:
                    raise ValueError('check_shape must be "records" or "top"')
                self.check_shape = check_shape
            if credentials_limit is not None:
                if int(credentials_limit) < 0:
                    raise ValueError('credentials_limit must be >= 0')
                self.credentials_limit = int(credentials_limit)
            self._windows = {}
            return {
                'premium': self.premium, 'account_email': self.account_email,
                'rate_limit_get': self.rate_limits['GET'], 'rate_limit_write': self.rate_limits['POST'],
                'rate_limit_post': self.rate_limits['POST'], 'rate_limit_put': self.rate_limits['PUT'],
                'rate_limit_delete': self.rate_limits['DELETE'],
                'rate_limit_window': self.rate_limit_window, 'rate_limit_scale': self.rate_limit_scale,
                'log_page_size': self.log_page_size, 'rule_envelope': self.rule_envelope,
                'alias_segment': self.alias_segment,
                'destinations_limit': self.destinations_limit, 'dns_valid_after': self.dns_valid_after,
                'error_shape': self.error_shape, 'domains_limit': self.domains_limit,
                'aliases_limit': self.aliases_limit, 'credentials_limit': self.credentials_limit,
                'rules_page_size': self.rules_page_size,
                'check_shape': self.check_shape,
            }

    @property
    def rate_limit_get(self):
        """The GET limit per window (0: off)."""
        return self.rate_limits['GET']

    @property
    def rate_limit_write(self):
        """The POST limit per window (each write method has its own bucket; 0: off)."""
        return self.rate_limits['POST']

    # ---------------------------------------------------------------- request log
    def log_request(self, method, path, query, body, started):
        entry = {'method': method, 'path': path, 'query': query, 'status': None, 'body': body,
                 'time': started, 'fault': None}
        with self._lock:
            self._requests.append(entry)
        return entry

    def note_request(self, entry, **fields):
        """Record the outcome of a logged request."""
        with self._lock:
            entry.update(fields)

    @property
    def requests(self):
        """Every request served (oldest first), except /_sim/ ones: dicts with method, path, query,
        status, body, time, fault (and applied_status for apply_then_* faults)."""
        with self._lock:
            return copy.deepcopy(self._requests)

    def writes(self, path_regex=None):
        """The logged POST/PUT/DELETE requests (optionally only those whose path matches the regex)."""
        pattern = re.compile(path_regex) if path_regex else None
        return [r for r in self.requests if r['method'] in WRITE_METHODS and (pattern is None or pattern.search(r['path']))]

    def clear_requests(self):
        with self._lock:
            self._requests = []

    # ---------------------------------------------------------------- API processing
    def handle_api(self, method, segments, query, body, body_error, authorization):
        """Process one /v3/ request; return (status, payload, headers)."""
        with self._lock:
            if not self._authorized(authorization):
                return 401, {'error': 'Authentication required', 'code': 401, 'success': False}, {'WWW-Authenticate': 'Basic realm="ImprovMX API"'}
            allowed, rl_headers = self._rate_check(method)  # every authenticated answer carries X-RateLimit-*
            if not allowed:
                return 429, {'error': 'Too many requests, please slow down.', 'code': 429, 'success': False}, rl_headers
            handler, params, methods = match_route(API_ROUTES, method, segments)
            try:
                if handler is None:
                    if methods:
                        raise ApiError.simple(405, 'Method not allowed', {'Allow': ', '.join(methods)})
                    raise ApiError.simple(404, 'Not found')
                if body_error and method in ('POST', 'PUT'):
                    raise ApiError.field('body', 'The request body is not valid JSON.')
                payload = handler(self, params, query, body if method in ('POST', 'PUT') else None)
                return 200, payload, rl_headers
            except ApiError as err:
                headers = dict(rl_headers)
                headers.update(err.headers)
                return err.status, self.shaped_errors(err.status, err.payload), headers

    def shaped_errors(self, status, payload):
        """An error payload in the configured error_shape: field errors become a list of their messages."""
        errors = payload.get('errors') if isinstance(payload, dict) else None
        if self.error_shape != 'list' or not isinstance(errors, dict):
            return payload
        messages = [message for field in errors for message in errors[field]]
        return {'errors': messages, 'code': status, 'success': False}

    def _authorized(self, authorization):
        """Basic auth with user ``api``: base64 as RFC 7617 says, or the pair unencoded
        (``Basic api:KEY``), which the live API takes too."""
        if not authorization or not authorization.lower().startswith('basic '):
            return False
        token = authorization[6:].strip()
        if token == 'api:' + self.api_key:
            return True
        try:
            decoded = base64.b64decode(token, validate=True).decode('utf-8')
        except (ValueError, UnicodeDecodeError):
            return False
        user, sep, password = decoded.partition(':')
        return bool(sep) and user == 'api' and password == self.api_key

    def _rate_check(self, method):
        """Count one request in its method's bucket: (allowed, X-RateLimit-* headers)."""
        bucket = method if method in RATE_METHODS else 'GET'
        limit = self.rate_limits[bucket]
        if not limit:
            return True, {}
        now = time.time()
        span = self.rate_limit_window / self.rate_limit_scale
        window = self._windows.get(bucket)
        if window is None or now >= window['start'] + span:
            window = {'start': now, 'count': 0}
            self._windows[bucket] = window
        reset_at = window['start'] + span
        # The API says when in whole seconds, against a window of a minute. A window scaled down keeps
        # that precision relative to the window (milliseconds for a second), or a client pacing on it
        # would read the scaled window as up to twice as long as it is.
        reset = round(reset_at, 3) if self.rate_limit_scale != 1 else int(math.ceil(reset_at))
        headers = {'X-RateLimit-Limit': limit, 'X-RateLimit-Reset': reset}
        if window['count'] >= limit:
            headers['X-RateLimit-Remaining'] = 0
            headers['Retry-After'] = max(1, int(math.ceil(reset_at - now)))
            return False, headers
        window['count'] += 1
        headers['X-RateLimit-Remaining'] = limit - window['count']
        return True, headers
