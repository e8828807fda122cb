#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: improvmx_domains
short_description: Manage the domains of an ImprovMX account, with their aliases, as one declaration
version_added: 1.1.0
description:
  - Makes the domains of the ImprovMX account match a list. Each entry takes the options of
    M(improvmx.email.improvmx_domain) (O(domains[].notification_email), O(domains[].webhook),
    O(domains[].whitelabel)) and the domain's aliases as M(improvmx.email.improvmx_aliases) takes them.
  - Reads the whole account through the domain list, 100 domains a page with their aliases embedded,
    so a run over 500 domains that changes nothing sends 5 requests. The API embeds at most 200
    aliases in each domain; the alias list of a domain is read page by page only when its aliases are
    managed and it embeds 200 (or its embedded list is missing).
  - Then it sends only the writes that differ, through the same resources as the single modules,
    a C(POST /domains/) for a new domain (a C(PUT) follows only for a field the C(POST) cannot set,
    such as O(domains[].webhook)), a C(PUT) for the fields that differ on an existing domain, one
    bulk request per 500 new or changed aliases of a domain, a C(DELETE) per alias removed with
    O(domains[].purge_aliases=true), and with O(purge=true) a C(DELETE) per domain of the account that
    is not listed.
  - Every input is checked before the first request; a domain listed twice, an invalid domain
    name, field value or alias fails the task without changing anything.
  - ImprovMX gives every new domain a catch-all alias C(*) forwarding to the account's e-mail. It is
    kept unless the entry lists C(*) (then it is set to the destinations given) or sets
    O(domains[].purge_aliases=true) without listing it (then it is deleted).
  - To adopt an account that already exists, export it with M(improvmx.email.improvmx_domain_info)
    (RV(improvmx.email.improvmx_domain_info#module:export) is this module's O(domains) for the account as it is),
    keep the export in a vars file, and converge with it; see C(playbooks/export_account.yml).
author:
  - improvmx.email developers (@improvmx-email)
extends_documentation_fragment:
  - improvmx.email.improvmx
  - improvmx.email.attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the account, reports what would change and sends no write. A domain that would be
        added is compared with no aliases (the catch-all ImprovMX would give it is not predicted).
  diff_mode:
    support: full
    details:
      - The diff shows, for each domain that changes (and only those), its managed fields and its alias set
        before and after; a domain that is added has an empty before. What is removed is named in the
        after side's C(removed) list (C(domain <name>, with its aliases) for a removed domain, C(alias <name>)
        for each alias a purge deletes), so the diff says it is removed rather than only leaving it out.
options:
  domains:
    description:
      - The domains the account must have.
      - Domains of the account that are not listed are left alone, unless O(purge=true).
    type: list
    elements: dict
    required: true
    suboptions:
      domain:
        description:
          - The domain name, for example V(example.com); lower-cased, and an internationalised name is
            converted to its IDNA form. A domain listed twice fails the task.
        type: str
        required: true
        aliases: [name]
      notification_email:
        description:
          - Where ImprovMX sends notifications about this domain. V('') clears it; left out, it is not managed.
        type: str
      webhook:
        description:
          - An V(http://) or V(https://) URL that receives the domain's e-mail events. V('') clears it; left out,
            it is not managed.
        type: str
      whitelabel:
        description:
          - The parent domain shown in the DNS settings instead of ImprovMX's. V('') clears it; left out, it is not
            managed.
        type: str
      routing_engine:
        description:
          - How the domain routes its mail - V(alias) by its aliases, V(rules) by its routing rules, as
            O(improvmx.email.improvmx_domain#module:routing_engine) takes it (sent with a C(PUT), also right after
            adding a new domain). Left out, it is not managed.
        type: str
        choices: [alias, rules]
      aliases:
        description:
          - The aliases the domain must have, as O(improvmx.email.improvmx_aliases#module:aliases) takes them.
          - Left out (and O(domains[].purge_aliases=false)), the domain's aliases are not managed and not read.
        type: list
        elements: dict
        suboptions:
          alias:
            description:
              - The part before the C(@), for example V(sales); V(*) is the catch-all. Names are case-insensitive.
            type: str
            required: true
            aliases: [name]
          forward:
            description:
              - The destinations the alias forwards to, as a list or as one comma-separated string - e-mail
                addresses, C(http://) or C(https://) webhook URLs, or V(null) to accept the mail and discard it.
              - Compared as a set (addresses without case, URLs exactly, V(null) as itself).
            type: list
            elements: str
            required: true
            aliases: [destinations]
      purge_aliases:
        description:
          - When V(true), the aliases of this domain that are not in O(domains[].aliases) are deleted,
            B(the catch-all V(*) included) unless it is listed.
          - With an empty O(domains[].aliases) this would delete every alias of the domain; that is refused
            unless O(allow_empty_purge=true).
        type: bool
        default: false
      credentials:
        description:
          - The SMTP credentials the domain must have (a premium plan feature), as
            M(improvmx.email.improvmx_credential) takes them.
          - Left out (and O(domains[].purge_credentials=false)), the domain's credentials are not managed and not
            read; given, they are read once per domain (one request).
          - A credential that does not exist is created, which needs its O(domains[].credentials[].password); one
            that exists keeps its password unless O(domains[].credentials[].update_password=always). A credential
            to create without a password fails the task before any write (in check mode, a warning says the run
            would fail).
        type: list
        elements: dict
        version_added: 1.1.0
        suboptions:
          username:
            description: The user name, the part before the C(@) (compared without case).
            type: str
            required: true
            aliases: [name]
          password:
            description:
              - The password; never shown in output, also not at C(-vvv).
              - Needed to create the credential, and with O(domains[].credentials[].update_password=always).
            type: str
          update_password:
            description:
              - V(on_create) sets the password only when the credential is created; V(always) sets it on every
                run (the API cannot tell whether it differs, so that is a change each time).
            type: str
            choices: [on_create, always]
            default: on_create
          is_limited:
            description:
              - Whether the credential may send only as the domain's aliases. Left out, it is not managed.
            type: bool
      purge_credentials:
        description:
          - When V(true), the SMTP credentials of this domain that are not in O(domains[].credentials) are deleted.
        type: bool
        default: false
        version_added: 1.1.0
  purge:
    description:
      - When V(true), the domains of the account that are not in O(domains) are deleted, with their aliases,
        SMTP credentials and logs. Each one is reported in RV(removed) and RV(changes).
      - With an empty O(domains) this would delete every domain of the account; that is refused unless
        O(allow_empty_purge=true).
    type: bool
    default: false
  allow_empty_purge:
    description:
      - Allow O(purge=true) with an empty O(domains), and O(domains[].purge_aliases=true) with an empty
        O(domains[].aliases). Say V(true) only when deleting everything is what you mean.
    type: bool
    default: false
notes:
  - The API limits each account to about 150 reads and 60 of each kind of write a minute. A run that adds
    500 domains with a few aliases each sends about 1,000 C(POST) requests, at least 17 minutes on the real
    API; the client spaces its requests on the API's C(X-RateLimit-*) headers instead of meeting C(429)
    answers. A rerun reads one page per 100 domains.
  - A domain whose C(routing_engine) is V(rules) does not route mail by its aliases; when its aliases change, the
    module warns (from the domain list, without another request).
  - When another run adds a listed domain at the same time, the module converges the domain that is there;
    when another run removes a domain it purges, it reports no change for it. Aliases follow the rules of
    M(improvmx.email.improvmx_aliases).
seealso:
  - module: improvmx.email.improvmx_domain
  - module: improvmx.email.improvmx_aliases
  - module: improvmx.email.improvmx_domain_info
  - name: ImprovMX API reference
    description: The domains and aliases endpoints.
    link: https://improvmx.com/api/#domains
'''

EXAMPLES = r'''
- name: Two domains with their aliases (other domains of the account are left alone)
  improvmx.email.improvmx_domains:
    domains:
      - domain: example.com
        notification_email: postmaster@example.org
        aliases:
          - alias: sales
            forward: [alice@example.org, bob@example.org]
          - alias: support
            forward: helpdesk@example.org
      - domain: example.net
        webhook: https://hooks.example.org/improvmx
        purge_aliases: true
        aliases:
          - alias: "*"
            forward: owner@example.org
    api_key: "{{ improvmx_api_key }}"

- name: Preview which domains a purge would delete, without changing anything
  improvmx.email.improvmx_domains:
    domains:
      - domain: example.com
      - domain: example.net
    purge: true
    api_key: "{{ improvmx_api_key }}"
  check_mode: true
  register: preview

- name: Show them
  ansible.builtin.debug:
    msg: "A purge would delete {{ preview.removed | join(', ') or 'nothing' }}"

- name: The account is exactly these domains (the others are deleted)
  improvmx.email.improvmx_domains:
    domains:
      - domain: example.com
      - domain: example.net
    purge: true
    api_key: "{{ improvmx_api_key }}"
'''

RETURN = r'''
added:
  description: The domains that were (in check mode, would be) added, sorted.
  returned: always
  type: list
  elements: str
  sample: [example.com]
updated:
  description: The domains already in the account whose fields or aliases were (in check mode, would be) changed, sorted.
  returned: always
  type: list
  elements: str
  sample: [example.net]
removed:
  description: The domains that were (in check mode, would be) deleted by O(purge=true), sorted.
  returned: always
  type: list
  elements: str
  sample: [old-brand.example]
changes:
  description:
    - What changed (in check mode, would change), by domain; a domain that is as declared is not in it.
  returned: always, and on failure with what was done until then
  type: dict
  sample:
    example.com:
      status: added
      fields: {notification_email: postmaster@example.org}
      aliases: {added: [sales, support], updated: [], removed: []}
    old-brand.example:
      status: removed
      fields: {}
      aliases: {added: [], updated: [], removed: []}
  contains:
    status:
      description: V(added), V(updated) or V(removed).
      type: str
      sample: updated
    fields:
      description: The fields that were set, with their new values (V('') when cleared).
      type: dict
      sample: {webhook: "https://hooks.example.org/improvmx"}
    aliases:
      description: The names of the aliases added, updated and removed (lists under those keys).
      type: dict
      sample: {added: [sales], updated: ["*"], removed: [old]}
    credentials:
      description:
        - The user names of the SMTP credentials added, updated (password set, or C(is_limited) changed) and
          removed (lists under those keys).
        - Only for a domain whose entry manages its credentials, and when they change.
      type: dict
      returned: when the domain's credentials change
      sample: {added: [bighead], updated: [], removed: [gavin]}
      version_added: 1.1.0
failed_aliases:
  description:
    - The alias entries the API refused in a bulk request, with the domain and the API's reason. The task fails
      when there is any, after every other change was applied.
  returned: when the API refused entries of a bulk request
  type: list
  elements: dict
  contains:
    domain:
      description: The domain of the alias.
      type: str
      sample: example.com
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
  sample: ["POST domains/: HTTP 429, retrying after 1.0 s"]
'''

from ansible_collections.improvmx.email.plugins.module_utils.domain_set import DomainSetSync, credential_passwords, parse_declaration, refusals
from ansible_collections.improvmx.email.plugins.module_utils.runner import SyncModule, TaskError


class DomainsModule(SyncModule):
    options = dict(
        # The entries' options (DOCUMENTATION's suboptions, domain_set.DOMAIN_ENTRY) are checked by
        # parse_declaration(): AnsibleModule's nested check is slow for hundreds of domains and aliases.
        domains=dict(type='list', elements='dict', required=True),
    )

    def check(self):
        # The entries are not suboptions of the argument spec (see options), so AnsibleModule does not know
        # the credentials' passwords are secret: register them before anything can be printed.
        for password in credential_passwords(self.params['domains']):
            self.module.no_log_values.add(password)
        warnings = []
        try:
            self.declared = parse_declaration(self.params['domains'], allow_empty_purge=self.params['allow_empty_purge'],
                                              warnings=warnings)
        except ValueError as exc:
            self.fail('domains: %s' % exc)
        for warning in warnings:
            self.warn('domains: %s' % warning)
        self.refuse_empty_purge(self.declared, 'domains is empty and purge is true: that would delete every domain of '
                                'the account; list the domains to keep, or set allow_empty_purge to true if that is meant')

    def failure_result(self):
        result = super(DomainsModule, self).failure_result()
        if self.sync is not None and self.sync.failed:
            result['failed_aliases'] = self.sync.failed
        return result

    def run(self):
        self.sync = sync = DomainSetSync(self.client, self.check_mode)
        sync.run(self.declared, purge=self.params['purge'])
        for warning in sync.warnings:
            self.warn(warning)
        result = dict(sync.result(), changed=bool(sync.changes))
        if sync.failed:
            msg = 'the API refused %d of the aliases sent: %s' % (len(sync.failed), refusals(sync.failed))
            if self.changed:
                msg += '; every other change was applied'
            raise TaskError(msg, failed_aliases=sync.failed)
        return result


def main():
    DomainsModule.main()


if __name__ == '__main__':
    main()
