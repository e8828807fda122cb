#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: improvmx_alias
short_description: Add, update, rename and remove one e-mail alias of an ImprovMX domain
version_added: 1.0.0
description:
  - Makes sure one alias of a domain forwards to the destinations you give, or is gone.
  - Plain alias names (letters, digits, C(.), C(_), C(+), C(-)) are case-insensitive (V(Sales) and V(sales)
    are the same alias); they are sent in lower case.
  - An alias name that holds a regular expression operator (C(^), C($), C(*), C(?), C(|), a bracket, a brace, a parenthesis or a backslash) is a
    regular expression alias, for example V((contact|support\)) or V(^invoice-.*$); it is kept exactly as
    written (never lower-cased), holds at most 150 characters and no white space, and must compile.
  - A numeric alias name (such as V(2024)) is also what an alias id looks like in the API's paths. The module
    never acts on an alias whose name is not the one asked for. When the API answers with another alias,
    it looks for the name in the domain's alias list and addresses the alias by its id.
  - V(*) is the catch-all alias, which receives the mail of every address that has no alias of its own.
    ImprovMX creates it with each new domain; this module manages it like any other alias.
  - A destination is an e-mail address, an C(http://) or C(https://) webhook URL, or the word V(null), mixed
    freely. V(null) makes ImprovMX accept the mail and deliver it nowhere (discard it). Destinations compare as
    a set (addresses without case, URLs exactly as written, V(null) as itself), so listing them in another order
    is no change.
  - A run that changes nothing costs exactly one API request (a GET of the alias).
  - A run that changes the alias also reads the domain, and warns when the domain routes mail by rules
    (its C(routing_engine) is V(rules)), because the aliases of such a domain do not route mail.
  - To manage many aliases, or the whole set of a domain, use M(improvmx.email.improvmx_aliases),
    which needs far fewer API requests.
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
      - The diff shows the alias name and its destinations, before and after.
options:
  domain:
    description:
      - The domain the alias belongs to, for example V(example.com). It must already be in the account
        (see M(improvmx.email.improvmx_domain)).
    type: str
    required: true
  alias:
    description:
      - The part before the C(@), for example V(sales) for C(sales@example.com).
      - V(*) is the catch-all alias.
      - A regular expression, such as V(^invoice-.*$), makes a regex alias (kept as written, at most 150 characters).
      - With O(id), the name the alias gets; a different name renames it.
    type: str
    required: true
    aliases: [name]
  forward:
    description:
      - The destinations the alias forwards to, as a list or as one comma-separated string, of e-mail addresses
        and C(http://) or C(https://) webhook URLs (ImprovMX posts each message to a URL as JSON), mixed freely,
        or V(null) to accept the mail and discard it.
      - A destination that is none of these (such as V(ftp://host) or V(a b)) fails the task before any request.
      - Compared as a set (order does not matter; addresses without case, URLs exactly) and sent as the
        comma-separated string the API expects. The account's plan limits how many destinations an alias may have.
      - Before writing more than one destination, the module reads the account's C(limits.destinations)
        (one request); more destinations than that fail the task without any write. When the account
        does not say, the API decides.
      - Required with O(state=present), unless O(id) is given, where leaving it out keeps the
        alias's current destinations.
    type: list
    elements: str
    aliases: [destinations]
  id:
    description:
      - The numeric id of an existing alias (see RV(alias.id), or M(improvmx.email.improvmx_alias_info)).
      - When given, the module addresses that alias by its id and gives it the name O(alias),
        renaming it if it has another one (and sets O(forward) if given). The task fails when there
        is no alias with this id, or when another alias already has the name O(alias).
      - Finding an alias by id reads the domain's alias list; once the alias has the wanted name
        and destinations, a rerun costs one request again.
      - Only with O(state=present).
    type: int
  state:
    description:
      - V(present) adds the alias or updates its destinations.
      - V(absent) removes the alias. Removing the catch-all V(*) means mail to unknown addresses
        of the domain is refused.
    type: str
    choices: [present, absent]
    default: present
notes:
  - When another run creates the same alias at the same time, the API answers that it already
    exists; the module then reads it and converges it to the wanted destinations instead of failing.
  - When another run removes the alias between this module's read and its delete, O(state=absent)
    reports no change instead of failing.
seealso:
  - module: improvmx.email.improvmx_aliases
  - module: improvmx.email.improvmx_alias_info
  - module: improvmx.email.improvmx_domain
  - name: ImprovMX API reference
    description: The aliases endpoints.
    link: https://improvmx.com/api/#aliases
'''

EXAMPLES = r'''
- name: Forward sales@example.com to two people
  improvmx.email.improvmx_alias:
    domain: example.com
    alias: sales
    forward:
      - alice@example.org
      - bob@example.org
    api_key: "{{ improvmx_api_key }}"

- name: The same, with destinations as one string (the order does not matter)
  improvmx.email.improvmx_alias:
    domain: example.com
    alias: sales
    forward: bob@example.org,alice@example.org
    api_key: "{{ improvmx_api_key }}"

- name: Send mail for every other address of the domain to one mailbox (catch-all)
  improvmx.email.improvmx_alias:
    domain: example.com
    alias: "*"
    forward: postmaster@example.org
    api_key: "{{ improvmx_api_key }}"

- name: Accept the mail of noreply@example.com and discard it (the destination null)
  improvmx.email.improvmx_alias:
    domain: example.com
    alias: noreply
    forward: "null"
    api_key: "{{ improvmx_api_key }}"

- name: Forward to a mailbox and to a webhook (ImprovMX posts each message there as JSON)
  improvmx.email.improvmx_alias:
    domain: example.com
    alias: orders
    forward:
      - orders@example.org
      - https://hooks.example.org/improvmx/orders
    api_key: "{{ improvmx_api_key }}"

- name: A regular expression alias, kept exactly as written
  improvmx.email.improvmx_alias:
    domain: example.com
    alias: "^invoice-.*$"
    forward: billing@example.org
    api_key: "{{ improvmx_api_key }}"

- name: Add an alias and remember its id
  improvmx.email.improvmx_alias:
    domain: example.com
    alias: support
    forward: helpdesk@example.org
    api_key: "{{ improvmx_api_key }}"
  register: support_alias

- name: Rename that alias to help, keeping its destinations
  improvmx.email.improvmx_alias:
    domain: example.com
    id: "{{ support_alias.alias.id }}"
    alias: help
    api_key: "{{ improvmx_api_key }}"

- name: Remove an alias
  improvmx.email.improvmx_alias:
    domain: example.com
    alias: sales
    state: absent
    api_key: "{{ improvmx_api_key }}"
'''

RETURN = r'''
alias:
  description:
    - The alias as the API describes it after the task; V({}) when it is absent.
    - In check mode, the predicted state (without RV(alias.id) for an alias that would be created).
  returned: always
  type: dict
  contains:
    # BEGIN generated by scripts/field_docs.py from the table in plugins/module_utils/alias_sets.py (alias object)
    alias:
      description:
        - The alias name (lower case for a plain name, as written for a regular expression); V(*) for the catch-all.
      type: str
      sample: sales
    forward:
      description:
        - The destinations (e-mail addresses and webhook URLs), comma-separated.
      type: str
      sample: alice@example.org,bob@example.org
    id:
      description:
        - The numeric id of the alias (what O(improvmx.email.improvmx_alias#module:id) takes).
      type: int
      sample: 11
    created:
      description:
        - When the alias was created, in milliseconds since the epoch (when the API says).
      type: int
      sample: 1702982672000
    # END generated (alias object)
api_retries:
  description: What the client had to retry or recover (rate limits, server errors), one line each.
  returned: when a request had to be retried
  type: list
  elements: str
  sample: ["GET domains/example.com: HTTP 429, retrying after 2.0 s"]
'''

from ansible_collections.improvmx.email.plugins.module_utils.alias_sets import alias_options
from ansible_collections.improvmx.email.plugins.module_utils.aliases import Aliases, AliasTask, alias_name, alias_view, forward_list
from ansible_collections.improvmx.email.plugins.module_utils.domains import Domains, rules_routing_warning
from ansible_collections.improvmx.email.plugins.module_utils.runner import DOMAIN_OPTION, ImprovMXModule


class AliasModule(ImprovMXModule):
    domain_option = DOMAIN_OPTION
    options = dict(
        alias_options(),  # alias, forward: the alias's field table (alias_sets.ALIAS_OBJECT)
        id=dict(type='int'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )

    def check(self):
        self.name = self.option('alias', alias_name)
        self.forward = self.option('forward', forward_list)
        self.ident = self.params['id']
        present = self.params['state'] == 'present'
        if present and self.forward is None and self.ident is None:
            self.fail('forward is required with state=present: give the destination addresses of alias %r' % self.name)
        if not present and self.ident is not None:
            self.fail('id is only used with state=present (to rename an alias); remove an alias by its name')
        if self.ident is not None and self.ident <= 0:
            self.fail('id must be a positive alias id, got %d' % self.ident)

    def run(self):
        task = AliasTask(Aliases(self.client, self.domain), self.check_mode)
        if self.params['state'] == 'absent':
            changed, before, after = task.absent(self.name)
        elif self.ident is not None:
            changed, before, after = task.rename(self.ident, self.name, self.forward)
        else:
            changed, before, after = task.present(self.name, self.forward)
        if changed:
            warning = rules_routing_warning(Domains(self.client), self.domain)
            if warning:
                self.warn(warning)
        return dict(changed=changed, alias=after or {}, diff={'before': alias_view(before), 'after': alias_view(after)})


def main():
    AliasModule.main()


if __name__ == '__main__':
    main()
