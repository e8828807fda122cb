# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Alias sets as data: normal forms, comparison and the changes that turn one set into another.

Pure functions, no HTTP (except read_destinations_limit, one GET of the account):
improvmx_alias and improvmx_aliases use them, and the unit tests check them on their own
(including property tests: one converge reaches the desired set, a second one computes no change).

An alias set is a dict from the lower-case alias name to its destinations. Destinations are
a list of addresses, or the comma-separated string the API stores and expects; they compare
as a set, without case, so order and letter case of the addresses are never a change.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections import namedtuple

from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError, api_path
from ansible_collections.improvmx.email.plugins.module_utils.validation import email_list, mailbox_name

CATCH_ALL = '*'
BULK_LIMIT = 500  # entries per POST /domains/:domain/aliases/bulk, the API's maximum


class AliasChanges(namedtuple('AliasChanges', ['added', 'updated', 'removed'])):
    """What converging a set takes.

    added and updated are lists of (name, destinations) with destinations a list of addresses;
    removed is a list of names. All names are lower-case.
    """

    __slots__ = ()

    def __bool__(self):
        return bool(self.added or self.updated or self.removed)

    __nonzero__ = __bool__


def alias_name(value):
    """The normal (lower-case) form of an alias name; V(*) is the catch-all."""
    return mailbox_name(value, allow_catch_all=True)


def forward_list(value):
    """Checked destinations from a list or a comma-separated string: first-seen order, no repeats.

    Raises ValueError when an address is invalid or when there is none at all.
    """
    if isinstance(value, (list, tuple)) and not value:
        raise ValueError('is empty: give at least one destination address')
    addresses = email_list(value)
    if not addresses:
        raise ValueError('is empty: give at least one destination address')
    return addresses


def split_forward(forward):
    """The addresses of a stored forward (a comma-separated string, or a list), without checking them."""
    if forward is None:
        return []
    if isinstance(forward, str):
        items = forward.split(',')
    else:
        items = []
        for item in forward:
            items.extend(str(item).split(','))
    return [item.strip() for item in items if item.strip()]


def forward_key(forward):
    """What destinations compare by: the set of lower-case addresses."""
    return frozenset(address.lower() for address in split_forward(forward))


def same_forward(left, right):
    """Whether two destinations (lists or comma-separated strings) are the same set of addresses."""
    return forward_key(left) == forward_key(right)


def forward_string(forward):
    """Destinations as the comma-separated string the API expects."""
    return ','.join(split_forward(forward))


def parse_desired(entries):
    """Check a list of {alias, forward} and return (dict name -> destinations list, ordered names).

    Every problem is collected first: duplicate names (names are case-insensitive),
    invalid names, invalid or missing destinations. Raises ValueError listing all of them.
    """
    if entries is None:
        entries = []
    desired = {}
    order = []
    spelled = {}
    problems = []
    for index, entry in enumerate(entries):
        where = 'entry %d' % (index + 1)
        if not isinstance(entry, dict):
            problems.append('%s must be a dict with alias and forward, got %s' % (where, type(entry).__name__))
            continue
        raw_name = entry.get('alias')
        try:
            name = alias_name(raw_name if raw_name is not None else '')
        except ValueError as exc:
            problems.append('%s: alias %s' % (where, exc))
            continue
        where = '%s (alias %r)' % (where, raw_name)
        try:
            forward = forward_list(entry.get('forward') if entry.get('forward') is not None else [])
        except ValueError as exc:
            problems.append('%s: forward %s' % (where, exc))
            forward = None
        if name in spelled:
            problems.append('%s: alias %r is listed twice (also as %r; alias names are case-insensitive)'
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
    """The API's alias objects as a dict from lower-case name to object."""
    current = {}
    for item in items or []:
        if isinstance(item, dict) and item.get('alias') is not None:
            current[str(item['alias']).strip().lower()] = item
    return current


def plan_changes(current, desired, purge=False, order=None):
    """The changes that turn current into desired.

    current maps names to destinations (list or string, as stored), desired maps names to
    destinations lists. With purge, names of current that desired lacks are removed
    (the catch-all included); without it they are left alone. order (names of desired)
    fixes the order of added and updated; removed follows the order of current.
    """
    current = dict((str(name).lower(), forward) for name, forward in current.items())
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
    """The set current becomes once changes are applied (a new dict; names lower-cased)."""
    result = dict((str(name).lower(), forward) for name, forward in current.items())
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
    """The bulk requests changes take, as (behavior, chunk): add for new aliases, update for changed ones."""
    batches = []
    for behavior, entries in (('add', changes.added), ('update', changes.updated)):
        for chunk in chunked(entries, size):
            batches.append((behavior, chunk))
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


def read_destinations_limit(client):
    """The account's limits.destinations (how many addresses one alias may forward to), or None.

    None when the account cannot be read or does not say: the API then decides on the write.
    """
    try:
        answer = client.get(api_path('account', collection=True)) or {}
    except ImprovMXError:
        return None
    limit = ((answer.get('account') or {}).get('limits') or {}).get('destinations')
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        return None
    return limit


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
        view[str(name).lower()] = ','.join(sorted(split_forward(forward), key=str.lower))
    return view
