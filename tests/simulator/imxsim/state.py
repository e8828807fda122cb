# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulated account: field tables, domains, aliases, rules, credentials, DNS state, seeding."""

from __future__ import absolute_import, division, print_function

import collections
import copy
import time
import uuid

from .common import (
    alias_key,
    ApiError,
    DKIM_EXPECTED_FORMAT,
    DKIM_SELECTOR,
    DMARC_EXPECTED,
    DNS_CHECKS,
    is_regex_name,
    is_valid_email,
    MAX_ALIASES_IN_DOMAIN,
    MX_HOSTS,
    normalize_domain,
    now_ms,
    _UNSET,
    _clean_optional,
    _is_http_url,
    parse_forward,
    ROUTING_ENGINES,
    validate_alias_name,
)
from .dns import expected_spf, fetch_zone, zone_check
from .logentries import make_log_entry

__metaclass__ = type  # pylint: disable=invalid-name


# --------------------------------------------------------------------------
# Field tables: one per resource, in the order the API answers the fields (a domain answers
# dkim_selector first, GET /_sim/state in the table's order).
# name, type, default (what a new record holds), check (how a value sent to the API is
# validated: ``check(sim, domain, raw) -> value`` or raise ApiError; TYPED: the value must be of
# the field's type, and a create without it takes the default; a string names the handler
# function that checks it with other fields; None: the API takes no value for it), create /
# update (whether POST / PUT take it), doc.
# --------------------------------------------------------------------------

Field = collections.namedtuple('Field', ['name', 'type', 'default', 'check', 'create', 'update', 'doc'])
TYPED = 'typed'
_TYPE_WORDS = {bool: 'true or false', int: 'an integer', str: 'a string'}


def _checked(field, sim, domain, raw, which):
    """The value a domain field takes from what was sent, by its check (see the tables' comment)."""
    if field.check != TYPED:
        return field.check(sim, domain, raw)
    if raw is None and which == 'create':
        return field.default
    if not isinstance(raw, field.type) or (field.type is not bool and isinstance(raw, bool)):
        raise ApiError.field(field.name, 'must be %s.' % _TYPE_WORDS.get(field.type, field.type.__name__))
    return raw


def _check_notification_email(sim, domain, raw):
    return sim.validate_notification_email(domain, _clean_optional(raw))


def _check_webhook(sim, domain, raw):
    webhook = _clean_optional(raw)
    if webhook is not None and (not isinstance(webhook, str) or not _is_http_url(webhook)):
        raise ApiError.field('webhook', '"%s" is not a valid http(s) URL.' % (webhook,))
    return webhook


def _check_whitelabel(sim, domain, raw):
    return sim.validate_whitelabel(_clean_optional(raw))


def _check_routing_engine(sim, domain, raw):
    engine = '' if raw is None else raw
    if not isinstance(engine, str) or engine.strip().lower() not in ROUTING_ENGINES:
        raise ApiError.field('routing_engine', '"%s" is not a routing engine: use "alias" or "rules".' % (engine,))
    return engine.strip().lower()


def _check_alias(sim, domain, raw):
    return validate_alias_name(raw, allow_regex=True)


def _check_forward(sim, domain, raw):
    return parse_forward(raw, sim.destinations_limit)


# A domain's own fields (besides domain, display, active, added and what it holds). A new field:
# one line here; the create and update endpoints, seeding, the domain object and GET /_sim/state
# follow the table.
DOMAIN_FIELDS = (
    Field('notification_email', str, None, _check_notification_email, True, True, 'where notices go; None or "" clears it'),
    Field('webhook', str, None, _check_webhook, False, True, 'an http(s) URL; None or "" clears it'),
    Field('whitelabel', str, None, _check_whitelabel, True, True, 'a white-label domain; None or "" clears it'),
    Field('routing_engine', str, '', _check_routing_engine, False, True, '"" or "alias" (alias routing) or "rules"'),
    Field('dkim_selector', str, DKIM_SELECTOR, None, False, False, 'the DKIM selector (read-only)'),
    Field('banned', bool, False, None, False, False, 'read-only'),
    Field('daily_quota', int, None, None, False, False, "read-only; None answers the plan's daily quota"),
    Field('strict_mxes', bool, False, None, False, False, 'read-only'),
)
DOMAIN_FIELD_NAMES = tuple(field.name for field in DOMAIN_FIELDS)

ALIAS_FIELDS = (
    Field('created', int, None, None, False, False, 'milliseconds since the epoch; None: now'),
    Field('forward', str, None, _check_forward, True, True, 'comma-separated addresses, http(s) URLs or null'),
    Field('alias', str, None, _check_alias, True, True, 'plain names lower-cased, regex names as written; PUT by id renames'),
    Field('id', int, None, None, False, False, 'the next free id when None'),
)
ALIAS_FIELD_NAMES = tuple(field.name for field in ALIAS_FIELDS)

# Rules are checked as a whole (type, config and the type's config keys): handlers/rules.py validate_rule.
RULE_FIELDS = (
    Field('id', str, None, None, False, False, 'a UUID4; None: a new one'),
    Field('type', str, None, 'validate_rule', True, True, 'alias, regex or cel (RULE_TYPES)'),
    Field('config', dict, None, 'validate_rule', True, True, 'the keys of RULE_CONFIG_KEYS[type]'),
    Field('rank', float, None, 'validate_rule', True, True, 'None: after the last rule'),
    Field('active', bool, True, 'validate_rule', True, True, ''),
    Field('created', int, None, None, False, False, 'seconds since the epoch; None: now'),
)
RULE_WRITABLE = frozenset(field.name for field in RULE_FIELDS if field.create or field.update)

# password is never answered; handlers/credentials.py checks username, password and is_limited.
CREDENTIAL_FIELDS = (
    Field('created', int, None, None, False, False, 'milliseconds since the epoch; None: now'),
    Field('usage', int, 0, None, False, False, ''),
    Field('username', str, None, 'validate_alias_name', True, False, 'a plain alias name'),
    Field('password', str, 'password123', '_validate_password', True, True, 'at least MIN_PASSWORD characters; never answered'),
    Field('is_limited', bool, False, '_validate_is_limited', True, True, ''),
)
CREDENTIAL_PUBLIC = tuple(field.name for field in CREDENTIAL_FIELDS if field.name != 'password')


def domain_changes(sim, domain, body, which):
    """The domain fields ``body`` sets on create (``which='create'``: every such field, absent is None)
    or update (only those present), checked: ``{name: value}``, or raise ApiError with every field's error."""
    errors = {}
    changes = {}
    for field in DOMAIN_FIELDS:
        if not getattr(field, which) or (which == 'update' and field.name not in body):
            continue
        try:
            changes[field.name] = _checked(field, sim, domain, body.get(field.name), which)
        except ApiError as err:
            errors.update(err.payload['errors'])
    if errors:
        raise ApiError.fields(errors)
    return changes


class StateMixin:
    """The Simulator's account state: domains and what they hold, DNS states, seeding (lock: ``self._lock``)."""

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

    def seed_domain(self, domain, aliases=None, active=None, credentials=None, added=None, logs=None, rules=None,
                    merge=False, **fields):
        """Create a domain directly (no validation of the optional fields, no request logged).

        ``aliases``: dict alias -> forward, or a list of (alias, forward) pairs or {alias, forward[, id, created]}
        dicts; None gives the catch-all ``*`` -> account email, as the API does.  ``credentials``: list of
        usernames or {username, password, created, usage, is_limited} dicts.  ``rules``: list of
        {type, config[, rank, active, id, created]} dicts.  ``active``: True/False sets every DNS record
        valid/invalid.  ``logs``: number of log entries to generate.  ``fields``: the domain fields of
        DOMAIN_FIELDS (notification_email, webhook, routing_engine ('' by default: alias routing), dkim_selector
        (``dkimprovmx``), banned, daily_quota, strict_mxes...), set as given.

        An existing domain is replaced, unless ``merge=True``: then the fields given are changed and the
        aliases, credentials, rules and logs given are added to the domain's (an alias or credential of
        the same name is replaced, a rule of the same id too); nothing else is removed.  ``POST /_sim/seed``
        and ``--seed`` merge.  Returns the domain object as the API shows it.
        """
        for key in fields:
            if key not in DOMAIN_FIELD_NAMES:
                raise TypeError("seed_domain() got an unexpected keyword argument '%s'" % key)
        with self._lock:
            name = self._domain_key(domain)
            dom = self.domains.get(name) if merge else None
            if dom is None:
                self.domains.pop(name, None)
                dom = self.create_domain(name, catch_all=aliases is None, added=added)
            elif added is not None:
                dom['added'] = added
            dom.update(fields)
            for spec in self._alias_specs(aliases):
                self.seed_alias(name, **spec)
            for cred in credentials or []:
                if isinstance(cred, str):
                    cred = {'username': cred}
                self.add_credential(dom, cred['username'].lower(), cred.get('password', CREDENTIAL_FIELDS[3].default),
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
                specs.append({key: item[key] for key in ALIAS_FIELD_NAMES if key in item})
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
                }
                domains[name].update((field.name, dom.get(field.name, field.default)) for field in DOMAIN_FIELDS)
                domains[name].update({
                    'added': dom['added'],
                    'aliases': [dict(a) for a in self.sorted_aliases(dom)],
                    'credentials': [self.credential_object(c) for c in dom['credentials'].values()],
                    'rules': [copy.deepcopy(r) for r in self.sorted_rules(dom)],
                    'logs': len(dom['logs']),
                })
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

    def create_domain(self, name, catch_all=True, added=None, **fields):
        """A new domain record: DOMAIN_FIELDS' defaults, then ``fields`` (domain fields by name)."""
        display = normalize_domain(name)[1]
        dom = {'domain': name, 'display': display, 'added': added or now_ms(), 'aliases': {}, 'credentials': {}, 'logs': [], 'rules': {}}
        dom.update((field.name, field.default) for field in DOMAIN_FIELDS)
        for key, value in fields.items():
            if key not in DOMAIN_FIELD_NAMES:
                raise TypeError('unknown domain field %s' % key)
            dom[key] = value
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
        answer = {'active': self.domain_active(dom), 'domain': dom['domain'], 'display': dom['display'], 'dkim_selector': None}
        answer.update((field.name, dom.get(field.name, field.default)) for field in DOMAIN_FIELDS)
        if answer['daily_quota'] is None:
            answer['daily_quota'] = self.account_object()['limits']['daily_quota']
        answer['added'] = dom['added']
        answer['aliases'] = [dict(a) for a in self.sorted_aliases(dom)[:MAX_ALIASES_IN_DOMAIN]]
        return answer

    def domain_active(self, dom):
        return self.dns_records(dom, self.dns_state(dom['domain']))['valid']

    @staticmethod
    def sorted_aliases(dom):
        return sorted(dom['aliases'].values(), key=lambda a: a['id'])

    def add_alias(self, dom, name, forward, alias_id=None, created=None):
        if alias_id is None:
            alias_id = self._next_alias_id
        self._next_alias_id = max(self._next_alias_id, int(alias_id) + 1)
        values = {'created': created or now_ms(), 'forward': forward, 'alias': name, 'id': int(alias_id)}
        alias = {key: values[key] for key in ALIAS_FIELD_NAMES}
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
        values = {'id': str(rule_id), 'type': rule_type, 'config': config, 'rank': float(rank), 'active': bool(active),
                  'created': int(created) if created is not None else int(time.time())}
        rule = {field.name: values[field.name] for field in RULE_FIELDS}
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
        values = {'created': created or now_ms(), 'usage': usage, 'username': username, 'password': password,
                  'is_limited': is_limited}
        cred = {field.name: values[field.name] for field in CREDENTIAL_FIELDS}
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
        return {key: cred[key] for key in CREDENTIAL_PUBLIC}

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
