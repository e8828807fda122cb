#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: improvmx_account_info
short_description: Get the details of an ImprovMX account and its whitelabels
version_added: 1.0.0
description:
  - Returns the account the API key belongs to (plan, limits, billing details) and the
    whitelabel domains the account can use.
  - Useful to check a plan's limits before adding domains or aliases, or to find the whitelabel to give
    M(improvmx.email.improvmx_domain).
author:
  - improvmx.email developers (@improvmx-email)
extends_documentation_fragment:
  - improvmx.email.improvmx
  - improvmx.email.attributes
  - improvmx.email.attributes.info_module
options: {}
notes:
  - If the API refuses the whitelabel list (HTTP 403, a plan without whitelabels), RV(whitelabels) is
    empty and the module warns; any other error fails the module.
seealso:
  - module: improvmx.email.improvmx_domain
  - module: improvmx.email.improvmx_domain_info
  - name: ImprovMX API reference
    description: The account endpoints.
    link: https://improvmx.com/api/#account
'''

EXAMPLES = r'''
- name: Read the account
  improvmx.email.improvmx_account_info:
    api_key: "{{ improvmx_api_key }}"
  register: account

- name: Show the plan and its domain limit
  ansible.builtin.debug:
    msg: "{{ account.account.plan.display }}: up to {{ account.account.limits.domains }} domains"

- name: Stop unless the account is premium (SMTP credentials need it)
  ansible.builtin.assert:
    that: account.account.premium
    fail_msg: SMTP credentials need a premium ImprovMX plan

- name: List the whitelabel names
  ansible.builtin.debug:
    msg: "{{ account.whitelabels | map(attribute='name') | list }}"
'''

RETURN = r'''
account:
  description: The account as the API describes it.
  returned: success
  type: dict
  contains:
    email:
      description: The account's e-mail address.
      type: str
      sample: owner@example.org
    premium:
      description: Whether the account has a paid plan.
      type: bool
      sample: true
    plan:
      description: The plan of the account.
      type: dict
      sample: {"name": "enterprise249", "display": "Business - $249", "kind": "enterprise", "price": 249,
               "yearly": false, "aliases_limit": 10000, "domains_limit": 10000, "daily_quota": 100000}
    limits:
      description: The account's limits (domains, aliases, destinations per alias, SMTP credentials, ...).
      type: dict
      sample: {"aliases": 10000, "daily_quota": 100000, "daily_send": 200, "domains": 10000, "ratelimit": 10,
               "redirections": 50, "subdomains": 2, "api": 3, "credentials": 50, "destinations": 5}
    created:
      description: When the account was created, in milliseconds since the epoch.
      type: int
      sample: 1512139382000
    company_name:
      description: The company name on invoices.
      type: str
      sample: Example Inc.
    country:
      description: The account's country code.
      type: str
      sample: US
    locked:
      description: Whether the account is locked.
      type: bool
      sample: null
    lock_reason:
      description: Why the account is locked.
      type: str
      sample: null
    renew_date:
      description: When the plan renews, in milliseconds since the epoch.
      type: int
      sample: 15881622590000
whitelabels:
  description: The whitelabel domains of the account.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The whitelabel domain.
      type: str
      sample: example.net
  sample: [{"name": "example.net"}]
api_retries:
  description: What the client had to retry or recover (rate limits, server errors), one line each.
  returned: when a request had to be retried
  type: list
  elements: str
  sample: ["GET account/: HTTP 429, retrying after 2.0 s"]
'''

from ansible_collections.improvmx.email.plugins.module_utils.account import Account
from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError
from ansible_collections.improvmx.email.plugins.module_utils.runner import ImprovMXModule


class AccountInfoModule(ImprovMXModule):

    def run(self):
        account = Account(self.client)
        details = account.details()
        try:
            whitelabels = account.whitelabels()
        except ImprovMXError as exc:
            if exc.status != 403:
                raise
            self.warn('The API refused the whitelabel list, so whitelabels is empty: %s' % exc)
            whitelabels = []
        return dict(account=details, whitelabels=whitelabels)


def main():
    AccountInfoModule.main()


if __name__ == '__main__':
    main()
