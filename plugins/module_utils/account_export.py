# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The account as code: each domain exported in exactly improvmx_domains' input format.

improvmx_domain_info returns the export; converging it with improvmx_domains (purge) changes
nothing. Fields and aliases are always in it; credentials and rules on request (export_include),
at one more read per domain each.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.improvmx.email.plugins.module_utils.alias_sets import split_forward
from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError
from ansible_collections.improvmx.email.plugins.module_utils.credential_sets import export_credentials
from ansible_collections.improvmx.email.plugins.module_utils.credentials import Credentials
from ansible_collections.improvmx.email.plugins.module_utils.domains import DOMAIN_FIELDS
from ansible_collections.improvmx.email.plugins.module_utils.rules import (
    KEY_FIELDS, Rules, rank_text, recognised, rule_config, sorted_rules, unrecognised_warning)


def rule_item(rule):
    """An API rule as an item of improvmx_rules' rules option (and improvmx_domains' domains[].rules)."""
    config = rule_config(rule)
    item = {'type': rule['type']}
    for name in KEY_FIELDS[rule['type']]:
        item[name] = list(config[name]) if name == 'scopes' else config[name]
    item['forward'] = split_forward(config.get('forward'))
    item['active'] = rule.get('active') is not False
    if rank_text(rule.get('rank')) != '?':
        item['rank'] = float(rule['rank'])
    return item


def export_entry(domain, aliases, fields=DOMAIN_FIELDS, credentials=None, rules=None):
    """One domain of the account as an entry of improvmx_domains' domains option.

    Every field is given: its value, or V('') (clears it) when the API has none and the field can
    be cleared. The aliases are the complete set, in the API's order, and purge_aliases is true
    when there is any, so that converging the entry keeps the domain exactly as it is.
    """
    entry = {'domain': domain['domain']}
    for field in fields:
        value = domain.get(field.name)
        if value is None or value == '':
            if field.clearable and field.spec.get('type', 'str') == 'str':
                entry[field.name] = ''
            continue
        entry[field.name] = value
    entry['aliases'] = [{'alias': obj.get('alias', name), 'forward': split_forward(obj.get('forward'))}
                        for name, obj in (aliases or {}).items()]
    entry['purge_aliases'] = bool(entry['aliases'])
    if credentials is not None:
        # Passwords cannot be read: the entries have none, so converging the export never sets one.
        entry['credentials'] = export_credentials(credentials)
        entry['purge_credentials'] = bool(entry['credentials'])
    if rules is not None:
        # In rank order; a rule the collection does not recognise cannot be declared (purge keeps it).
        entry['rules'] = [rule_item(rule) for rule in sorted_rules(rules) if recognised(rule)]
        entry['purge_rules'] = bool(entry['rules'])
    return entry


class ExportExtras(object):
    """What an export holds besides fields and aliases (improvmx_domain_info's export_include), read per domain.

    A refusal because the account's plan lacks the feature (HTTP 403, or 402) stops reading that kind
    for the other domains, and warnings() says what was left out and why.
    """

    def __init__(self, client, include):
        self.client = client
        self.include = set(include or [])
        self.refused = {}
        self.passwords = False
        self.unrecognised = []

    def of(self, name):
        """The export_entry() keyword arguments for one domain."""
        extras = {}
        if 'credentials' in self.include and 'credentials' not in self.refused:
            extras['credentials'] = self.read('credentials', lambda: Credentials(self.client, name).list())
            self.passwords = self.passwords or bool(extras['credentials'])
        if 'rules' in self.include and 'rules' not in self.refused:
            extras['rules'] = self.read('rules', lambda: Rules(self.client, name).listing())
            self.unrecognised.extend(unrecognised_warning(rule, name) for rule in extras['rules'] or [] if not recognised(rule))
        return dict((kind, value) for kind, value in extras.items() if value is not None)

    def read(self, kind, reader):
        """What reader() gives, or None when the account's plan refuses the kind (remembered for every domain)."""
        try:
            return reader()
        except ImprovMXError as exc:
            if exc.status not in (402, 403):
                raise
            self.refused[kind] = exc
            return None

    def warnings(self):
        texts = []
        if self.passwords:
            texts.append('the export holds the SMTP credentials without their passwords, which the API never gives back; '
                         'converging it never changes a password, and a credential deleted meanwhile cannot be created '
                         'again from it without adding its password')
        texts.extend('the export leaves out %s' % text for text in self.unrecognised)
        for kind, exc in sorted(self.refused.items()):
            texts.append('the export holds no %s: the account\'s plan does not include them (%s)' % (kind, exc))
        return texts
