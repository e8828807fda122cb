# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The options of a list entry (improvmx_domains' domains[], its aliases, credentials and rules), checked as data.

A module whose option is a long list of dicts (hundreds of domains with their aliases) declares it
as type list of dicts and checks each entry here, against the entry's options spec, the way
AnsibleModule checks suboptions: AnsibleModule's nested check costs more than the rest of the
module's local work at that size.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.common.validation import (
    check_type_bool, check_type_dict, check_type_float, check_type_int, check_type_list, check_type_str)

_TYPE_CHECKS = {'str': check_type_str, 'bool': check_type_bool, 'list': check_type_list, 'dict': check_type_dict,
                'int': check_type_int, 'float': check_type_float}
_TYPE_NAMES = {'str': 'a string', 'bool': 'a boolean', 'list': 'a list', 'dict': 'a dict', 'int': 'an integer',
               'float': 'a number'}


def _typed(value, kind):
    """value converted to kind the way AnsibleModule converts option values; ValueError when it cannot be."""
    if kind in ('str', 'int', 'float') and isinstance(value, (dict, list)) or kind in ('int', 'float') and isinstance(value, bool):
        raise ValueError('must be %s, got %s %r' % (_TYPE_NAMES[kind], type(value).__name__, value))
    try:
        return _TYPE_CHECKS[kind](value)
    except (TypeError, ValueError):
        raise ValueError('must be %s, got %s %r' % (_TYPE_NAMES[kind], type(value).__name__, value))


def checked_options(entry, spec, warnings=None):
    """One dict checked against an options spec as AnsibleModule checks suboptions: (values, problems).

    Handles what the spec entries use: type (str, bool, int, float, list, dict), elements, nested options,
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
        choices = option_spec.get('choices')
        outside = [item for item in (value if isinstance(value, list) else [value]) if choices and item not in choices]
        if outside:
            problems.append('%s must be one of %s, got %r' % (option, ', '.join(choices), outside[0] if isinstance(value, list) else value))
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
