# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The domains of the account as one declaration (improvmx_domains) and its export.

* parse_declaration(): checks the whole list before any request (the entries' options as
  DOMAIN_ENTRY declares them, duplicate domains, invalid names, fields and aliases) and gives
  one Wanted per domain.
* plan_domains(): pure; compares the declaration with the account as the domain list shows it.
* DomainSetSync: reads the account through the domain list, then sends only the writes that
  differ, through the resources (Domains, Aliases, AliasSync) and their write safety.
* export_entry(): one domain of the account in the declaration's format (improvmx_domain_info).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections import namedtuple
from functools import partial

from ansible_collections.improvmx.email.plugins.module_utils.account import Account
from ansible_collections.improvmx.email.plugins.module_utils.aliases import (
    AliasChanges,
    Aliases,
    AliasSync,
    diff_view,
    index_current,
    over_destinations_limit,
    parse_desired,
    plan_changes,
)
from ansible_collections.improvmx.email.plugins.module_utils.alias_sets import alias_options
from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError
from ansible_collections.improvmx.email.plugins.module_utils.credential_sets import (
    CREDENTIAL_ENTRY,
    CredentialSync,
    credentials_view,
    missing_passwords,
    parse_credentials,
    plan_credentials,
)
from ansible_collections.improvmx.email.plugins.module_utils.credentials import Credentials, dkim_warning
from ansible_collections.improvmx.email.plugins.module_utils.domains import (
    DOMAIN_FIELDS,
    Domains,
    FieldsNotTaken,
    account_domains,
    alias_set,
    checked_update,
    routes_by_rules,
    say_created,
)
from ansible_collections.improvmx.email.plugins.module_utils.entry_options import checked_options
from ansible_collections.improvmx.email.plugins.module_utils.fields import changed_values, create_values, field_options, wanted_values
from ansible_collections.improvmx.email.plugins.module_utils.resource import TaskError
from ansible_collections.improvmx.email.plugins.module_utils.rules import (
    ITEM_ARGUMENT_SPEC, Rules, RuleSync, parse_rules, routing_warning, rule_line)
from ansible_collections.improvmx.email.plugins.module_utils.validation import checked_entries, domain_name


class Wanted(namedtuple('Wanted', ['name', 'values', 'desired', 'order', 'purge_aliases', 'manages_aliases',
                                   'credentials', 'purge_credentials', 'rules', 'purge_rules'])):
    """One declared domain: its name (IDNA, lower case), the field values it manages, its alias set.

    desired/order are parse_desired()'s; manages_aliases is False when neither aliases nor
    purge_aliases was given (the domain's aliases are then left alone). credentials is the list of
    WantedCredential, None when not given; the credentials are read and managed only when it is
    given or purge_credentials is true. rules is the list of rule Specs (rules.parse_rules()), None
    when not given; likewise read and managed only when given or purge_rules is true.
    """

    __slots__ = ()

    # An empty list without purge changes nothing: those domains are not read for it (read-once economy).
    @property
    def manages_credentials(self):
        return bool(self.credentials) or self.purge_credentials

    @property
    def manages_rules(self):
        return bool(self.rules) or self.purge_rules


class Plan(namedtuple('Plan', ['name', 'status', 'fields', 'aliases'])):
    """What one domain takes: status add, update, keep or remove; fields that change; AliasChanges."""

    __slots__ = ()


NO_ALIAS_CHANGES = AliasChanges([], [], [])


def entry_spec(fields=DOMAIN_FIELDS):
    """The options of one entry of improvmx_domains' domains option (documented there as its suboptions).

    The module's argument spec takes domains as a list of dicts and parse_declaration() checks each
    entry against this spec: AnsibleModule's check of nested suboptions costs more than the rest of
    the module's local work at fleet size (hundreds of domains with their aliases).
    """
    spec = dict(
        domain=dict(type='str', required=True, aliases=['name']),
        aliases=dict(type='list', elements='dict', options=alias_options(forward_required=True)),
        purge_aliases=dict(type='bool', default=False),
        credentials=dict(type='list', elements='dict', options=CREDENTIAL_ENTRY),
        purge_credentials=dict(type='bool', default=False),
        rules=dict(type='list', elements='dict', options=ITEM_ARGUMENT_SPEC),
        purge_rules=dict(type='bool', default=False),
    )
    spec.update(field_options(fields))
    return spec


DOMAIN_ENTRY = entry_spec()


def credential_passwords(entries):
    """Every password given in the entries' credentials (of any type, unchecked): the values no output may show."""
    passwords = set()
    for entry in entries if isinstance(entries, list) else []:
        credentials = entry.get('credentials') if isinstance(entry, dict) else None
        for item in credentials if isinstance(credentials, list) else []:
            password = item.get('password') if isinstance(item, dict) else None
            if password is not None and str(password).strip():
                passwords.add(str(password))
    return passwords


def parse_declaration(entries, fields=DOMAIN_FIELDS, allow_empty_purge=False, warnings=None):
    """Check the domains option; return the list of Wanted. Raises ValueError naming every problem.

    Each entry is checked against entry_spec(fields) first (warnings, a list, gets what AnsibleModule
    would warn about, such as an option given twice through its alias).
    """
    spec = DOMAIN_ENTRY if fields is DOMAIN_FIELDS else entry_spec(fields)
    wanted = []
    problems = []
    seen = {}
    entry_options = partial(checked_options, spec=spec, warnings=warnings)
    for where, name, raw, entry in checked_entries(entries, 'domain', domain_name, 'domain', problems, entry_options):
        if name in seen:
            problems.append('%s: the domain %s is listed twice (also as %r)' % (where, name, seen[name]))
            continue
        seen[name] = raw
        try:
            values = wanted_values(entry, fields)
        except ValueError as exc:
            problems.append('%s: %s' % (where, exc))
            continue
        purge_aliases = bool(entry.get('purge_aliases'))
        given = entry.get('aliases')
        try:
            desired, order = parse_desired(given)
        except ValueError as exc:
            problems.append('%s: aliases: %s' % (where, exc))
            continue
        if purge_aliases and not desired and not allow_empty_purge:
            problems.append('%s: purge_aliases with an empty aliases list would delete every alias of the domain, '
                            'the catch-all included; list the aliases to keep, or set allow_empty_purge to true '
                            'if that is meant' % where)
            continue
        try:
            credentials = None if entry.get('credentials') is None else parse_credentials(entry['credentials'])
        except ValueError as exc:
            problems.append('%s: credentials: %s' % (where, exc))
            continue
        try:
            rules = None if entry.get('rules') is None else parse_rules(entry['rules'])
        except ValueError as exc:
            problems.append('%s: %s' % (where, exc))
            continue
        if entry.get('purge_rules') and not rules and not allow_empty_purge:
            problems.append('%s: purge_rules with an empty rules list would delete every rule of the domain; list the '
                            'rules to keep, or set allow_empty_purge to true if that is meant' % where)
            continue
        wanted.append(Wanted(name, values, desired, order, purge_aliases, given is not None or purge_aliases,
                             credentials, bool(entry.get('purge_credentials')), rules, bool(entry.get('purge_rules'))))
    if problems:
        raise ValueError('; '.join(problems))
    return wanted


def forwards(aliases):
    """An alias set (name -> alias object) as name -> stored destinations."""
    return dict((name, obj.get('forward')) for name, obj in (aliases or {}).items())


def plan_domains(account, declared, purge=False, fields=DOMAIN_FIELDS):
    """The plans that turn the account into the declaration, in declaration order, then the removals.

    account maps a domain name to (domain object, alias set or None); a domain that is added is
    planned against an empty alias set (the catch-all ImprovMX gives it is not known yet).
    """
    plans = []
    for want in declared:
        found = account.get(want.name)
        if found is None:
            status, current, aliases = 'add', {}, {}
        else:
            current, aliases = found
            status = 'keep'
        changes = changed_values(fields, current, want.values)
        alias_changes = NO_ALIAS_CHANGES
        if want.manages_aliases:
            alias_changes = plan_changes(forwards(aliases), want.desired, purge=want.purge_aliases, order=want.order)
        if status == 'keep' and (changes or alias_changes):
            status = 'update'
        plans.append(Plan(want.name, status, changes, alias_changes))
    if purge:
        names = set(want.name for want in declared)
        plans.extend(Plan(name, 'remove', {}, NO_ALIAS_CHANGES) for name in account if name not in names)
    return plans


def domain_view(domain, aliases, managed, manages_aliases):
    """What the diff shows of one domain: the managed fields, and its alias set when it is managed."""
    view = dict((field.name, (domain or {}).get(field.name)) for field in DOMAIN_FIELDS if field.name in managed)
    if manages_aliases:
        view['aliases'] = diff_view(aliases or {})
    return view


class DomainSetSync(object):
    """Converge the account's domains on a declaration; remembers what it did, for honest reporting on failure."""

    def __init__(self, client, check_mode=False):
        self.client = client
        self.domains = Domains(client)
        self.check_mode = check_mode
        self.applied = False  # whether a write was sent (never in check mode)
        self.changes = {}
        self.failed = []
        self.before = {}
        self.after = {}
        self.warnings = []
        self.credential_plans = {}
        self._limit = None

    def destinations_limit(self):
        """The account's limits.destinations, read once for every domain."""
        if self._limit is None:
            self._limit = (Account(self.client).destinations_limit(),)
        return self._limit[0]

    def run(self, declared, purge=False):
        managed = set(want.name for want in declared if want.manages_aliases)
        listing = account_domains(self.client, with_aliases=lambda name: name in managed)
        account = dict((str(domain['domain']).lower(), (domain, aliases)) for domain, aliases in listing)
        plans = plan_domains(account, declared, purge)
        self.check_limits(plans)
        wants = dict((want.name, want) for want in declared)
        self.plan_credentials(declared, account)
        for plan in plans:
            if plan.status == 'remove':
                self.remove(plan.name, account[plan.name][0])
            elif plan.status != 'keep' or self.credential_plans.get(plan.name) or wants[plan.name].manages_rules:
                found = account.get(plan.name)
                self.converge(wants[plan.name], found[0] if found else None, found[1] if found else None)

    def plan_credentials(self, declared, account):
        """Read the credentials of the domains that manage them and plan them, before any write.

        A credential to create without a password fails the task here, before any write (in check
        mode, a warning: the run would fail).
        """
        problems = []
        for want in declared:
            if not want.manages_credentials:
                continue
            current = Credentials(self.client, want.name).list() if want.name in account else []
            plan = self.credential_plans[want.name] = plan_credentials(current, want.credentials or [], want.purge_credentials)
            problems.extend('%s: credentials %s' % (want.name, text) for text in missing_passwords(plan, want.name))
            self.warnings.extend('the API does not report is_limited for the SMTP credential %s@%s, so it cannot be '
                                 'compared; it was left as it is' % (item.username, want.name) for item in plan.unknown)
        if problems and not self.check_mode:
            raise TaskError('domains: %s; nothing was changed' % '; '.join(problems))
        self.warnings.extend('%s (the run would fail)' % text for text in problems)

    def check_limits(self, plans):
        """Refuse, before any write, aliases with more destinations than the account allows."""
        writes = [(plan, list(plan.aliases.added) + list(plan.aliases.updated)) for plan in plans]
        if not any(len(forward) > 1 for _plan, entries in writes for _name, forward in entries):
            return
        problems = []
        for plan, entries in writes:
            problems.extend('%s: %s' % (plan.name, text) for text in over_destinations_limit(entries, self.destinations_limit()))
        if problems:
            raise TaskError('domains: %s; nothing was changed' % '; '.join(problems))

    def record(self, name, status, **what):
        entry = self.changes.setdefault(name, {'status': status, 'fields': {},
                                               'aliases': {'added': [], 'updated': [], 'removed': []}})
        entry['status'] = status
        entry['fields'].update(what.get('fields') or {})
        for key in ('added', 'updated', 'removed'):
            entry['aliases'][key].extend(what.get(key) or [])
        for kind in ('credentials', 'rules'):
            if kind in what:
                entry[kind] = what[kind]

    def converge(self, want, current, aliases):
        name = want.name
        status = 'updated'
        before = current
        if current is None:
            status = 'added'
            if self.check_mode:
                current, aliases = {'domain': name}, {}
                self.record(name, status)
            else:
                created, current = self.domains.create(name, create_values(DOMAIN_FIELDS, want.values))
                if created:
                    self.applied = True
                    self.record(name, status)
                else:
                    status, before = 'updated', current  # another run added it meanwhile: converge on it
                aliases = None
        changes = changed_values(DOMAIN_FIELDS, current, want.values)
        if changes:
            if self.check_mode:
                current = dict(current, **changes)
            else:
                try:
                    current = checked_update(self.domains, name, changes, created=status == 'added') or dict(current, **changes)
                except FieldsNotTaken as exc:
                    # Only the fields the API took are changes; the failure names the others.
                    refused = set(field for field, _sent, _answered in exc.untaken)
                    self.applied = self.applied or exc.changed
                    if exc.changed:
                        self.record(name, status, fields=dict((key, value) for key, value in changes.items() if key not in refused))
                    raise
                except ImprovMXError as exc:
                    if status == 'added':
                        say_created(exc, name, changes)
                    raise
                self.applied = True
            self.record(name, status, fields=changes)
        final = aliases
        if want.manages_aliases:
            if aliases is None:
                aliases = alias_set(self.client, current)
            sync = AliasSync(Aliases(self.client, name), destinations_limit=self.destinations_limit)
            try:
                sync.run(want.desired, want.order, purge=want.purge_aliases, check_mode=self.check_mode, current=aliases)
            finally:
                if sync.applied:
                    self.applied = self.applied or not self.check_mode
                    self.record(name, status, added=sync.added, updated=sync.updated, removed=sync.removed)
                self.failed.extend(dict(entry, domain=name) for entry in sync.failed)
            final = sync.final
            if sync.applied and routes_by_rules(current):
                self.warnings.append('the domain %s routes mail by rules (routing_engine: rules): its aliases do not '
                                     'route mail until its routing_engine is alias again' % name)
        credential_plan = self.credential_plans.get(name)
        if credential_plan:
            credentials = CredentialSync(Credentials(self.client, name), self.check_mode)
            try:
                credentials.run(credential_plan)
            finally:
                if credentials.applied:
                    self.applied = self.applied or not self.check_mode
                    self.record(name, status, credentials={'added': credentials.added, 'updated': credentials.updated,
                                                           'removed': credentials.removed})
            if credentials.requires_check:
                self.warnings.append(dkim_warning(name, credentials.added[0], check_mode=self.check_mode))
        rules = self.converge_rules(want, status, current) if want.manages_rules else None
        if name in self.changes:
            self.before[name] = {} if before is None else domain_view(before, aliases, want.values, want.manages_aliases)
            self.after[name] = domain_view(current, final, want.values, want.manages_aliases)
            if credential_plan is not None:
                if before is not None:
                    self.before[name]['credentials'] = credentials_view(credential_plan.current)
                self.after[name]['credentials'] = credentials_view(credentials.final if credential_plan else credential_plan.current)
            removed = ['alias %s' % alias for alias in self.changes[name]['aliases']['removed']]
            removed.extend('credential %s' % user for user in self.changes[name].get('credentials', {}).get('removed', []))
            if rules is not None:
                if before is not None:
                    self.before[name]['rules'] = [rule_line(rule) for rule in rules.current or []]
                self.after[name]['rules'] = [rule_line(rule) for rule in rules.final or []]
                removed.extend('rule %s' % line for line in rules.removed)
            if removed:
                self.after[name]['removed'] = removed  # the diff says what is gone, not only that it is missing

    def converge_rules(self, want, status, domain):
        """Converge the domain's rules as improvmx_rules does (one paged read, the writes that differ): the RuleSync."""
        rules = RuleSync(Rules(self.client, want.name))
        try:
            rules.run(want.rules or [], purge=want.purge_rules, check_mode=self.check_mode)
        finally:
            self.warnings.extend(rules.rules.warnings())
            if rules.applied:
                self.applied = self.applied or not self.check_mode
                self.record(want.name, status, rules={'added': list(rules.created), 'updated': list(rules.updated),
                                                      'removed': list(rules.removed)})
        warning = routing_warning(want.name, domain or {}) if rules.applied else None
        if warning:
            self.warnings.append(warning)
        return rules

    def remove(self, name, current):
        if not self.check_mode:
            if not self.domains.discard(name):
                return  # another run removed it meanwhile: absent all the same
            self.applied = True
        self.record(name, 'removed')
        self.before[name] = domain_view(current, index_current(current.get('aliases')),
                                        [field.name for field in DOMAIN_FIELDS], True)
        self.after[name] = {'removed': ['domain %s, with its aliases' % name]}

    def result(self):
        names = dict((status, sorted(name for name, entry in self.changes.items() if entry['status'] == status))
                     for status in ('added', 'updated', 'removed'))
        return dict(changes=self.changes, added=names['added'], updated=names['updated'], removed=names['removed'],
                    diff={'before': self.before, 'after': self.after})


def refusals(failed):
    """The failed alias entries as one sentence: domain: alias (reason), ..."""
    return ', '.join('%s: %r (%s)' % (entry['domain'], entry.get('alias'), entry.get('error')) for entry in failed)
