#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: improvmx_alias_info
short_description: List the e-mail aliases of an ImprovMX domain
version_added: 1.0.0
description:
  - Returns every alias of a domain, or those whose name (or destination) starts with a prefix.
  - Reads every page of the list (100 aliases a page), so domains with thousands of aliases are
    returned whole.
author:
  - improvmx.email developers (@improvmx-email)
extends_documentation_fragment:
  - improvmx.email.improvmx
  - improvmx.email.attributes
  - improvmx.email.attributes.info_module
options:
  domain:
    description:
      - The domain whose aliases are listed, for example V(example.com).
      - The task fails when the domain is not in the account.
    type: str
    required: true
  alias:
    description:
      - Only aliases whose name starts with this prefix, for example V(sales) for C(sales) and C(sales-eu).
      - Case-insensitive for a plain prefix. V(*) finds the catch-all alias. A prefix that holds a regular
        expression operator, such as V(^invoice), finds regular expression aliases and is kept as written.
      - Only aliases whose name starts with the prefix are returned, even if the API answers with others
        (a numeric prefix such as V(2024) never returns the alias whose id is 2024 unless its name matches).
    type: str
  q:
    description:
      - Only aliases whose name or one of whose destinations starts with this prefix,
        for example V(alice) for every alias that forwards to C(alice@...).
    type: str
seealso:
  - module: improvmx.email.improvmx_alias
  - module: improvmx.email.improvmx_aliases
  - name: ImprovMX API reference
    description: The aliases endpoints.
    link: https://improvmx.com/api/#aliases
'''

EXAMPLES = r'''
- name: Every alias of a domain
  improvmx.email.improvmx_alias_info:
    domain: example.com
    api_key: "{{ improvmx_api_key }}"
  register: all_aliases

- name: Show where each alias forwards to
  ansible.builtin.debug:
    msg: "{{ all_aliases.aliases | items2dict(key_name='alias', value_name='forward') }}"

- name: The regular expression alias ^invoice-.*$ and any other alias whose name starts with ^invoice
  improvmx.email.improvmx_alias_info:
    domain: example.com
    alias: "^invoice"
    api_key: "{{ improvmx_api_key }}"

- name: Aliases that forward to a webhook of hooks.example.org
  improvmx.email.improvmx_alias_info:
    domain: example.com
    q: https://hooks.example.org
    api_key: "{{ improvmx_api_key }}"

- name: Aliases whose name starts with sales
  improvmx.email.improvmx_alias_info:
    domain: example.com
    alias: sales
    api_key: "{{ improvmx_api_key }}"

- name: Aliases that forward to alice (or whose name starts with alice)
  improvmx.email.improvmx_alias_info:
    domain: example.com
    q: alice
    api_key: "{{ improvmx_api_key }}"
'''

RETURN = r'''
aliases:
  description: Every matching alias, across all pages, in the order the API lists them.
  returned: success
  type: list
  elements: dict
  contains:
    alias:
      description: The alias name (lower case for a plain name, as written for a regular expression); V(*) for the catch-all.
      type: str
      sample: sales
    forward:
      description: The destinations (e-mail addresses and webhook URLs), comma-separated.
      type: str
      sample: alice@example.org,bob@example.org
    id:
      description: The numeric id of the alias (what O(improvmx.email.improvmx_alias#module:id) takes).
      type: int
      sample: 11
    created:
      description: When the alias was created, in milliseconds since the epoch.
      type: int
      sample: 1702982672000
  sample:
    - {"alias": "*", "forward": "postmaster@example.org", "id": 1, "created": 1702982672000}
    - {"alias": "sales", "forward": "alice@example.org,bob@example.org", "id": 2, "created": 1702982672000}
api_retries:
  description: What the client had to retry or recover (rate limits, server errors), one line each.
  returned: when a request had to be retried
  type: list
  elements: str
  sample: ["GET domains/example.com: HTTP 429, retrying after 2.0 s"]
'''

from ansible_collections.improvmx.email.plugins.module_utils.aliases import Aliases, name_key, named_with_prefix
from ansible_collections.improvmx.email.plugins.module_utils.runner import DOMAIN_OPTION, ImprovMXModule
from ansible_collections.improvmx.email.plugins.module_utils.validation import single_word


class AliasInfoModule(ImprovMXModule):
    domain_option = DOMAIN_OPTION
    options = dict(
        alias=dict(type='str'),
        q=dict(type='str'),
    )

    def check(self):
        self.filters = {}
        self.prefix = None
        for name in ('alias', 'q'):
            value = self.option(name, single_word, 'leave it out to list every alias')
            if value is not None:
                self.filters[name] = name_key(value) if name == 'alias' else value
        if 'alias' in self.filters:
            self.prefix = self.filters['alias']

    def run(self):
        items = list(Aliases(self.client, self.domain).iterate(self.filters))
        if self.prefix is not None:
            # Never an alias whose name is not the one asked for (a numeric prefix may also be an id).
            items = named_with_prefix(items, self.prefix)
        return dict(aliases=items)


def main():
    AliasInfoModule.main()


if __name__ == '__main__':
    main()
