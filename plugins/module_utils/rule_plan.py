# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Planning a rule set: matching wanted rules with stored ones, comparing them, and the writes between.

Pure functions, no HTTP: update_body() and has_applied() compare one rule, match() finds the stored
rule a wanted one means (by id, else by natural key), position_ranks() re-ranks only the rules whose
order changed (the longest run already in order keeps its ranks, found by patience sorting), and
plan_rules() gives the creates, updates and deletes that turn the stored set into the wanted one.
A wanted rule is a rule_model.Spec; rules.py runs the plans, and every name of this file is also
importable from there.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import bisect
import math
from collections import namedtuple

from ansible_collections.improvmx.email.plugins.module_utils.resource import TaskError
from ansible_collections.improvmx.email.plugins.module_utils.rule_model import (
    KEY_FIELDS,
    forward_key,
    forward_string,
    key_of,
    key_text,
    recognised,
    rule_config,
    rule_key,
    rule_line,
    sorted_rules,
    unrecognised_warning,
)


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
