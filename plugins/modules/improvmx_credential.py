#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: improvmx_credential
short_description: Add, update and remove SMTP credentials of an ImprovMX domain
version_added: 1.0.0
description:
  - Makes sure an SMTP credential (a user name and password to send e-mail through ImprovMX's
    SMTP servers as C(username@domain)) exists on a domain, or does not.
  - SMTP credentials are a premium ImprovMX feature. On an account without a premium plan the
    API answers HTTP 403 and the module fails saying so.
  - The API never returns a password, so the module cannot tell whether an existing credential
    already has the password you give. With O(update_password=on_create) (the default) an existing
    credential is left as it is; with O(update_password=always) its password is set on every run.
  - When the first SMTP credential of a domain is created, ImprovMX starts signing the domain's mail
    with DKIM and needs two new DKIM CNAME records in its DNS; until they exist the domain is marked
    invalid. The module then returns RV(requires_new_mx_check=true) and warns; use
    M(improvmx.email.improvmx_domain_check) to see the records.
author:
  - improvmx.email developers (@improvmx-email)
extends_documentation_fragment:
  - improvmx.email.improvmx
  - improvmx.email.attributes
attributes:
  check_mode:
    support: partial
    details:
      - Check mode reads the credentials of the domain and reports what would change, without writing.
      - It cannot tell whether the API would accept the password (the API checks it only when it is
        sent), so a password the API rejects fails only in a real run.
      - For a domain that is not in the account yet (for example one an earlier task would add),
        check mode predicts that the credential would be created.
  diff_mode:
    support: full
    details:
      - The diff shows the domain, the user name and, as V(password_set), whether the task sets
        (or would set) the password. The password itself is never shown.
  idempotent:
    description:
      - When run twice with the same options, the second run makes no change and reports none.
    support: partial
    details:
      - With O(update_password=on_create) (the default) the module is idempotent; a second run sends no
        write request. It does not notice a password changed outside Ansible, because the API
        cannot return passwords.
      - With O(update_password=always) the password is sent and the task reports a change on every run,
        since there is no way to compare it with the stored one.
options:
  domain:
    description:
      - The domain the credential belongs to, for example V(example.com). It must already be in the account.
      - It is lower-cased; an internationalised name is converted to its IDNA form.
    type: str
    required: true
  username:
    description:
      - The user name of the credential, the left part of the mailbox it sends as; V(bighead) for
        C(bighead@example.com).
      - Letters, digits, dots, hyphens, underscores and plus signs; it is lower-cased.
        A full address (with V(@)) or the catch-all V(*) is refused.
    type: str
    required: true
  password:
    description:
      - The password of the credential.
      - Required when the credential must be created, and with O(update_password=always).
        With O(update_password=on_create) it is not used for a credential that already exists.
      - It is never shown in the module's output, errors or diffs. The API decides which passwords it
        accepts; when it refuses one, the task fails with the API's explanation.
    type: str
  is_limited:
    description:
      - Whether the credential may only send as the domain's existing aliases (V(true)), or as any address of
        the domain (V(false)).
      - Left out, the flag is not managed (a new credential gets the API's default).
      - Compared with the credential list, so a rerun changes nothing. A new credential gets it in its create
        request; an existing one is changed with an update of the credential that sends only this flag.
      - When the API's credential list does not report the flag for an existing credential, the module cannot
        compare it, so it warns and leaves the flag as it is.
    type: bool
  update_password:
    description:
      - V(on_create) sets the password only when the credential is created; an existing credential is left
        as it is, so reruns change nothing.
      - V(always) sets the password on every run (the API cannot say whether it is already the same),
        and reports a change every time.
    type: str
    choices: [on_create, always]
    default: on_create
  state:
    description:
      - V(present) creates the credential if needed (and with O(update_password=always) sets its password).
      - V(absent) removes the credential. Removing one that does not exist, or whose domain does not exist,
        changes nothing.
    type: str
    choices: [present, absent]
    default: present
notes:
  - "If a create request is answered with a server error or the connection drops, the module reads the
    credential list again: when the user name is there, the credential was created and the task reports a
    change instead of failing. A password update cannot be confirmed that way (the password cannot be read
    back): the module sends the same request once more, which sets the same password; only when that answer
    is lost too does the task fail, and running it again is safe."
  - When another run removes the credential between this module's read and its delete, O(state=absent)
    reports no change instead of failing.
seealso:
  - module: improvmx.email.improvmx_credential_info
  - module: improvmx.email.improvmx_domain_check
  - module: improvmx.email.improvmx_domain
  - name: ImprovMX API reference
    description: The SMTP credentials endpoints.
    link: https://improvmx.com/api/#smtp-credentials
'''

EXAMPLES = r'''
- name: Create an SMTP credential (an existing one is left as it is)
  improvmx.email.improvmx_credential:
    domain: example.com
    username: newsletter
    password: "{{ newsletter_smtp_password }}"
    api_key: "{{ improvmx_api_key }}"
  register: smtp_credential

- name: Show the DNS records the first credential requires
  improvmx.email.improvmx_domain_check:
    domain: example.com
    api_key: "{{ improvmx_api_key }}"
  when: smtp_credential.requires_new_mx_check

- name: A credential that may only send as the domain's existing aliases
  improvmx.email.improvmx_credential:
    domain: example.com
    username: billing
    password: "{{ billing_smtp_password }}"
    is_limited: true
    api_key: "{{ improvmx_api_key }}"

- name: Set the password on every run (for example when rotating it)
  improvmx.email.improvmx_credential:
    domain: example.com
    username: newsletter
    password: "{{ newsletter_smtp_password }}"
    update_password: always
    api_key: "{{ improvmx_api_key }}"

- name: Remove an SMTP credential
  improvmx.email.improvmx_credential:
    domain: example.com
    username: newsletter
    state: absent
    api_key: "{{ improvmx_api_key }}"
'''

RETURN = r'''
credential:
  description:
    - The credential after the task, as the API describes it; V({}) when it is absent.
    - Never contains the password.
    - In check mode, when the credential would be created, only its RV(credential.username).
  returned: always
  type: dict
  contains:
    # BEGIN generated by scripts/field_docs.py from the table in plugins/module_utils/credential_sets.py (credential object)
    username:
      description:
        - The user name, the left part of the mailbox.
      type: str
      sample: newsletter
    usage:
      description:
        - How many e-mails were sent with the credential.
      type: int
      sample: 0
    created:
      description:
        - When the credential was created, in milliseconds since the epoch.
      type: int
      sample: 1588236952000
    is_limited:
      description:
        - Whether the credential may only send as the domain's existing aliases (when the API says).
      type: bool
      sample: false
    # END generated (credential object)
requires_new_mx_check:
  description:
    - V(true) when the task created (in check mode, would create) the domain's first SMTP credential.
      The domain then needs two new DKIM CNAME records in its DNS, and the module warns;
      M(improvmx.email.improvmx_domain_check) lists them.
    - V(false) otherwise.
  returned: always
  type: bool
  sample: false
api_retries:
  description: What the client had to retry or recover (rate limits, server errors), one line each.
  returned: when a request had to be retried
  type: list
  elements: str
  sample: ["GET domains/example.com: HTTP 429, retrying after 2.0 s"]
'''

from ansible_collections.improvmx.email.plugins.module_utils.credential_sets import credential_options
from ansible_collections.improvmx.email.plugins.module_utils.credentials import (
    Credentials,
    CredentialTask,
    check_password,
    credential_view,
    dkim_warning,
    explain_error,
    limited_flag,
    public_credential,
)
from ansible_collections.improvmx.email.plugins.module_utils.runner import DOMAIN_OPTION, ImprovMXModule
from ansible_collections.improvmx.email.plugins.module_utils.validation import mailbox_name


class CredentialModule(ImprovMXModule):
    domain_option = DOMAIN_OPTION
    # username, password, is_limited: the credential's field table (credential_sets.CREDENTIAL_OBJECT)
    options = credential_options(state=dict(type='str', default='present', choices=['present', 'absent']))
    explain_error = staticmethod(explain_error)

    def check(self):
        self.username = self.option('username', mailbox_name)
        self.password = self.option('password', check_password)
        if self.params['state'] == 'present' and self.params['update_password'] == 'always' and self.password is None:
            self.fail('password is required with update_password=always (SMTP credential %s@%s)' % (self.username, self.domain))

    def run(self):
        task = CredentialTask(Credentials(self.client, self.domain), self.username, password=self.password,
                              update_password=self.params['update_password'], is_limited=self.params['is_limited'],
                              check_mode=self.check_mode)
        present = self.params['state'] == 'present'
        changed, before, after, password_set, requires_check = task.present() if present else task.absent()
        for warning in task.warnings:
            self.warn(warning)
        if requires_check:
            self.warn(dkim_warning(self.domain, self.username, check_mode=self.check_mode))
        return dict(changed=changed, credential=public_credential(after), requires_new_mx_check=requires_check,
                    diff={'before': self.view(before, False), 'after': self.view(after, password_set)})

    def view(self, credential, password_set):
        view = credential_view(self.domain, credential, password_set)
        if view and self.params['is_limited'] is not None and self.params['state'] == 'present':
            view['is_limited'] = limited_flag(credential)[1]
        return view


def main():
    CredentialModule.main()


if __name__ == '__main__':
    main()
