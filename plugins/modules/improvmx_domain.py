#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: improvmx_domain
short_description: Add, update and remove domains in an ImprovMX account
version_added: 1.0.0
description:
  - Makes sure a domain is (or is not) in the ImprovMX account, with the notification e-mail,
    webhook and whitelabel you ask for.
  - Options you leave out are not managed; an empty string clears a field.
  - ImprovMX gives every new domain a catch-all alias C(*) that forwards to the account's e-mail.
    Manage it with M(improvmx.email.improvmx_alias) or M(improvmx.email.improvmx_aliases).
  - Removing a domain removes its aliases, credentials and logs with it.
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
      - The diff shows the domain name and the fields the task manages, before and after.
options:
  domain:
    description:
      - The domain name, for example V(example.com).
      - It is lower-cased; an internationalised name (V(bücher.example)) is converted to its
        IDNA form (V(xn--bcher-kva.example)), which is how the API stores it.
    type: str
    required: true
    aliases: [name]
  notification_email:
    description:
      - Where ImprovMX sends notifications about this domain.
      - V('') clears it. Left out, it is not managed.
    type: str
  webhook:
    description:
      - An V(http://) or V(https://) URL that receives the domain's e-mail events as POST requests.
      - V('') clears it. Left out, it is not managed.
    type: str
  whitelabel:
    description:
      - The parent domain shown in the DNS settings instead of ImprovMX's (a whitelabel of the
        account, see M(improvmx.email.improvmx_account_info)).
      - V('') clears it. Left out, it is not managed.
    type: str
  routing_engine:
    description:
      - How the domain routes its mail - V(alias) by its aliases, V(rules) by its routing rules
        (see M(improvmx.email.improvmx_rules)). A domain whose routing engine is V(rules) ignores its aliases.
      - The API stores an empty value for V(alias); the two are the same here.
      - Not in ImprovMX's API reference - the module sends it with the domain's update (C(PUT), also right
        after adding a new domain), as inferred from the live API. When the API refuses it, or answers
        without applying it, the task fails saying so.
      - Left out, it is not managed.
    type: str
    choices: [alias, rules]
    version_added: 1.1.0
  state:
    description:
      - V(present) adds the domain if needed and sets the given fields.
      - V(absent) removes the domain.
    type: str
    choices: [present, absent]
    default: present
notes:
  - When another run adds the same domain at the same time, the module converges the domain that is
    there instead of failing; when another run removes it between this module's read and its delete,
    O(state=absent) reports no change instead of failing.
seealso:
  - module: improvmx.email.improvmx_domain_info
  - module: improvmx.email.improvmx_domain_check
  - module: improvmx.email.improvmx_aliases
  - name: ImprovMX API reference
    description: The domains endpoints.
    link: https://improvmx.com/api/#domains
'''

EXAMPLES = r'''
- name: Add a domain with a notification e-mail
  improvmx.email.improvmx_domain:
    domain: example.com
    notification_email: postmaster@example.org
    api_key: "{{ improvmx_api_key }}"

- name: Send the domain's e-mail events to a webhook (the other fields stay as they are)
  improvmx.email.improvmx_domain:
    domain: example.com
    webhook: https://hooks.example.org/improvmx
    api_key: "{{ improvmx_api_key }}"

- name: Route the domain's mail by rules instead of aliases
  improvmx.email.improvmx_domain:
    domain: example.com
    routing_engine: rules
    api_key: "{{ improvmx_api_key }}"

- name: Clear the webhook again
  improvmx.email.improvmx_domain:
    domain: example.com
    webhook: ""
    api_key: "{{ improvmx_api_key }}"

- name: Remove a domain
  improvmx.email.improvmx_domain:
    domain: old-brand.example
    state: absent
    api_key: "{{ improvmx_api_key }}"
'''

RETURN = r'''
domain:
  description:
    - The domain as the API describes it after the task; V({}) when it is absent.
    - In check mode, the predicted state.
    - When this task created the domain but setting a field after the create failed (the API takes
      O(webhook) only in a second request), the task fails with C(changed=true), its message names
      the fields that were not set, and this is the domain as created.
  returned: always
  type: dict
  contains:
    domain:
      description: The domain name (IDNA form).
      type: str
      sample: example.com
    display:
      description: The domain name for display (Unicode form).
      type: str
      sample: example.com
    active:
      description: Whether ImprovMX sees the domain's MX records and forwards its e-mail.
      type: bool
      sample: false
    notification_email:
      description: Where notifications about the domain go.
      type: str
      sample: postmaster@example.org
    webhook:
      description: The URL that receives the domain's e-mail events.
      type: str
      sample: https://hooks.example.org/improvmx
    whitelabel:
      description: The whitelabel parent domain.
      type: str
      sample: null
    dkim_selector:
      description:
        - The DKIM selector of the domain; its DKIM records are C(<selector>1._domainkey.<domain>) and
          C(<selector>2._domainkey.<domain>) (see M(improvmx.email.improvmx_domain_check)).
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
      description: Whether ImprovMX has banned the domain (it then forwards no mail).
      type: bool
      sample: false
    daily_quota:
      description: The number of e-mails the domain may receive a day, when the API says; V(null) when it sets none.
      type: int
      sample: null
    strict_mxes:
      description:
        - Whether the domain's MX check is strict, as the live API answers it (not in the 2020 API reference;
          see docs/api-behaviour.md). Returned as the API gives it; absent when the API does not send it.
      type: bool
      sample: false
      version_added: 1.1.0
    added:
      description: When the domain was added, in milliseconds since the epoch.
      type: int
      sample: 1559652806000
    aliases:
      description:
        - Aliases of the domain. The API caps this list at 200 entries;
          use M(improvmx.email.improvmx_alias_info) for all of them.
      type: list
      elements: dict
      sample: [{"alias": "*", "forward": "owner@example.org", "id": 12}]
api_retries:
  description: What the client had to retry or recover (rate limits, server errors), one line each.
  returned: when a request had to be retried
  type: list
  elements: str
  sample: ["GET domains/example.com: HTTP 429, retrying after 2.0 s"]
'''

from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError
from ansible_collections.improvmx.email.plugins.module_utils.domains import (
    DOMAIN_FIELDS,
    Domains,
    FieldsNotTaken,
    converge_domain,
    explain_routing_engine,
    wanted_engine,
)
from ansible_collections.improvmx.email.plugins.module_utils.fields import field_view
from ansible_collections.improvmx.email.plugins.module_utils.runner import DOMAIN_OR_NAME, ImprovMXModule


class DomainModule(ImprovMXModule):
    domain_option = DOMAIN_OR_NAME
    options = dict(
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )
    fields = DOMAIN_FIELDS
    created = None  # the domain this run created, when a later step failed

    def check(self):
        self.values = self.wanted()

    def explain_error(self, error, secrets):  # pylint: disable=unused-argument
        return explain_routing_engine(error, wanted_engine(self.values))

    def run(self):
        domains = Domains(self.client)
        if self.params['state'] == 'present':
            try:
                changed, before, after = converge_domain(domains, self.domain, self.values, self.check_mode)
            except ImprovMXError as exc:
                if getattr(exc, 'created', None) is not None:
                    self.changed, self.created = True, exc.created
                raise
            except FieldsNotTaken as exc:
                # Only what the API took is a change: a refused field alone leaves the domain as it was.
                self.changed = exc.changed
                raise
        else:
            before, after = domains.fetch(self.domain), None
            changed = before is not None
            if changed and not self.check_mode and not domains.discard(self.domain):
                changed, before = False, None  # another run removed it meanwhile: absent all the same
        view = dict(fields=self.fields, managed=self.values, domain=self.domain)
        return dict(changed=changed, domain=after or {},
                    diff={'before': field_view(obj=before, **view), 'after': field_view(obj=after, **view)})

    def failure_result(self):
        return {'domain': self.created} if self.created is not None else {}


def main():
    DomainModule.main()


if __name__ == '__main__':
    main()
