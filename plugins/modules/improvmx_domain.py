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
      description: The DKIM selector of the domain.
      type: str
      sample: dkimprovmx
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError, api_path
from ansible_collections.improvmx.email.plugins.module_utils.common import (
    checked,
    client_from_module,
    exit_module,
    fail_api,
    improvmx_argument_spec,
)
from ansible_collections.improvmx.email.plugins.module_utils.validation import domain_name, email_address, http_url

FIELDS = ('notification_email', 'webhook', 'whitelabel')
CREATE_FIELDS = ('notification_email', 'whitelabel')  # what POST /domains/ accepts
CASELESS = ('notification_email', 'whitelabel')


def _clearable(check):
    """A check that lets '' through: an empty string clears the field."""
    def run(value):
        return '' if value.strip() == '' else check(value)
    return run


def _same(field, current, wanted):
    """Compare a stored field with the wanted one; None and '' both mean unset.

    E-mail addresses and domain names compare without case; a webhook URL with it.
    """
    current, wanted = current or '', wanted or ''
    if field in CASELESS:
        return current.lower() == wanted.lower()
    return current == wanted


def _view(obj, name, fields):
    view = {'domain': name}
    for field in fields:
        view[field] = (obj or {}).get(field)
    return view


def _read(client, name):
    answer = client.get_or_none(api_path('domains', name))
    return (answer or {}).get('domain') if answer else None


def _ensure_present(module, client, name, wanted):
    current = _read(client, name)
    created = False
    if current is None:
        created = True
        if module.check_mode:
            return True, None, dict(wanted, domain=name)
        payload = {'domain': name}
        payload.update((k, v) for k, v in wanted.items() if k in CREATE_FIELDS and v)
        try:
            answer = client.write('POST', api_path('domains', collection=True), payload,
                                  confirm=lambda: client.get_or_none(api_path('domains', name)))
            current = answer['domain']
        except ImprovMXError as exc:
            # Another run added it first: converge on what is there now.
            if exc.status != 400 or 'already' not in str(exc).lower():
                raise
            current = _read(client, name)
            if current is None:
                raise
            created = False
    changes = dict((k, v) for k, v in wanted.items() if not _same(k, current.get(k), v))
    if not changes:
        return created, current, current
    if module.check_mode:
        return True, current, dict(current, **changes)

    def confirm():
        now = _read(client, name)
        if now and all(_same(k, now.get(k), v) for k, v in changes.items()):
            return {'domain': now}
        return None

    before = None if created else current
    answer = client.write('PUT', api_path('domains', name), changes, confirm=confirm)
    return True, before, answer['domain']


def main():
    module = AnsibleModule(
        argument_spec=improvmx_argument_spec(
            domain=dict(type='str', required=True, aliases=['name']),
            notification_email=dict(type='str'),
            webhook=dict(type='str'),
            whitelabel=dict(type='str'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        supports_check_mode=True,
    )
    name = checked(module, 'domain', domain_name)
    wanted = {}
    for field, check in (('notification_email', email_address), ('webhook', http_url), ('whitelabel', domain_name)):
        value = checked(module, field, _clearable(check))
        if value is not None:
            wanted[field] = value
    managed = [f for f in FIELDS if f in wanted]
    client = client_from_module(module)
    try:
        if module.params['state'] == 'present':
            changed, before, after = _ensure_present(module, client, name, wanted)
        else:
            before = _read(client, name)
            after = None
            changed = before is not None
            if changed and not module.check_mode:
                changed = client.remove(api_path('domains', name),
                                        confirm=lambda: {'success': True} if _read(client, name) is None else None)
                if not changed:
                    before = None  # another run removed it meanwhile: absent all the same
    except ImprovMXError as exc:
        fail_api(module, client, exc, changed=False)
    diff = {
        'before': _view(before, name, managed) if before is not None else {},
        'after': _view(after, name, managed) if after is not None else {},
    }
    exit_module(module, client, changed=changed, domain=after or {}, diff=diff)


if __name__ == '__main__':
    main()
