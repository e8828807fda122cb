# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Input checks shared by the modules.

Every function takes a raw value and returns its normal form, or raises
ValueError with a sentence that says what is wrong with the value. The
caller adds the option name (see common.checked()).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from urllib.parse import urlsplit

_LABEL = re.compile(r'^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$')
# The characters RFC 5322 allows unquoted in a local part ("dot-atom").
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
# ImprovMX aliases and SMTP user names: the left part of a mailbox.
_MAILBOX = re.compile(r'^[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*$')


def _stripped(value):
    """The value without surrounding white space; ValueError when it is not a string."""
    if not isinstance(value, str):
        raise ValueError('must be a string, got %s' % type(value).__name__)
    return value.strip()


def domain_name(value):
    """Return the lower-case ASCII (IDNA) form of a domain name."""
    name = _stripped(value)
    if not name:
        raise ValueError('is empty')
    if any(ch.isspace() for ch in name):
        raise ValueError('%r contains white space' % value)
    if name.endswith('.'):
        name = name[:-1]
    if name.startswith('.'):
        raise ValueError('%r starts with a dot' % value)
    if '..' in name:
        raise ValueError('%r has an empty label (two dots in a row)' % value)
    labels = []
    for label in name.split('.'):
        if len(label) > 63:
            raise ValueError('%r has a label of %d characters; a label has at most 63' % (value, len(label)))
        try:
            try:
                label = label.encode('ascii').decode('ascii').lower()  # an ASCII label is its own IDNA form
            except UnicodeEncodeError:
                label = label.encode('idna').decode('ascii').lower()
            # An A-label (xn--...) must decode; Python's IDNA 2003 codec checks neither that nor
            # the hyphens of the Unicode label, which punycode moves away from the ends.
            unicode_label = label.encode('ascii').decode('idna') if label.startswith('xn--') else None
        except UnicodeError as exc:
            raise ValueError('%r is not a valid internationalised domain name (%s)' % (value, exc))
        if unicode_label and (unicode_label.startswith('-') or unicode_label.endswith('-')):
            raise ValueError('%r has a label %r that starts or ends with a hyphen' % (value, unicode_label))
        if not _LABEL.match(label):
            raise ValueError('%r has an invalid label %r: use letters, digits and inner hyphens, 1 to 63 characters' % (value, label))
        labels.append(label)
    name = '.'.join(labels)
    if len(name) > 253:
        raise ValueError('%r is %d characters long; a domain name has at most 253' % (value, len(name)))
    if len(labels) < 2:
        raise ValueError('%r needs at least two labels, like example.com' % value)
    if labels[-1].isdigit():
        raise ValueError('%r ends with a numeric label; an IP address is not a domain name' % value)
    return name


def email_address(value):
    """Return a checked e-mail address; its domain part is lower-cased and IDNA-encoded."""
    address = _stripped(value)
    if not address:
        raise ValueError('is empty')
    if address.count('@') != 1:
        raise ValueError('%r is not an e-mail address (it needs exactly one @)' % value)
    local, domain = address.split('@')
    if len(local) > 64:
        raise ValueError('%r has a local part of %d characters; the part before the @ has at most 64' % (value, len(local)))
    if not _LOCAL_PART.match(local):
        raise ValueError('%r has an invalid local part %r' % (value, local))
    try:
        domain = domain_name(domain)
    except ValueError as exc:
        raise ValueError('%r has an invalid domain: %s' % (value, exc))
    address = '%s@%s' % (local, domain)
    if len(address) > 254:
        raise ValueError('%r is %d characters long; an e-mail address has at most 254' % (value, len(address)))
    return address


def _checked_items(value, check, key, plural, kinds, one):
    """Check every entry of a list or of one comma-separated string; first-seen order, no repeats by key()."""
    if isinstance(value, str):
        items = value.split(',')
    elif isinstance(value, (list, tuple)):
        items = []
        for item in value:
            if not isinstance(item, str):
                raise ValueError('must hold %s as strings, got %s' % (plural, type(item).__name__))
            items.extend(item.split(','))
    else:
        raise ValueError('must be a list of %s or a comma-separated string' % kinds)
    result = []
    seen = set()
    for item in items:
        if not item.strip():
            if len(items) == 1:
                raise ValueError('is empty: give at least one %s' % one)
            raise ValueError('has an empty entry in %r' % (value,))
        checked_value = check(item)
        if key(checked_value) not in seen:
            seen.add(key(checked_value))
            result.append(checked_value)
    return result


def checked_entries(entries, key, check, needs, problems, prepare=None):
    """The entries of a list of dicts named by one key (a domain, an alias), the key checked.

    Yields (where, name, raw, entry) for each entry that is a dict whose key passes check():
    where names the entry (entry 2 (alias 'Sales')), name is check()'s normal form and raw
    the key as given. An entry that is not a dict, or whose key is invalid, is skipped and a
    sentence naming it is added to problems (needs says what a dict entry holds).
    prepare, when given, is function(entry) -> (entry, problems) run on each dict entry first
    (checking its options); an entry with problems is skipped, each added to problems.
    """
    for index, entry in enumerate(entries or []):
        where = 'entry %d' % (index + 1)
        if not isinstance(entry, dict):
            problems.append('%s must be a dict with %s, got %s' % (where, needs, type(entry).__name__))
            continue
        if prepare is not None:
            entry, entry_problems = prepare(entry)
            if entry_problems:
                label = where if entry.get(key) is None else '%s (%s %r)' % (where, key, entry.get(key))
                problems.extend('%s: %s' % (label, text) for text in entry_problems)
                continue
        raw = entry.get(key)
        try:
            name = check(raw if raw is not None else '')
        except ValueError as exc:
            problems.append('%s: %s %s' % (where, key, exc))
            continue
        yield '%s (%s %r)' % (where, key, raw), name, raw, entry


def email_list(value):
    """Return a list of checked addresses from a list, or from one comma-separated string."""
    return _checked_items(value, email_address, lambda address: address.lower(), 'e-mail addresses', 'e-mail addresses',
                          'destination address')


def mailbox_name(value, allow_catch_all=False):
    """Return the lower-case form of an alias or SMTP user name (the left part of a mailbox)."""
    name = _stripped(value).lower()
    if not name:
        raise ValueError('is empty')
    if allow_catch_all and name == '*':
        return name
    if '@' in name:
        raise ValueError('%r must be only the part before the @' % value)
    if len(name) > 64 or not _MAILBOX.match(name):
        raise ValueError('%r is not a valid mailbox name: use letters, digits, dots, hyphens, underscores and plus signs, '
                         'at most 64 characters, not starting or ending with a dot' % value)
    return name


def http_url(value):
    """Return a checked http(s) URL."""
    url = _stripped(value)
    if any(ch.isspace() for ch in url):
        raise ValueError('%r contains white space' % value)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ('http', 'https'):
        raise ValueError('%r is not an http:// or https:// URL' % value)
    if not parts.netloc:
        raise ValueError('%r has no host name' % value)
    return url


def single_word(value, empty_hint, space_hint='', lower=False):
    """Return a non-empty value without white space (a search prefix, a cursor), stripped.

    empty_hint and space_hint end the sentences for an empty value and for inner white space.
    """
    text = _stripped(value)
    if not text:
        raise ValueError('is empty: %s' % empty_hint)
    if any(ch.isspace() for ch in text):
        raise ValueError('%r contains white space%s' % (value, space_hint))
    return text.lower() if lower else text


# Alias names that are regular expressions (see docs/api-behaviour.md).
REGEX_ALIAS_MAX = 150
_REGEX_OPERATORS = frozenset('^$*?()[]{}|\\')


def is_regex_alias(name):
    """Whether an alias name is a regular expression: it holds a regex operator (the catch-all V(*) alone is not)."""
    text = str(name or '').strip()
    return text != '*' and any(ch in _REGEX_OPERATORS for ch in text)


def regex_alias(value):
    """Return a regex alias name exactly as written (only stripped): at most 150 characters, no white space, compiles."""
    name = _stripped(value)
    if any(ch.isspace() for ch in name):
        raise ValueError('%r contains white space; a regular expression alias holds none' % value)
    if len(name) > REGEX_ALIAS_MAX:
        raise ValueError('%r is %d characters long; a regular expression alias holds at most %d'
                         % (value, len(name), REGEX_ALIAS_MAX))
    try:
        re.compile(name)
    except re.error as exc:
        raise ValueError('%r is not a valid regular expression (%s)' % (value, exc))
    return name
