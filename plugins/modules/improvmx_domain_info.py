#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: improvmx_domain_info
short_description: List the domains of an ImprovMX account
version_added: 1.0.0
description:
  - Returns the domains of the ImprovMX account, or one domain.
  - Without options, every domain is returned; the module reads all the pages of the API's list.
  - With O(domain), only that domain is returned; a domain that is not in the account gives an
    empty list, not an error.
  - O(q) and O(is_active) filter the list.
  - Without O(domain), the module also returns RV(export), the domains it lists in exactly the input format of
    M(improvmx.email.improvmx_domains). Adopting an account that exists is then export, keep the export in a
    vars file, converge with it (C(playbooks/export_account.yml) does the first two).
author:
  - improvmx.email developers (@improvmx-email)
extends_documentation_fragment:
  - improvmx.email.improvmx
  - improvmx.email.attributes
  - improvmx.email.attributes.info_module
options:
  domain:
    description:
      - Return only this domain, for example V(example.com).
      - It is lower-cased and an internationalised name is converted to its IDNA form.
      - Cannot be combined with O(q) or O(is_active).
    type: str
    aliases: [name]
  q:
    description:
      - Return only the domains whose name starts with this text, for example V(example).
      - It is lower-cased, like the domain names the API stores.
    type: str
  is_active:
    description:
      - V(true) returns only the active domains (ImprovMX sees their MX records),
        V(false) only the inactive ones. Left out, both.
    type: bool
  export_include:
    description:
      - What RV(export) holds besides each domain's fields and aliases, at the cost of reads per domain.
      - V(credentials) adds each domain's SMTP credentials (C(credentials) with C(username) and C(is_limited),
        and C(purge_credentials)); one more request per domain. Passwords cannot be read, so they are left out
        (with a warning), and converging the export never changes a password. On an account whose plan has no
        SMTP credentials, they are left out with a warning after the first refusal.
      - V(rules) adds each domain's routing rules (C(rules), in the form and rank order that
        M(improvmx.email.improvmx_rules) takes, and C(purge_rules)); one more request (or more, past a page) per
        domain. On an account whose plan has no rules routing, they are left out with a warning.
      - Left out (the default), RV(export) holds neither and converging it leaves both alone.
    type: list
    elements: str
    choices: [credentials, rules]
    default: []
    version_added: 1.1.0
notes:
  - The API caps the aliases embedded in each domain at 200. For a domain with more aliases, use
    M(improvmx.email.improvmx_alias_info), which reads all of them. RV(export) holds every alias. Without
    O(domain), the alias list of a domain that embeds 200 aliases is read page by page (one more request per
    100 of its aliases).
seealso:
  - module: improvmx.email.improvmx_domain
  - module: improvmx.email.improvmx_alias_info
  - module: improvmx.email.improvmx_domain_check
  - module: improvmx.email.improvmx_domains
  - name: ImprovMX API reference
    description: The domains endpoints.
    link: https://improvmx.com/api/#domains
'''

EXAMPLES = r'''
- name: List every domain of the account
  improvmx.email.improvmx_domain_info:
    api_key: "{{ improvmx_api_key }}"
  register: all_domains

- name: Show their names
  ansible.builtin.debug:
    msg: "{{ all_domains.domains | map(attribute='domain') | list }}"

- name: Get one domain (an empty list when it is not in the account)
  improvmx.email.improvmx_domain_info:
    domain: example.com
    api_key: "{{ improvmx_api_key }}"
  register: one

- name: Say whether it exists
  ansible.builtin.debug:
    msg: "example.com is {{ 'in' if one.domains else 'not in' }} the account"

- name: Export the account in improvmx_domains' input format
  improvmx.email.improvmx_domain_info:
    api_key: "{{ improvmx_api_key }}"
  register: account

- name: Converge on the export (nothing changes; only the domain list is read)
  improvmx.email.improvmx_domains:
    domains: "{{ account.export }}"
    api_key: "{{ improvmx_api_key }}"

- name: The inactive domains whose name starts with "example"
  improvmx.email.improvmx_domain_info:
    q: example
    is_active: false
    api_key: "{{ improvmx_api_key }}"
  register: inactive
'''

RETURN = r'''
domains:
  description:
    - The domains, as the API describes them, in the API's order.
    - An empty list when O(domain) is not in the account or nothing matches the filters.
  returned: success
  type: list
  elements: dict
  contains:
    # BEGIN generated by scripts/field_docs.py from the table in plugins/module_utils/domains.py (domain object)
    domain:
      description:
        - The domain name (IDNA form).
      type: str
      sample: example.com
    display:
      description:
        - The domain name for display (Unicode form).
      type: str
      sample: example.com
    active:
      description:
        - Whether ImprovMX sees the domain's MX records and forwards its e-mail.
      type: bool
      sample: true
    notification_email:
      description:
        - Where notifications about the domain go.
      type: str
      sample: postmaster@example.org
    webhook:
      description:
        - The URL that receives the domain's e-mail events.
      type: str
      sample: https://hooks.example.org/improvmx
    whitelabel:
      description:
        - The whitelabel parent domain.
      type: str
      sample: null
    dkim_selector:
      description:
        - The DKIM selector of the domain; its DKIM records are C(<selector>1._domainkey.<domain>) and C(<selector>2._domainkey.<domain>)
          (see M(improvmx.email.improvmx_domain_check)).
      type: str
      sample: dkimprovmx
    routing_engine:
      description:
        - How the domain routes mail, V(alias) (by its aliases) or V(rules) (by its rules); empty means V(alias).
        - When it is V(rules), the domain's aliases do not route mail.
      type: str
      sample: alias
      version_added: 1.1.0
    banned:
      description:
        - Whether ImprovMX has banned the domain (it then forwards no mail).
      type: bool
      sample: false
    daily_quota:
      description:
        - The number of e-mails the domain may receive a day, when the API says; V(null) when it sets none.
      type: int
      sample: null
    strict_mxes:
      description:
        - Whether the domain's MX check is strict, as the live API answers it (not in the 2020 API reference; see
          docs/api-behaviour.md). Returned as the API gives it; absent when the API does not send it.
      type: bool
      sample: false
      version_added: 1.1.0
    added:
      description:
        - When the domain was added, in milliseconds since the epoch.
      type: int
      sample: 1559652806000
    aliases:
      description:
        - Aliases of the domain. The API caps this list at 200 entries; use M(improvmx.email.improvmx_alias_info)
          for all of them.
      type: list
      elements: dict
      sample:
        - alias: '*'
          forward: owner@example.org
          id: 3
          created: 1702393755000
    # END generated (domain object)
  sample:
    - domain: example.com
      display: example.com
      active: true
      dkim_selector: dkimprovmx
      notification_email: null
      webhook: null
      whitelabel: null
      added: 1559639697000
      aliases: [{"alias": "*", "forward": "owner@example.org", "id": 3, "created": 1702393755000}]
export:
  description:
    - The domains listed (every domain of the account unless O(q) or O(is_active) filter them), in exactly the
      input format of O(improvmx.email.improvmx_domains#module:domains), in the API's order.
    - Each entry has C(domain), every field of the domain (V('') when the API has none, which clears it),
      C(aliases) (the complete set, also past 200, each with C(alias) and C(forward) as a list) and
      C(purge_aliases) (V(true) when the domain has aliases), so that converging the export changes nothing.
    - With O(export_include), also C(credentials) and C(purge_credentials), and C(rules) and C(purge_rules).
    - Give it to O(improvmx.email.improvmx_domains#module:domains), with
      O(improvmx.email.improvmx_domains#module:purge=true) when it is the whole account.
  returned: when O(domain) is not given
  type: list
  elements: dict
  sample:
    - domain: example.com
      notification_email: postmaster@example.org
      webhook: ""
      whitelabel: ""
      aliases:
        - {"alias": "*", "forward": ["owner@example.org"]}
        - {"alias": "sales", "forward": ["alice@example.org", "bob@example.org"]}
      purge_aliases: true
api_retries:
  description: What the client had to retry or recover (rate limits, server errors), one line each.
  returned: when a request had to be retried
  type: list
  elements: str
  sample: ["GET domains/: HTTP 429, retrying after 2.0 s"]
'''

from ansible_collections.improvmx.email.plugins.module_utils.account_export import ExportExtras, export_entry
from ansible_collections.improvmx.email.plugins.module_utils.domains import Domains, alias_set
from ansible_collections.improvmx.email.plugins.module_utils.runner import ImprovMXModule
from ansible_collections.improvmx.email.plugins.module_utils.validation import single_word


class DomainInfoModule(ImprovMXModule):
    domain_option = dict(type='str', aliases=['name'])  # optional: without it, the domains are listed
    options = dict(
        q=dict(type='str'),
        is_active=dict(type='bool'),
        export_include=dict(type='list', elements='str', choices=['credentials', 'rules'], default=[]),
    )
    module_kwargs = dict(mutually_exclusive=[('domain', 'q'), ('domain', 'is_active')])

    def check(self):
        self.prefix = self.option('q', single_word, 'leave it out to list every domain', '; a domain name has none', lower=True)

    def run(self):
        domains = Domains(self.client)
        if self.domain is not None:
            found = domains.fetch(self.domain)
            return dict(domains=[found] if found else [])
        listed = list(domains.iterate(q=self.prefix, is_active=self.params['is_active']))
        extras = ExportExtras(self.client, self.params['export_include'])
        export = [export_entry(domain, alias_set(self.client, domain), **extras.of(domain['domain'])) for domain in listed]
        for warning in extras.warnings():
            self.warn(warning)
        return dict(domains=listed, export=export)


def main():
    DomainInfoModule.main()


if __name__ == '__main__':
    main()
