# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The routing rules of a domain: /domains/:domain/rules, and rule sets as data.

A rule is {id, type, config, rank, active, created}; its config depends on the type
(alias: alias + forward; regex: regex + scopes + forward; cel: expression + forward), and
forward is one comma-separated string of addresses and webhook URLs, as for aliases.
Rules have server-made ids, so a task finds a rule by its natural key: an alias rule by its
alias (compared as alias names are: a pattern - a regex, or a name holding * - exactly as
written, a plain name without case), a regex rule by its regex and its scopes as a set, a CEL rule by its
expression; or by its id when one is given.

* Pure functions: checking a wanted rule (parse_rule), keys, comparison, and the planner of a
  whole set (plan_rules): creates, updates (forward, active, rank, key fields when matched by
  id) and deletes, re-ranking only the rules whose order changed.
* Rules: the resource (list with paging and search, get, create, update, delete), with the
  write safety of Resource: a write whose outcome is unknown is confirmed by re-reading, and a
  created rule is found again by its natural key.
* RuleSync: the convergence of a whole set (improvmx_rules), in check mode too.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import bisect
import json
import math
from collections import namedtuple

from ansible_collections.improvmx.email.plugins.module_utils import destinations
from ansible_collections.improvmx.email.plugins.module_utils.account import Account
from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError, ImprovMXNotFound
from ansible_collections.improvmx.email.plugins.module_utils.domains import Domains
from ansible_collections.improvmx.email.plugins.module_utils.resource import Confirmed, DomainMissing, Resource, TaskError
from ansible_collections.improvmx.email.plugins.module_utils.validation import is_regex_alias

RULE_TYPES = ('alias', 'regex', 'cel')
RULE_SCOPES = ('sender', 'recipient', 'subject', 'body')
KEY_FIELDS = {'alias': ('alias',), 'regex': ('regex', 'scopes'), 'cel': ('expression',)}
ITEM_OPTIONS = ('id', 'type', 'alias', 'regex', 'scopes', 'expression', 'forward', 'active', 'rank')
# The argument spec of a wanted rule: improvmx_rule's options, improvmx_rules' rules[] item (checked by parse_rule).
ITEM_ARGUMENT_SPEC = dict(
    type=dict(type='str', choices=list(RULE_TYPES)),
    alias=dict(type='str'),
    regex=dict(type='str'),
    scopes=dict(type='list', elements='str', choices=list(RULE_SCOPES)),
    expression=dict(type='str'),
    forward=dict(type='list', elements='str', aliases=['destinations']),
    active=dict(type='bool'),
    rank=dict(type='float'),
    id=dict(type='str'),
)


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


def alias_key(alias):
    """How an alias rule's alias compares, as alias names do: a pattern (a regex, or a name holding *)
    exactly as written, a plain name without case."""
    text = str(alias if alias is not None else '').strip()
    return text if is_regex_alias(text) else text.lower()


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


# -- comparing and planning -----------------------------------------------------------------------


def same_rank(left, right):
    try:
        return abs(float(left) - float(right)) < 1e-9
    except (TypeError, ValueError):
        return False


def update_body(current, spec, rank=None):
    """The PUT body that turns the API rule current into spec (rank: the wanted rank, None: kept); {} when none."""
    body = {}
    config = rule_config(current)
    current_key = rule_key(current)
    same_type = current.get('type') == spec.type or spec.type is None
    wanted_config = dict(config)
    new_key = False
    if spec.type is not None:
        if not same_type:
            wanted_config = dict((name, value) for name, value in spec.config.items())
            wanted_config['forward'] = forward_string(spec.forward if spec.forward is not None else config.get('forward'))
        elif key_of(spec.type, spec.config) != current_key:
            wanted_config.update(spec.config)  # by id: new key fields (the same key keeps its spelling)
            new_key = True
    if spec.forward is not None:
        wanted_config['forward'] = forward_string(spec.forward)
    if not same_type:
        body['type'] = spec.type
        body['config'] = wanted_config
    elif ((new_key and key_of(current.get('type'), wanted_config) != current_key)
          or forward_key(wanted_config.get('forward')) != forward_key(config.get('forward'))):
        body['config'] = dict((name, wanted_config[name]) for name in KEY_FIELDS[current.get('type')] + ('forward',)
                              if name in wanted_config)
    if spec.active is not None and bool(current.get('active', True)) != spec.active:
        body['active'] = spec.active
    if rank is not None and not same_rank(current.get('rank'), rank):
        body['rank'] = rank
    return body


def applied_view(current, body):
    """The rule current once body is applied (a prediction)."""
    after = dict(current)
    if 'config' in body:
        config = dict(rule_config(current)) if 'type' not in body else {}
        config.update(body['config'])
        after['config'] = config
    for name in ('type', 'active', 'rank'):
        if name in body:
            after[name] = body[name]
    return after


def has_applied(rule, body):
    """Whether a rule (re-read) holds what body sets."""
    if rule is None:
        return False
    if 'type' in body and rule.get('type') != body['type']:
        return False
    if 'config' in body:
        wanted = applied_view(rule, body)
        if rule_key(wanted) != rule_key(rule) or forward_key(rule_config(wanted).get('forward')) != forward_key(
                rule_config(rule).get('forward')):
            return False
    if 'active' in body and rule.get('active') != body['active']:
        return False
    return not ('rank' in body and not same_rank(rule.get('rank'), body['rank']))


def duplicates_message(key, rules, domain):
    listed = ', '.join('%s (%s)' % (rule.get('id'), rule_line(rule)) for rule in rules)
    return ('%d rules of domain %s have the key %s %s: %s; give id to say which one'
            % (len(rules), domain, key[0], key_text(key), listed))


class RuleIndex(object):
    """The rules of a domain by id and by natural key (recognised ones only), for dict look-ups."""

    def __init__(self, current):
        self.by_id = {}
        self.by_key = {}
        for rule in current:
            self.by_id.setdefault(str(rule.get('id')), rule)
            if recognised(rule):
                self.by_key.setdefault(rule_key(rule), []).append(rule)


def match(spec, current, domain, index=None):
    """The API rule spec means: by id, else the one rule with its key; None when there is none.

    TaskError when an id is not there, or when several rules have the key. index: a RuleIndex
    of current (made when not given).
    """
    index = index if index is not None else RuleIndex(current)
    if spec.id is not None:
        rule = index.by_id.get(spec.id)
        if rule is None:
            raise TaskError('there is no rule with id %s in domain %s' % (spec.id, domain))
        if not recognised(rule):
            raise TaskError(unrecognised_warning(rule, domain) + '; leave it out of the task')
        return rule
    found = index.by_key.get(spec.key, [])
    if len(found) > 1:
        raise TaskError(duplicates_message(spec.key, found, domain), rules=[dict(rule) for rule in found])
    return found[0] if found else None


def increasing_run(values):
    """Indexes of a longest strictly increasing subsequence of values (None entries never belong).

    Patience sorting, O(n log n): tails[k] is the index of the smallest value that ends an
    increasing run of length k + 1 so far; each value extends the longest run whose end is below
    it. Of the longest runs, the one that reaches its length first is kept.
    """
    tails = []  # indexes
    tail_values = []  # values[tails[k]], increasing
    previous = {}
    first_of_length = []  # the first index that ended a run of length k + 1
    for i, value in enumerate(values):
        if value is None:
            continue
        k = bisect.bisect_left(tail_values, value)
        previous[i] = tails[k - 1] if k > 0 else None
        if k == len(tails):
            tails.append(i)
            tail_values.append(value)
            first_of_length.append(i)
        else:
            tails[k] = i
            tail_values[k] = value
    if not tails:
        return set()
    kept = set()
    end = first_of_length[-1]
    while end is not None:
        kept.add(end)
        end = previous[end]
    return kept


def spread(low, high, count):
    """count increasing ranks strictly between low and high (None: unbounded), whole numbers when they fit."""
    if low is None and high is None:
        return [float(i + 1) for i in range(count)]
    if high is None:
        return [float(math.floor(low) + i + 1) for i in range(count)]
    if low is None:
        top = math.ceil(high) - 1  # the largest whole number below high
        if top - count + 1 >= 1 or high <= 0:
            return [float(top - count + 1 + i) for i in range(count)]
        low = 0.0
    first = math.floor(low) + 1
    if math.ceil(high) - 1 - first + 1 >= count:
        return [float(first + i) for i in range(count)]
    step = (high - low) / (count + 1)
    return [low + step * (i + 1) for i in range(count)]


def position_ranks(current_ranks):
    """Ranks for rules in list order, given the current rank of each (None: new): a list of floats.

    Rules whose current ranks already increase along the list (the longest such run) keep them;
    the others get ranks between their kept neighbours. When floats run too close, every rule
    is numbered again 1, 2, 3...
    """
    ranks = [float(rank) if rank is not None else None for rank in current_ranks]
    kept = increasing_run(ranks)
    result = [ranks[i] if i in kept else None for i in range(len(ranks))]
    i = 0
    while i < len(result):
        if result[i] is not None:
            i += 1
            continue
        j = i
        while j < len(result) and result[j] is None:
            j += 1
        result[i:j] = spread(result[i - 1] if i > 0 else None, result[j] if j < len(result) else None, j - i)
        i = j
    if any(result[n + 1] - result[n] < 1e-6 for n in range(len(result) - 1)):
        return [float(n + 1) for n in range(len(ranks))]
    return result


class Step(namedtuple('Step', ['action', 'spec', 'current', 'body'])):
    """One write of a plan: action create (current None), update or delete (spec None); body what is sent."""

    __slots__ = ()


def plan_rules(current, specs, domain, purge=False):
    """The writes that turn current (API rules) into specs (list order = rule order): a list of Steps.

    Every spec is matched first (by id, else by natural key); a spec without rank gets its place
    from its position among the specs without rank, re-ranking only the rules whose order changed;
    a spec with rank gets that rank. With purge, current rules no spec matches are deleted.
    """
    index = RuleIndex(current)
    matched = [match(spec, current, domain, index) for spec in specs]
    used = {}
    for spec, rule in zip(specs, matched):
        if rule is not None:
            ident = str(rule.get('id'))
            if ident in used:
                raise TaskError('%s and %s both mean rule %s (%s)'
                                % (used[ident], spec.where or spec.describe(), ident, rule_line(rule)))
            used[ident] = spec.where or spec.describe()
    positional = [i for i, spec in enumerate(specs) if spec.rank is None]
    ranks = dict(zip(positional, position_ranks([matched[i].get('rank') if matched[i] is not None else None
                                                 for i in positional])))
    steps = []
    for i, spec in enumerate(specs):
        rank = spec.rank if spec.rank is not None else ranks[i]
        rule = matched[i]
        if rule is None:
            steps.append(Step('create', spec, None, spec.body(rank)))
            continue
        body = update_body(rule, spec, rank)
        if body:
            steps.append(Step('update', spec, rule, body))
    if purge:
        for rule in current:
            if str(rule.get('id')) not in used and recognised(rule):
                steps.append(Step('delete', None, rule, None))
    return steps


def apply_plan(current, steps):
    """The rule set after steps (a prediction: created rules have no id)."""
    result = dict((str(rule.get('id')), rule) for rule in current)
    created = []
    for step in steps:
        if step.action == 'create':
            created.append(dict(step.body))
        elif step.action == 'update':
            result[str(step.current.get('id'))] = applied_view(step.current, step.body)
        else:
            result.pop(str(step.current.get('id')), None)
    return sorted_rules(list(result.values()) + created)


# -- the resource -------------------------------------------------------------------------------


# The keys of an answer's envelope, never part of a rule the API answers at the top level.
ENVELOPE_KEYS = ('success', 'errors', 'error', 'code', 'message')


def strip_envelope(rule):
    """A rule answered at the top level, without the answer's envelope keys (success...)."""
    if not isinstance(rule, dict):
        return rule
    return dict((name, value) for name, value in rule.items() if name not in ENVELOPE_KEYS)


def rule_of(answer):
    """The rule in an answer: at the top level (GET, POST) or under rule; None when absent."""
    if isinstance(answer, Confirmed):
        return answer.value
    if not isinstance(answer, dict):
        return None
    if isinstance(answer.get('rule'), dict):
        return strip_envelope(answer['rule'])
    return strip_envelope(answer) if answer.get('id') is not None and 'type' in answer else None


class Rules(Resource):
    """The rules of one domain; objects are the API's rule dicts. DomainMissing when the domain is not there."""

    def __init__(self, client, domain):
        super(Rules, self).__init__(client)
        self.domain = domain
        self.unrecognised = {}  # id -> a rule seen in a listing that the collection does not recognise

    def warnings(self):
        """One warning for each rule not recognised (recognised()) that a listing or fetch met."""
        return [unrecognised_warning(rule, self.domain) for rule in self.unrecognised.values()]

    def note(self, rule):
        if isinstance(rule, dict) and not recognised(rule):
            self.unrecognised.setdefault(str(rule.get('id')), rule)
        return rule

    def path_of(self, *segments, **kwargs):
        return self.path('domains', self.domain, 'rules', *segments, **kwargs)

    def iterate(self, search=None):
        """Every rule (all pages), optionally narrowed by the API's search.

        No public client shows total, limit or page in this list's answer, and the API may page by a
        size of its own: a short page does not end the walk, only an empty one (or a total, when given).
        """
        params = {'search': search} if search else None
        try:
            for item in self.client.paginate(self.path('domains', self.domain, 'rules'), 'rules', params=params,
                                             until_empty=True):
                if isinstance(item, dict):
                    yield self.note(item)
        except ImprovMXNotFound as exc:
            raise DomainMissing(self.domain, exc)

    def listing(self, search=None):
        return sorted_rules(self.iterate(search))

    def fetch(self, ident):
        """One rule by id (top-level or enveloped answer, without envelope keys), or None."""
        try:
            return self.note(rule_of(self.client.get_or_none(self.path_of(str(ident)))))
        except ImprovMXNotFound:
            return None

    def fetch_in_domain(self, ident):
        """One rule by id, or None; DomainMissing when the domain is not in the account (one more read).

        A 404 for a rule does not say whether the rule or the domain is missing: the domain is read
        then, so that a missing domain fails with its own message rather than "no such rule".
        """
        found = self.fetch(ident)
        if found is None:
            try:
                self.client.get(self.path('domains', self.domain))
            except ImprovMXNotFound as exc:
                raise DomainMissing(self.domain, exc)
        return found

    def find_key(self, key):
        """The rules that have the natural key."""
        return [rule for rule in self.iterate() if recognised(rule) and rule_key(rule) == key]

    def create(self, body):
        """POST a rule; returns the rule as stored.

        An answer without the rule (such as {"success": true}) is an unknown outcome: the rule is
        looked for again by its key, and when it is not there the task fails (nothing was applied).
        """
        key = key_of(body['type'], body['config'])

        def reread():
            found = self.find_key(key)
            return found[-1] if found else None

        path = self.path('domains', self.domain, 'rules')
        try:
            _created, answer = super(Rules, self).create(path, body, None, reread=reread, raw=True)
            return self.confirmed('POST', path, answer, reread, None)
        except DomainMissing:
            raise
        except ImprovMXNotFound as exc:
            raise DomainMissing(self.domain, exc)

    def update(self, ident, body):
        """PUT changes of the rule with this id; returns the rule as stored afterwards."""
        path = self.path_of(str(ident))

        def applied(now):
            return has_applied(now, body)

        answer = self.send('PUT', path, body, reread=lambda: self.fetch(ident), applied=applied)
        return self.confirmed('PUT', path, answer, lambda: self.fetch(ident), applied)

    def confirmed(self, method, path, answer, reread, applied):
        """The rule a write answered; an answer without it is confirmed by reread() (ImprovMXError when not applied).

        The message then says the write was not applied and running the task again is safe, or,
        when the re-read fails too, that the write may have been applied and the task can be run again.
        """
        rule = rule_of(answer)
        if rule is not None:
            return rule

        def confirm():
            now = reread()
            return Confirmed(now) if (applied(now) if applied else now is not None) else None

        shown = self.client.redact(json.dumps(answer, sort_keys=True, default=str))
        shown = shown if len(shown) <= 120 else shown[:120] + '...'
        missing = ImprovMXError('%s %s: the API answered success without the rule object (%s), so whether the write '
                                'was applied is unknown' % (method, path, shown), method=method, path=path, ambiguous=True)
        return strip_envelope(self.client.confirm_write(method, path, missing, confirm).value)

    def discard(self, ident):
        """Delete the rule: True when this run removed it, False when another run had."""
        return self.delete(self.path_of(str(ident)), reread=lambda: self.fetch(ident))

    def discard_all(self):
        """DELETE /domains/:d/rules-all: every rule of the domain in one request (confirmed by re-reading the list)."""
        path = self.path('domains', self.domain, 'rules-all')
        try:
            self.send('DELETE', path, None, reread=lambda: list(self.iterate()), applied=lambda now: now == [])
        except DomainMissing:
            raise
        except ImprovMXNotFound as exc:
            raise DomainMissing(self.domain, exc)


PLAN_REQUIRED = ("the account's ImprovMX plan does not include rules routing (rules need a paid plan); upgrade the "
                 "account, or check that the API key may manage rules")


def explain_error(error, secrets=()):  # pylint: disable=unused-argument
    """An API error of the rules endpoints fit to show: a 403 says the plan does not include rules routing."""
    if not isinstance(error, ImprovMXError) or error.status != 403:
        return error
    return ImprovMXError('%s. The API answered: %s' % (PLAN_REQUIRED, error.message), method=error.method,
                         path=error.path, status=error.status, errors=error.errors, detail=error.detail)


def alias_routing_warning(client, domain):
    """The warning for rule changes on a domain that routes mail by aliases (one GET of the domain), or None.

    routing_engine alias or empty means aliases; a domain not in the account (check mode, before an
    earlier task adds it) gives no warning.
    """
    found = Domains(client).fetch(domain)
    if found is None or str(found.get('routing_engine') or '').strip().lower() == 'rules':
        return None
    return ('the domain %s routes mail by aliases (routing_engine: %s): its rules do not route mail until its '
            'routing_engine is rules (improvmx.email.improvmx_domain)' % (domain, found.get('routing_engine') or 'empty'))


# -- convergence --------------------------------------------------------------------------------


class RuleSync(object):
    """Converge the rule set of one domain: one paged read, then only the writes that differ."""

    def __init__(self, rules):
        self.rules = rules
        self.current = None
        self.final = None
        self.created = []
        self.updated = []
        self.removed = []
        self.done = False
        self.state = None  # id -> rule, as the writes so far left them

    @property
    def applied(self):
        return bool(self.created or self.updated or self.removed)

    def run(self, specs, purge=False, check_mode=False):
        try:
            self.current = self.rules.listing()
        except DomainMissing:
            if not check_mode:
                raise
            self.current = []  # a domain an earlier task of the same run would add: predict from nothing
        steps = plan_rules(self.current, specs, self.rules.domain, purge=purge)
        within_destinations_limit(self.rules.client, [step for step in steps if step.body is not None])
        if check_mode:
            self.final = apply_plan(self.current, steps)
            for step in steps:
                self.note(step, applied_view(step.current or {}, step.body) if step.body else step.current)
            self.done = True
            return
        self.state = state = dict((str(rule.get('id')), rule) for rule in self.current)
        if len(steps) >= 2 and len(steps) == len(self.current) and all(step.action == 'delete' for step in steps):
            # Every rule goes and none is unrecognised (purge keeps those): one request instead of one per rule.
            self.rules.discard_all()
            state.clear()
            for step in steps:
                self.note(step, step.current)
            steps = []
        for step in steps:
            ident = str((step.current or {}).get('id'))
            if step.action == 'create':
                after = self.rules.create(step.body)
                ident = str(after.get('id'))
                state[ident] = after
            elif step.action == 'update':
                after = self.rules.update(step.current['id'], step.body) or applied_view(step.current, step.body)
                state[ident] = after
            else:
                after = step.current
                gone = self.rules.discard(step.current['id'])
                state.pop(ident, None)
                if not gone:
                    continue  # another run removed it meanwhile: gone all the same, not a change of this run
            self.note(step, after)
        self.final = sorted_rules(state.values())
        self.done = True

    def note(self, step, after):
        line = rule_line(after or {})
        {'create': self.created, 'update': self.updated, 'delete': self.removed}[step.action].append(line)

    def result(self):
        if self.current is None:
            return {}
        if self.final is None and self.state is not None:  # a failure part way: the rules as the writes left them
            self.final = sorted_rules(self.state.values())
        return dict(rules=list(self.final or []), created=list(self.created), updated=list(self.updated),
                    removed=list(self.removed))


def within_destinations_limit(client, steps, option='rules'):
    """TaskError before any write when a rule's forward has more destinations than the account allows.

    The account is read only when a write sends more than one destination.
    """
    entries = [(step.spec.describe() if step.spec else rule_line(step.current), rule_config(step.body).get('forward'))
               for step in steps if 'config' in step.body]
    entries = [(name, forward) for name, forward in entries if len(split_forward(forward)) > 1]
    if not entries:
        return
    limit = Account(client).destinations_limit()
    if limit is None:
        return
    problems = ['%s has %d destinations in forward; the account allows at most %d (limits.destinations of the '
                'ImprovMX account)' % (name, len(split_forward(forward)), limit)
                for name, forward in entries if len(split_forward(forward)) > limit]
    if problems:
        raise TaskError('%s: %s; nothing was changed' % (option, '; '.join(problems)))


class RuleTask(object):
    """One rule made present or absent (improvmx_rule); each returns (changed, before, after)."""

    def __init__(self, client, domain, check_mode=False):
        self.rules = Rules(client, domain)
        self.check_mode = check_mode

    def locate(self, spec):
        """The rule spec means (by id: one GET; by key: the paged list), or None."""
        try:
            if spec.id is not None:
                found = self.rules.fetch_in_domain(spec.id)
                if found is not None and not recognised(found):
                    raise TaskError(unrecognised_warning(found, self.rules.domain) + '; leave it out of the task')
                return found
            return match(spec, self.rules.listing(), self.rules.domain)
        except DomainMissing:
            if not self.check_mode:
                raise
            return None  # a domain an earlier task of the same run would add: the rule would be created

    def present(self, spec):
        current = self.locate(spec)
        if current is None:
            if spec.id is not None:
                raise TaskError('there is no rule with id %s in domain %s' % (spec.id, self.rules.domain))
            if spec.forward is None:
                raise TaskError('forward is required to create the %s' % spec.describe())
            body = spec.body(spec.rank)
            within_destinations_limit(self.rules.client, [Step('create', spec, None, body)], option='forward')
            if self.check_mode:
                return True, None, applied_view({}, body)
            return True, None, self.rules.create(body)
        body = update_body(current, spec, spec.rank)
        if not body:
            return False, current, current
        within_destinations_limit(self.rules.client, [Step('update', spec, current, body)], option='forward')
        if self.check_mode:
            return True, current, applied_view(current, body)
        return True, current, self.rules.update(current['id'], body) or applied_view(current, body)

    def absent(self, spec):
        current = self.locate(spec)
        if current is None:
            return False, None, None
        if not self.check_mode and not self.rules.discard(current['id']):
            return False, None, None  # another run removed it meanwhile: absent all the same
        return True, current, None
