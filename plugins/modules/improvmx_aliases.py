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
  - Plain alias names are case-insensitive and sent in lower case. V(*) is the catch-all alias and is
    handled like any other alias.
  - An alias name that holds a regular expression operator (C(^), C($), C(*), C(?), C(|), a bracket, a brace, a parenthesis or a backslash), such as
    V((contact|support\)) or V(^invoice-.*$), is a regular expression alias, kept exactly as written (never
    lower-cased, compared exactly), at most 150 characters. Regex aliases are compared, added, updated and
    purged like plain ones.
  - A destination is an e-mail address, an C(http://) or C(https://) webhook URL, or the word V(null), mixed
    freely. V(null) makes ImprovMX accept the mail and deliver it nowhere (discard it). Destinations compare as
    a set (addresses without case, URLs exactly as written, V(null) as itself), so listing them in another order
    is no change.
  - A numeric alias name that is also the id of another alias of the domain is deleted through its own id
    (after a read that checks the id addresses it), never through a path that could name the other alias.
  - A run that changes aliases also reads the domain, and warns when the domain routes mail by rules
    (its C(routing_engine) is V(rules)), because the aliases of such a domain do not route mail. With
    O(known_routing_engine) (the routing engine the playbook already knows), that read is not made.
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
      - In check mode, a domain that is not in the account yet (one that an earlier task of the same run
        would add) is predicted from an empty alias set instead of failing.
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
          - A regular expression, such as V(^invoice-.*$), makes a regex alias (kept as written).
          - Plain names are case-insensitive; a name listed twice fails the task.
        type: str
        required: true
        aliases: [name]
      forward:
        description:
          - The destinations the alias forwards to, as a list or as one comma-separated string, of
            e-mail addresses and C(http://) or C(https://) webhook URLs, mixed freely, or V(null) to discard
            the mail.
          - A destination that is none of these fails the task, naming it, before any request.
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
      - With an empty O(aliases), the task fails instead of deleting every alias of the domain, unless
        O(allow_empty_purge=true). This guards against a variable that templates to an empty list by mistake.
    type: bool
    default: false
  allow_empty_purge:
    description:
      - Allow O(purge=true) with an empty O(aliases), which deletes every alias of the domain, the
        catch-all V(*) included.
      - Without it, that combination fails the task before any request.
    type: bool
    default: false
  known_routing_engine:
    description:
      - The domain's routing engine, when the playbook already knows it (for example from
        M(improvmx.email.improvmx_domain)'s RV(improvmx.email.improvmx_domain#module:domain.routing_engine),
        where an empty value means V(alias)). A run that changes aliases then warns from this value
        instead of reading the domain (one request less).
      - Only tells the module what the domain's routing engine is; it never changes it (see
        M(improvmx.email.improvmx_domain)'s O(improvmx.email.improvmx_domain#module:routing_engine)).
      - Left out, a run that changes aliases reads the domain to know.
    type: str
    choices: [alias, rules]
    version_added: 1.2.0
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
      - alias: orders
        forward: [orders@example.org, "https://hooks.example.org/improvmx/orders"]
      - alias: "(contact|info)"
        forward: frontdesk@example.org
      - alias: noreply
        forward: "null"  # accept the mail and discard it
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

from ansible_collections.improvmx.email.plugins.module_utils.alias_sets import alias_options
from ansible_collections.improvmx.email.plugins.module_utils.aliases import Aliases, AliasSync, diff_view, parse_desired
from ansible_collections.improvmx.email.plugins.module_utils.domains import Domains, rules_routing_warning
from ansible_collections.improvmx.email.plugins.module_utils.runner import DOMAIN_OPTION, SyncModule, TaskError


class AliasesModule(SyncModule):
    domain_option = DOMAIN_OPTION
    options = dict(
        # alias, forward: the alias's field table (alias_sets.ALIAS_OBJECT)
        aliases=dict(type='list', elements='dict', required=True, options=alias_options(forward_required=True)),
        known_routing_engine=dict(type='str', choices=['alias', 'rules']),
    )

    def check(self):
        try:
            self.desired, self.order = parse_desired(self.params['aliases'])
        except ValueError as exc:
            self.fail('aliases: %s' % exc)
        self.refuse_empty_purge(self.desired, 'aliases is empty and purge is true, which would delete every alias of '
                                'domain %s, the catch-all included; if that is what you want, set allow_empty_purge: '
                                'true as well' % self.domain)

    def run(self):
        self.sync = sync = AliasSync(Aliases(self.client, self.domain))
        sync.run(self.desired, self.order, purge=self.params['purge'], check_mode=self.check_mode)
        if sync.applied:
            known = self.params['known_routing_engine']
            if known:
                warning = rules_routing_warning(None, self.domain, domain={'routing_engine': known})
            else:
                warning = rules_routing_warning(Domains(self.client), self.domain)
            if warning:
                self.warn(warning)
        result = dict(sync.result(), diff={
            'before': {'domain': self.domain, 'aliases': diff_view(sync.current)},
            'after': {'domain': self.domain, 'aliases': diff_view(sync.final)},
        })
        if sync.failed:
            names = ', '.join('%r (%s)' % (entry['alias'], entry['error']) for entry in sync.failed)
            msg = 'the API refused %d of the aliases sent: %s' % (len(sync.failed), names)
            if self.changed:
                msg += '; every other change was applied'
            raise TaskError(msg, failed_aliases=sync.failed, **result)
        return result


def main():
    AliasesModule.main()


if __name__ == '__main__':
    main()
