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

from ansible.module_utils.common.validation import check_type_bool, check_type_dict, check_type_list, check_type_str

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
    split_forward,
)
from ansible_collections.improvmx.email.plugins.module_utils.domains import (
    DOMAIN_FIELDS,
    Domains,
    FieldsNotTaken,
    account_domains,
    alias_set,
    checked_update,
    routes_by_rules,
)
from ansible_collections.improvmx.email.plugins.module_utils.fields import changed_values, create_values, field_options, wanted_values
from ansible_collections.improvmx.email.plugins.module_utils.resource import TaskError
from ansible_collections.improvmx.email.plugins.module_utils.validation import checked_entries, domain_name


class Wanted(namedtuple('Wanted', ['name', 'values', 'desired', 'order', 'purge_aliases', 'manages_aliases'])):
    """One declared domain: its name (IDNA, lower case), the field values it manages, its alias set.

    desired/order are parse_desired()'s; manages_aliases is False when neither aliases nor
    purge_aliases was given (the domain's aliases are then left alone).
    """

    __slots__ = ()


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
        aliases=dict(type='list', elements='dict', options=dict(
            alias=dict(type='str', required=True, aliases=['name']),
            forward=dict(type='list', elements='str', required=True, aliases=['destinations']),
        )),
        purge_aliases=dict(type='bool', default=False),
    )
    spec.update(field_options(fields))
    return spec


DOMAIN_ENTRY = entry_spec()

_TYPE_CHECKS = {'str': check_type_str, 'bool': check_type_bool, 'list': check_type_list, 'dict': check_type_dict}
_TYPE_NAMES = {'str': 'a string', 'bool': 'a boolean', 'list': 'a list', 'dict': 'a dict'}


def _typed(value, kind):
    """value converted to kind the way AnsibleModule converts option values; ValueError when it cannot be."""
    if kind == 'str' and isinstance(value, (dict, list)):
        raise ValueError('must be %s, got %s %r' % (_TYPE_NAMES[kind], type(value).__name__, value))
    try:
        return _TYPE_CHECKS[kind](value)
    except (TypeError, ValueError):
        raise ValueError('must be %s, got %s %r' % (_TYPE_NAMES[kind], type(value).__name__, value))


def checked_options(entry, spec, warnings=None):
    """One dict checked against an options spec as AnsibleModule checks suboptions: (values, problems).

    Handles what the spec entries use: type (str, bool, list, dict), elements, nested options,
    required, default, choices and aliases (an alias given with its option wins, with a warning,
    as in AnsibleModule). Every option of spec is in values (its default, or None, when not given).
    problems are sentences naming the option and the value.
    """
    problems = []
    names = {}
    for option, option_spec in spec.items():
        names[option] = option
        for alias in option_spec.get('aliases', ()):
            names[alias] = option
    unknown = sorted(str(key) for key in entry if key not in names)
    if unknown:
        problems.append('unsupported option%s %s (supported: %s)' % (
            's' if len(unknown) > 1 else '', ', '.join(unknown), ', '.join(sorted(names))))
    values = {}
    for option, option_spec in spec.items():
        given = [name for name in [option] + list(option_spec.get('aliases', ())) if name in entry]
        if len(given) > 1 and warnings is not None:
            warnings.append('both option %s and its alias %s are set; %s is used' % (given[0], given[-1], given[-1]))
        if not given:
            if option_spec.get('required'):
                problems.append('%s is required' % option)
            values[option] = option_spec.get('default')
            continue
        value = entry[given[-1]]
        if value is None and (option_spec.get('required') or option_spec.get('default') is None):
            values[option] = None  # not given; a required one is then refused by the check of its value
            continue
        try:
            value = _typed(value, option_spec.get('type', 'str'))
        except ValueError as exc:
            problems.append('%s %s' % (option, exc))
            continue
        if 'choices' in option_spec and value not in option_spec['choices']:
            problems.append('%s must be one of %s, got %r' % (option, ', '.join(option_spec['choices']), value))
            continue
        kind = option_spec.get('elements')
        if kind:
            value, item_problems = _checked_elements(value, kind, option_spec.get('options'), warnings)
            problems.extend('%s: %s' % (option, text) for text in item_problems)
        values[option] = value
    return values, problems


def _checked_elements(items, kind, options, warnings):
    checked = []
    problems = []
    for index, item in enumerate(items):
        try:
            item = _typed(item, kind)
        except ValueError as exc:
            problems.append('entry %d %s' % (index + 1, exc))
            continue
        if options is not None:
            item, item_problems = checked_options(item, options, warnings)
            problems.extend('entry %d: %s' % (index + 1, text) for text in item_problems)
        checked.append(item)
    return checked, problems


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
        wanted.append(Wanted(name, values, desired, order, purge_aliases, given is not None or purge_aliases))
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


def export_entry(domain, aliases, fields=DOMAIN_FIELDS):
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
    return entry


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
        for plan in plans:
            if plan.status == 'remove':
                self.remove(plan.name, account[plan.name][0])
            elif plan.status != 'keep':
                found = account.get(plan.name)
                self.converge(wants[plan.name], found[0] if found else None, found[1] if found else None)

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
        if name in self.changes:
            self.before[name] = {} if before is None else domain_view(before, aliases, want.values, want.manages_aliases)
            self.after[name] = domain_view(current, final, want.values, want.manages_aliases)
            removed = ['alias %s' % alias for alias in self.changes[name]['aliases']['removed']]
            if removed:
                self.after[name]['removed'] = removed  # the diff says what is gone, not only that it is missing

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
