# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Alias sets as data: normal forms, comparison, and the changes that turn one set into another.

Pure functions, no HTTP: the unit tests check them on their own (including property tests: one
converge reaches the desired set, a second one computes no change). aliases.py holds the API
resource and the convergence the modules run on top of them.

An alias set is a dict from the alias name's key (name_key: plain names lower-cased, regular
expression names as written) to its destinations. Destinations are a list of e-mail addresses,
webhook URLs and null, or the comma-separated string the API stores and expects; they compare as
a set (destinations.py), so their order is never a change.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections import namedtuple

from ansible_collections.improvmx.email.plugins.module_utils import destinations
from ansible_collections.improvmx.email.plugins.module_utils.fields import Field, Returned
from ansible_collections.improvmx.email.plugins.module_utils.validation import (
    checked_entries,
    is_regex_alias,
    mailbox_name,
    regex_alias,
)

CATCH_ALL = '*'
BULK_LIMIT = 500  # entries per POST /domains/:domain/aliases/bulk, the API's maximum


class AliasChanges(namedtuple('AliasChanges', ['added', 'updated', 'removed'])):
    """What converging a set takes.

    added and updated are lists of (name, destinations) with destinations a list of addresses and URLs;
    removed is a list of names. Names are in their normal form (name_key).
    """

    __slots__ = ()

    def __bool__(self):
        return bool(self.added or self.updated or self.removed)

    __nonzero__ = __bool__


def alias_name(value):
    """The normal form of an alias name: a plain name lower-cased, V(*) the catch-all, a regex kept as written."""
    if is_regex_alias(value if isinstance(value, str) else ''):
        return regex_alias(value)
    return mailbox_name(value, allow_catch_all=True)


def name_key(name):
    """What alias names compare by: a regular expression exactly as written, a plain name without case."""
    text = str(name if name is not None else '').strip()
    return text if is_regex_alias(text) else text.lower()


def same_name(left, right):
    """Whether two alias names are the same alias."""
    return name_key(left) == name_key(right)


def named_with_prefix(items, prefix):
    """The alias objects whose name (name_key) starts with prefix; never one the API added for another reason."""
    return [item for item in items if isinstance(item, dict) and name_key(item.get('alias')).startswith(prefix)]


# The alias object as data: every field the API returns, in the order the documentation shows them.
# The writable ones (Field) are the options of improvmx_alias and of improvmx_aliases' aliases[] items
# (their argument specs come from here). Their option documentation (doc, and doc_in where a module or
# the role says it in its own words) and the returned alias object's documentation of improvmx_alias,
# improvmx_aliases and improvmx_alias_info are generated from this table (scripts/field_docs.py, make docs).
# An alias is created with both fields (POST /domains/:domain/aliases) and updated by its forward only
# (PUT .../aliases/:alias); the name is its key. forward is never '' or None in a write: an empty list
# is refused by forward_list.
ALIAS_OBJECT = (
    Field('alias', alias_name, caseless=True, clearable=False,
          doc=['The part before the C(@), for example V(sales) for C(sales@example.com).',
               'V(*) is the catch-all alias.',
               'A regular expression, such as V(^invoice-.*$), makes a regex alias (kept as written, at most 150 '
               'characters).',
               'With O(id), the name the alias gets; a different name renames it.'],
          doc_in=dict(
              improvmx_aliases=['The part before the C(@), for example V(sales). V(*) is the catch-all alias.',
                                'A regular expression, such as V(^invoice-.*$), makes a regex alias (kept as written).',
                                'Plain names are case-insensitive; a name listed twice fails the task.'],
              improvmx_domains=['The part before the C(@), for example V(sales); V(*) is the catch-all. Names are '
                                'case-insensitive.'],
              domain_onboarding=['The part before the C(@), for example V(sales); V(*) is the catch-all alias.',
                                 'A regular expression, such as V(^invoice-.*$), makes a regex alias (kept exactly as '
                                 'written).']),
          spec=dict(type='str', required=True, aliases=['name']),
          returned='The alias name (lower case for a plain name, as written for a regular expression); V(*) for the catch-all.',
          sample='sales'),
    Field('forward', destinations.checked_list, clearable=False,
          doc=['The destinations the alias forwards to, as a list or as one comma-separated string, of e-mail '
               'addresses and C(http://) or C(https://) webhook URLs (ImprovMX posts each message to a URL as JSON), '
               'mixed freely, or V(null) to accept the mail and discard it.',
               'A destination that is none of these (such as V(ftp://host) or V(a b)) fails the task before any '
               'request.',
               'Compared as a set (order does not matter; addresses without case, URLs exactly) and sent as the '
               "comma-separated string the API expects. The account's plan limits how many destinations an alias may "
               'have.',
               "Before writing more than one destination, the module reads the account's C(limits.destinations) (one "
               'request); more destinations than that fail the task without any write. When the account does not say, '
               'the API decides.',
               "Required with O(state=present), unless O(id) is given, where leaving it out keeps the alias's current "
               'destinations.'],
          doc_in=dict(
              improvmx_aliases=['The destinations the alias forwards to, as a list or as one comma-separated string, '
                                'of e-mail addresses and C(http://) or C(https://) webhook URLs, mixed freely, or '
                                'V(null) to discard the mail.',
                                'A destination that is none of these fails the task, naming it, before any request.',
                                'Compared as a set and sent as the comma-separated string the API expects.'],
              improvmx_domains=['The destinations the alias forwards to, as a list or as one comma-separated string - '
                                'e-mail addresses, C(http://) or C(https://) webhook URLs, or V(null) to accept the '
                                'mail and discard it.',
                                'Compared as a set (addresses without case, URLs exactly, V(null) as itself).'],
              domain_onboarding=['The destinations the alias forwards to (e-mail addresses and C(http://) or '
                                 'C(https://) webhook URLs, mixed freely, or V(null) to accept the mail and discard '
                                 'it), as a list or as one comma-separated string.']),
          spec=dict(type='list', elements='str', aliases=['destinations']), returned_kind='str',
          returned='The destinations (e-mail addresses and webhook URLs), comma-separated.',
          sample='alice@example.org,bob@example.org'),
    Returned('id', 'int', 'The numeric id of the alias (what O(improvmx.email.improvmx_alias#module:id) takes).', sample=11),
    Returned('created', 'int', 'When the alias was created, in milliseconds since the epoch (when the API says).',
             sample=1702982672000),
)


def alias_options(forward_required=False):
    """The argument spec of an alias: its writable fields (forward required where a set declares it)."""
    options = dict((field.name, dict(field.spec)) for field in ALIAS_OBJECT if field.writable)
    if forward_required:
        options['forward']['required'] = True
    return options


# Destinations are parsed, checked and compared in one place (destinations.py); these are its
# functions under the names the alias code has always used.
forward_list = destinations.checked_list
split_forward = destinations.split
forward_key = destinations.forward_key
same_forward = destinations.same
forward_string = destinations.as_string


def parse_desired(entries):
    """Check a list of {alias, forward} and return (dict name -> destinations list, ordered names).

    Every problem is collected first: duplicate names (plain names are case-insensitive),
    invalid names, invalid or missing destinations. Raises ValueError listing all of them.
    """
    desired = {}
    order = []
    spelled = {}
    problems = []
    for where, name, raw_name, entry in checked_entries(entries, 'alias', alias_name, 'alias and forward', problems):
        try:
            forward = forward_list(entry.get('forward') if entry.get('forward') is not None else [])
        except ValueError as exc:
            problems.append('%s: forward %s' % (where, exc))
            forward = None
        if name in spelled:
            problems.append('%s: alias %r is listed twice (also as %r; plain alias names are case-insensitive)'
                            % (where, raw_name, spelled[name]))
            continue
        spelled[name] = raw_name
        if forward is not None:
            desired[name] = forward
            order.append(name)
    if problems:
        raise ValueError('; '.join(problems))
    return desired, order


def index_current(items):
    """The API's alias objects as a dict from name_key to object."""
    current = {}
    for item in items or []:
        if isinstance(item, dict) and item.get('alias') is not None:
            current[name_key(item['alias'])] = item
    return current


def plan_changes(current, desired, purge=False, order=None):
    """The changes that turn current into desired.

    current maps names to destinations (list or string, as stored), desired maps names to
    destinations lists. With purge, names of current that desired lacks are removed
    (the catch-all included); without it they are left alone. order (names of desired)
    fixes the order of added and updated; removed follows the order of current.
    """
    current = dict((name_key(name), forward) for name, forward in current.items())
    names = list(order) if order is not None else sorted(desired)
    added = []
    updated = []
    for name in names:
        forward = desired[name]
        if name not in current:
            added.append((name, list(split_forward(forward))))
        elif not same_forward(current[name], forward):
            updated.append((name, list(split_forward(forward))))
    removed = []
    if purge:
        removed = [name for name in current if name not in desired]
    return AliasChanges(added, updated, removed)


def apply_changes(current, changes):
    """The set current becomes once changes are applied (a new dict; names in normal form)."""
    result = dict((name_key(name), forward) for name, forward in current.items())
    for name, forward in list(changes.added) + list(changes.updated):
        result[name] = forward
    for name in changes.removed:
        result.pop(name, None)
    return result


def chunked(items, size=BULK_LIMIT):
    """Consecutive slices of items, each at most size long."""
    items = list(items)
    return [items[start:start + size] for start in range(0, len(items), size)]


def bulk_batches(changes, size=BULK_LIMIT):
    """The bulk requests changes take, as (behavior, chunk): one request per BULK_LIMIT entries.

    New aliases come first, then changed ones. A chunk of new aliases only is sent with behavior
    add (a name another run took meanwhile is refused, not overwritten); a chunk that holds an
    existing alias is sent with update, which creates the new ones too (the API reference's bulk
    example sends update and answers with both added and updated). So a new domain's aliases and
    its catch-all take one request, not two.
    """
    existing = set(name for name, _forward in changes.updated)
    batches = []
    for chunk in chunked(list(changes.added) + list(changes.updated), size):
        batches.append(('update' if any(name in existing for name, _forward in chunk) else 'add', chunk))
    return batches


def bulk_body(behavior, chunk):
    """The body of one POST /domains/:domain/aliases/bulk for a chunk of (name, destinations)."""
    return {
        'aliases': [{'alias': name, 'forward': forward_string(forward)} for name, forward in chunk],
        'behavior': behavior,
    }


def bulk_requests(changes, size=BULK_LIMIT):
    """The bodies of the bulk requests for changes, in the order they are sent."""
    return [bulk_body(behavior, chunk) for behavior, chunk in bulk_batches(changes, size)]


def over_destinations_limit(entries, limit):
    """Sentences for the (name, destinations) entries with more destinations than limit (None: no limit)."""
    if limit is None:
        return []
    problems = []
    for name, forward in entries:
        count = len(split_forward(forward))
        if count > limit:
            problems.append('alias %r has %d destinations in forward; the account allows at most %d '
                            '(limits.destinations of the ImprovMX account)' % (name, count, limit))
    return problems


def diff_view(current):
    """A set for diff output: name -> destinations, sorted, as one comma-separated string."""
    view = {}
    for name, forward in current.items():
        if isinstance(forward, dict):
            forward = forward.get('forward')
        view[name_key(name)] = destinations.sorted_string(forward)
    return view


def has_forward(obj, forward, ident=None):
    """Whether an alias object (None: absent) forwards to forward (and has the id ident, when given)."""
    return bool(obj) and same_forward(obj.get('forward'), forward) and (ident is None or obj.get('id') == ident)
