#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: improvmx_rule
short_description: Add, update and remove one routing rule of an ImprovMX domain
version_added: 1.1.0
description:
  - Makes sure one routing rule of a domain exists with the destinations, state and rank you give, or is gone.
  - A domain whose routing engine is V(rules) (see O(improvmx.email.improvmx_domain#module:routing_engine))
    routes its mail by rules instead of aliases. Rules are tried in the order of their rank.
  - There are three types of rule. An V(alias) rule matches one alias (the part before the C(@)).
    A V(regex) rule matches a regular expression against the sender, the recipient, the subject or the
    body (O(scopes)). A V(cel) rule matches a CEL expression such as V(subject.contains('finance')).
  - Rule ids are made by the server, so the module finds a rule by its natural key - an alias rule by
    its O(alias) (a plain name without case, a pattern exactly as written), a regex rule by its O(regex) and its O(scopes) (as a set), a CEL rule
    by its O(expression) - or by O(id) when given, in which case the key fields may change.
    Two rules of the domain with the same key fail the task, listing them; give O(id) to say which one.
  - Options left out are not managed, except that a new rule is created active.
  - A rule of the domain the collection does not recognise (another type, or a config without its type's
    keys) is never matched by a key and a warning names it; given by O(id), it fails the task and is left as it is.
  - A run that changes nothing reads the domain's rule list, or, with O(id), the one rule. The list is read
    page by page until a page comes back empty, unless the API gives a total (the API may page by a size
    of its own).
  - A change to a rule of a domain that routes mail by aliases (its C(routing_engine) is V(alias) or empty)
    warns that the rules do not route mail until the domain's routing engine is V(rules).
  - On an account whose plan does not include rules routing (a paid plan feature), the task fails saying so.
  - The syntax of O(regex) and O(expression) is left to the API, which answers a bad one with an
    error the task shows.
  - The rules endpoints are not in ImprovMX's API reference; this module follows the vendor's own
    command-line client.
author:
  - improvmx.email developers (@improvmx-email)
extends_documentation_fragment:
  - improvmx.email.improvmx
  - improvmx.email.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows the rule as one line, V([rank] type key -> forward (inactive)), before and after.
options:
  domain:
    description:
      - The domain the rule belongs to, for example V(example.com). It must already be in the account.
      - In check mode, a domain that is not in the account yet (one that an earlier task of the same run
        would add) has no rules, so the rule is predicted as created, and only reads are sent.
    type: str
    required: true
  type:
    description:
      - The type of the rule.
      - Required unless O(id) is given.
    type: str
    choices: [alias, regex, cel]
  alias:
    description:
      - For O(type=alias), the alias the rule matches, for example V(sales), or a pattern the API takes
        there - a wildcard such as V(sales*) or a regular expression such as V(^[a-z]+-billing$).
      - A plain name is compared without case; a pattern (a name holding a regex operator such as V(*), V(^),
        V([) or V(|)) is compared exactly as written, as alias names are (V(^[A-Z]+$) and V(^[a-z]+$) are two rules).
    type: str
  regex:
    description:
      - For O(type=regex), the regular expression. Only its presence is checked here; the API judges its syntax.
    type: str
  scopes:
    description:
      - For O(type=regex), what the regular expression is matched against. Compared as a set.
    type: list
    elements: str
    choices: [sender, recipient, subject, body]
  expression:
    description:
      - For O(type=cel), the CEL expression, for example V(subject.contains('finance')).
    type: str
  forward:
    description:
      - Where matching mail goes - e-mail addresses, V(http://) or V(https://) webhook URLs, or V(null) to accept
        the mail and discard it, as a list or one comma-separated string. Compared as a set (addresses without
        case, URLs exactly, V(null) as itself).
      - Required to create a rule; left out for an existing rule, its destinations are kept.
    type: list
    elements: str
    aliases: [destinations]
  active:
    description:
      - Whether the rule is used. Left out, an existing rule keeps its state and a new one is active.
    type: bool
  rank:
    description:
      - The rank of the rule; rules are tried from the lowest rank up. A number, decimals allowed.
      - Left out, an existing rule keeps its rank and the API places a new one last.
    type: float
  id:
    description:
      - The id of an existing rule (see M(improvmx.email.improvmx_rule_info)). The rule is found by it, and
        the type and key fields given replace the rule's own.
    type: str
  state:
    description:
      - V(present) creates or updates the rule; V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: improvmx.email.improvmx_rules
  - module: improvmx.email.improvmx_rule_info
  - module: improvmx.email.improvmx_domain
'''

EXAMPLES = r'''
- name: Mail to sales@ goes to two people
  improvmx.email.improvmx_rule:
    domain: example.com
    type: alias
    alias: sales
    forward: [alice@example.org, bob@example.org]
    rank: 1
    api_key: "{{ improvmx_api_key }}"

- name: Invoices, by subject or body, go to accounting and a webhook
  improvmx.email.improvmx_rule:
    domain: example.com
    type: regex
    regex: "(?i)invoice"
    scopes: [subject, body]
    forward:
      - accounting@example.org
      - https://hooks.example.org/invoices
    rank: 2
    api_key: "{{ improvmx_api_key }}"

- name: A CEL rule, created inactive
  improvmx.email.improvmx_rule:
    domain: example.com
    type: cel
    expression: "subject.contains('finance')"
    forward: finance@example.org
    active: false
    api_key: "{{ improvmx_api_key }}"
  register: finance_rule

- name: Switch it on, by its id
  improvmx.email.improvmx_rule:
    domain: example.com
    id: "{{ finance_rule.rule.id }}"
    active: true
    api_key: "{{ improvmx_api_key }}"

- name: Remove the sales rule
  improvmx.email.improvmx_rule:
    domain: example.com
    type: alias
    alias: sales
    state: absent
    api_key: "{{ improvmx_api_key }}"
'''

RETURN = r'''
rule:
  description:
    - The rule after the task, as the API describes it; V({}) when it is absent.
    - In check mode, the predicted rule (a rule that would be created has no RV(rule.id)).
  returned: always
  type: dict
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
api_retries:
  description: What the client had to retry or recover (rate limits, server errors), one line each.
  returned: when a request had to be retried
  type: list
  elements: str
  sample: ["GET domains/example.com/rules: HTTP 429, retrying after 2.0 s"]
'''

from ansible_collections.improvmx.email.plugins.module_utils.rules import (
    ITEM_ARGUMENT_SPEC, ITEM_OPTIONS, RuleTask, alias_routing_warning, explain_error, parse_rule, rule_line)
from ansible_collections.improvmx.email.plugins.module_utils.runner import DOMAIN_OPTION, ImprovMXModule


class RuleModule(ImprovMXModule):
    domain_option = DOMAIN_OPTION
    options = dict(ITEM_ARGUMENT_SPEC, state=dict(type='str', default='present', choices=['present', 'absent']))
    explain_error = staticmethod(explain_error)

    def check(self):
        item = dict((name, self.params[name]) for name in ITEM_OPTIONS if self.params[name] is not None)
        self.present = self.params['state'] == 'present'
        try:
            self.spec = parse_rule(item, need_forward=self.present)
        except ValueError as exc:
            self.fail(str(exc))

    def run(self):
        task = RuleTask(self.client, self.domain, self.check_mode)
        if self.present:
            changed, before, after = task.present(self.spec)
        else:
            changed, before, after = task.absent(self.spec)
        for warning in task.rules.warnings():
            self.warn(warning)
        if changed:
            warning = alias_routing_warning(self.client, self.domain)
            if warning:
                self.warn(warning)
        return dict(changed=changed, rule=after or {},
                    diff={'before': {'rule': rule_line(before)} if before else {},
                          'after': {'rule': rule_line(after)} if after else {}})


def main():
    RuleModule.main()


if __name__ == '__main__':
    main()
