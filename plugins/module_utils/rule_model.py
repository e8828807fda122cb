# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One routing rule as data: its options, its natural key, its readable line, and a wanted rule checked.

Pure functions, no HTTP. A rule is {id, type, config, rank, active, created}; its config depends on
the type (alias: alias + forward; regex: regex + scopes + forward; cel: expression + forward), and
forward is one comma-separated string of addresses and webhook URLs, as for aliases (destinations.py
parses, checks and compares them). Rules have server-made ids, so a task finds a rule by its natural
key: an alias rule by its alias (compared as alias names are: a pattern - a regex, or a name holding
* - exactly as written, a plain name without case), a regex rule by its regex and its scopes as a
set, a CEL rule by its expression; or by its id when one is given.

rule_plan.py plans a whole set on top of these; rules.py holds the API resource and the convergence,
and every name of this file is also importable from there.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math
from collections import namedtuple

from ansible_collections.improvmx.email.plugins.module_utils import destinations
from ansible_collections.improvmx.email.plugins.module_utils.alias_sets import name_key
from ansible_collections.improvmx.email.plugins.module_utils.fields import Field, Returned, field_options, writable

RULE_TYPES = ('alias', 'regex', 'cel')
RULE_SCOPES = ('sender', 'recipient', 'subject', 'body')
KEY_FIELDS = {'alias': ('alias',), 'regex': ('regex', 'scopes'), 'cel': ('expression',)}
# The rule object as data, in the order the documentation shows it. The writable fields (Field) are
# improvmx_rule's options and improvmx_rules' rules[] item options (ITEM_ARGUMENT_SPEC comes from here);
# parse_rule checks an item as a whole (check=None): type, then the key fields of that type (alias;
# regex and scopes; expression) and forward go into the rule's config, active and rank beside it. A rule
# is created with all of them (POST .../rules) and updated by PUT with its whole config; active and
# rank left out (None) keep the stored value, False and 0 are values. The returned rule object's
# documentation of improvmx_rule, improvmx_rules and improvmx_rule_info is generated from the entries
# that have a returned description, and the options' documentation from doc / doc_in (scripts/field_docs.py,
# make docs).
RULE_OBJECT = (
    Field('id', None, clearable=False, spec=dict(type='str'),
          doc=['The id of an existing rule (see M(improvmx.email.improvmx_rule_info)). The rule is found by it, and '
               "the type and key fields given replace the rule's own."],
          doc_in=dict(
              improvmx_rules=['The id of an existing rule; the rule is found by it, and its type and key fields may '
                              'change.'],
              domain_onboarding=['The id of an existing rule.']),
          returned='The id the server gave the rule (what O(improvmx.email.improvmx_rule#module:id) takes).',
          sample='6f1c8a52-8a6e-4a8e-9d55-0c3c3a9e2b11'),
    Field('type', None, caseless=True, clearable=False, spec=dict(type='str', choices=list(RULE_TYPES)),
          doc=['The type of the rule.',
               'Required unless O(id) is given.'],
          doc_in=dict(
              improvmx_rules=['The type of the rule. Required unless O(rules[].id) is given.'],
              domain_onboarding=['V(alias), V(regex) or V(cel).']),
          returned='V(alias), V(regex) or V(cel).', sample='alias'),
    Field('alias', None, clearable=False, spec=dict(type='str'),
          doc=['For O(type=alias), the alias the rule matches, for example V(sales), or a pattern the API takes there '
               '- a wildcard such as V(sales*) or a regular expression such as V(^[a-z]+-billing$).',
               'A plain name is compared without case; a pattern (a name holding a regex operator such as V(*), V(^), '
               'V([) or V(|)) is compared exactly as written, as alias names are (V(^[A-Z]+$) and V(^[a-z]+$) are two '
               'rules).'],
          doc_in=dict(
              improvmx_rules=['For an V(alias) rule, the alias it matches, or a wildcard or regex pattern such as '
                              'V(sales*).',
                              'A plain name is compared without case, a pattern exactly as written.'],
              domain_onboarding=['For an V(alias) rule, the alias it matches.'])),
    Field('regex', None, clearable=False, spec=dict(type='str'),
          doc=['For O(type=regex), the regular expression. Only its presence is checked here; the API judges its '
               'syntax.'],
          doc_in=dict(
              improvmx_rules=['For a V(regex) rule, the regular expression (its syntax is left to the API).'],
              domain_onboarding=['For a V(regex) rule, the regular expression.'])),
    Field('scopes', None, clearable=False, spec=dict(type='list', elements='str', choices=list(RULE_SCOPES)),
          doc=['For O(type=regex), what the regular expression is matched against. Compared as a set.'],
          doc_in=dict(
              improvmx_rules=['For a V(regex) rule, what the expression is matched against; compared as a set.'],
              domain_onboarding=['For a V(regex) rule, what it is matched against.'])),
    Field('expression', None, clearable=False, spec=dict(type='str'),
          doc=["For O(type=cel), the CEL expression, for example V(subject.contains('finance'))."],
          doc_in=dict(
              improvmx_rules=['For a V(cel) rule, the CEL expression.'],
              domain_onboarding=['For a V(cel) rule, the CEL expression.'])),
    Field('forward', None, clearable=False, spec=dict(type='list', elements='str', aliases=['destinations']),
          doc=['Where matching mail goes - e-mail addresses, V(http://) or V(https://) webhook URLs, or V(null) to '
               'accept the mail and discard it, as a list or one comma-separated string. Compared as a set (addresses '
               'without case, URLs exactly, V(null) as itself).',
               'Required to create a rule; left out for an existing rule, its destinations are kept.'],
          doc_in=dict(
              improvmx_rules=['Where matching mail goes - e-mail addresses, V(http://) or V(https://) webhook URLs, or'
                              ' V(null) to accept the mail and discard it; compared as a set (addresses without case, '
                              'URLs exactly, V(null) as itself).',
                              'Required for a new rule; left out for an existing one, its destinations are kept.'],
              domain_onboarding=['Where matching mail goes - e-mail addresses, http(s) webhook URLs, or V(null) '
                                 '(discard).'])),
    Returned('config', 'dict', ["The rule's settings - C(alias), or C(regex) and C(scopes), or C(expression); and "
                                'C(forward), the destinations as one comma-separated string.'],
             sample={'alias': 'sales', 'forward': 'alice@example.org,bob@example.org'}),
    Field('rank', None, clearable=False, spec=dict(type='float'),
          doc=['The rank of the rule; rules are tried from the lowest rank up. A number, decimals allowed.',
               'Left out, an existing rule keeps its rank and the API places a new one last.'],
          doc_in=dict(
              improvmx_rules=["The rank of the rule. Left out, the position in the list gives the rule's place."],
              domain_onboarding=['The rank; left out, the position in the list gives the order.']),
          returned='The rank; rules are tried from the lowest up.', sample=1.0),
    Field('active', None, clearable=False, spec=dict(type='bool'), returned='Whether the rule is used.', sample=True,
          doc=['Whether the rule is used. Left out, an existing rule keeps its state and a new one is active.'],
          doc_in=dict(
              domain_onboarding=['Whether the rule is used (a new rule is active).'])),
    Returned('created', 'int', 'When the rule was created, in seconds since the epoch.', sample=1767225600),
)
ITEM_OPTIONS = ('id', 'type', 'alias', 'regex', 'scopes', 'expression', 'forward', 'active', 'rank')
# The argument spec of a wanted rule: improvmx_rule's options, improvmx_rules' rules[] item (checked by parse_rule).
ITEM_ARGUMENT_SPEC = field_options(writable(RULE_OBJECT))


# -- destinations -------------------------------------------------------------------------------


# Parsed, checked and compared in destinations.py, the one rule for aliases and rules alike.
split_forward = destinations.split
destination = destinations.check
forward_list = destinations.checked_list
dest_key = destinations.key
forward_key = destinations.forward_key
forward_string = destinations.as_string


# -- one rule as data ---------------------------------------------------------------------------


def rule_config(rule):
    config = (rule or {}).get('config')
    return config if isinstance(config, dict) else {}


def scope_list(value):
    return [str(scope).strip().lower() for scope in (value or []) if str(scope).strip()]


# How an alias rule's alias compares: exactly as alias names do (a pattern - a regex, or a name holding * -
# exactly as written, a plain name without case).
alias_key = name_key


def key_of(rule_type, config):
    """The natural key of a rule: (type, value...); None when the type is unknown."""
    if rule_type == 'alias':
        return ('alias', alias_key(config.get('alias')))
    if rule_type == 'regex':
        return ('regex', str(config.get('regex') or ''), frozenset(scope_list(config.get('scopes'))))
    if rule_type == 'cel':
        return ('cel', str(config.get('expression') or '').strip())
    return None


def rule_key(rule):
    """The natural key of an API rule object."""
    return key_of((rule or {}).get('type'), rule_config(rule))


def recognised(rule):
    """Whether the collection knows the rule: a known type whose config has that type's keys and forward.

    Any other rule (such as the "All Unmatched Emails" rule the rules guide describes, whose form in
    the list is not public) is kept as it is: never matched, re-ranked or removed by purge.
    """
    if not isinstance(rule, dict) or rule.get('type') not in RULE_TYPES or not isinstance(rule.get('config'), dict):
        return False
    config = rule['config']
    for name in KEY_FIELDS[rule['type']] + ('forward',):
        value = config.get(name)
        if name == 'scopes' or (name == 'forward' and isinstance(value, list)):
            if not isinstance(value, list) or not value:
                return False
        elif not isinstance(value, str) or not value.strip():
            return False
    return True


def unrecognised_warning(rule, domain):
    """The warning that names a rule the collection does not recognise."""
    config = rule.get('config') if isinstance(rule, dict) else None
    return ('rule %s of domain %s (type %r, config keys %s) is not a rule the collection recognises (alias, regex '
            'or cel with its keys and forward): it is kept as the API gave it, never removed by purge nor re-ranked'
            % ((rule or {}).get('id'), domain, (rule or {}).get('type'),
               ', '.join(sorted(str(name) for name in config)) if isinstance(config, dict) else 'none'))


def key_text(key):
    """A natural key as a reader sees it."""
    if key is None:
        return '?'
    if key[0] == 'regex':
        return '%s on %s' % (key[1], ','.join(scope for scope in RULE_SCOPES if scope in key[2]) or '-')
    return key[1]


def rank_text(rank):
    try:
        return '%g' % float(rank)
    except (TypeError, ValueError):
        return '?'


def rule_line(rule):
    """One readable line for a rule: [rank] type key -> forward (inactive)."""
    config = rule_config(rule)
    line = '[%s] %s %s -> %s' % (rank_text(rule.get('rank')), rule.get('type'), key_text(rule_key(rule)),
                                 forward_string(config.get('forward')))
    if rule.get('active') is False:
        line += ' (inactive)'
    return line


def rule_order(rule):
    try:
        rank = float(rule.get('rank'))
    except (TypeError, ValueError):
        rank = float('inf')
    return (rank, rule.get('created') or 0, str(rule.get('id') or ''))


def sorted_rules(rules):
    """Rules in the order they are tried: rank, then creation."""
    return sorted(rules, key=rule_order)


class Spec(namedtuple('Spec', ['type', 'config', 'forward', 'active', 'rank', 'id', 'where'])):
    """A wanted rule, checked (parse_rule()).

    type, config (key fields and forward; forward None: not managed), active, rank, id; where
    names the entry of the task's list it comes from ('' for improvmx_rule).
    """

    __slots__ = ()

    @property
    def key(self):
        return key_of(self.type, self.config) if self.type else None

    def body(self, rank=None):
        """The POST body of the rule."""
        config = dict(self.config, forward=forward_string(self.forward))
        body = {'type': self.type, 'config': config, 'active': True if self.active is None else self.active}
        if rank is not None:
            body['rank'] = rank
        return body

    def describe(self):
        return '%s rule %s' % (self.type, key_text(self.key)) if self.type else 'rule id %s' % self.id


def parse_rule(item, where='', need_forward=True):
    """Check one wanted rule (improvmx_rule's options, or one item of improvmx_rules' rules): a Spec.

    Raises ValueError naming the option: unknown type, the key field missing for the type, an
    unknown scope, no destination, a rank that is not a number. With an id, type and key
    fields may be left out (the rule's own are kept). need_forward: forward is required (a
    rule to create without an id).
    """
    prefix = where + ': ' if where else ''

    def bad(option, text):
        return ValueError('%s%s %s' % (prefix, option, text))

    unknown = sorted(set(item) - set(ITEM_OPTIONS))
    if unknown:
        raise bad(unknown[0], 'is not a rule option (use %s)' % ', '.join(ITEM_OPTIONS))
    ident = item.get('id')
    if ident is not None:
        ident = str(ident).strip()
        if not ident:
            raise bad('id', 'is empty')
    rule_type = item.get('type')
    if rule_type is not None:
        rule_type = str(rule_type).strip().lower()
        if rule_type not in RULE_TYPES:
            raise bad('type', '%r is not a rule type: use alias, regex or cel' % item.get('type'))
    elif ident is None:
        raise bad('type', 'is required: alias, regex or cel')
    for option in ('alias', 'regex', 'scopes', 'expression'):
        if item.get(option) is not None and (rule_type is None or option not in KEY_FIELDS[rule_type]):
            kind = 'a rule given by id without type'
            if rule_type:
                kind = ('an %s rule' if rule_type == 'alias' else 'a %s rule') % rule_type
            raise bad(option, 'is not an option of %s' % kind)
    config = {}
    if rule_type == 'alias':
        alias = item.get('alias')
        if alias is None or not str(alias).strip():
            raise bad('alias', 'is required for a rule of type alias')
        if any(char.isspace() for char in str(alias).strip()) or '@' in str(alias):
            raise bad('alias', '%r must be the part before the @, without white space' % alias)
        config['alias'] = str(alias).strip()
    elif rule_type == 'regex':
        regex = item.get('regex')
        if regex is None or not str(regex).strip():
            raise bad('regex', 'is required for a rule of type regex (its syntax is left to the API)')
        config['regex'] = str(regex)
        scopes = item.get('scopes')
        if isinstance(scopes, str):
            scopes = scopes.split(',')
        scopes = scope_list(scopes)
        if not scopes:
            raise bad('scopes', 'is required for a rule of type regex: a list among %s' % ', '.join(RULE_SCOPES))
        wrong = [scope for scope in scopes if scope not in RULE_SCOPES]
        if wrong:
            raise bad('scopes', 'has unknown scope(s) %s: use %s' % (', '.join(wrong), ', '.join(RULE_SCOPES)))
        config['scopes'] = [scope for scope in RULE_SCOPES if scope in scopes]
    elif rule_type == 'cel':
        expression = item.get('expression')
        if expression is None or not str(expression).strip():
            raise bad('expression', 'is required for a rule of type cel: a CEL expression')
        config['expression'] = str(expression).strip()
    forward = item.get('forward')
    if forward is None:
        if need_forward and ident is None:
            raise bad('forward', 'is required: give at least one destination (an e-mail address or an http(s) URL)')
    else:
        try:
            forward = forward_list(forward)
        except ValueError as exc:
            raise bad('forward', str(exc))
    active = item.get('active')
    if active is not None and not isinstance(active, bool):
        raise bad('active', 'must be true or false')
    rank = item.get('rank')
    if rank is not None:
        try:
            if isinstance(rank, bool):
                raise ValueError
            rank = float(rank)
        except (TypeError, ValueError):
            raise bad('rank', '%r is not a number' % (item.get('rank'),))
        if math.isnan(rank) or math.isinf(rank):
            raise bad('rank', '%r is not a finite number' % (item.get('rank'),))
    return Spec(rule_type, config, forward, active, rank, ident, where)


def parse_rules(items):
    """Check improvmx_rules' list: Specs in list order; ValueError listing every problem (duplicates too)."""
    specs = []
    problems = []
    seen = {}
    for index, item in enumerate(items or []):
        where = 'rules[%d]' % index
        if not isinstance(item, dict):
            problems.append('%s must be a dict of rule options' % where)
            continue
        try:
            spec = parse_rule(dict((k, v) for k, v in item.items() if v is not None), where=where)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        for mark in ([('id', spec.id)] if spec.id else []) + ([spec.key] if spec.key else []):
            if mark in seen:
                problems.append('%s: the same rule as %s (%s)' % (where, seen[mark], spec.describe()))
                break
            seen[mark] = where
        specs.append(spec)
    if problems:
        raise ValueError('; '.join(problems))
    return specs
