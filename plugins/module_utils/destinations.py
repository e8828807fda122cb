# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Destinations: where an alias or a rule sends its mail. One rule for every module.

A destination is one of (docs/api-behaviour.md, ../shared/api-facts.md):

* an e-mail address: its domain is normalised (lower case, IDNA), and it compares without case;
* an http:// or https:// webhook URL: kept and compared exactly as written (a URL's path is
  case-sensitive, and the API stores the string it was given);
* the word V(null): the mail is accepted and delivered nowhere; it compares as itself, in any case.

The API stores a forward as one comma-separated string; the modules take a list or that string.
Aliases, rules, the domain sets and the option checks all parse, check and compare destinations
here, so an alias and a rule holding the same destinations always agree on whether they changed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.improvmx.email.plugins.module_utils.validation import email_address, http_url

NULL = 'null'
KINDS = 'an e-mail address, an http(s) URL or null'


def is_url(text):
    """Whether a destination is written as a URL (anything with a scheme is taken for one)."""
    text = text.strip()
    return '://' in text or text.lower().startswith(('http:', 'https:'))


def is_null(text):
    """Whether a destination is the word null (mail accepted and discarded)."""
    return isinstance(text, str) and text.strip().lower() == NULL


def check(value):
    """Return a checked destination in its normal form; ValueError saying what is wrong."""
    if not isinstance(value, str):
        raise ValueError('must be a string, got %s' % type(value).__name__)
    text = value.strip()
    if is_null(text):
        return NULL
    if is_url(text):
        try:
            return http_url(text)
        except ValueError as exc:
            raise ValueError('%r is neither an e-mail address nor a webhook URL: %s' % (value, exc))
    try:
        return email_address(text)
    except ValueError as exc:
        raise ValueError('%r is neither an e-mail address nor an http:// or https:// URL (nor null): %s' % (value, exc))


def key(item):
    """What one destination compares by: an address without case, a URL exactly, null as itself."""
    text = str(item).strip()
    if is_url(text):
        return text
    return text.lower()


def split(forward):
    """The destinations of a stored or given forward (a comma-separated string or a list), unchecked."""
    if forward is None:
        return []
    if isinstance(forward, str):
        items = forward.split(',')
    else:
        items = []
        for item in forward:
            items.extend(str(item).split(','))
    return [item.strip() for item in items if item.strip()]


def checked_list(value):
    """Checked destinations from a list or one comma-separated string: first-seen order, no repeats.

    Raises ValueError naming the destination that is wrong, or saying that none was given.
    """
    empty = 'is empty: give at least one destination (%s)' % KINDS
    if value is None or isinstance(value, bool) or not isinstance(value, (str, list, tuple)):
        raise ValueError('must be a list of destinations (%s) or a comma-separated string' % KINDS)
    if isinstance(value, (list, tuple)) and any(not isinstance(item, str) for item in value):
        bad = [item for item in value if not isinstance(item, str)][0]
        raise ValueError('must hold destinations as strings, got %s' % type(bad).__name__)
    raw = value.split(',') if isinstance(value, str) else [part for item in value for part in item.split(',')]
    if not [item for item in raw if item.strip()]:
        raise ValueError(empty)
    if len(raw) > 1 and any(not item.strip() for item in raw):
        raise ValueError('has an empty entry in %r' % (value,))
    result = []
    seen = set()
    for item in raw:
        checked = check(item)
        if key(checked) not in seen:
            seen.add(key(checked))
            result.append(checked)
    return result


def forward_key(forward):
    """What a forward compares by: the set of its destinations' keys (order is never a change)."""
    return frozenset(key(item) for item in split(forward))


def same(left, right):
    """Whether two forwards (lists or comma-separated strings) hold the same destinations."""
    return forward_key(left) == forward_key(right)


def as_string(forward):
    """A forward as the comma-separated string the API stores and expects."""
    return ','.join(split(forward))


def sorted_string(forward):
    """A forward as a comma-separated string in a stable order (what a diff shows)."""
    return ','.join(sorted(split(forward), key=key))
