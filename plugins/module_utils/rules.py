# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The routing rules of a domain: /domains/:domain/rules, and the convergence the modules run.

* Rules: the resource (list with paging and search, get, create, update, delete), with the
  write safety of Resource: a write whose outcome is unknown is confirmed by re-reading, and a
  created rule is found again by its natural key.
* RuleTask (one rule, improvmx_rule) and RuleSync (a whole set, improvmx_rules): the
  convergence the modules run, in check mode too.

One rule as data (its key, its line, a wanted rule checked: parse_rule, parse_rules) is in
rule_model.py, and the pure planning of a set (match, position_ranks, plan_rules) in rule_plan.py;
their names are also importable from here.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.improvmx.email.plugins.module_utils.account import Account
from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError, ImprovMXNotFound
from ansible_collections.improvmx.email.plugins.module_utils.domains import Domains
from ansible_collections.improvmx.email.plugins.module_utils.resource import Confirmed, DomainMissing, DomainResource, TaskError
from ansible_collections.improvmx.email.plugins.module_utils.rule_model import (  # noqa: F401 (re-exported, __all__)
    ITEM_ARGUMENT_SPEC, ITEM_OPTIONS, KEY_FIELDS, RULE_SCOPES, RULE_TYPES, Spec, alias_key, dest_key, destination,
    forward_key, forward_list, forward_string, key_of, key_text, parse_rule, parse_rules, rank_text, recognised,
    rule_config, rule_key, rule_line, rule_order, scope_list, sorted_rules, split_forward, unrecognised_warning,
)
from ansible_collections.improvmx.email.plugins.module_utils.rule_plan import (  # noqa: F401 (re-exported, __all__)
    RuleIndex, Step, applied_view, apply_plan, duplicates_message, has_applied, increasing_run, match, plan_rules,
    position_ranks, same_rank, spread, update_body,
)

__all__ = [
    'RULE_TYPES', 'RULE_SCOPES', 'KEY_FIELDS', 'ITEM_OPTIONS', 'ITEM_ARGUMENT_SPEC', 'split_forward', 'destination',
    'forward_list', 'dest_key', 'forward_key', 'forward_string', 'rule_config', 'scope_list', 'alias_key', 'key_of',
    'rule_key', 'recognised', 'unrecognised_warning', 'key_text', 'rank_text', 'rule_line', 'rule_order',
    'sorted_rules', 'Spec', 'parse_rule', 'parse_rules', 'same_rank', 'update_body', 'applied_view', 'has_applied',
    'duplicates_message', 'RuleIndex', 'match', 'increasing_run', 'spread', 'position_ranks', 'Step', 'plan_rules',
    'apply_plan', 'ENVELOPE_KEYS', 'strip_envelope', 'rule_of', 'Rules', 'PLAN_REQUIRED', 'explain_error',
    'alias_routing_warning', 'routing_warning', 'RuleSync', 'within_destinations_limit', 'RuleTask',
]


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


class Rules(DomainResource):
    """The rules of one domain; objects are the API's rule dicts. DomainMissing when the domain is not there."""

    def __init__(self, client, domain):
        super(Rules, self).__init__(client, domain)
        self.unrecognised = {}  # id -> a rule seen in a listing that the collection does not recognise

    def warnings(self):
        """One warning for each rule not recognised (recognised()) that a listing or fetch met."""
        return [unrecognised_warning(rule, self.domain) for rule in self.unrecognised.values()]

    def note(self, rule):
        if isinstance(rule, dict) and not recognised(rule):
            self.unrecognised.setdefault(str(rule.get('id')), rule)
        return rule

    def path_of(self, *segments, **kwargs):
        return self.domain_path('rules', *segments, **kwargs)

    def iterate(self, search=None):
        """Every rule (all pages), optionally narrowed by the API's search.

        No public client shows total, limit or page in this list's answer, and the API may page by a
        size of its own: a short page does not end the walk, only an empty one (or a total, when given).
        """
        params = {'search': search} if search else None
        for item in self.items(self.path_of(), 'rules', params=params, until_empty=True):
            yield self.note(item)

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
            self.ensure_domain()
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

        path = self.path_of()
        with self.settled():
            _created, answer = super(Rules, self).create(path, body, None, reread=reread, raw=True)
            return self.confirmed('POST', path, answer, reread, None)

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
        with self.settled():
            self.send('DELETE', self.domain_path('rules-all'), None, reread=lambda: list(self.iterate()),
                      applied=lambda now: now == [])


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
    return routing_warning(domain, Domains(client).fetch(domain))


def routing_warning(domain, found):
    """The same warning from the domain object already in hand (None: not in the account), or None."""
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
