#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: improvmx_credential_info
short_description: List the SMTP credentials of an ImprovMX domain
version_added: 1.0.0
description:
  - Returns the SMTP credentials of a domain, with their user names, usage and creation times.
  - The API never returns passwords, so neither does this module.
  - SMTP credentials are a premium ImprovMX feature. On an account without a premium plan the
    API answers HTTP 403 and the module fails saying so.
author:
  - improvmx.email developers (@improvmx-email)
extends_documentation_fragment:
  - improvmx.email.improvmx
  - improvmx.email.attributes
  - improvmx.email.attributes.info_module
options:
  domain:
    description:
      - The domain whose credentials to list, for example V(example.com).
      - It is lower-cased; an internationalised name is converted to its IDNA form.
      - The module fails when the domain is not in the account.
    type: str
    required: true
seealso:
  - module: improvmx.email.improvmx_credential
  - name: ImprovMX API reference
    description: The SMTP credentials endpoints.
    link: https://improvmx.com/api/#smtp-credentials
'''

EXAMPLES = r'''
- name: List the SMTP credentials of a domain
  improvmx.email.improvmx_credential_info:
    domain: example.com
    api_key: "{{ improvmx_api_key }}"
  register: smtp

- name: Show their user names
  ansible.builtin.debug:
    msg: "{{ smtp.credentials | map(attribute='username') | list }}"
'''

RETURN = r'''
credentials:
  description:
    - The SMTP credentials of the domain, as the API lists them; V([]) when it has none.
    - Never contains passwords.
  returned: always
  type: list
  elements: dict
  contains:
    username:
      description: The user name, the left part of the mailbox.
      type: str
      sample: newsletter
    usage:
      description: How many e-mails were sent with the credential.
      type: int
      sample: 0
    created:
      description: When the credential was created, in milliseconds since the epoch.
      type: int
      sample: 1588236952000
    is_limited:
      description: Whether the credential may only send as the domain's existing aliases (when the API says).
      type: bool
      sample: false
  sample: [{"username": "newsletter", "usage": 0, "created": 1588236952000, "is_limited": false}]
api_retries:
  description: What the client had to retry or recover (rate limits, server errors), one line each.
  returned: when a request had to be retried
  type: list
  elements: str
  sample: ["GET domains/example.com: HTTP 429, retrying after 2.0 s"]
'''

from ansible_collections.improvmx.email.plugins.module_utils.credentials import Credentials, explain_error
from ansible_collections.improvmx.email.plugins.module_utils.runner import DOMAIN_OPTION, ImprovMXModule


class CredentialInfoModule(ImprovMXModule):
    domain_option = DOMAIN_OPTION
    explain_error = staticmethod(explain_error)

    def run(self):
        return dict(credentials=Credentials(self.client, self.domain).list())


def main():
    CredentialInfoModule.main()


if __name__ == '__main__':
    main()
