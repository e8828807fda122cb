# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Constants, the API error, value checks and query-string helpers shared by every part of the simulator."""

from __future__ import absolute_import, division, print_function

import re
import time
from urllib.parse import urlparse


__metaclass__ = type  # pylint: disable=invalid-name


API_PREFIX = 'v3'
DKIM_SELECTOR = 'dkimprovmx'
MX_HOSTS = ['mx1.improvmx.com', 'mx2.improvmx.com']
SPF_INCLUDE = 'include:spf.improvmx.com'
SPF_EXPECTED = 'v=spf1 include:spf.improvmx.com ~all'
DKIM1_EXPECTED = 'dkimprovmx1.improvmx.com.'
DKIM2_EXPECTED = 'dkimprovmx2.improvmx.com.'
DKIM_EXPECTED_FORMAT = '%s%d.improvmx.com.'  # (selector, 1 or 2): the CNAME target of <selector>N._domainkey
DMARC_EXPECTED = 'v=DMARC1; p=none;'
DNS_CHECKS = ('mx', 'spf', 'dkim1', 'dkim2', 'dmarc')

MAX_BULK = 500
MAX_ALIASES_IN_DOMAIN = 200
DEFAULT_LIMIT = 50
MIN_LIMIT = 5
MAX_LIMIT = 100
MIN_PASSWORD = 8
MAX_REGEX_ALIAS = 150
WRITE_METHODS = ('POST', 'PUT', 'DELETE')
RATE_METHODS = ('GET', 'POST', 'PUT', 'DELETE')
# The live API's limits (per account and minute): 150 GET, 60 of each write method.
API_RATE_LIMITS = {'GET': 150, 'POST': 60, 'PUT': 60, 'DELETE': 60}
CHECK_SHAPES = ('records', 'top')  # the DNS check's answer: {"records": {...}} (the reference) or its keys at the top (the CLI)
ERROR_SHAPES = ('fields', 'list')  # a 400's errors: {field: [messages]}, or a list of the messages
# The live API's words for its plan limits (api-behaviour.md, "Plan limits ..."): its clients look for
# "Your account is limited to" and for the credential text as it is; the rest of the first two is ours.
DOMAINS_LIMIT_MESSAGE = 'Your account is limited to %d domains.'
ALIASES_LIMIT_MESSAGE = 'Your account is limited to %d aliases per domain.'
CREDENTIALS_LIMIT_MESSAGE = 'You have reached the limit of account allowed for this domain.'
ROUTING_ENGINES = ('', 'alias', 'rules')
RULE_TYPES = ('alias', 'regex', 'cel')
RULE_SCOPES = ('sender', 'recipient', 'subject', 'body')
RULE_CONFIG_KEYS = {'alias': ('alias', 'forward'), 'regex': ('regex', 'scopes', 'forward'), 'cel': ('expression', 'forward')}
FAILED_LOG_STATUSES = ('REFUSED', 'SOFT-BOUNCE', 'HARD-BOUNCE')
LIST_KEYS = ('aliases', 'domains', 'rules', 'credentials', 'logs')

_UNSET = object()
_LABEL_RE = re.compile(r'^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$')
_LOCAL_PART_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_ALIAS_RE = re.compile(r'^[a-z0-9_+-](?:[a-z0-9._+-]{0,62}[a-z0-9_+-])?$')
_REGEX_CHARS = frozenset('^$*?()[]{}|\\')


def now_ms():
    return int(time.time() * 1000)


class ApiError(Exception):
    """An API error answer: status + JSON payload (+ extra headers)."""

    def __init__(self, status, payload, headers=None):
        super().__init__('%s %s' % (status, payload))
        self.status = status
        self.payload = payload
        self.headers = headers or {}

    @classmethod
    def simple(cls, status, message, headers=None):
        """The ``{"error": msg, "code": N, "success": false}`` shape."""
        return cls(status, {'error': message, 'code': status, 'success': False}, headers)

    @classmethod
    def fields(cls, errors):
        """A 400 with the ``{"errors": {field: [msg]}, "success": false}`` shape."""
        return cls(400, {'errors': errors, 'success': False})

    @classmethod
    def field(cls, name, message):
        return cls.fields({name: [message]})


def _first_error_message(err):
    payload = err.payload
    if 'errors' in payload:
        for messages in payload['errors'].values():
            if messages:
                return messages[0]
    return payload.get('error', 'Invalid value')


def normalize_domain(value):
    """Return ``(ascii_lowercase_name, unicode_display)`` or ``None`` when invalid."""
    if not isinstance(value, str) or not value or value != value.strip():
        return None
    name = value.lower()
    try:
        name.encode('ascii')
    except UnicodeEncodeError:
        try:
            name = name.encode('idna').decode('ascii').lower()
        except UnicodeError:
            return None
    if len(name) > 253:
        return None
    labels = name.split('.')
    if len(labels) < 2:
        return None
    display_labels = []
    for label in labels:
        if not _LABEL_RE.match(label):
            return None
        if label.startswith('xn--'):
            try:
                display_labels.append(label[4:].encode('ascii').decode('punycode'))
            except UnicodeError:
                return None
        else:
            display_labels.append(label)
    if labels[-1].isdigit():
        return None
    return name, '.'.join(display_labels)


def is_valid_email(value):
    if not isinstance(value, str) or value.count('@') != 1 or len(value) > 254:
        return False
    local, domain = value.split('@')
    if not local or len(local) > 64 or not _LOCAL_PART_RE.match(local):
        return False
    return normalize_domain(domain) is not None


def is_regex_name(value):
    """True for a regex alias name: one holding a regex operator (``^ $ * ? ( ) [ ] { } | \\``).

    ``.`` and ``+`` are plain-name characters; a plain name (letters, digits, ``. _ + -``) is
    lower-cased by the API, a regex name is kept exactly as written.
    """
    return value.strip() != '*' and any(char in _REGEX_CHARS for char in value)


def alias_key(ref):
    """The key an alias name is stored under: plain names lower-cased, regex names as written."""
    if is_regex_name(ref):
        return ref
    return ref.strip().lower()


def validate_alias_name(value, field='alias', allow_star=True, allow_regex=False):
    """Validate an alias (or SMTP username); raise ApiError(400).

    A plain name (letters, digits, ``. _ + -``, up to 64) is lower-cased; with ``allow_regex`` a
    name holding a regex operator is a regular expression of up to 150 characters, without
    white space, kept exactly as written, that must compile (the server judges the regex; here
    Python's ``re``).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ApiError.field(field, 'This field is required.')
    if not isinstance(value, str):
        raise ApiError.field(field, 'Must be a string.')
    name = value.strip().lower()
    if name == '*':
        if allow_star:
            return name
        raise ApiError.field(field, '"*" is not allowed here.')
    if allow_regex and is_regex_name(value):
        if any(char.isspace() for char in value):
            raise ApiError.field(field, 'Invalid value "%s": a regular expression alias holds no white space.' % value)
        if len(value) > MAX_REGEX_ALIAS:
            raise ApiError.field(field, 'A regular expression alias holds at most %d characters.' % MAX_REGEX_ALIAS)
        try:
            re.compile(value)
        except re.error as err:
            raise ApiError.field(field, 'Invalid regular expression "%s": %s.' % (value, err))
        return value
    if len(name) > 64 or '..' in name or not _ALIAS_RE.match(name):
        raise ApiError.field(
            field, 'Invalid value "%s": use 1 to 64 characters among a-z 0-9 . _ + - (not starting or ending with a dot).' % value)
    return name


def parse_forward(value, limit, field='forward'):
    """Validate a comma-separated list of destinations: e-mail addresses, http(s) webhook URLs and
    the word null (accept the mail, deliver it nowhere; api-facts.md), mixed freely; return it
    normalized (comma-joined, no spaces)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ApiError.field(field, 'This field is required.')
    if not isinstance(value, str):
        raise ApiError.field(field, 'Must be a string of comma-separated email addresses or http(s) URLs.')
    parts = [part.strip() for part in value.split(',')]
    if any(not part for part in parts):
        raise ApiError.field(field, 'Empty destination in "%s".' % value)
    for part in parts:
        if part.lower() != 'null' and not is_valid_email(part) and not _is_http_url(part):
            raise ApiError.field(field, '"%s" is neither a valid email address nor an http(s) URL.' % part)
    if len(parts) > limit:
        raise ApiError.field(field, 'You can forward an alias to at most %d destinations.' % limit)
    return ','.join(parts)


def _clean_optional(value):
    """None or '' clears a field."""
    if value is None or (isinstance(value, str) and value.strip() == ''):
        return None
    return value


def _is_http_url(value):
    try:
        parsed = urlparse(value)
    except ValueError:
        return False
    return (parsed.scheme in ('http', 'https') and bool(parsed.hostname)
            and not any(char.isspace() for char in value))


def _q_int(query, name, default, low=None, high=None):
    raw = query.get(name)
    if raw is None or raw == '':
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = None
    if value is None:
        raise ApiError.field(name, 'Must be an integer.')
    if low is not None and high is not None and not low <= value <= high:
        raise ApiError.field(name, 'Allowed values are between %d and %d.' % (low, high))
    if low is not None and value < low:
        raise ApiError.field(name, 'Must be at least %d.' % low)
    return value


def _q_bool(query, name):
    raw = query.get(name)
    if raw is None or raw == '':
        return None
    low = str(raw).strip().lower()
    if low in ('1', 'true', 'yes', 'on'):
        return True
    if low in ('0', 'false', 'no', 'off'):
        return False
    raise ApiError.field(name, 'Must be a boolean (1 or 0).')


def _paginate(items, query):
    limit = _q_int(query, 'limit', DEFAULT_LIMIT, MIN_LIMIT, MAX_LIMIT)
    page = _q_int(query, 'page', 1, 1)
    start = (page - 1) * limit
    return items[start:start + limit], limit, page


def _body_object(body):
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError.field('body', 'The request body must be a JSON object.')
    return body


def match_route(routes, method, segments):
    """Return ``(handler, params, allowed_methods)``; handler is None for 404 (no allowed) / 405."""
    allowed = []
    for route_method, template, handler in routes:
        parts = template.split('/')
        if len(parts) != len(segments):
            continue
        params = {}
        for part, seg in zip(parts, segments):
            if part.startswith('{'):
                params[part[1:-1]] = seg
            elif part != seg.lower():
                break
        else:
            if route_method == method:
                return handler, params, allowed
            allowed.append(route_method)
    return None, None, allowed
