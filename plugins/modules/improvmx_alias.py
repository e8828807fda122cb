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
  - Alias names are case-insensitive (V(Sales) and V(sales) are the same alias); they are sent in lower case.
  - V(*) is the catch-all alias, which receives the mail of every address that has no alias of its own.
    ImprovMX creates it with each new domain; this module manages it like any other alias.
  - Destinations compare as a set of addresses without case, so listing them in another order
    is no change.
  - A run that changes nothing costs exactly one API request (a GET of the alias).
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
      - With O(id), the name the alias gets; a different name renames it.
    type: str
    required: true
    aliases: [name]
  forward:
    description:
      - The addresses the alias forwards to, as a list or as one comma-separated string.
      - Compared as a set (order and letter case do not matter) and sent as the comma-separated
        string the API expects. The account's plan limits how many destinations an alias may have.
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
    alias:
      description: The alias name (lower case); V(*) for the catch-all.
      type: str
      sample: sales
    forward:
      description: The destinations, comma-separated.
      type: str
      sample: alice@example.org,bob@example.org
    id:
      description: The numeric id of the alias.
      type: int
      sample: 11
    created:
      description: When the alias was created, in milliseconds since the epoch (when the API says).
      type: int
      sample: 1702982672000
api_retries:
  description: What the client had to retry or recover (rate limits, server errors), one line each.
  returned: when a request had to be retried
  type: list
  elements: str
  sample: ["GET domains/example.com: HTTP 429, retrying after 2.0 s"]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.improvmx.email.plugins.module_utils.aliases import (
    alias_name,
    forward_list,
    forward_string,
    same_forward,
)
from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError, ImprovMXNotFound, api_path
from ansible_collections.improvmx.email.plugins.module_utils.common import (
    checked,
    client_from_module,
    exit_module,
    fail_api,
    improvmx_argument_spec,
)
from ansible_collections.improvmx.email.plugins.module_utils.validation import domain_name


class AliasError(Exception):
    """A problem the module reports as is (not an API error)."""


class AliasManager(object):

    def __init__(self, module, client, domain):
        self.module = module
        self.client = client
        self.domain = domain

    def path(self, *segments, **kwargs):
        return api_path('domains', self.domain, 'aliases', *segments, **kwargs)

    def read(self, name):
        answer = self.client.get_or_none(self.path(name))
        return (answer or {}).get('alias') if answer else None

    def find(self, predicate, params=None):
        """The first alias of the list that matches (reads page by page, stops early)."""
        try:
            for item in self.client.paginate(self.path(collection=True), 'aliases', params=params):
                if isinstance(item, dict) and predicate(item):
                    return item
        except ImprovMXNotFound:
            raise AliasError('domain %s is not in the ImprovMX account; add it first with improvmx.email.improvmx_domain'
                             % self.domain)
        return None

    def find_caseless(self, name):
        return self.find(lambda item: str(item.get('alias', '')).lower() == name, params={'alias': name})

    def confirm_forward(self, name, forward, ident=None):
        """A confirm callable for client.write: the alias now has this name and destinations."""
        def confirm():
            now = self.read(name)
            if now and same_forward(now.get('forward'), forward) and (ident is None or now.get('id') == ident):
                return {'alias': now}
            return None
        return confirm

    def update(self, current, forward):
        """PUT the destinations of an existing alias (by its stored name); return (changed, after)."""
        if same_forward(current.get('forward'), forward):
            return False, current
        if self.module.check_mode:
            return True, dict(current, forward=forward_string(forward))
        stored = current['alias']
        answer = self.client.write('PUT', self.path(stored), {'forward': forward_string(forward)},
                                   confirm=self.confirm_forward(stored, forward))
        return True, answer.get('alias') or dict(current, forward=forward_string(forward))

    def create(self, name, forward):
        """POST a new alias; when it already exists (a concurrent run), converge it; return (changed, before, after)."""
        if self.module.check_mode:
            return True, None, {'alias': name, 'forward': forward_string(forward)}
        try:
            answer = self.client.write('POST', self.path(collection=True), {'alias': name, 'forward': forward_string(forward)},
                                       confirm=self.confirm_forward(name, forward))
            return True, None, answer.get('alias') or self.read(name)
        except ImprovMXNotFound:
            raise AliasError('domain %s is not in the ImprovMX account; add it first with improvmx.email.improvmx_domain'
                             % self.domain)
        except ImprovMXError as exc:
            if exc.status != 400 or 'exist' not in str(exc).lower():
                raise
            current = self.read(name) or self.find_caseless(name)
            if current is None:
                raise
            changed, after = self.update(current, forward)
            return changed, current, after

    def present(self, name, forward):
        current = self.read(name)
        if current is None:
            return self.create(name, forward)
        changed, after = self.update(current, forward)
        return changed, current, after

    def rename(self, ident, name, forward):
        """Give the alias with this id the name (and destinations); return (changed, before, after)."""
        current = self.read(name)
        if current is not None:
            if current.get('id') != ident:
                raise AliasError('cannot give alias id %d the name %r: alias %r (id %s) already has it'
                                 % (ident, name, current.get('alias'), current.get('id')))
            if forward is None:
                return False, current, current
            changed, after = self.update(current, forward)
            return changed, current, after
        current = self.find(lambda item: item.get('id') == ident)
        if current is None:
            raise AliasError('there is no alias with id %d in domain %s' % (ident, self.domain))
        wanted = forward if forward is not None else current.get('forward')
        after = dict(current, alias=name, forward=forward_string(wanted))
        if self.module.check_mode:
            return True, current, after
        payload = {'alias': name, 'forward': forward_string(wanted)}
        answer = self.client.write('PUT', self.path(str(ident)), payload,
                                   confirm=self.confirm_forward(name, wanted, ident=ident))
        return True, current, answer.get('alias') or after

    def absent(self, name):
        current = self.read(name)
        if current is None:
            return False, None, None
        if self.module.check_mode:
            return True, current, None
        stored = current['alias']
        if not self.client.remove(self.path(stored), confirm=lambda: {'success': True} if self.read(stored) is None else None):
            return False, None, None  # another run removed it meanwhile: absent all the same
        return True, current, None


def _view(obj):
    if not obj:
        return {}
    return {'alias': obj.get('alias'), 'forward': forward_string(obj.get('forward'))}


def main():
    module = AnsibleModule(
        argument_spec=improvmx_argument_spec(
            domain=dict(type='str', required=True),
            alias=dict(type='str', required=True, aliases=['name']),
            forward=dict(type='list', elements='str', aliases=['destinations']),
            id=dict(type='int'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        supports_check_mode=True,
    )
    domain = checked(module, 'domain', domain_name)
    name = checked(module, 'alias', alias_name)
    forward = checked(module, 'forward', forward_list)
    ident = module.params['id']
    state = module.params['state']
    if state == 'present' and forward is None and ident is None:
        module.fail_json(msg='forward is required with state=present: give the destination addresses of alias %r' % name)
    if state == 'absent' and ident is not None:
        module.fail_json(msg='id is only used with state=present (to rename an alias); remove an alias by its name')
    if ident is not None and ident <= 0:
        module.fail_json(msg='id must be a positive alias id, got %d' % ident)

    client = client_from_module(module)
    manager = AliasManager(module, client, domain)
    try:
        if state == 'absent':
            changed, before, after = manager.absent(name)
        elif ident is not None:
            changed, before, after = manager.rename(ident, name, forward)
        else:
            changed, before, after = manager.present(name, forward)
    except AliasError as exc:
        module.fail_json(msg=str(exc), changed=False)
    except ImprovMXError as exc:
        fail_api(module, client, exc, changed=False)
    exit_module(module, client, changed=changed, alias=after or {}, diff={'before': _view(before), 'after': _view(after)})


if __name__ == '__main__':
    main()
