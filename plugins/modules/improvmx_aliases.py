#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: improvmx_aliases
short_description: Manage the whole set of e-mail aliases of an ImprovMX domain at once
version_added: 1.0.0
description:
  - Makes the aliases of a domain match a list, in as few API requests as the API allows.
  - Reads the domain's aliases page by page (100 a page, however many there are), compares them with
    O(aliases), then sends every new and every changed alias through the API's bulk endpoint
    (up to 500 aliases a request; behavior V(add) for new ones, V(update) for changed ones),
    and, with O(purge=true), deletes the aliases that are not listed, one request each (the API has
    no bulk delete).
  - The cost is one read per 100 aliases the domain has, plus one request per 500 new or changed
    aliases, plus one per deleted alias (and one read of the account, see below); a run that
    changes nothing only reads the list.
  - Alias names are case-insensitive and sent in lower case. V(*) is the catch-all alias and is
    handled like any other alias.
  - Destinations compare as a set of addresses without case, so listing them in another order
    is no change.
  - Every input is checked before the first request; duplicate alias names, invalid addresses and
    empty destinations fail the task without changing anything.
  - Before sending an alias with more than one destination, the module reads the account's
    C(limits.destinations) (one request, see M(improvmx.email.improvmx_account_info)); an alias with
    more destinations than the account allows fails the task without changing anything. When the
    account does not say, the API decides.
  - When the API refuses some entries of a bulk request (they come back under C(failed)), the module
    still applies everything else, then fails the task naming each refused alias and the API's reason.
  - An alias that another run added between this module's read and its bulk request (refused as
    already existing) is not a failure; the module reads it and updates it when its destinations differ.
author:
  - improvmx.email developers (@improvmx-email)
extends_documentation_fragment:
  - improvmx.email.improvmx
  - improvmx.email.attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the current aliases, reports RV(added), RV(updated) and RV(removed) and sends no write.
  diff_mode:
    support: full
    details:
      - The diff shows the domain's whole alias set, one line per alias with its destinations, before and after.
options:
  domain:
    description:
      - The domain whose aliases are managed, for example V(example.com). It must already be in the
        account (see M(improvmx.email.improvmx_domain)).
    type: str
    required: true
  aliases:
    description:
      - The aliases the domain must have.
      - Aliases of the domain that are not listed are left alone, unless O(purge=true).
    type: list
    elements: dict
    required: true
    suboptions:
      alias:
        description:
          - The part before the C(@), for example V(sales). V(*) is the catch-all alias.
          - Names are case-insensitive; a name listed twice fails the task.
        type: str
        required: true
        aliases: [name]
      forward:
        description:
          - The addresses the alias forwards to, as a list or as one comma-separated string.
          - Compared as a set and sent as the comma-separated string the API expects.
        type: list
        elements: str
        required: true
        aliases: [destinations]
  purge:
    description:
      - When V(true), aliases of the domain that are not in O(aliases) are deleted.
      - B(This includes the catch-all alias V(*)) that ImprovMX creates with every domain. List
        V(*) in O(aliases) to keep it, or mail to any other address of the domain is refused.
      - When V(false), aliases that are not listed are left as they are.
    type: bool
    default: false
notes:
  - The API limits each account to about 150 reads and 60 writes a minute. Because the module sends
    new and changed aliases 500 at a time, even thousands of aliases stay far below that; removing
    many aliases with O(purge=true) takes one request per alias and may wait for the rate limit.
seealso:
  - module: improvmx.email.improvmx_alias
  - module: improvmx.email.improvmx_alias_info
  - module: improvmx.email.improvmx_domain
  - name: ImprovMX API reference
    description: The aliases endpoints, including the bulk endpoint.
    link: https://improvmx.com/api/#aliases
'''

EXAMPLES = r'''
- name: Make sure these aliases exist (other aliases of the domain are kept)
  improvmx.email.improvmx_aliases:
    domain: example.com
    aliases:
      - alias: sales
        forward: [alice@example.org, bob@example.org]
      - alias: support
        forward: helpdesk@example.org
    api_key: "{{ improvmx_api_key }}"

- name: Make the domain have exactly these aliases, catch-all included
  improvmx.email.improvmx_aliases:
    domain: example.com
    aliases:
      - alias: "*"
        forward: postmaster@example.org
      - alias: sales
        forward: alice@example.org,bob@example.org
      - alias: support
        forward: helpdesk@example.org
    purge: true
    api_key: "{{ improvmx_api_key }}"

- name: One alias per team member, built from a dict of name -> destinations
  improvmx.email.improvmx_aliases:
    domain: example.com
    aliases: "{{ team | dict2items(key_name='alias', value_name='forward') }}"
    api_key: "{{ improvmx_api_key }}"
  vars:
    team:
      alice: alice@example.org
      bob: [bob@example.org, bob.backup@example.org]

- name: Preview what purging would delete, without changing anything
  improvmx.email.improvmx_aliases:
    domain: example.com
    aliases:
      - alias: sales
        forward: alice@example.org
    purge: true
    api_key: "{{ improvmx_api_key }}"
  check_mode: true
  register: preview

- name: Show the aliases a purge would delete
  ansible.builtin.debug:
    var: preview.removed
'''

RETURN = r'''
aliases:
  description:
    - The domain's aliases after the task, sorted by name.
    - In check mode, the predicted set (aliases that would be created have no RV(aliases[].id)).
  returned: success, and on failure once the aliases were read
  type: list
  elements: dict
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
      sample: 12345
    created:
      description: When the alias was created, in milliseconds since the epoch (when the API says).
      type: int
      sample: 1702982672000
  sample:
    - {"alias": "*", "forward": "postmaster@example.org", "id": 1, "created": 1702982672000}
    - {"alias": "sales", "forward": "alice@example.org,bob@example.org", "id": 2}
added:
  description: Names of the aliases that were (in check mode, would be) created.
  returned: always
  type: list
  elements: str
  sample: [sales, support]
updated:
  description: Names of the aliases whose destinations were (in check mode, would be) changed.
  returned: always
  type: list
  elements: str
  sample: ["*"]
removed:
  description: Names of the aliases that were (in check mode, would be) deleted; only with O(purge=true).
  returned: always
  type: list
  elements: str
  sample: [old-team]
failed_aliases:
  description:
    - The entries the API refused in a bulk request, with its reason. The task fails when there is any,
      after the other changes were applied.
  returned: when the API refused entries of a bulk request
  type: list
  elements: dict
  contains:
    alias:
      description: The alias name sent.
      type: str
      sample: sales
    forward:
      description: The destinations sent.
      type: str
      sample: alice@example.org
    error:
      description: Why the API refused it, when it says.
      type: str
      sample: This alias already exists.
api_retries:
  description: What the client had to retry or recover (rate limits, server errors), one line each.
  returned: when a request had to be retried
  type: list
  elements: str
  sample: ["GET domains/example.com: HTTP 429, retrying after 2.0 s"]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.improvmx.email.plugins.module_utils.aliases import (
    bulk_batches,
    bulk_body,
    diff_view,
    forward_string,
    index_current,
    over_destinations_limit,
    parse_desired,
    plan_changes,
    read_destinations_limit,
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

REASON_KEYS = ('error', 'errors', 'reason', 'message')


class AliasError(Exception):
    """A problem the module reports as is (not an API error)."""


class AliasSync(object):
    """Converge the alias set of one domain; remembers what it applied, for honest reporting on failure."""

    def __init__(self, client, domain):
        self.client = client
        self.domain = domain
        self.current = None
        self.final = None
        self.added = []
        self.updated = []
        self.removed = []
        self.failed = []

    def path(self, *segments, **kwargs):
        return api_path('domains', self.domain, 'aliases', *segments, **kwargs)

    @property
    def applied(self):
        return bool(self.added or self.updated or self.removed)

    def read_all(self):
        try:
            return index_current(self.client.paginate(self.path(collection=True), 'aliases'))
        except ImprovMXNotFound:
            raise AliasError('domain %s is not in the ImprovMX account; add it first with improvmx.email.improvmx_domain'
                             % self.domain)

    def read_one(self, name):
        answer = self.client.get_or_none(self.path(name))
        return (answer or {}).get('alias') if answer else None

    def load(self):
        self.current = self.read_all()
        self.final = dict(self.current)

    def predict(self, changes):
        for name, forward in changes.added:
            self.final[name] = {'alias': name, 'forward': forward_string(forward)}
        for name, forward in changes.updated:
            self.final[name] = dict(self.current[name], forward=forward_string(forward))
        for name in changes.removed:
            self.final.pop(name, None)
        self.added = [name for name, _forward in changes.added]
        self.updated = [name for name, _forward in changes.updated]
        self.removed = list(changes.removed)

    def apply(self, changes):
        for behavior, chunk in bulk_batches(changes):
            self.bulk(behavior, chunk)
        for name in changes.removed:
            self.delete(name)

    def bulk(self, behavior, chunk):
        answer = self.client.write('POST', self.path('bulk'), bulk_body(behavior, chunk), confirm=lambda: self.confirm_bulk(behavior, chunk)) or {}
        pending = dict(chunk)
        for key in ('added', 'updated'):
            for obj in answer.get(key) or []:
                if not isinstance(obj, dict):
                    continue
                name = str(obj.get('alias', '')).lower()
                if name not in pending:
                    continue
                self.record(name, obj)
                del pending[name]
        taken = []
        for obj in answer.get('failed') or []:
            if not isinstance(obj, dict):
                obj = {'alias': None, 'error': str(obj)}
            name = str(obj.get('alias') or '').lower()
            if behavior == 'add' and name in pending and 'exist' in str(obj.get('error') or '').lower():
                taken.append((name, pending.pop(name), obj))
                continue
            self.failed.append(_failure(obj, pending.get(name)))
            pending.pop(name, None)
        if taken:
            self.converge_taken(taken)
        # Entries the answer does not mention: look at what the API now holds.
        for name, forward in pending.items():
            now = self.read_one(name)
            if now and same_forward(now.get('forward'), forward):
                self.record(name, now)
            else:
                self.failed.append({'alias': name, 'forward': forward_string(forward),
                                    'error': 'the bulk answer does not mention this alias and it was not applied'})

    def converge_taken(self, taken):
        """Aliases another run added between our read and our bulk add: converge them, do not fail."""
        now = self.read_all()
        stale = []
        for name, forward, refusal in taken:
            obj = now.get(name)
            if obj is None:  # gone again: report the API's refusal as it is
                self.failed.append(_failure(refusal, forward))
                continue
            self.current[name] = obj
            if same_forward(obj.get('forward'), forward):
                self.final[name] = obj  # as wanted already: not a change of this run
            else:
                stale.append((name, forward))
        if stale:
            self.bulk('update', stale)

    def confirm_bulk(self, behavior, chunk):
        """After a bulk request with no clear answer: which of its entries are in place now.

        An entry of a bulk add that now exists with other destinations was added by another run
        meanwhile: it comes back as refused for existing, which bulk() converges.
        """
        now = self.read_all()
        applied, taken, missing = [], [], []
        for name, forward in chunk:
            obj = now.get(name)
            if obj and same_forward(obj.get('forward'), forward):
                applied.append(obj)
            elif obj and behavior == 'add':
                taken.append(dict(obj, error='already exists: another run added it meanwhile'))
            else:
                missing.append({'alias': name, 'forward': forward_string(forward),
                                'error': 'not applied: the bulk request got no clear answer from the API'})
        if not applied and not taken:
            return None
        return {'added': applied, 'updated': [], 'failed': taken + missing}

    def record(self, name, obj):
        if name in self.current:
            self.final[name] = dict(self.current[name], **obj)
            self.updated.append(name)
        else:
            self.final[name] = obj
            self.added.append(name)

    def delete(self, name):
        stored = self.current[name].get('alias', name)

        def confirm():
            return {'success': True} if self.read_one(stored) is None else None

        # False when someone else deleted it meanwhile: the set is as wanted all the same.
        if self.client.remove(self.path(stored), confirm=confirm):
            self.removed.append(name)
        self.final.pop(name, None)

    def result(self):
        return dict(
            aliases=[self.final[name] for name in sorted(self.final)],
            added=list(self.added),
            updated=list(self.updated),
            removed=list(self.removed),
        )


def _failure(obj, sent_forward):
    entry = {'alias': obj.get('alias'), 'forward': obj.get('forward')}
    if entry['forward'] is None and sent_forward is not None:
        entry['forward'] = forward_string(sent_forward)
    for key in REASON_KEYS:
        if obj.get(key):
            entry['error'] = obj[key] if isinstance(obj[key], str) else str(obj[key])
            break
    else:
        entry['error'] = 'the API gave no reason'
    return entry


def main():
    module = AnsibleModule(
        argument_spec=improvmx_argument_spec(
            domain=dict(type='str', required=True),
            aliases=dict(type='list', elements='dict', required=True, options=dict(
                alias=dict(type='str', required=True, aliases=['name']),
                forward=dict(type='list', elements='str', required=True, aliases=['destinations']),
            )),
            purge=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    domain = checked(module, 'domain', domain_name)
    try:
        desired, order = parse_desired(module.params['aliases'])
    except ValueError as exc:
        module.fail_json(msg='aliases: %s' % exc)

    client = client_from_module(module)
    sync = AliasSync(client, domain)
    try:
        sync.load()
        changes = plan_changes(dict((name, obj.get('forward')) for name, obj in sync.current.items()),
                               desired, purge=module.params['purge'], order=order)
        writes = list(changes.added) + list(changes.updated)
        if any(len(forward) > 1 for _name, forward in writes):
            problems = over_destinations_limit(writes, read_destinations_limit(client))
            if problems:
                raise AliasError('aliases: %s; nothing was changed' % '; '.join(problems))
        if module.check_mode:
            sync.predict(changes)
        else:
            sync.apply(changes)
    except AliasError as exc:
        module.fail_json(msg=str(exc), changed=sync.applied)
    except ImprovMXError as exc:
        extra = sync.result() if sync.current is not None else {}
        fail_api(module, client, exc, changed=sync.applied, **extra)

    result = sync.result()
    changed = sync.applied
    if module._diff:
        result['diff'] = {
            'before': {'domain': domain, 'aliases': diff_view(sync.current)},
            'after': {'domain': domain, 'aliases': diff_view(sync.final)},
        }
    if sync.failed:
        names = ', '.join('%r (%s)' % (entry.get('alias'), entry.get('error')) for entry in sync.failed)
        msg = 'the API refused %d of the aliases sent: %s' % (len(sync.failed), names)
        if changed:
            msg += '; every other change was applied'
        if client.retry_events:
            result['api_retries'] = list(client.retry_events)
        module.fail_json(msg=msg, changed=changed, failed_aliases=sync.failed, **result)
    exit_module(module, client, changed=changed, **result)


if __name__ == '__main__':
    main()
