# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stateful ImprovMX REST API v3 simulator for tests and demos.

Written from the API reference and from the live API's behaviour beyond it, as
``docs/api-behaviour.md`` in this repository lists it (webhook destinations, regex
alias names, rules routing, log times in milliseconds, per-method rate limits...),
never from what the collection's client sends.  Where the two disagree the simulator
follows the live behaviour and clients are expected to accept both shapes.
Standard library only; ``docs/simulator.md`` documents every option and test hook.

Two ways to use it:

* in-process: ``sim = Simulator(api_key='k'); url = sim.start(); ...; sim.stop()``
  (see ``improvmx_sim_fixtures.py`` for the pytest fixtures);
* standalone: ``python improvmx_sim.py --port 8765 --api-key KEY``; test hooks are
  then reachable over HTTP under ``/_sim/`` (no authentication).
"""

from __future__ import absolute_import, division, print_function

import argparse
import base64
import copy
import email.utils
import json
import math
import os
import random
import re
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse
from urllib.request import ProxyHandler, build_opener

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
FAULT_KINDS = ('status', 'drop', 'delay', 'apply_then_status', 'apply_then_drop',
               'no_object', 'apply_then_no_object', 'redirect', 'empty_list', 'total_delta', 'headers')
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


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------

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


def expected_spf(existing):
    """The SPF record ImprovMX expects, keeping the other mechanisms of an existing record."""
    if not existing or not existing.strip().lower().startswith('v=spf1'):
        return SPF_EXPECTED
    kept = []
    for term in existing.split()[1:]:
        low = term.lower()
        if low == SPF_INCLUDE or low.lstrip('+-~?') == 'all':
            continue
        kept.append(term)
    return ' '.join(['v=spf1'] + kept + [SPF_INCLUDE, '~all'])


def _txt_text(value):
    """A TXT value's text: quoted chunks ("..." "...", as Route 53 stores them) unquoted and joined."""
    text = str(value).strip()
    if text.startswith('"') and text.endswith('"'):
        chunks = re.findall(r'"((?:[^"\\]|\\.)*)"', text)
        if chunks:
            return ''.join(re.sub(r'\\(.)', r'\1', chunk) for chunk in chunks)
    return text


def fetch_zone(url):
    """The records a zone hook URL answers (a list of {name, type, values}); [] when it cannot be read."""
    try:
        with build_opener(ProxyHandler({})).open(url, timeout=5) as answer:
            data = json.loads(answer.read().decode('utf-8'))
    except (OSError, ValueError):
        return []
    items = data.get('records') if isinstance(data, dict) else data
    return [item for item in items or [] if isinstance(item, dict)]


def zone_check(dom, zone, provider='cloudflare'):
    """The check's records object decided from published records (the zone hook).

    As the simulator reads the live check: MX is valid when every ImprovMX host is in the apex's
    MX set (other hosts there are listed in its values); SPF when the apex has exactly one SPF
    record and it includes spf.improvmx.com; each DKIM when its CNAME points to the expected
    target; DMARC when _dmarc has a v=DMARC1 record (any policy).
    """
    apex = dom['domain']

    def values(name, rtype):
        found = []
        for item in zone:
            if str(item.get('name', '')).rstrip('.').lower() == name and str(item.get('type', '')).upper() == rtype:
                raw = item.get('values')
                if raw is None and item.get('value') is not None:
                    raw = [item['value']]
                found.extend(raw if isinstance(raw, list) else [raw])
        return [str(v) for v in found if v is not None]

    mx_pairs = []
    for value in values(apex, 'MX'):
        parts = value.split()
        priority, host = (int(parts[0]), parts[1]) if len(parts) == 2 and parts[0].isdigit() else (0, parts[-1])
        mx_pairs.append((priority, host.rstrip('.').lower()))
    mx_hosts = [pair[1] for pair in sorted(mx_pairs)]
    spfs = [_txt_text(v) for v in values(apex, 'TXT') if _txt_text(v).lower().startswith('v=spf1')]
    spf_ok = len(spfs) == 1 and SPF_INCLUDE in spfs[0].lower().split()
    dmarcs = [_txt_text(v) for v in values('_dmarc.' + apex, 'TXT') if _txt_text(v).replace(' ', '').lower().startswith('v=dmarc1')]
    records = {'provider': provider, 'advanced': True, 'error': None}
    for number in (1, 2):
        expected = DKIM_EXPECTED_FORMAT % (dom['dkim_selector'], number)
        found = values('%s%d._domainkey.%s' % (dom['dkim_selector'], number, apex), 'CNAME')
        ok = bool(found) and found[0].rstrip('.').lower() == expected.rstrip('.').lower()
        records['dkim%d' % number] = {'expected': expected, 'valid': ok, 'values': found[0] if found else None}
    records['dmarc'] = {'expected': DMARC_EXPECTED, 'valid': bool(dmarcs), 'values': dmarcs[0] if dmarcs else None}
    records['mx'] = {'expected': list(MX_HOSTS), 'valid': all(host in mx_hosts for host in MX_HOSTS),
                     'values': mx_hosts or None}
    records['spf'] = {'expected': expected_spf(spfs[0] if len(spfs) == 1 else None), 'valid': spf_ok,
                      'values': (spfs[0] if len(spfs) == 1 else spfs) or None}
    overall = records['mx']['valid'] and spf_ok
    if dom['credentials']:
        overall = overall and records['dkim1']['valid'] and records['dkim2']['valid']
    records['valid'] = overall
    if len(spfs) > 1:
        records['error'] = 'More than one SPF record found'
    return records


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


# --------------------------------------------------------------------------
# Query-string helpers
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# API handlers: handler(sim, params, query, body) -> payload (200) or raise ApiError
# All run with sim._lock held.
# --------------------------------------------------------------------------

def h_account(sim, params, query, body):
    return {'account': sim.account_object(), 'success': True}


def h_whitelabels(sim, params, query, body):
    return {'whitelabels': [{'name': name} for name in sim.whitelabels], 'success': True}


def h_list_domains(sim, params, query, body):
    prefix = (query.get('q') or '').strip().lower()
    is_active = _q_bool(query, 'is_active')
    items = []
    for dom in sim.domains.values():
        if prefix and not (dom['domain'].startswith(prefix) or dom['display'].lower().startswith(prefix)):
            continue
        if is_active is not None and sim.domain_active(dom) != is_active:
            continue
        items.append(dom)
    page_items, limit, page = _paginate(items, query)
    return {
        'domains': [sim.domain_object(dom) for dom in page_items],
        'total': len(items),
        'limit': limit,
        'page': page,
        'success': True,
    }


def h_create_domain(sim, params, query, body):
    body = _body_object(body)
    raw = body.get('domain')
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ApiError.field('domain', 'This field is required.')
    norm = normalize_domain(raw)
    if norm is None:
        raise ApiError.field('domain', '"%s" is not a valid domain name.' % raw)
    name = norm[0]
    if name in sim.domains:
        raise ApiError.field('domain', 'The domain %s is already registered.' % name)
    if sim.domains_limit is not None and len(sim.domains) >= sim.domains_limit:
        raise ApiError.field('domain', DOMAINS_LIMIT_MESSAGE % sim.domains_limit)
    errors = {}
    notification_email = _clean_optional(body.get('notification_email'))
    whitelabel = _clean_optional(body.get('whitelabel'))
    try:
        notification_email = sim.validate_notification_email(name, notification_email)
    except ApiError as err:
        errors.update(err.payload['errors'])
    try:
        whitelabel = sim.validate_whitelabel(whitelabel)
    except ApiError as err:
        errors.update(err.payload['errors'])
    if errors:
        raise ApiError.fields(errors)
    dom = sim.create_domain(name, notification_email=notification_email, whitelabel=whitelabel)
    return {'domain': sim.domain_object(dom), 'success': True}


def h_get_domain(sim, params, query, body):
    return {'domain': sim.domain_object(sim.get_domain(params['domain'])), 'success': True}


def h_update_domain(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    body = _body_object(body)
    if 'domain' in body:
        norm = normalize_domain(body['domain']) if body['domain'] else None
        if norm is None or norm[0] != dom['domain']:
            raise ApiError.field('domain', 'It is not possible to change the domain name.')
    errors = {}
    changes = {}
    if 'notification_email' in body:
        try:
            changes['notification_email'] = sim.validate_notification_email(dom['domain'], _clean_optional(body['notification_email']))
        except ApiError as err:
            errors.update(err.payload['errors'])
    if 'webhook' in body:
        webhook = _clean_optional(body['webhook'])
        if webhook is not None and (not isinstance(webhook, str) or not _is_http_url(webhook)):
            errors['webhook'] = ['"%s" is not a valid http(s) URL.' % (webhook,)]
        else:
            changes['webhook'] = webhook
    if 'whitelabel' in body:
        try:
            changes['whitelabel'] = sim.validate_whitelabel(_clean_optional(body['whitelabel']))
        except ApiError as err:
            errors.update(err.payload['errors'])
    if 'routing_engine' in body:
        engine = body['routing_engine']
        if engine is None:
            engine = ''
        if not isinstance(engine, str) or engine.strip().lower() not in ROUTING_ENGINES:
            errors['routing_engine'] = ['"%s" is not a routing engine: use "alias" or "rules".' % (engine,)]
        else:
            changes['routing_engine'] = engine.strip().lower()
    if errors:
        raise ApiError.fields(errors)
    dom.update(changes)
    return {'domain': sim.domain_object(dom), 'success': True}


def h_delete_domain(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    del sim.domains[dom['domain']]
    return {'success': True}


def h_check_domain(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    dns = sim.dns_state(dom['domain'])
    records = sim.dns_records(dom, dns)
    dns['checks'] += 1
    # The reference: "The endpoint will return true in success when the MX are well
    # configured, false otherwise" (HTTP 200 either way, with the records).
    if sim.check_shape == 'top':
        # The vendor's CLI reads valid, mx and spf at the top of the answer (api-facts.md).
        return dict(records, success=bool(records['valid']))
    return {'records': records, 'success': bool(records['valid'])}


def h_list_aliases(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    prefix = (query.get('q') or '').strip().lower()
    alias_prefix = (query.get('alias') or '').strip().lower()
    is_active = _q_bool(query, 'is_active')
    items = []
    for alias in sim.sorted_aliases(dom):
        if prefix:
            destinations = alias['forward'].lower().split(',')
            if not (alias['alias'].lower().startswith(prefix) or any(d.startswith(prefix) for d in destinations)):
                continue
        if alias_prefix and not alias['alias'].lower().startswith(alias_prefix):
            continue
        if is_active is False:  # aliases have no inactive state: every alias is active
            continue
        items.append(alias)
    page_items, limit, page = _paginate(items, query)
    return {
        'aliases': [dict(alias) for alias in page_items],
        'limit': limit,
        'page': page,
        'total': len(items),
        'success': True,
    }


def h_create_alias(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    body = _body_object(body)
    errors = {}
    name = forward = None
    try:
        name = validate_alias_name(body.get('alias'), allow_regex=True)
    except ApiError as err:
        errors.update(err.payload['errors'])
    try:
        forward = parse_forward(body.get('forward'), sim.destinations_limit)
    except ApiError as err:
        errors.update(err.payload['errors'])
    if errors:
        raise ApiError.fields(errors)
    if name in dom['aliases']:
        raise ApiError.field('alias', 'This alias already exists.')
    if sim.aliases_full(dom):
        raise ApiError.field('alias', ALIASES_LIMIT_MESSAGE % sim.aliases_limit)
    alias = sim.add_alias(dom, name, forward)
    return {'alias': dict(alias), 'success': True}


def h_bulk_aliases(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    body = _body_object(body)
    entries = body.get('aliases')
    if not isinstance(entries, list):
        raise ApiError.field('aliases', 'This field is required and must be a list of {"alias", "forward"} objects.')
    if len(entries) > MAX_BULK:
        raise ApiError.field('aliases', 'You can send at most %d aliases at once (got %d).' % (MAX_BULK, len(entries)))
    behavior = body.get('behavior')
    if behavior is None or behavior == '':
        behavior = 'add'
    if behavior not in ('add', 'update'):
        raise ApiError.field('behavior', 'Must be "add" or "update".')
    added, updated, failed = [], [], []
    for entry in entries:
        if not isinstance(entry, dict):
            failed.append({'alias': None, 'forward': None, 'error': 'Each entry must be an object with "alias" and "forward".'})
            continue
        raw_alias, raw_forward = entry.get('alias'), entry.get('forward')
        try:
            name = validate_alias_name(raw_alias, allow_regex=True)
            forward = parse_forward(raw_forward, sim.destinations_limit)
        except ApiError as err:
            failed.append({'alias': raw_alias, 'forward': raw_forward, 'error': _first_error_message(err)})
            continue
        existing = dom['aliases'].get(name)
        if existing is None and sim.aliases_full(dom):
            failed.append({'alias': name, 'forward': forward, 'error': ALIASES_LIMIT_MESSAGE % sim.aliases_limit})
        elif existing is None:
            alias = sim.add_alias(dom, name, forward)
            added.append({'alias': name, 'forward': forward, 'id': alias['id']})
        elif behavior == 'update':
            existing['forward'] = forward
            updated.append({'alias': name, 'forward': forward, 'id': existing['id']})
        else:
            failed.append({'alias': name, 'forward': forward, 'id': existing['id'], 'error': 'This alias already exists.'})
    return {'added': added, 'failed': failed, 'success': True, 'updated': updated}


def h_get_alias(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    alias, _how = sim.find_alias(dom, params['alias'])
    return {'alias': dict(alias), 'success': True}


def h_update_alias(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    alias, how = sim.find_alias(dom, params['alias'])
    body = _body_object(body)
    if how == 'name':
        forward = parse_forward(body.get('forward'), sim.destinations_limit)
        alias['forward'] = forward
        return {'alias': dict(alias), 'success': True}
    # Update by id: alias (rename) and forward are both optional.
    errors = {}
    new_name = new_forward = None
    if body.get('alias') not in (None, ''):
        try:
            new_name = validate_alias_name(body['alias'], allow_regex=True)
        except ApiError as err:
            errors.update(err.payload['errors'])
    if body.get('forward') not in (None, ''):
        try:
            new_forward = parse_forward(body['forward'], sim.destinations_limit)
        except ApiError as err:
            errors.update(err.payload['errors'])
    if errors:
        raise ApiError.fields(errors)
    if new_name is not None and new_name != alias['alias']:
        if new_name in dom['aliases']:
            raise ApiError.field('alias', 'This alias already exists.')
        del dom['aliases'][alias['alias']]
        alias['alias'] = new_name
        dom['aliases'][new_name] = alias
    if new_forward is not None:
        alias['forward'] = new_forward
    return {'alias': dict(alias), 'success': True}


def h_delete_alias(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    alias, _how = sim.find_alias(dom, params['alias'])
    del dom['aliases'][alias['alias']]
    return {'success': True}


def h_logs(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    logs = dom['logs']
    cursor = (query.get('next_cursor') or '').strip()
    start = 0
    if cursor:
        ids = [entry['id'] for entry in logs]
        if cursor not in ids:
            raise ApiError.field('next_cursor', 'Unknown cursor "%s".' % cursor)
        start = ids.index(cursor) + 1
    wanted = params.get('alias')
    only = (query.get('filter') or '').strip().lower()
    if only not in ('', 'failure'):
        raise ApiError.field('filter', 'Unknown filter "%s": the only filter is "failure".' % only)
    selected = []
    for entry in logs[start:]:
        if wanted is not None and entry['recipient']['email'].split('@')[0].lower() != wanted.lower():
            continue
        if only == 'failure' and not log_failed(entry):
            continue
        selected.append(copy.deepcopy(entry))
        if len(selected) >= sim.log_page_size:
            break
    return {'logs': selected, 'success': True}


def h_list_credentials(sim, params, query, body):
    sim.require_premium()
    dom = sim.get_domain(params['domain'])
    return {'credentials': [sim.credential_object(c) for c in dom['credentials'].values()], 'success': True}


def _validate_password(value):
    if value is None or value == '':
        raise ApiError.field('password', 'This field is required.')
    if not isinstance(value, str):
        raise ApiError.field('password', 'Must be a string.')
    if len(value) < MIN_PASSWORD:
        raise ApiError.field('password', 'The password must be at least %d characters long.' % MIN_PASSWORD)
    return value


def _validate_is_limited(body, errors):
    """The optional ``is_limited`` flag: a boolean, or None when not given."""
    value = body.get('is_limited')
    if value is None or isinstance(value, bool):
        return value
    errors['is_limited'] = ['Must be a boolean.']
    return None


def h_create_credential(sim, params, query, body):
    sim.require_premium()
    dom = sim.get_domain(params['domain'])
    body = _body_object(body)
    errors = {}
    username = password = None
    is_limited = _validate_is_limited(body, errors)
    try:
        username = validate_alias_name(body.get('username'), field='username', allow_star=False)
    except ApiError as err:
        errors.update(err.payload['errors'])
    try:
        password = _validate_password(body.get('password'))
    except ApiError as err:
        errors.update(err.payload['errors'])
    if errors:
        raise ApiError.fields(errors)
    if username in dom['credentials']:
        raise ApiError.field('username', 'The SMTP account %s already exists.' % username)
    if len(dom['credentials']) >= sim.credentials_limit:
        raise ApiError.field('username', CREDENTIALS_LIMIT_MESSAGE)
    first = not dom['credentials']
    cred = sim.add_credential(dom, username, password, is_limited=bool(is_limited))
    return {'credential': sim.credential_object(cred), 'requires_new_mx_check': first, 'success': True}


def h_update_credential(sim, params, query, body):
    sim.require_premium()
    dom = sim.get_domain(params['domain'])
    cred = sim.find_credential(dom, params['username'])
    body = _body_object(body)
    errors = {}
    is_limited = _validate_is_limited(body, errors)
    password = None
    if body.get('password') not in (None, '') or is_limited is None:
        try:
            password = _validate_password(body.get('password'))
        except ApiError as err:
            errors.update(err.payload['errors'])
    if errors:
        raise ApiError.fields(errors)
    if password is not None:
        cred['password'] = password
    if is_limited is not None:
        cred['is_limited'] = is_limited
    return {'credential': sim.credential_object(cred), 'success': True}


def h_delete_credential(sim, params, query, body):
    sim.require_premium()
    dom = sim.get_domain(params['domain'])
    cred = sim.find_credential(dom, params['username'])
    del dom['credentials'][cred['username']]
    return {'success': True}


def _rule_search_text(rule):
    config = rule['config'] if isinstance(rule.get('config'), dict) else {}
    return ' '.join(str(config.get(key) or '') for key in ('alias', 'regex', 'expression', 'forward')).lower()


def h_list_rules(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    sim.require_plan_for_rules()
    search = (query.get('search') or query.get('q') or '').strip().lower()
    items = [rule for rule in sim.sorted_rules(dom) if not search or search in _rule_search_text(rule)]
    if sim.rules_page_size is not None:
        # As public clients show the live list: limit ignored, pages of the API's own size, no paging fields.
        page = _q_int(query, 'page', 1, 1)
        start = (page - 1) * sim.rules_page_size
        return {'rules': [copy.deepcopy(rule) for rule in items[start:start + sim.rules_page_size]], 'success': True}
    page_items, limit, page = _paginate(items, query)
    return {
        'rules': [copy.deepcopy(rule) for rule in page_items],
        'limit': limit,
        'page': page,
        'total': len(items),
        'success': True,
    }


def h_get_rule(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    sim.require_plan_for_rules()
    # The live API answers the rule itself, at the top level (no "rule" key), with "success" beside its
    # fields (api-facts.md: "strip the envelope keys from a top-level object").
    return dict(copy.deepcopy(sim.find_rule(dom, params['rule'])), success=True)


def _rule_answer(sim, rule):
    if sim.rule_envelope == 'top':
        return dict(copy.deepcopy(rule), success=True)
    return {'rule': copy.deepcopy(rule), 'success': True}


def h_create_rule(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    sim.require_plan_for_rules()
    body = _body_object(body)
    fields = validate_rule(body, sim.destinations_limit, current=None)
    if 'rank' not in fields:
        fields['rank'] = float(max([r['rank'] for r in dom['rules'].values()] or [0.0]) + 1)
    rule = sim.add_rule(dom, fields['type'], fields['config'], rank=fields['rank'], active=fields.get('active', True))
    return _rule_answer(sim, rule)


def h_update_rule(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    sim.require_plan_for_rules()
    rule = sim.find_rule(dom, params['rule'])
    body = _body_object(body)
    fields = validate_rule(body, sim.destinations_limit, current=rule)
    rule.update(fields)
    return _rule_answer(sim, rule)


def h_delete_rule(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    sim.require_plan_for_rules()
    rule = sim.find_rule(dom, params['rule'])
    del dom['rules'][rule['id']]
    return {'success': True}


def h_delete_all_rules(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    sim.require_plan_for_rules()
    dom['rules'] = {}
    return {'success': True}


def validate_rule(body, destinations_limit, current=None):
    """Validate a rule POST (current None) or PUT body; return the fields to store or raise ApiError(400).

    POST needs ``type`` and ``config``; a PUT takes any of ``type``, ``config``, ``active``, ``rank``:
    a ``config`` without a type change is merged into the rule's config, a type change needs the
    whole new config.
    """
    errors = {}
    fields = {}
    unknown = sorted(set(body) - {'type', 'config', 'active', 'rank'})
    if unknown:
        errors['body'] = ['Unknown field(s): %s.' % ', '.join(unknown)]
    rule_type = body.get('type') if 'type' in body else (current['type'] if current else None)
    if rule_type not in RULE_TYPES:
        errors['type'] = ['"%s" is not a rule type: use one of %s.' % (rule_type, ', '.join(RULE_TYPES))]
        rule_type = None
    elif 'type' in body:
        fields['type'] = rule_type
    config = body.get('config') if 'config' in body else None
    if current is None and config is None:
        errors['config'] = ['This field is required.']
    elif config is not None and not isinstance(config, dict):
        errors['config'] = ['Must be an object.']
    elif rule_type is not None and (config is not None or (current is not None and rule_type != current['type'])):
        if config is None:
            errors['config'] = ['A new type needs its whole config.']
        else:
            merged = dict(config)
            if current is not None and rule_type == current['type']:
                merged = dict(current['config'], **config)
            checked = _validate_rule_config(rule_type, merged, destinations_limit, errors)
            if checked is not None:
                fields['config'] = checked
    if 'active' in body:
        if not isinstance(body['active'], bool):
            errors['active'] = ['Must be a boolean.']
        else:
            fields['active'] = body['active']
    elif current is None:
        fields['active'] = True
    if 'rank' in body:
        rank = body['rank']
        if isinstance(rank, bool) or not isinstance(rank, (int, float)) or not math.isfinite(rank):
            errors['rank'] = ['Must be a number.']
        else:
            fields['rank'] = float(rank)
    if errors:
        raise ApiError.fields(errors)
    return fields


def _validate_rule_config(rule_type, config, destinations_limit, errors):
    """The config of a rule of ``rule_type``, normalized; None (with ``errors`` filled) when invalid."""
    before = len(errors)
    unknown = sorted(set(config) - set(RULE_CONFIG_KEYS[rule_type]))
    if unknown:
        errors['config'] = ['Unknown key(s) for a %s rule: %s.' % (rule_type, ', '.join(unknown))]
    result = {}
    try:
        result['forward'] = parse_forward(config.get('forward'), destinations_limit, field='config.forward')
    except ApiError as err:
        errors.update(err.payload['errors'])
    if rule_type == 'alias':
        try:
            # Alias rules take wildcard and regex patterns, kept as written (rules guide; api-facts.md).
            result['alias'] = validate_alias_name(config.get('alias'), field='config.alias', allow_regex=True)
        except ApiError as err:
            errors.update(err.payload['errors'])
    elif rule_type == 'regex':
        regex = config.get('regex')
        if not isinstance(regex, str) or not regex.strip():
            errors['config.regex'] = ['This field is required.']
        else:
            try:
                re.compile(regex)
                result['regex'] = regex
            except re.error as err:
                errors['config.regex'] = ['Invalid regular expression "%s": %s.' % (regex, err)]
        scopes = config.get('scopes')
        if not isinstance(scopes, list) or not scopes:
            errors['config.scopes'] = ['A non-empty list among %s.' % ', '.join(RULE_SCOPES)]
        else:
            bad = [scope for scope in scopes if scope not in RULE_SCOPES]
            if bad:
                errors['config.scopes'] = ['Unknown scope(s) %s: use %s.' % (', '.join(map(str, bad)), ', '.join(RULE_SCOPES))]
            else:
                result['scopes'] = [scope for index, scope in enumerate(scopes) if scope not in scopes[:index]]
    else:
        expression = config.get('expression')
        if not isinstance(expression, str) or not expression.strip():
            errors['config.expression'] = ['This field is required: a CEL expression.']
        else:
            result['expression'] = expression.strip()
    if len(errors) > before:
        return None
    return result


API_ROUTES = [
    ('GET', 'account', h_account),
    ('GET', 'account/whitelabels', h_whitelabels),
    ('GET', 'domains', h_list_domains),
    ('POST', 'domains', h_create_domain),
    ('GET', 'domains/{domain}', h_get_domain),
    ('PUT', 'domains/{domain}', h_update_domain),
    ('DELETE', 'domains/{domain}', h_delete_domain),
    ('GET', 'domains/{domain}/check', h_check_domain),
    ('GET', 'domains/{domain}/aliases', h_list_aliases),
    ('POST', 'domains/{domain}/aliases', h_create_alias),
    ('POST', 'domains/{domain}/aliases/bulk', h_bulk_aliases),
    ('GET', 'domains/{domain}/aliases/{alias}', h_get_alias),
    ('PUT', 'domains/{domain}/aliases/{alias}', h_update_alias),
    ('DELETE', 'domains/{domain}/aliases/{alias}', h_delete_alias),
    ('GET', 'domains/{domain}/rules', h_list_rules),
    ('POST', 'domains/{domain}/rules', h_create_rule),
    ('GET', 'domains/{domain}/rules/{rule}', h_get_rule),
    ('PUT', 'domains/{domain}/rules/{rule}', h_update_rule),
    ('DELETE', 'domains/{domain}/rules/{rule}', h_delete_rule),
    ('DELETE', 'domains/{domain}/rules-all', h_delete_all_rules),
    ('GET', 'domains/{domain}/logs', h_logs),
    ('GET', 'domains/{domain}/logs/{alias}', h_logs),
    ('GET', 'domains/{domain}/credentials', h_list_credentials),
    ('POST', 'domains/{domain}/credentials', h_create_credential),
    ('PUT', 'domains/{domain}/credentials/{username}', h_update_credential),
    ('DELETE', 'domains/{domain}/credentials/{username}', h_delete_credential),
]


# --------------------------------------------------------------------------
# /_sim/ control handlers: handler(sim, body) -> payload
# --------------------------------------------------------------------------

def _kwargs(body):
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise TypeError('the request body must be a JSON object')
    return body


def c_get_requests(sim, body):
    return {'requests': sim.requests, 'success': True}


def c_clear_requests(sim, body):
    sim.clear_requests()
    return {'success': True}


def c_reset(sim, body):
    sim.reset()
    return {'success': True}


def c_add_fault(sim, body):
    return {'fault': sim.add_fault(**_kwargs(body)), 'success': True}


def c_list_faults(sim, body):
    return {'faults': sim.faults, 'success': True}


def c_clear_faults(sim, body):
    sim.clear_faults()
    return {'success': True}


def c_config(sim, body):
    return {'config': sim.configure(**_kwargs(body)), 'success': True}


def c_dns(sim, body):
    return {'dns': sim.set_dns(**_kwargs(body)), 'success': True}


def c_seed(sim, body):
    sim.load_seed(_kwargs(body))
    return {'state': sim.state_snapshot(), 'success': True}


def c_logs(sim, body):
    return {'ids': sim.seed_logs(**_kwargs(body)), 'success': True}


def c_state(sim, body):
    return sim.state_snapshot()


SIM_ROUTES = [
    ('GET', 'requests', c_get_requests),
    ('DELETE', 'requests', c_clear_requests),
    ('POST', 'reset', c_reset),
    ('GET', 'faults', c_list_faults),
    ('POST', 'faults', c_add_fault),
    ('DELETE', 'faults', c_clear_faults),
    ('POST', 'config', c_config),
    ('POST', 'dns', c_dns),
    ('POST', 'seed', c_seed),
    ('POST', 'logs', c_logs),
    ('GET', 'state', c_state),
]


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


# --------------------------------------------------------------------------
# Fake log entries
# --------------------------------------------------------------------------

_SENDERS = [
    ('gavin@hooli.com', 'Gavin Belson'),
    ('russ@threecommas.com', 'Russ Hanneman'),
    ('laurie@raviga.com', 'Laurie Bream'),
    ('noreply@github.com', 'GitHub'),
    ('billing@aws.example', 'AWS Billing'),
    ('spam@spam.example', 'ThinkTeam'),
]
_SUBJECTS = [
    'Quarterly numbers', 'Re: Series A', 'Your invoice is available', 'Meeting tomorrow?',
    'Welcome aboard', 'Password reset requested', 'Weekly digest', 'Enlarge your (pied)piper!',
]
_OUTCOMES = ['DELIVERED'] * 6 + ['REFUSED', 'SOFT-BOUNCE', 'HARD-BOUNCE']


def _ms(ts):
    """Seconds since the epoch -> integer milliseconds, as the live API sends log times."""
    return int(ts) * 1000


def log_failed(entry):
    """True for a log entry whose delivery failed (what ``?filter=failure`` keeps)."""
    events = entry.get('events') or []
    return bool(events) and events[-1].get('status') in FAILED_LOG_STATUSES


def make_log_entry(rng, domain, local_part, forward_email, ts):
    """One log entry shaped like the reference's, with the live API's integer millisecond times,
    ``url``, ``saved`` and each event's ``recipient``."""
    when = datetime.fromtimestamp(int(ts), timezone.utc)
    log_id = '%s.%032x' % (when.strftime('%Y%m%d%H%M%S'), rng.getrandbits(128))
    sender_email, sender_name = rng.choice(_SENDERS)
    outcome = rng.choice(_OUTCOMES)
    message_id = '<%016x@%s>' % (rng.getrandbits(64), sender_email.split('@')[1])
    hostname = 'mail-%s-f%d.google.com' % (rng.choice(['io1', 'pj1', 'wm1', 'lf1']), rng.randint(10, 99))
    mx_local = rng.choice(['mxa', 'mxb', 'mxc']) + '.infra.improvmx.com'
    recipient = {'email': '%s@%s' % (local_part, domain), 'name': None}
    queued = {'code': 250, 'created': _ms(ts + 1), 'id': message_id, 'local': mx_local,
              'message': 'Queued', 'recipient': dict(recipient), 'server': hostname, 'status': 'QUEUED'}
    if outcome == 'REFUSED':
        events = [{'code': 550, 'created': _ms(ts + 1), 'id': message_id, 'local': mx_local,
                   'message': '5.7.1 Message considered as SPAM (Score of 5.8/5.0)', 'recipient': dict(recipient),
                   'server': hostname, 'status': 'REFUSED'}]
        forward = None
    else:
        final = {
            'DELIVERED': (250, 'Sent.'),
            'SOFT-BOUNCE': (421, '4.7.0 Try again later, closing connection.'),
            'HARD-BOUNCE': (550, '5.1.1 The email account that you tried to reach does not exist.'),
        }[outcome]
        events = [queued, {'code': final[0], 'created': _ms(ts + 2), 'id': message_id, 'local': 'gmail-smtp-in.l.google.com',
                           'message': final[1], 'recipient': {'email': forward_email, 'name': None},
                           'server': 'mail%d.%s' % (rng.randint(1, 20), mx_local), 'status': outcome}]
        forward = {'email': forward_email, 'name': None}
    saved = outcome != 'REFUSED'
    return {
        'created': _ms(ts),
        'created_raw': email.utils.format_datetime(when, usegmt=True),
        'events': events,
        'forward': forward,
        'hostname': hostname,
        'id': log_id,
        'messageId': message_id,
        'recipient': recipient,
        'saved': saved,
        'sender': {'email': sender_email, 'name': sender_name},
        'subject': rng.choice(_SUBJECTS),
        'transport': 'smtp',
        'url': 'https://storage.improvmx.example/%s/%s.eml' % (domain, log_id),
    }


# --------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, sim):
        self.sim = sim
        self.open_connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def close_open_connections(self):
        with self.connections_lock:
            conns = list(self.open_connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'ImprovMXSimulator/1.0'
    timeout = 120  # idle keep-alive connections are closed after this
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms delayed-ACK stalls

    def setup(self):
        super().setup()
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.open_connections.discard(self.connection)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: no per-request logging."""

    def do_GET(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_POST(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_PUT(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_DELETE(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_PATCH(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_OPTIONS(self):  # pylint: disable=invalid-name
        self._dispatch()

    def _read_body(self):
        if 'chunked' in (self.headers.get('Transfer-Encoding') or '').lower():
            chunks = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    while self.rfile.readline() not in (b'\r\n', b'\n', b''):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b''.join(chunks)
        length = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(length) if length > 0 else b''

    def _send(self, status, body, headers=None, content_type='application/json'):
        data = body if isinstance(body, bytes) else body.encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, str(value))
        if self.close_connection:
            self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_json(self, status, payload, headers=None):
        self._send(status, json.dumps(payload, indent=None, sort_keys=False), headers)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _dispatch(self):
        try:
            self._dispatch_inner()
        except (ConnectionError, socket.timeout):
            self.close_connection = True
        except Exception:  # pylint: disable=broad-except
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            try:
                self._send_json(500, {'error': 'Internal simulator error', 'code': 500, 'success': False})
            except OSError:
                pass

    def _dispatch_inner(self):
        sim = self.server.sim
        started = time.time()
        method = self.command.upper()
        raw_path, _sep, raw_query = self.path.partition('?')
        raw_body = self._read_body()
        query = {key: values[0] for key, values in parse_qs(raw_query, keep_blank_values=True).items()}
        segments = [unquote(seg) for seg in raw_path.split('/') if seg != '']
        body = None
        body_error = False
        if raw_body.strip():
            try:
                body = json.loads(raw_body.decode('utf-8'))
            except (ValueError, UnicodeDecodeError):
                body_error = True

        if segments and segments[0] == '_sim':
            self._control(sim, method, segments[1:], body, body_error)
            return

        is_api = bool(segments) and segments[0] == API_PREFIX
        path = '/' + '/'.join(segments[1:] if is_api else segments)
        entry = sim.log_request(method, path, query, body, started)
        # The query reaches take_fault through a thread-local: take_fault(method, path) stays the
        # two-argument hook that tests may wrap.
        sim.request_context.query = query
        try:
            fault = sim.take_fault(method, path)
        finally:
            sim.request_context.query = None
        kind = fault['kind'] if fault else None
        sim.note_request(entry, fault=kind)
        if kind in ('status', 'no_object'):
            status, data, headers, ctype = sim.fault_response(fault)
            sim.note_request(entry, status=status)
            self._send(status, data, headers, ctype)
            return
        if kind == 'redirect':
            status, data, headers, ctype = sim.fault_response(fault)
            headers.setdefault('Location', sim.redirect_location(fault, self.headers.get('Host'), raw_path, raw_query))
            sim.note_request(entry, status=status)
            self._send(status, data, headers, ctype)
            return
        if kind == 'drop':
            self._drop()
            return
        if kind == 'delay':
            time.sleep(fault['delay'])

        if is_api:
            status, payload, headers = sim.handle_api(method, segments[1:], query, body, body_error, self.headers.get('Authorization'))
        else:
            status, payload, headers = 404, {'error': 'Not found', 'code': 404, 'success': False}, {}

        if kind == 'apply_then_drop':
            sim.note_request(entry, applied_status=status)
            self._drop()
            return
        if kind in ('apply_then_status', 'apply_then_no_object'):
            fault_status, data, fault_headers, ctype = sim.fault_response(fault)
            sim.note_request(entry, applied_status=status, status=fault_status)
            self._send(fault_status, data, fault_headers, ctype)
            return
        if kind in ('empty_list', 'total_delta') and status == 200 and isinstance(payload, dict):
            payload = sim.distort_listing(fault, payload)
        if kind == 'headers':
            headers = dict(headers or {}, **(fault['headers'] or {}))
        sim.note_request(entry, status=status)
        self._send_json(status, payload, headers)

    def _control(self, sim, method, segments, body, body_error):
        if body_error:
            self._send_json(400, {'error': 'Invalid JSON body', 'code': 400, 'success': False})
            return
        handler, _params, allowed = match_route(SIM_ROUTES, method, segments)
        if handler is None:
            if allowed:
                self._send_json(405, {'error': 'Method not allowed', 'code': 405, 'success': False}, {'Allow': ', '.join(allowed)})
            else:
                self._send_json(404, {'error': 'Unknown simulator endpoint', 'code': 404, 'success': False})
            return
        try:
            payload = handler(sim, body)
        except (TypeError, ValueError, KeyError) as err:
            self._send_json(400, {'error': str(err), 'code': 400, 'success': False})
            return
        self._send_json(200, payload)


# --------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------

class Simulator:
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
        self.domains = {}
        self.whitelabels = []
        self.dns = {}
        self._requests = []
        self._faults = []
        self._windows = {}
        self._next_alias_id = 1
        self._rng = random.Random(4242)
        self._rule_rng = random.Random(1717)
        self.reset()

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

    def _domain_key(self, domain):
        norm = normalize_domain(domain)
        if norm is None:
            raise ValueError('invalid domain name: %r' % (domain,))
        return norm[0]

    def set_dns(self, domain, mx=None, spf=None, dkim1=None, dkim2=None, dmarc=None, valid_after=_UNSET,
                spf_value=_UNSET, valid=None, error=_UNSET, provider=_UNSET, zone_url=_UNSET):
        """Set the DNS state the check endpoint sees for ``domain`` (it need not be registered yet).

        Booleans left at None are unchanged; ``valid`` sets all five at once.  ``valid_after=N``: the
        first N checks answer the state as set, every later check answers all records valid (None: never);
        setting it restarts the check counter.  ``spf_value``: the SPF record currently published.
        ``zone_url``: the zone hook - a URL answering the records published at a DNS provider stand-in
        as JSON ``{"records": [{"name", "type", "values": [...]}]}`` (MX values ``"<priority> <host>"``);
        while set, every check reads it and decides each check from those records (``zone_check``), so a
        DNS task file that publishes at the stand-in makes the check valid.  None removes the hook.
        Returns the DNS state.
        """
        with self._lock:
            state = self.dns_state(self._domain_key(domain))
            if valid is not None:
                for check in DNS_CHECKS:
                    state[check] = bool(valid)
            for check, value in zip(DNS_CHECKS, (mx, spf, dkim1, dkim2, dmarc)):
                if value is not None:
                    state[check] = bool(value)
            if spf_value is not _UNSET:
                state['spf_value'] = spf_value
            if valid_after is not _UNSET:
                state['valid_after'] = None if valid_after is None else int(valid_after)
                state['checks'] = 0
            if error is not _UNSET:
                state['error'] = error
            if provider is not _UNSET:
                state['provider'] = provider
            if zone_url is not _UNSET:
                state['zone_url'] = zone_url or None
            return dict(state)

    def dns_state(self, name):
        """The (mutable) DNS state of a domain, created on first use."""
        state = self.dns.get(name)
        if state is None:
            state = {check: False for check in DNS_CHECKS}
            state.update({'spf_value': None, 'valid_after': self.dns_valid_after, 'checks': 0,
                          'error': None, 'provider': 'cloudflare', 'zone_url': None})
            self.dns[name] = state
        return state

    def seed_whitelabel(self, name):
        with self._lock:
            if name not in self.whitelabels:
                self.whitelabels.append(name)

    def seed_domain(self, domain, aliases=None, notification_email=_UNSET, webhook=_UNSET, whitelabel=_UNSET,
                    active=None, credentials=None, added=None, logs=None, rules=None, routing_engine=_UNSET,
                    dkim_selector=_UNSET, banned=_UNSET, daily_quota=_UNSET, merge=False, strict_mxes=_UNSET):
        """Create a domain directly (no validation of the optional fields, no request logged).

        ``aliases``: dict alias -> forward, or a list of (alias, forward) pairs or {alias, forward[, id, created]}
        dicts; None gives the catch-all ``*`` -> account email, as the API does.  ``credentials``: list of
        usernames or {username, password, created, usage, is_limited} dicts.  ``rules``: list of
        {type, config[, rank, active, id, created]} dicts.  ``active``: True/False sets every DNS record
        valid/invalid.  ``logs``: number of log entries to generate.  ``routing_engine`` ('' by default:
        alias routing), ``dkim_selector`` (``dkimprovmx``), ``banned``, ``daily_quota``, ``strict_mxes``: domain fields.

        An existing domain is replaced, unless ``merge=True``: then the fields given are changed and the
        aliases, credentials, rules and logs given are added to the domain's (an alias or credential of
        the same name is replaced, a rule of the same id too); nothing else is removed.  ``POST /_sim/seed``
        and ``--seed`` merge.  Returns the domain object as the API shows it.
        """
        with self._lock:
            name = self._domain_key(domain)
            dom = self.domains.get(name) if merge else None
            if dom is None:
                self.domains.pop(name, None)
                dom = self.create_domain(name, catch_all=aliases is None, added=added)
            elif added is not None:
                dom['added'] = added
            for key, value in (('notification_email', notification_email), ('webhook', webhook),
                               ('whitelabel', whitelabel), ('routing_engine', routing_engine),
                               ('dkim_selector', dkim_selector), ('banned', banned), ('daily_quota', daily_quota),
                               ('strict_mxes', strict_mxes)):
                if value is not _UNSET:
                    dom[key] = value
            for spec in self._alias_specs(aliases):
                self.seed_alias(name, **spec)
            for cred in credentials or []:
                if isinstance(cred, str):
                    cred = {'username': cred}
                self.add_credential(dom, cred['username'].lower(), cred.get('password', 'password123'),
                                    created=cred.get('created'), usage=cred.get('usage', 0),
                                    is_limited=bool(cred.get('is_limited', False)))
            for rule in rules or []:
                # Any type and config are held as given: a rule the collection does not recognise too.
                self.add_rule(dom, rule.get('type'), copy.deepcopy(rule.get('config', {})), rank=rule.get('rank'),
                              active=rule.get('active', True), rule_id=rule.get('id'), created=rule.get('created'))
            if active is not None:
                self.set_dns(name, valid=bool(active))
            if logs:
                self.seed_logs(name, int(logs))
            return self.domain_object(dom)

    @staticmethod
    def _alias_specs(aliases):
        if not aliases:
            return []
        if isinstance(aliases, dict):
            return [{'alias': key, 'forward': value} for key, value in aliases.items()]
        specs = []
        for item in aliases:
            if isinstance(item, dict):
                specs.append({key: item[key] for key in ('alias', 'forward', 'id', 'created') if key in item})
            else:
                specs.append({'alias': item[0], 'forward': item[1]})
        return specs

    def seed_alias(self, domain, alias, forward, id=None, created=None):  # pylint: disable=redefined-builtin
        """Add or replace one alias directly (forward may be a string or a list)."""
        with self._lock:
            dom = self.domains[self._domain_key(domain)]
            if isinstance(forward, (list, tuple)):
                forward = ','.join(forward)
            name = alias_key(alias)
            dom['aliases'].pop(name, None)
            return dict(self.add_alias(dom, name, forward, alias_id=id, created=created))

    def seed_logs(self, domain, count=10, alias=None):
        """Generate ``count`` realistic log entries for a domain (newest first); return their ids.

        ``alias``: the recipient's local part; by default cycles over the domain's aliases.
        """
        with self._lock:
            dom = self.domains.get(self._domain_key(domain))
            if dom is None:
                raise KeyError('unknown domain %s' % domain)
            names = [a for a in dom['aliases'] if a != '*' and not is_regex_name(a)] or ['contact', 'info', 'sales']
            base = int(time.time()) - 60
            ids = []
            for index in range(int(count)):
                local = alias if alias is not None else names[index % len(names)]
                if local == '*':
                    local = 'random%d' % self._rng.randint(1, 9999)
                existing = dom['aliases'].get(local) or dom['aliases'].get('*')
                forward_email = existing['forward'].split(',')[0] if existing else self.account_email
                entry = make_log_entry(self._rng, dom['domain'], local, forward_email, base - index * 97)
                dom['logs'].append(entry)
                ids.append(entry['id'])
            dom['logs'].sort(key=lambda e: e['id'], reverse=True)
            return ids

    def check_password(self, domain, username, password):
        """True when the SMTP credential exists with that password (passwords are never returned)."""
        with self._lock:
            dom = self.domains.get(self._domain_key(domain))
            cred = dom and dom['credentials'].get(username.lower())
            return bool(cred) and cred['password'] == password

    def state_snapshot(self):
        """A JSON-able copy of the state (no passwords); ``load_seed`` accepts the same shape."""
        with self._lock:
            domains = {}
            for name, dom in self.domains.items():
                domains[name] = {
                    'domain': name,
                    'display': dom['display'],
                    'active': self.domain_active(dom),
                    'notification_email': dom['notification_email'],
                    'webhook': dom['webhook'],
                    'whitelabel': dom['whitelabel'],
                    'routing_engine': dom['routing_engine'],
                    'dkim_selector': dom['dkim_selector'],
                    'banned': dom['banned'],
                    'daily_quota': dom['daily_quota'],
                    'strict_mxes': dom.get('strict_mxes', False),
                    'added': dom['added'],
                    'aliases': [dict(a) for a in self.sorted_aliases(dom)],
                    'credentials': [self.credential_object(c) for c in dom['credentials'].values()],
                    'rules': [copy.deepcopy(r) for r in self.sorted_rules(dom)],
                    'logs': len(dom['logs']),
                }
            return {
                'account': {'email': self.account_email, 'premium': self.premium},
                'whitelabels': list(self.whitelabels),
                'domains': domains,
                'dns': {name: dict(state) for name, state in self.dns.items()},
            }

    def load_seed(self, data):
        """Add state from a dict shaped like ``state_snapshot()`` (every key optional).

        Keys: ``config`` (configure kwargs), ``account`` {email, premium}, ``whitelabels`` (names or
        {name}), ``domains`` (dict name -> seed_domain kwargs, or a list of such dicts with ``domain``),
        ``dns`` (dict name -> set_dns kwargs; ``checks`` is ignored), ``logs`` (dict name -> count).
        A domain that already exists is merged into (``seed_domain(..., merge=True)``), not replaced.
        """
        with self._lock:
            if data.get('config'):
                self.configure(**data['config'])
            account = data.get('account') or {}
            self.configure(premium=account.get('premium'), account_email=account.get('email'))
            for item in data.get('whitelabels') or []:
                self.seed_whitelabel(item['name'] if isinstance(item, dict) else item)
            domains = data.get('domains') or {}
            if isinstance(domains, dict):
                domains = [dict(spec, domain=name) for name, spec in domains.items()]
            for spec in domains:
                spec = dict(spec)
                spec.pop('display', None)
                if isinstance(spec.get('active'), bool) and spec.get('domain') in (data.get('dns') or {}):
                    spec.pop('active')  # an explicit DNS state wins
                spec['merge'] = True
                self.seed_domain(**spec)
            for name, kwargs in (data.get('dns') or {}).items():
                kwargs = {k: v for k, v in kwargs.items() if k != 'checks'}
                self.set_dns(name, **kwargs)
            for name, count in (data.get('logs') or {}).items():
                if isinstance(count, dict):
                    self.seed_logs(name, **count)
                else:
                    self.seed_logs(name, count)

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

    # ---------------------------------------------------------------- faults
    def add_fault(self, method='*', path_regex='.*', count=1, status=None, headers=None, body=None,
                  kind='status', delay=0.0, query=None, location=None, delta=1):
        """Queue a fault for the next ``count`` matching requests (count None: unlimited).

        ``path_regex`` is searched (re.search) in the decoded path without the /v3 prefix, e.g.
        ``/domains/example.com/aliases``.  Kinds: status (answer ``status``/``body`` without applying),
        drop (close the connection without answering), delay (sleep ``delay`` s, then proceed),
        apply_then_status (apply, then answer ``status``), apply_then_drop (apply, then close),
        no_object (answer ``status``, default 200, with ``body``, default {"success": true}: a 2xx
        without the object, not applied), apply_then_no_object (the same, applied), redirect (answer
        ``status``, default 301, with a Location header: ``location``, a template of {host}, {port},
        {path} (with /v3) and {query}; default ``https://{host}:{port}{path}{query}``; not applied),
        empty_list (a listing served normally but its list emptied, total unchanged), total_delta (a
        listing whose ``total`` is off by ``delta``), headers (served normally, its answer carrying
        ``headers`` besides its own, replacing those of the same name: X-RateLimit-* values of a proxy).  ``query``: a dict of query parameters that must
        all match (as strings), e.g. {"page": "2"}.
        """
        if kind not in FAULT_KINDS:
            raise ValueError('kind must be one of %s' % ', '.join(FAULT_KINDS))
        re.compile(path_regex)
        if query is not None and not isinstance(query, dict):
            raise ValueError('query must be an object of query parameters')
        if status is None:
            status = {'apply_then_status': 502, 'no_object': 200, 'apply_then_no_object': 200, 'redirect': 301}.get(kind, 500)
        if body is None and kind in ('no_object', 'apply_then_no_object'):
            body = {'success': True}
        fault = {'method': method.upper(), 'path_regex': path_regex, 'count': count, 'status': int(status),
                 'headers': headers, 'body': body, 'kind': kind, 'delay': float(delay),
                 'query': {str(k): str(v) for k, v in query.items()} if query else None,
                 'location': location, 'delta': int(delta)}
        with self._lock:
            self._faults.append(fault)
        return dict(fault)

    @property
    def faults(self):
        with self._lock:
            return copy.deepcopy(self._faults)

    def clear_faults(self):
        with self._lock:
            self._faults = []

    def take_fault(self, method, path, query=_UNSET):
        """The fault for this request, if one is queued (its count is taken); ``query`` defaults to the
        query of the request being served on this thread."""
        if query is _UNSET:
            query = getattr(self.request_context, 'query', None)
        with self._lock:
            for fault in self._faults:
                if fault['method'] not in ('*', method):
                    continue
                if not re.search(fault['path_regex'], path):
                    continue
                if fault.get('query') and any((query or {}).get(k) != v for k, v in fault['query'].items()):
                    continue
                if fault['count'] is not None:
                    fault['count'] -= 1
                    if fault['count'] <= 0:
                        self._faults.remove(fault)
                return dict(fault)
        return None

    @staticmethod
    def fault_response(fault):
        """(status, body bytes, headers, content type) for a status fault."""
        status = fault['status']
        body = fault['body']
        if body is None:
            body = json.dumps({'error': 'Simulated fault (HTTP %d)' % status, 'code': status, 'success': False})
        elif not isinstance(body, str):
            body = json.dumps(body)
        try:
            json.loads(body)
            ctype = 'application/json'
        except ValueError:
            ctype = 'text/html'
        headers = fault['headers']
        if headers is None:
            headers = {'Retry-After': '1'} if status == 429 else {}
        return status, body, dict(headers), ctype

    def redirect_location(self, fault, host_header, raw_path, raw_query):
        """The Location of a redirect fault (see add_fault)."""
        host, _sep, port = (host_header or '%s:%s' % (self.host, self.port)).rpartition(':')
        if not host:
            host, port = port, str(self.port)
        template = fault.get('location') or 'https://{host}:{port}{path}{query}'
        return template.format(host=host, port=port, path=raw_path, query='?' + raw_query if raw_query else '')

    @staticmethod
    def distort_listing(fault, payload):
        """A listing answer made to contradict itself (empty_list / total_delta faults)."""
        payload = dict(payload)
        if fault['kind'] == 'empty_list':
            for key in LIST_KEYS:
                if isinstance(payload.get(key), list):
                    payload[key] = []
        elif isinstance(payload.get('total'), int):
            payload['total'] = max(0, payload['total'] + fault['delta'])
        return payload

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

    # ---------------------------------------------------------------- model helpers (lock held)
    def account_object(self):
        premium = self.premium
        plan = {
            'aliases_limit': 10000, 'daily_quota': 100000, 'display': 'Business - $249', 'domains_limit': 10000,
            'kind': 'enterprise', 'name': 'enterprise249', 'price': 249, 'yearly': False,
        } if premium else {
            'aliases_limit': 25, 'daily_quota': 500, 'display': 'Free', 'domains_limit': 10000,
            'kind': 'free', 'name': 'free', 'price': 0, 'yearly': False,
        }
        if self.aliases_limit is not None:
            plan['aliases_limit'] = self.aliases_limit
        if self.domains_limit is not None:
            plan['domains_limit'] = self.domains_limit
        return {
            'billing_email': None,
            'cancels_on': None,
            'card_brand': 'Visa' if premium else None,
            'company_details': None,
            'company_name': None,
            'company_vat': None,
            'country': 'US',
            'created': 1512139382000,
            'email': self.account_email,
            'last4': '1234' if premium else None,
            'limits': {
                'aliases': plan['aliases_limit'], 'daily_quota': plan['daily_quota'], 'daily_send': 200 if premium else 0,
                'domains': plan['domains_limit'], 'ratelimit': 10, 'redirections': 50, 'subdomains': 2, 'api': 3,
                'credentials': self.credentials_limit if premium else 0, 'destinations': self.destinations_limit,
            },
            'lock_reason': None,
            'locked': None,
            'password': True,
            'plan': plan,
            'premium': premium,
            'privacy_level': 1,
            'renew_date': 1881622590000 if premium else None,
        }

    def aliases_full(self, dom):
        """Whether the domain holds as many aliases as the plan's aliases_limit allows (never, without a limit)."""
        return self.aliases_limit is not None and len(dom['aliases']) >= self.aliases_limit

    def get_domain(self, raw):
        norm = normalize_domain(raw)
        dom = self.domains.get(norm[0]) if norm else None
        if dom is None:
            raise ApiError.simple(404, 'Domain not found')
        return dom

    def create_domain(self, name, notification_email=None, whitelabel=None, webhook=None, catch_all=True, added=None):
        display = normalize_domain(name)[1]
        dom = {
            'domain': name, 'display': display, 'notification_email': notification_email, 'webhook': webhook,
            'whitelabel': whitelabel, 'added': added or now_ms(), 'aliases': {}, 'credentials': {}, 'logs': [],
            'rules': {}, 'routing_engine': '', 'dkim_selector': DKIM_SELECTOR, 'banned': False, 'daily_quota': None, 'strict_mxes': False,
        }
        self.domains[name] = dom
        if catch_all:
            self.add_alias(dom, '*', self.account_email)
        return dom

    def validate_notification_email(self, domain, value):
        if value is None:
            return None
        if not isinstance(value, str) or not is_valid_email(value.strip()):
            raise ApiError.field('notification_email', '"%s" is not a valid email address.' % (value,))
        value = value.strip()
        mail_domain = value.split('@')[1].lower()
        if mail_domain == domain or mail_domain.endswith('.' + domain):
            raise ApiError.field('notification_email', 'You cannot use your domain in your email.')
        return value

    @staticmethod
    def validate_whitelabel(value):
        if value is None:
            return None
        norm = normalize_domain(value) if isinstance(value, str) else None
        if norm is None:
            raise ApiError.field('whitelabel', '"%s" is not a valid domain name.' % (value,))
        return norm[0]

    def domain_object(self, dom):
        return {
            'active': self.domain_active(dom),
            'domain': dom['domain'],
            'display': dom['display'],
            'dkim_selector': dom['dkim_selector'],
            'notification_email': dom['notification_email'],
            'webhook': dom['webhook'],
            'whitelabel': dom['whitelabel'],
            'routing_engine': dom['routing_engine'],
            'banned': dom['banned'],
            'daily_quota': dom['daily_quota'] if dom['daily_quota'] is not None else self.account_object()['limits']['daily_quota'],
            'strict_mxes': dom.get('strict_mxes', False),
            'added': dom['added'],
            'aliases': [dict(a) for a in self.sorted_aliases(dom)[:MAX_ALIASES_IN_DOMAIN]],
        }

    def domain_active(self, dom):
        return self.dns_records(dom, self.dns_state(dom['domain']))['valid']

    @staticmethod
    def sorted_aliases(dom):
        return sorted(dom['aliases'].values(), key=lambda a: a['id'])

    def add_alias(self, dom, name, forward, alias_id=None, created=None):
        if alias_id is None:
            alias_id = self._next_alias_id
        self._next_alias_id = max(self._next_alias_id, int(alias_id) + 1)
        alias = {'created': created or now_ms(), 'forward': forward, 'alias': name, 'id': int(alias_id)}
        dom['aliases'][name] = alias
        return alias

    def find_alias(self, dom, ref):
        """The alias of that name first (plain names without case, regex names exactly), then, for a
        segment of digits, the alias of that id (the other way round with alias_segment "id");
        return (alias, 'name'|'id') or raise 404."""
        by_id = None
        if ref.isdigit():
            by_id = next((alias for alias in dom['aliases'].values() if alias['id'] == int(ref)), None)
        if by_id is not None and self.alias_segment == 'id':
            return by_id, 'id'
        alias = dom['aliases'].get(alias_key(ref))
        if alias is not None:
            return alias, 'name'
        if by_id is not None:
            return by_id, 'id'
        raise ApiError.simple(404, 'Alias not found')

    def require_premium(self):
        if not self.premium:
            raise ApiError.simple(403, 'This feature requires a premium account')

    def require_plan_for_rules(self):
        """Rules routing is a paid-plan feature (rules guide): a free account is refused as other plan features are."""
        if not self.premium:
            raise ApiError.simple(403, 'Rules routing is not available on your plan. Please upgrade your account.')

    @staticmethod
    def sorted_rules(dom):
        """A domain's rules in the order they are tried: rank, then creation."""
        return sorted(dom['rules'].values(), key=lambda r: (r['rank'], r['created'], r['id']))

    def add_rule(self, dom, rule_type, config, rank=None, active=True, rule_id=None, created=None):
        if rule_id is None:
            rule_id = str(uuid.UUID(int=self._rule_rng.getrandbits(128), version=4))
        if rank is None:
            rank = max([r['rank'] for r in dom['rules'].values()] or [0.0]) + 1
        rule = {'id': str(rule_id), 'type': rule_type, 'config': config, 'rank': float(rank), 'active': bool(active),
                'created': int(created) if created is not None else int(time.time())}
        dom['rules'][rule['id']] = rule
        return rule

    @staticmethod
    def find_rule(dom, rule_id):
        rule = dom['rules'].get(rule_id)
        if rule is None:
            raise ApiError.simple(404, 'Rule not found')
        return rule

    @staticmethod
    def add_credential(dom, username, password, created=None, usage=0, is_limited=False):
        cred = {'created': created or now_ms(), 'usage': usage, 'username': username, 'password': password,
                'is_limited': is_limited}
        dom['credentials'][username] = cred
        return cred

    @staticmethod
    def find_credential(dom, username):
        cred = dom['credentials'].get(username.lower())
        if cred is None:
            raise ApiError.simple(404, 'Credential not found')
        return cred

    @staticmethod
    def credential_object(cred):
        return {'created': cred['created'], 'usage': cred['usage'], 'username': cred['username'],
                'is_limited': cred['is_limited']}

    def dns_records(self, dom, dns):
        """The ``records`` object of the check endpoint for the current DNS state."""
        if dns.get('zone_url'):
            return zone_check(dom, fetch_zone(dns['zone_url']), dns['provider'])
        all_valid = dns['valid_after'] is not None and dns['checks'] >= dns['valid_after']
        valid = {check: all_valid or dns[check] for check in DNS_CHECKS}
        spf_expected = expected_spf(dns['spf_value'])
        dkim1 = DKIM_EXPECTED_FORMAT % (dom['dkim_selector'], 1)
        dkim2 = DKIM_EXPECTED_FORMAT % (dom['dkim_selector'], 2)
        records = {
            'provider': dns['provider'],
            'advanced': True,
            'dkim1': {'expected': dkim1, 'valid': valid['dkim1'], 'values': dkim1 if valid['dkim1'] else None},
            'dkim2': {'expected': dkim2, 'valid': valid['dkim2'], 'values': dkim2 if valid['dkim2'] else None},
            'dmarc': {'expected': DMARC_EXPECTED, 'valid': valid['dmarc'], 'values': DMARC_EXPECTED if valid['dmarc'] else None},
            'error': None if all_valid else dns['error'],
            'mx': {'expected': list(MX_HOSTS), 'valid': valid['mx'], 'values': list(reversed(MX_HOSTS)) if valid['mx'] else None},
            'spf': {'expected': spf_expected, 'valid': valid['spf'], 'values': spf_expected if valid['spf'] else dns['spf_value']},
        }
        overall = valid['mx'] and valid['spf']
        if dom['credentials']:
            overall = overall and valid['dkim1'] and valid['dkim2']
        records['valid'] = overall
        return records


# --------------------------------------------------------------------------
# Standalone mode
# --------------------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(description='ImprovMX API v3 simulator (loopback, for tests and demos).')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8765, help='0 picks a free port')
    parser.add_argument('--port-file', help='write the listening port to this file')
    parser.add_argument('--api-key', default=os.environ.get('IMPROVMX_API_KEY', 'test-api-key'))
    parser.add_argument('--seed', help='JSON file shaped like GET /_sim/state')
    parser.add_argument('--rate-limit-get', type=int, default=None, help='GET requests per window (0: off, the default)')
    parser.add_argument('--rate-limit-write', type=int, default=None,
                        help='requests per window for each of POST, PUT and DELETE, each its own bucket (0: off)')
    parser.add_argument('--rate-limit-post', type=int, default=None, help='POST requests per window (overrides --rate-limit-write)')
    parser.add_argument('--rate-limit-put', type=int, default=None, help='PUT requests per window (overrides --rate-limit-write)')
    parser.add_argument('--rate-limit-delete', type=int, default=None, help='DELETE requests per window (overrides --rate-limit-write)')
    parser.add_argument('--rate-limit-api', action='store_true',
                        help="the live API's limits: 150 GET and 60 of each write method per window")
    parser.add_argument('--rate-limit-window', type=float, default=60, help='rate-limit window in seconds')
    parser.add_argument('--rate-limit-scale', type=float, default=None,
                        help="divide the window by this (60: per-minute limits per second); alone, it also sets the API's limits")
    parser.add_argument('--rule-envelope', choices=('rule', 'top'), default='top',
                        help='POST/PUT of a rule answer the rule object itself, with success (default, as the CLI reads '
                             'it) or {"rule": ..., "success": true}')
    parser.add_argument('--non-premium', action='store_true', help='free account: credentials and rules answer 403')
    parser.add_argument('--account-email', default='owner@example.net')
    parser.add_argument('--dns-valid-after', type=int, default=None,
                        help='every domain\'s DNS records become valid after N checks (default: never)')
    parser.add_argument('--log-page-size', type=int, default=50)
    parser.add_argument('--error-shape', choices=ERROR_SHAPES, default='fields',
                        help='a 400 carries its errors as {field: [messages]} (default) or as a list of the messages')
    parser.add_argument('--domains-limit', type=int, default=None,
                        help='the plan\'s limit of domains: a domain beyond it is refused (default: none)')
    parser.add_argument('--aliases-limit', type=int, default=None,
                        help='the plan\'s limit of aliases per domain: an alias beyond it is refused (default: none)')
    parser.add_argument('--credentials-limit', type=int, default=50, help='SMTP credentials per domain (default 50)')
    parser.add_argument('--rules-page-size', type=int, default=None,
                        help='the rules list ignores limit, pages by N rules and answers only {"rules", "success"} '
                             '(default: paged by limit, with total)')
    parser.add_argument('--check-shape', choices=CHECK_SHAPES, default='records',
                        help='the DNS check answers {"records": {...}} (default, the reference) or the records at the top level')
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    seed = None
    if args.seed:
        with open(args.seed, encoding='utf-8') as handle:
            seed = json.load(handle)
    sim = Simulator(api_key=args.api_key, host=args.host, port=args.port, premium=not args.non_premium,
                    account_email=args.account_email, rate_limit_get=args.rate_limit_get,
                    rate_limit_write=args.rate_limit_write, rate_limit_window=args.rate_limit_window,
                    rate_limit_post=args.rate_limit_post, rate_limit_put=args.rate_limit_put,
                    rate_limit_delete=args.rate_limit_delete, rate_limit_api=args.rate_limit_api,
                    rate_limit_scale=args.rate_limit_scale, rule_envelope=args.rule_envelope,
                    log_page_size=args.log_page_size, dns_valid_after=args.dns_valid_after, seed=seed,
                    error_shape=args.error_shape, domains_limit=args.domains_limit, aliases_limit=args.aliases_limit,
                    credentials_limit=args.credentials_limit, rules_page_size=args.rules_page_size, check_shape=args.check_shape)
    url = sim.start()
    if args.port_file:
        tmp = args.port_file + '.tmp'
        with open(tmp, 'w', encoding='utf-8') as handle:
            handle.write('%d\n' % sim.port)
        os.replace(tmp, args.port_file)
    print('improvmx simulator listening on %s' % url, flush=True)

    stop = threading.Event()

    def _on_signal(signum, frame):  # pylint: disable=unused-argument
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    while not stop.wait(0.5):
        pass
    # Stop serving, but never let a stuck connection keep a stopped simulator alive.
    closer = threading.Thread(target=sim.stop, name='improvmx-sim-stop', daemon=True)
    closer.start()
    closer.join(5)
    sys.stdout.flush()
    os._exit(0)  # pylint: disable=protected-access


if __name__ == '__main__':
    sys.exit(main())
