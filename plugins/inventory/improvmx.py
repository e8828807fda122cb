# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: improvmx
short_description: The domains of an ImprovMX account as inventory hosts
version_added: 1.1.0
author:
  - improvmx.email developers (@improvmx-email)
description:
  - Makes one inventory host per domain of an ImprovMX account, named by the domain
    (for example V(example.com)).
  - The host variables are the domain's fields as the API gives them, each prefixed with C(improvmx_)
    (listed in the notes), plus the number of its aliases; with O(check_dns), also the state of its DNS records.
  - The domain list is read 100 domains a page, with the retries and the rate-limit pacing of the
    collection's modules.
  - Uses a YAML configuration file whose name ends with C(improvmx.yml) or C(improvmx.yaml), for example
    C(improvmx.yml) or C(production.improvmx.yml).
  - Supports the constructed options (O(compose), O(groups), O(keyed_groups), O(strict)) and the
    inventory cache (O(cache)).
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
requirements:
  - requests >= 2.25.0 with urllib3 >= 1.21.1 (Python libraries, on the controller or in the execution environment)
options:
  plugin:
    description:
      - The name of this plugin. It makes the file a configuration file of this plugin.
    type: str
    required: true
    choices:
      - improvmx.email.improvmx
  api_key:
    description:
      - The API key of the ImprovMX account, from the API page of the ImprovMX dashboard.
      - Required, in the configuration file or as the E(IMPROVMX_API_KEY) environment variable (which the
        C(ImprovMX API) credential type of C(extensions/awx/) injects in AWX). Prefer the environment
        variable, or a vault-encrypted value, to a key in clear text in the file.
      - The key is never shown in the inventory, its errors or its messages, at any verbosity.
    type: str
    env:
      - name: IMPROVMX_API_KEY
  api_url:
    description:
      - Base URL of the ImprovMX API, version 3.
      - Point it at a test server, for example the simulator shipped in C(tests/simulator/).
      - An C(http://) URL to a host other than the local machine sends the key in clear text; the plugin
        warns about it. Redirects are never followed.
    type: str
    default: https://api.improvmx.com/v3/
    env:
      - name: IMPROVMX_API_URL
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the API server.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each HTTP request to the API before giving up on it.
    type: float
    default: 30
  max_retries:
    description:
      - How many times one request may be retried after a rate limit (HTTP 429), HTTP 502, 503 or 504,
        a timeout or a dropped connection. V(0) turns retries off.
    type: int
    default: 8
    env:
      - name: IMPROVMX_MAX_RETRIES
  max_retry_wait:
    description:
      - The most seconds one request may spend waiting between its retries, all waits together
        (a single wait is at most 60 seconds, or this value if smaller).
    type: float
    default: 300
    env:
      - name: IMPROVMX_MAX_RETRY_WAIT
  rate_limit_state:
    description:
      - Where the account's rate-limit budget is shared with the collection's modules, as their
        O(improvmx.email.improvmx_domain#module:rate_limit_state) option.
      - If not set, the directory C(~/.ansible/tmp/improvmx.email) of the user who runs the inventory.
        V(off) turns sharing off; otherwise an absolute directory path.
    type: str
    env:
      - name: IMPROVMX_RATE_LIMIT_STATE
  is_active:
    description:
      - V(true) lists only the active domains, V(false) only the inactive ones (the API's C(is_active)
        filter of the domain list). Not set, every domain.
    type: bool
  q:
    description:
      - Lists only the domains whose name starts with this text (the API's C(q) filter of the domain list).
    type: str
  check_dns:
    description:
      - Also run the DNS check of each domain (one more request per domain) and add the host variables
        C(improvmx_dns_valid), C(improvmx_dns_checks), C(improvmx_dns_invalid_checks) and
        C(improvmx_dns_missing_records).
      - The checks that matter for a domain (C(improvmx_dns_checks)) are C(mx) and C(spf), plus C(dkim1)
        and C(dkim2) when the domain has SMTP credentials, and never C(dmarc). To know whether a domain has
        SMTP credentials, their list is read too (one more request per domain); an account whose plan has
        no SMTP credentials counts as having none. C(improvmx_credential_count) holds their number.
      - C(improvmx_dns_valid) is V(true) when every check that matters is valid;
        C(improvmx_dns_invalid_checks) lists those that are not, and C(improvmx_dns_missing_records) the
        DNS records to publish for them (dicts with C(check), C(type), C(name), C(value), C(priority),
        C(valid), as C(dns_records) of M(improvmx.email.improvmx_domain_check)).
      - The API allows about 150 reads a minute, so for a large account this makes the inventory take
        minutes (the requests are paced); use the O(cache).
    type: bool
    default: false
    aliases:
      - dns_check
notes:
  - "Host variables, for each domain: C(improvmx_domain) (the domain's name, also the host's name),
    C(improvmx_active), C(improvmx_routing_engine) (V(alias) or V(rules); the API's empty value is given as
    V(alias)), C(improvmx_notification_email), C(improvmx_webhook), C(improvmx_whitelabel),
    C(improvmx_dkim_selector), C(improvmx_display), C(improvmx_added), C(improvmx_banned),
    C(improvmx_daily_quota), every other field the API gives, also prefixed with C(improvmx_), and
    C(improvmx_alias_count) (the number of aliases; a domain with 200 aliases or more, more than the domain
    list embeds, has its alias list read to count them)."
  - The alias objects themselves are not host variables; use M(improvmx.email.improvmx_alias_info).
  - The values come from the API and are never templated.
  - "The hosts are domains, not machines. Plays on them run tasks against the API from the controller:
    set C(ansible_connection) to V(local) with O(compose) (see the examples), or use C(delegate_to)."
  - The cache key includes a hash of O(api_url) and O(api_key) (never the key itself), so two accounts
    read with one configuration file have their own cache entries.
seealso:
  - module: improvmx.email.improvmx_domain_info
  - module: improvmx.email.improvmx_domain_check
'''

EXAMPLES = r'''
# improvmx.yml: every domain of the account whose key is in IMPROVMX_API_KEY
# ansible-inventory -i improvmx.yml --graph
plugin: improvmx.email.improvmx

---
# production.improvmx.yml: the active domains whose name starts with "shop", with their DNS state,
# grouped by routing engine and by whether their DNS is valid; tasks on them run on the controller.
plugin: improvmx.email.improvmx
is_active: true
q: shop
check_dns: true
compose:
  ansible_connection: "'local'"
groups:
  dns_invalid: not improvmx_dns_valid
  webhooks: improvmx_webhook is truthy
keyed_groups:
  - key: improvmx_routing_engine
    prefix: routing
  - key: improvmx_dns_invalid_checks
    prefix: missing

---
# cached.improvmx.yml: kept for an hour in a JSON file cache (ansible-inventory --flush-cache reads afresh)
plugin: improvmx.email.improvmx
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/improvmx-inventory
cache_timeout: 3600
'''

import hashlib
import os

from ansible import template as ansible_template
from ansible.errors import AnsibleError, AnsibleParserError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.improvmx.email.plugins.module_utils.api import (
    HAS_REQUESTS,
    RATE_STATE_OFF,
    ImprovMXClient,
    ImprovMXError,
    RetryPolicy,
    check_api_key,
)
from ansible_collections.improvmx.email.plugins.module_utils.common import _checked_api_url
from ansible_collections.improvmx.email.plugins.module_utils.credentials import list_credentials
from ansible_collections.improvmx.email.plugins.module_utils.dns import DomainCheck, dns_records, failing_checks, relevant_checks
from ansible_collections.improvmx.email.plugins.module_utils.domains import Domains, alias_set, dkim_selector
from ansible_collections.improvmx.email.plugins.module_utils.resource import DomainMissing

PREFIX = 'improvmx_'
CONFIG_SUFFIXES = ('improvmx.yml', 'improvmx.yaml')
CACHE_VERSION = 1
# ansible-core 2.19 and later never template data unless it is marked as trusted; before, values from the
# API are wrapped as unsafe (wrap_var) so that a "{{" in a domain's field is never templated.
DATA_TAGGING = hasattr(ansible_template, 'trust_as_template')


class _OptionProblem(Exception):
    """A connection option that cannot be used (raised by _Options.fail_json)."""


class _Options(object):
    """What common._checked_api_url() needs of a module: fail_json and warn, for the plugin's options."""

    def __init__(self, display):
        self._display = display

    def fail_json(self, msg, **kwargs):
        raise _OptionProblem(msg)

    def warn(self, msg):
        self._display.warning(msg)


def dns_state(domain, records, credential_count):
    """The DNS host variables of a domain (without prefix) from its check's records object."""
    # The checks that matter (dns.relevant_checks(), the same rule as improvmx_domain_check's invalid_checks);
    # one the API does not report is not known to be valid.
    checks = relevant_checks(credential_count)
    failing = failing_checks(records, checks)
    missing = [record for record in dns_records(domain['domain'], records, dkim_selector(domain))
               if record['check'] in failing]
    return {
        'dns_valid': not failing,
        'dns_checks': checks,
        'dns_invalid_checks': failing,
        'dns_missing_records': missing,
        'credential_count': credential_count,
    }


def domain_hostvars(entry):
    """The host variables of one cached entry {domain, alias_count[, dns]}: every field with PREFIX."""
    domain = entry['domain']
    hostvars = {}
    for key, value in domain.items():
        if key == 'aliases':
            continue
        hostvars[PREFIX + str(key)] = value
    hostvars[PREFIX + 'routing_engine'] = str(domain.get('routing_engine') or '').strip().lower() or 'alias'
    hostvars[PREFIX + 'alias_count'] = entry['alias_count']
    for key, value in (entry.get('dns') or {}).items():
        hostvars[PREFIX + key] = value
    return hostvars


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """One host per domain of an ImprovMX account."""

    NAME = 'improvmx.email.improvmx'

    def verify_file(self, path):
        if not super(InventoryModule, self).verify_file(path):
            return False
        if path.endswith(CONFIG_SUFFIXES):
            return True
        self.display.vvv('Skipping %s: an improvmx.email.improvmx inventory file name ends with improvmx.yml '
                         'or improvmx.yaml' % path)
        return False

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        api_key, api_url = self._connection()
        cache_key = self._account_cache_key(path, api_key, api_url)

        use_cache = self.get_option('cache')
        entries = None
        update_cache = False
        if use_cache and cache:
            try:
                cached = self._cache[cache_key]
            except KeyError:
                cached = None
            if isinstance(cached, dict) and cached.get('version') == CACHE_VERSION and \
                    isinstance(cached.get('entries'), list):
                entries = cached['entries']
        if entries is None:
            entries = self._read_account(api_key, api_url)
            update_cache = use_cache
        if update_cache:
            self._cache[cache_key] = {'version': CACHE_VERSION, 'entries': entries}
        self._populate(entries)

    # -- options --------------------------------------------------------------

    def _connection(self):
        """(api_key, api_url), checked; AnsibleParserError naming the option otherwise (never the key)."""
        api_key = self.get_option('api_key')
        if api_key is not None:
            api_key = to_text(api_key).strip()  # a vault-encrypted value decrypts here
        if not api_key:
            raise AnsibleParserError(
                'improvmx.email.improvmx inventory: api_key is missing: set api_key in the inventory file or the '
                'IMPROVMX_API_KEY environment variable (in AWX: attach an "ImprovMX API" credential to the '
                'inventory source) to the key from the API page of the ImprovMX dashboard')
        try:
            check_api_key(api_key)
            api_url = _checked_api_url(_Options(self.display), self.get_option('api_url'))
        except (ValueError, _OptionProblem) as exc:
            raise AnsibleParserError('improvmx.email.improvmx inventory: %s' % exc)
        for option, low in (('timeout', 0), ('max_retries', -1), ('max_retry_wait', -1)):
            if self.get_option(option) <= low:
                raise AnsibleParserError('improvmx.email.improvmx inventory: %s must be %s, got %s'
                                         % (option, 'more than 0' if low == 0 else '0 or more', self.get_option(option)))
        return api_key, api_url

    def _rate_state(self):
        value = (self.get_option('rate_limit_state') or '').strip()
        if not value:
            return None, True
        if value.lower() == RATE_STATE_OFF:
            return None, False
        directory = os.path.expanduser(value)
        if not os.path.isabs(directory):
            raise AnsibleParserError('improvmx.email.improvmx inventory: rate_limit_state must be off or the absolute '
                                     'path of a directory, got %r' % value)
        return directory, True

    def _account_cache_key(self, path, api_key, api_url):
        account = hashlib.sha256(('%s\n%s' % (api_url, api_key)).encode('utf-8')).hexdigest()[:12]
        return '%s_%s' % (self.get_cache_key(path), account)

    # -- reading the account ----------------------------------------------------

    def _client(self, api_key, api_url):
        if not HAS_REQUESTS:
            raise AnsibleError('improvmx.email.improvmx inventory: the Python library requests is needed on the '
                               'controller (or in the execution environment): pip install requests')
        state_dir, shared = self._rate_state()
        max_retry_wait = self.get_option('max_retry_wait')
        policy = RetryPolicy(retries=self.get_option('max_retries'), max_wait=min(60.0, max_retry_wait),
                             max_total_wait=max_retry_wait)
        return ImprovMXClient(api_key=api_key, api_url=api_url, validate_certs=self.get_option('validate_certs'),
                              timeout=self.get_option('timeout'), retry_policy=policy, rate_state_dir=state_dir,
                              share_rate_state=shared, warn=self.display.warning)

    def _read_account(self, api_key, api_url):
        """[{domain, alias_count[, dns]}] for every domain the filters select, from the API."""
        client = self._client(api_key, api_url)
        try:
            entries = self._entries(client)
        except ImprovMXError as exc:
            # The client's messages never hold the key; redact() once more, in case.
            raise AnsibleParserError('improvmx.email.improvmx inventory: could not read the ImprovMX account: %s'
                                     % client.redact(str(exc)))
        finally:
            for event in client.retry_events:
                self.display.vvv('improvmx.email.improvmx inventory: %s' % event)
        self.display.vvv('improvmx.email.improvmx inventory: %d domain(s) in %d request(s)'
                         % (len(entries), client.request_count))
        return entries

    def _entries(self, client):
        is_active = self.get_option('is_active')
        q = self.get_option('q')
        check = self.get_option('check_dns')
        entries = []
        for domain in Domains(client).iterate(q=q if q else None, is_active=is_active):
            if not isinstance(domain, dict) or not domain.get('domain'):
                continue
            entry = {'domain': dict((key, value) for key, value in domain.items() if key != 'aliases'),
                     'alias_count': len(alias_set(client, domain))}
            if check:
                entry['dns'] = self._dns(client, domain)
                if entry['dns'] is None:
                    continue  # removed from the account since the list was read
            entries.append(entry)
        return entries

    def _dns(self, client, domain):
        name = domain['domain']
        try:
            try:
                credential_count = len(list_credentials(client, name))
            except ImprovMXError as exc:
                if exc.status != 403 or isinstance(exc, DomainMissing):
                    raise
                credential_count = 0  # the account's plan has no SMTP credentials
            records = DomainCheck(client).records(name)
        except DomainMissing:
            self.display.warning('improvmx.email.improvmx inventory: the domain %s was removed from the account '
                                 'while the inventory was read; it is left out' % name)
            return None
        return dns_state(domain, records, credential_count)

    # -- the inventory --------------------------------------------------------

    def _populate(self, entries):
        strict = self.get_option('strict')
        for entry in entries:
            host = entry['domain']['domain']
            hostvars = domain_hostvars(entry)
            if not DATA_TAGGING:
                hostvars = wrap_var(hostvars)
            self.inventory.add_host(host)
            for key, value in hostvars.items():
                self.inventory.set_variable(host, key, value)
            self._set_composite_vars(self.get_option('compose'), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), hostvars, host, strict=strict)
