#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: improvmx_rules
short_description: Manage the whole ordered set of routing rules of an ImprovMX domain
version_added: 1.1.0
description:
  - Makes the routing rules of a domain match a list, in the order of the list.
  - A domain whose routing engine is V(rules) (see O(improvmx.email.improvmx_domain#module:routing_engine))
    routes its mail by rules, tried from the lowest rank up. Each item of O(rules) takes the options of
    M(improvmx.email.improvmx_rule).
  - Each item is matched with a rule of the domain by its natural key - an alias rule by its alias (a plain
    name without case, a pattern such as V(sales*) or V(^[A-Z]+$) exactly as written), a regex rule by
    its regex and its scopes (as a set), a CEL rule by its expression - or by its id when the item gives
    one. Two rules of the domain with the key of an item fail the task, listing them.
  - The position of an item in the list gives the rule's place in the order, unless the item sets
    O(rules[].rank). Rules that already come in the listed order keep their ranks; a new rule, or one that
    moved, gets a rank between its neighbours' (whole numbers when they fit, decimals otherwise), so that
    only the rules whose order changed are re-ranked.
  - A rule of the domain the collection does not recognise - a type other than V(alias), V(regex) and
    V(cel), or a config without its type's keys and C(forward), such as the I(All Unmatched Emails) rule
    the rules guide describes - is kept as it is - O(purge) does not remove it and ranks are planned around
    it - and a warning names it.
  - The module reads the domain's rules once (one request per page, read until an empty page unless the API
    gives a total, so that no rule is missed), then sends only the writes that
    differ - one POST per new rule, one PUT per changed rule, one DELETE per removed rule. A run that
    changes nothing only reads the list.
  - When every rule of the domain would be removed (an empty O(rules) with O(allow_empty_purge), or a purge
    that leaves nothing) and the domain has no rule the collection does not recognise, one
    C(DELETE /domains/:domain/rules-all) removes them all instead of one DELETE per rule (the API allows
    60 DELETE a minute).
  - A run that changes rules of a domain that routes mail by aliases (its C(routing_engine) is V(alias) or
    empty) warns that the rules do not route mail until the domain's routing engine is V(rules); that
    costs one read of the domain.
  - On an account whose plan does not include rules routing (a paid plan feature), the API refuses the
    rules endpoints and the task fails saying so.
  - Every input is checked before the first request; an unknown type or scope, a missing key field, no
    destination, a rank that is not a number, or the same rule listed twice fail the task without
    changing anything.
author:
  - improvmx.email developers (@improvmx-email)
extends_documentation_fragment:
  - improvmx.email.improvmx
  - improvmx.email.attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the rules, reports RV(created), RV(updated) and RV(removed) and sends no write.
  diff_mode:
    support: full
    details:
      - The diff shows the domain's rules in rank order, one line each, V([rank] type key -> forward (inactive)),
        before and after.
options:
  domain:
    description:
      - The domain whose rules are managed, for example V(example.com). It must already be in the account.
      - In check mode, a domain that is not in the account yet (one that an earlier task of the same run
        would add) has no rules, so every listed rule is predicted as created, and only reads are sent.
    type: str
    required: true
  rules:
    description:
      - The rules the domain must have, in the order they are tried.
      - Rules of the domain that are not listed are left alone, unless O(purge=true).
    type: list
    elements: dict
    required: true
    suboptions:
      type:
        description:
          - The type of the rule. Required unless O(rules[].id) is given.
        type: str
        choices: [alias, regex, cel]
      alias:
        description:
          - For an V(alias) rule, the alias it matches, or a wildcard or regex pattern such as V(sales*).
          - A plain name is compared without case, a pattern exactly as written.
        type: str
      regex:
        description: For a V(regex) rule, the regular expression (its syntax is left to the API).
        type: str
      scopes:
        description: For a V(regex) rule, what the expression is matched against; compared as a set.
        type: list
        elements: str
        choices: [sender, recipient, subject, body]
      expression:
        description: For a V(cel) rule, the CEL expression.
        type: str
      forward:
        description:
          - Where matching mail goes - e-mail addresses, V(http://) or V(https://) webhook URLs, or V(null) to accept
            the mail and discard it; compared as a set (addresses without case, URLs exactly, V(null) as itself).
          - Required for a new rule; left out for an existing one, its destinations are kept.
        type: list
        elements: str
        aliases: [destinations]
      active:
        description: Whether the rule is used. Left out, an existing rule keeps its state and a new one is active.
        type: bool
      rank:
        description:
          - The rank of the rule. Left out, the position in the list gives the rule's place.
        type: float
      id:
        description: The id of an existing rule; the rule is found by it, and its type and key fields may change.
        type: str
  purge:
    description:
      - When V(true), the rules of the domain that are not in O(rules) are deleted.
    type: bool
    default: false
  allow_empty_purge:
    description:
      - O(purge=true) with an empty O(rules) would delete every rule of the domain; the module refuses it
        unless this is V(true).
    type: bool
    default: false
seealso:
  - module: improvmx.email.improvmx_rule
  - module: improvmx.email.improvmx_rule_info
  - module: improvmx.email.improvmx_domain
'''

EXAMPLES = r'''
- name: Route the domain's mail by rules, tried in this order (other rules are kept)
  improvmx.email.improvmx_rules:
    domain: example.com
    rules:
      - type: alias
        alias: sales
        forward: [alice@example.org, bob@example.org]
      - type: regex
        regex: "(?i)invoice"
        scopes: [subject, body]
        forward: accounting@example.org
      - type: cel
        expression: "subject.contains('urgent')"
        forward: https://hooks.example.org/urgent
    api_key: "{{ improvmx_api_key }}"

- name: Preview making the domain have exactly these rules
  improvmx.email.improvmx_rules:
    domain: example.com
    rules:
      - type: regex
        regex: "(?i)invoice"
        scopes: [body, subject]
        forward: accounting@example.org
      - type: alias
        alias: sales
        forward: alice@example.org,bob@example.org
    purge: true
    api_key: "{{ improvmx_api_key }}"
  check_mode: true
  register: preview

- name: Show what the purge would delete
  ansible.builtin.debug:
    var: preview.removed
'''

RETURN = r'''
rules:
  description:
    - The domain's rules after the task, in rank order (the order they are tried).
    - In check mode, the predicted set (rules that would be created have no RV(rules[].id)).
  returned: success, and on failure once the rules were read
  type: list
  elements: dict
  contains:
    # BEGIN generated by scripts/field_docs.py from the table in plugins/module_utils/rule_model.py (rule object)
    id:
      description:
        - The id the server gave the rule (what O(improvmx.email.improvmx_rule#module:id) takes).
      type: str
      sample: 6f1c8a52-8a6e-4a8e-9d55-0c3c3a9e2b11
    type:
      description:
        - V(alias), V(regex) or V(cel).
      type: str
      sample: alias
    config:
      description:
        - The rule's settings - C(alias), or C(regex) and C(scopes), or C(expression); and C(forward), the destinations
          as one comma-separated string.
      type: dict
      sample:
        alias: sales
        forward: alice@example.org,bob@example.org
    rank:
      description:
        - The rank; rules are tried from the lowest up.
      type: float
      sample: 1.0
    active:
      description:
        - Whether the rule is used.
      type: bool
      sample: true
    created:
      description:
        - When the rule was created, in seconds since the epoch.
      type: int
      sample: 1767225600
    # END generated (rule object)
created:
  description: The rules that were (in check mode, would be) created, one line each.
  returned: always
  type: list
  elements: str
  sample: ["[1] alias sales -> alice@example.org,bob@example.org"]
updated:
  description: The rules that were (in check mode, would be) changed, as they are after the change.
  returned: always
  type: list
  elements: str
  sample: ["[2] regex (?i)invoice on subject,body -> accounting@example.org (inactive)"]
removed:
  description: The rules that were (in check mode, would be) deleted; only with O(purge=true).
  returned: always
  type: list
  elements: str
  sample: ["[3] cel subject.contains('urgent') -> https://hooks.example.org/urgent"]
api_retries:
  description: What the client had to retry or recover (rate limits, server errors), one line each.
  returned: when a request had to be retried
  type: list
  elements: str
  sample: ["GET domains/example.com/rules: HTTP 429, retrying after 2.0 s"]
'''

from ansible_collections.improvmx.email.plugins.module_utils.rules import (
    ITEM_ARGUMENT_SPEC, RuleSync, Rules, alias_routing_warning, explain_error, parse_rules, rule_line)
from ansible_collections.improvmx.email.plugins.module_utils.runner import DOMAIN_OPTION, SyncModule


class RulesModule(SyncModule):
    domain_option = DOMAIN_OPTION
    explain_error = staticmethod(explain_error)
    options = dict(
        rules=dict(type='list', elements='dict', required=True, options=ITEM_ARGUMENT_SPEC),
    )

    def check(self):
        try:
            self.specs = parse_rules(self.params['rules'])
        except ValueError as exc:
            self.fail(str(exc))
        self.refuse_empty_purge(self.specs, 'rules is empty and purge is true: that would delete every rule of %s; '
                                'set allow_empty_purge=true if that is what you want' % self.domain)

    def run(self):
        self.sync = sync = RuleSync(Rules(self.client, self.domain))
        sync.run(self.specs, purge=self.params['purge'], check_mode=self.check_mode)
        for warning in sync.rules.warnings():
            self.warn(warning)
        if sync.applied:
            warning = alias_routing_warning(self.client, self.domain)
            if warning:
                self.warn(warning)
        return dict(sync.result(), diff={
            'before': {'domain': self.domain, 'rules': [rule_line(rule) for rule in sync.current]},
            'after': {'domain': self.domain, 'rules': [rule_line(rule) for rule in sync.final]},
        })


def main():
    RulesModule.main()


if __name__ == '__main__':
    main()
