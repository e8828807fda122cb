#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: improvmx_rule_info
short_description: List the routing rules of an ImprovMX domain, or get one
version_added: 1.1.0
description:
  - Returns the routing rules of a domain in rank order (the order they are tried), all pages of them
    (read until a page comes back empty, unless the API gives a total, as the API may page by a size of its own);
    optionally only those the API's search finds; or one rule by its id.
  - See M(improvmx.email.improvmx_rule) for what rules are.
  - A rule the collection does not recognise (another type, or a config without its type's keys) is
    returned as the API gave it, and a warning names it.
author:
  - improvmx.email developers (@improvmx-email)
extends_documentation_fragment:
  - improvmx.email.improvmx
  - improvmx.email.attributes
  - improvmx.email.attributes.info_module
options:
  domain:
    description:
      - The domain whose rules are read, for example V(example.com).
      - The task fails when the domain is not in the account, with O(id) too. In check mode, such a domain
        (one that an earlier task of the same run may add) has no rules, and a warning says so.
    type: str
    required: true
  id:
    description:
      - The id of one rule. RV(rules) then holds that rule, or nothing when the domain has no rule with this id.
    type: str
  search:
    description:
      - Only the rules the API's search finds for this text (it looks in the alias, regex, expression and
        destinations of the rules).
    type: str
notes:
  - The rules endpoints are not in ImprovMX's API reference; this module follows the vendor's own
    command-line client.
seealso:
  - module: improvmx.email.improvmx_rule
  - module: improvmx.email.improvmx_rules
'''

EXAMPLES = r'''
- name: Every rule of a domain, in the order they are tried
  improvmx.email.improvmx_rule_info:
    domain: example.com
    api_key: "{{ improvmx_api_key }}"
  register: all_rules

- name: Show them
  ansible.builtin.debug:
    msg: "{{ all_rules.rules | map(attribute='type') | list }}"

- name: The rules that mention invoice
  improvmx.email.improvmx_rule_info:
    domain: example.com
    search: invoice
    api_key: "{{ improvmx_api_key }}"
  register: invoice_rules

- name: One rule by its id
  improvmx.email.improvmx_rule_info:
    domain: example.com
    id: "{{ invoice_rules.rules[0].id }}"
    api_key: "{{ improvmx_api_key }}"
'''

RETURN = r'''
rules:
  description: The matching rules, in rank order.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The id the server gave the rule (what O(improvmx.email.improvmx_rule#module:id) takes).
      type: str
      sample: 6f1c8a52-8a6e-4a8e-9d55-0c3c3a9e2b11
    type:
      description: V(alias), V(regex) or V(cel).
      type: str
      sample: regex
    config:
      description: C(alias), or C(regex) and C(scopes), or C(expression); and C(forward), comma-separated.
      type: dict
      sample: {"regex": "(?i)invoice", "scopes": ["subject"], "forward": "accounting@example.org"}
    rank:
      description: The rank; rules are tried from the lowest up.
      type: float
      sample: 1.0
    active:
      description: Whether the rule is used.
      type: bool
      sample: true
    created:
      description: When the rule was created, in seconds since the epoch.
      type: int
      sample: 1767225600
api_retries:
  description: What the client had to retry or recover (rate limits, server errors), one line each.
  returned: when a request had to be retried
  type: list
  elements: str
  sample: ["GET domains/example.com/rules: HTTP 429, retrying after 2.0 s"]
'''

from ansible_collections.improvmx.email.plugins.module_utils.resource import DomainMissing
from ansible_collections.improvmx.email.plugins.module_utils.rules import Rules, explain_error
from ansible_collections.improvmx.email.plugins.module_utils.runner import DOMAIN_OPTION, ImprovMXModule


def _text(value):
    text = str(value).strip()
    if not text:
        raise ValueError('is empty: leave it out to list every rule')
    return text


class RuleInfoModule(ImprovMXModule):
    domain_option = DOMAIN_OPTION
    explain_error = staticmethod(explain_error)
    options = dict(
        id=dict(type='str'),
        search=dict(type='str'),
    )
    module_kwargs = dict(mutually_exclusive=[('id', 'search')])

    def check(self):
        self.ident = self.option('id', _text)
        self.search = self.option('search', _text)

    def run(self):
        rules = Rules(self.client, self.domain)
        try:
            if self.ident is not None:
                found = rules.fetch_in_domain(self.ident)
                result = dict(rules=[found] if found else [])
            else:
                result = dict(rules=rules.listing(self.search))
        except DomainMissing as exc:
            if not self.check_mode:
                raise
            # In check mode, an earlier task of the same run may be about to add the domain: no rules yet.
            self.warn('%s (check mode: an earlier task of this run may add it, so no rules are listed)' % exc.message)
            result = dict(rules=[])
        for warning in rules.warnings():
            self.warn(warning)
        return result


def main():
    RuleInfoModule.main()


if __name__ == '__main__':
    main()
