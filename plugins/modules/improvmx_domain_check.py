#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: improvmx_domain_check
short_description: Check the DNS records of an ImprovMX domain and list the records it needs
version_added: 1.0.0
description:
  - Asks ImprovMX whether the DNS entries of a domain (MX, SPF, DKIM, DMARC) are set up as it
    expects, with one request to the API's DNS check.
  - Returns the API's verdict as is (RV(valid), RV(records)), the names of the checks that fail
    (RV(invalid_checks)), and every record ImprovMX expects, both one by one (RV(dns_records)) and grouped
    into record sets the way DNS modules such as M(amazon.aws.route53), M(community.general.cloudflare_dns)
    or the C(community.dns) C(*_record_set) modules take them (RV(record_sets)).
  - Accepts the check's answer with the records under C(records) (the API reference) or at the top level
    (what the vendor's CLI reads); RV(records) has the same form either way.
  - The module never changes anything, neither at ImprovMX nor in DNS.
  - The module is also available under the short name C(improvmx.email.domain_check).
author:
  - improvmx.email developers (@improvmx-email)
extends_documentation_fragment:
  - improvmx.email.improvmx
  - improvmx.email.attributes
  - improvmx.email.attributes.info_module
options:
  domain:
    description:
      - The domain to check, for example V(example.com). It must be in the ImprovMX account.
      - It is lower-cased and an internationalised name is converted to its IDNA form.
    type: str
    required: true
    aliases: [name]
  dkim_selector:
    description:
      - The domain's DKIM selector, when the playbook already knows it (for example from
        M(improvmx.email.improvmx_domain)'s RV(improvmx.email.improvmx_domain#module:domain.dkim_selector)); the
        module then does not read the domain for it (one request less).
    type: str
    version_added: 1.1.0
  has_credentials:
    description:
      - Whether the domain has SMTP credentials, which make the checks C(dkim1) and C(dkim2) matter (see
        RV(invalid_checks)). Left out, the module reads the domain's credential list to know (one request more; an
        account whose plan has no SMTP credentials counts as having none).
    type: bool
    version_added: 1.1.0
  wait:
    description:
      - Check again and again, O(delay) seconds apart, until every check that matters (RV(relevant_checks)) is
        valid, for at most O(wait_timeout) seconds; the task fails when they are still not valid then, naming each
        check with what ImprovMX expects and what it found.
      - Each check is one request; the domain and its credentials are read once. RV(polls) lists every check,
        which C(-v) shows.
    type: bool
    default: false
    version_added: 1.1.0
  wait_timeout:
    description:
      - With O(wait=true), how long to wait at most, in seconds.
      - Named C(wait_timeout) because O(timeout) is the connection option every module has (how long one request
        may take).
    type: int
    default: 600
    version_added: 1.1.0
  delay:
    description: With O(wait=true), the seconds between two checks.
    type: int
    default: 15
    version_added: 1.1.0
notes:
  - "How RV(dns_records) is built from the API's answer:
    C(mx) gives one MX record at the domain apex per expected host, with priority 10 for the first
    and 20 for the second (V(mx1.improvmx.com) and V(mx2.improvmx.com) for a plain domain);
    C(spf) gives a TXT record at the apex with the expected SPF string exactly as the API computes it
    (it keeps the domain's other C(include:) mechanisms);
    C(dkim1) and C(dkim2) give CNAME records C(<selector>1._domainkey.<domain>) and
    C(<selector>2._domainkey.<domain>) to the expected targets, where C(<selector>) is the domain's
    C(dkim_selector) (V(dkimprovmx) unless the API says otherwise, see RV(dkim_selector));
    C(dmarc) gives a TXT record at C(_dmarc.<domain>) with the expected policy."
  - The values always come from the API's C(expected) fields, so a domain under a whitelabel gets
    its whitelabel's hosts. Only if the API leaves an C(expected) field out are ImprovMX's standard
    values used.
  - Record names are fully qualified and written without the trailing dot (V(_dmarc.example.com)),
    and so are the host names used as MX and CNAME values (the API writes the DKIM targets with a
    trailing dot; RV(records) keeps them as the API sent them). This is the form the common DNS
    modules accept and compare with what the DNS provider stores.
  - A check that is missing from the API's answer gives no record.
  - "How RV(record_sets) is meant to be published: the MX set B(replaces) the apex MX set (both hosts at once,
    never one host alone; what to do with other MX hosts there is your choice - while they stay, mail may
    still go to them); the SPF set is B(merged) into the apex TXT set with the P(improvmx.email.spf_merge#filter)
    filter, which keeps the other TXT values and extends an existing SPF instead of adding a second one;
    each DKIM CNAME B(replaces) its name; the DMARC set is B(created) only where the name has no DMARC
    record, and is left out of RV(record_sets) when the API already found one."
  - The module reads the check, the domain (for its C(dkim_selector), unless O(dkim_selector) is given) and the
    domain's SMTP credentials (to know whether DKIM matters, unless O(has_credentials) is given) - one to three
    GET requests.
  - The API answers C(expected) and C(values) either as a string or as a list; both are handled.
  - The API's overall verdict RV(valid) does not need every check to pass (DMARC, for one, is
    advice). RV(invalid_checks) counts only the checks that matter for the domain (RV(relevant_checks)); every
    check, DMARC included, stays in RV(records) and RV(dns_records).
seealso:
  - module: improvmx.email.improvmx_domain
  - module: improvmx.email.improvmx_domain_info
  - module: community.general.cloudflare_dns
  - name: ImprovMX API reference
    description: The DNS check endpoint.
    link: https://improvmx.com/api/#domains
'''

EXAMPLES = r'''
- name: Check the DNS records of a domain
  improvmx.email.improvmx_domain_check:
    domain: example.com
    api_key: "{{ improvmx_api_key }}"
  register: dns_check

- name: Show what is still missing
  ansible.builtin.debug:
    msg: "{{ item.type }} {{ item.name }} -> {{ item.value }}"
  loop: "{{ dns_check.dns_records | rejectattr('valid') | list }}"
  when: not dns_check.valid

# Publish by record set: one MX set with both hosts, the SPF merged into the apex TXT set
# (never a second SPF record, never the other TXT values lost), the DKIM CNAMEs, and DMARC
# only where the name has none. The role improvmx.email.domain_onboarding ships tested task
# files doing this for Route 53, Cloudflare and community.dns (roles/domain_onboarding/files/).
- name: Read the TXT set at the apex (Route 53)
  amazon.aws.route53:
    state: get
    zone: example.com
    record: example.com
    type: TXT
  register: apex_txt

- name: Publish the SPF merged into the apex TXT set (Route 53)
  amazon.aws.route53:
    state: present
    zone: example.com
    record: example.com
    type: TXT
    ttl: "{{ spf_set.ttl }}"
    value: "{{ current | improvmx.email.spf_merge(spf=spf_set['values'][0]) }}"
    overwrite: true
  vars:
    spf_set: "{{ dns_check.record_sets | selectattr('check', 'eq', 'spf') | first }}"
    current: "{{ apex_txt.set.value | default([]) if apex_txt.set else [] }}"
  when: current | improvmx.email.spf_merge(spf=spf_set['values'][0]) != current

- name: Wait until ImprovMX sees the records that matter (DNS takes a while to propagate)
  improvmx.email.improvmx_domain_check:
    domain: example.com
    wait: true
    wait_timeout: 1800
    delay: 60
    api_key: "{{ improvmx_api_key }}"
  register: result

- name: Insist on every check, DMARC included (it never counts in invalid_checks)
  ansible.builtin.assert:
    that: result.dns_records | rejectattr('valid') | list | length == 0
    fail_msg: "Still invalid: {{ result.dns_records | rejectattr('valid') | map(attribute='check') | unique | join(', ') }}"
'''

RETURN = r'''
valid:
  description: The API's overall verdict on the domain's DNS entries.
  returned: success
  type: bool
  sample: false
records:
  description:
    - The C(records) object of the API's answer, as the API returned it.
    - Each check (C(mx), C(spf), C(dkim1), C(dkim2), C(dmarc)) holds C(expected), C(values) and C(valid);
      C(expected) and C(values) are a string, a list of strings or V(null).
  returned: success
  type: dict
  contains:
    valid:
      description: The overall verdict (also in RV(valid)).
      type: bool
      sample: false
    error:
      description: Why the entries are not valid, when the API says.
      type: str
      sample: null
    provider:
      description: The DNS provider the API detected.
      type: str
      sample: cloudflare
    advanced:
      description: Whether the API ran the advanced checks (SPF, DKIM, DMARC).
      type: bool
      sample: true
    mx:
      description: The MX check.
      type: dict
      sample: {"expected": ["mx1.improvmx.com", "mx2.improvmx.com"], "valid": true, "values": ["mx2.improvmx.com", "mx1.improvmx.com"]}
    spf:
      description: The SPF check.
      type: dict
      sample: {"expected": "v=spf1 include:someservice.org include:spf.improvmx.com ~all", "valid": false,
               "values": "v=spf1 include:someservice.org ~all"}
    dkim1:
      description: The first DKIM check.
      type: dict
      sample: {"expected": "dkimprovmx1.improvmx.com.", "valid": true, "values": "dkimprovmx1.improvmx.com."}
    dkim2:
      description: The second DKIM check.
      type: dict
      sample: {"expected": "dkimprovmx2.improvmx.com.", "valid": true, "values": "dkimprovmx2.improvmx.com."}
    dmarc:
      description: The DMARC check.
      type: dict
      sample: {"expected": "v=DMARC1; p=none;", "valid": false, "values": null}
error:
  description: The API's explanation of why the entries are not valid (C(records.error)), passed through; V(null) when it gave none.
  returned: success
  type: str
  sample: null
invalid_checks:
  description:
    - The checks that matter for the domain (RV(relevant_checks)) and that the API does not report as valid, in the
      order C(mx), C(spf), C(dkim1), C(dkim2). Never C(dmarc); C(dkim1) and C(dkim2) only for a domain with SMTP
      credentials. Empty when the domain forwards (and signs, with credentials) as it should.
    - Before 1.1.0 it named every check that was not valid, DMARC and DKIM included.
  returned: success
  type: list
  elements: str
  sample: ["spf"]
relevant_checks:
  description: The checks that matter for the domain - C(mx) and C(spf), plus C(dkim1) and C(dkim2) when it has SMTP credentials.
  returned: success
  type: list
  elements: str
  sample: ["mx", "spf"]
  version_added: 1.1.0
polls:
  description:
    - With O(wait=true), every check made, in order - its C(attempt), the seconds C(elapsed) since the first,
      and the C(invalid_checks) it found.
  returned: when O(wait=true)
  type: list
  elements: dict
  sample: [{"attempt": 1, "elapsed": 0, "invalid_checks": ["mx", "spf"]}, {"attempt": 2, "elapsed": 15, "invalid_checks": []}]
  version_added: 1.1.0
dns_records:
  description:
    - Every DNS record ImprovMX expects for the domain, ready for a DNS module.
    - Names and host name values are fully qualified, without the trailing dot.
  returned: success
  type: list
  elements: dict
  contains:
    check:
      description: The check the record belongs to.
      type: str
      choices: [mx, spf, dkim1, dkim2, dmarc]
      sample: mx
    type:
      description: The record type.
      type: str
      choices: [MX, TXT, CNAME]
      sample: MX
    name:
      description: The fully qualified record name, without the trailing dot; DKIM records are named from RV(dkim_selector).
      type: str
      sample: example.com
    value:
      description: The record's value (the MX host, the CNAME target, or the TXT text).
      type: str
      sample: mx1.improvmx.com
    priority:
      description: The MX priority (10, 20, ...); V(null) for the other record types.
      type: int
      sample: 10
    valid:
      description: The API's verdict on the record's check (both MX records share the C(mx) verdict).
      type: bool
      sample: true
  sample:
    - {check: mx, type: MX, name: example.com, value: mx1.improvmx.com, priority: 10, valid: true}
    - {check: mx, type: MX, name: example.com, value: mx2.improvmx.com, priority: 20, valid: true}
    - {check: spf, type: TXT, name: example.com, value: "v=spf1 include:spf.improvmx.com ~all", priority: null, valid: false}
    - {check: dkim1, type: CNAME, name: dkimprovmx1._domainkey.example.com, value: dkimprovmx1.improvmx.com, priority: null, valid: true}
    - {check: dkim2, type: CNAME, name: dkimprovmx2._domainkey.example.com, value: dkimprovmx2.improvmx.com, priority: null, valid: true}
    - {check: dmarc, type: TXT, name: _dmarc.example.com, value: "v=DMARC1; p=none;", priority: null, valid: false}
record_sets:
  description:
    - The records ImprovMX expects, grouped the way DNS modules take them - one entry per name and type, in
      the order C(mx), C(spf), C(dkim1), C(dkim2), C(dmarc).
    - The DMARC set is left out when the API found a DMARC record at C(_dmarc.<domain>) (a policy the domain
      already has is never replaced by ImprovMX's advice).
  returned: success
  type: list
  elements: dict
  version_added: 1.1.0
  contains:
    check:
      description: The check the set belongs to.
      type: str
      choices: [mx, spf, dkim1, dkim2, dmarc]
    name:
      description: The fully qualified name, without the trailing dot.
      type: str
      sample: example.com
    type:
      description: The record type.
      type: str
      choices: [MX, TXT, CNAME]
    ttl:
      description: A TTL to publish the set with, in seconds.
      type: int
      sample: 3600
    values:
      description:
        - The values in zone-file form, as M(amazon.aws.route53) and the C(community.dns) modules take them - an MX
          value is C(<priority> <host>) (V(10 mx1.improvmx.com)), a TXT value is its text, unquoted.
        - For the C(spf) set, the one SPF to merge into the name's TXT set.
      type: list
      elements: str
      sample: ["10 mx1.improvmx.com", "20 mx2.improvmx.com"]
    entries:
      description: The same values taken apart, for modules with a separate priority (M(community.general.cloudflare_dns)).
      type: list
      elements: dict
      sample: [{"value": "mx1.improvmx.com", "priority": 10}, {"value": "mx2.improvmx.com", "priority": 20}]
    action:
      description:
        - V(replace) - the set at the name must hold exactly these values (MX, DKIM CNAMEs).
        - V(merge) - merge the value into the name's TXT set with P(improvmx.email.spf_merge#filter); never add a second
          SPF record, never drop the name's other TXT values.
        - V(create) - publish only when the name has no such record (DMARC).
      type: str
      choices: [replace, merge, create]
    valid:
      description: The API's verdict on the set's check.
      type: bool
    found:
      description: What the API found for the check (its C(values)), as a list; empty when it found nothing.
      type: list
      elements: str
      sample: ["aspmx.l.google.com"]
  sample:
    - {check: mx, name: example.com, type: MX, ttl: 3600, values: ["10 mx1.improvmx.com", "20 mx2.improvmx.com"],
       entries: [{value: mx1.improvmx.com, priority: 10}, {value: mx2.improvmx.com, priority: 20}],
       action: replace, valid: false, found: [aspmx.l.google.com]}
    - {check: spf, name: example.com, type: TXT, ttl: 3600, values: ["v=spf1 include:_spf.google.com include:spf.improvmx.com ~all"],
       entries: [{value: "v=spf1 include:_spf.google.com include:spf.improvmx.com ~all", priority: null}],
       action: merge, valid: false, found: ["v=spf1 include:_spf.google.com ~all"]}
    - {check: dkim1, name: dkimprovmx1._domainkey.example.com, type: CNAME, ttl: 3600, values: [dkimprovmx1.improvmx.com],
       entries: [{value: dkimprovmx1.improvmx.com, priority: null}], action: replace, valid: false, found: []}
dkim_selector:
  description:
    - The domain's DKIM selector, which names the DKIM records (C(<selector>1._domainkey.<domain>)).
    - V(dkimprovmx) when the API does not give one.
  returned: success
  type: str
  sample: dkimprovmx
api_retries:
  description: What the client had to retry or recover (rate limits, server errors), one line each.
  returned: when a request had to be retried
  type: list
  elements: str
  sample: ["GET domains/example.com/check: HTTP 429, retrying after 2.0 s"]
'''

import time

from ansible_collections.improvmx.email.plugins.module_utils.dns import (
    DEFAULT_DKIM_SELECTOR,
    DomainCheck,
    check_error,
    dns_records,
    failing_checks,
    has_smtp_credentials,
    overall_valid,
    record_sets,
    relevant_checks,
)
from ansible_collections.improvmx.email.plugins.module_utils.domains import Domains, dkim_selector
from ansible_collections.improvmx.email.plugins.module_utils.runner import DOMAIN_OR_NAME, ImprovMXModule, TaskError


class DomainCheckModule(ImprovMXModule):
    domain_option = DOMAIN_OR_NAME
    options = dict(
        dkim_selector=dict(type='str'),
        has_credentials=dict(type='bool'),
        wait=dict(type='bool', default=False),
        wait_timeout=dict(type='int', default=600),
        delay=dict(type='int', default=15),
    )

    def check(self):
        for name in ('wait_timeout', 'delay'):
            if self.params[name] < 0:
                self.fail('%s must be 0 or more seconds, got %d' % (name, self.params[name]))
        selector = self.params['dkim_selector']
        if selector is not None and (not selector.strip() or any(ch.isspace() for ch in selector.strip())):
            self.fail('dkim_selector must be one DNS label such as dkimprovmx, got %r' % selector)

    def run(self):
        check = DomainCheck(self.client)
        records = check.records(self.domain)
        selector = (self.params['dkim_selector'] or '').strip() or \
            dkim_selector(Domains(self.client).fetch(self.domain), DEFAULT_DKIM_SELECTOR)
        credentials = self.params['has_credentials']
        if credentials is None:
            credentials = has_smtp_credentials(self.client, self.domain)
        relevant = relevant_checks(credentials)
        result = {}
        if self.params['wait']:
            records, result['polls'] = self.poll(check, records, relevant)
        result.update(valid=overall_valid(records), records=records, error=check_error(records), dkim_selector=selector,
                      relevant_checks=relevant, invalid_checks=failing_checks(records, relevant),
                      dns_records=dns_records(self.domain, records, selector),
                      record_sets=record_sets(self.domain, records, selector))
        if self.params['wait'] and result['invalid_checks']:
            missing = ['%s %s %s (ImprovMX expects %s, found %s)' % (
                record_set['check'], record_set['type'], record_set['name'], ', '.join(str(v) for v in record_set['values']),
                ', '.join(str(v) for v in record_set.get('found') or []) or 'nothing')
                for record_set in result['record_sets'] if record_set.get('check') in result['invalid_checks']]
            raise TaskError('the DNS of %s is still not valid after %d s (%d checks, %d s apart): %s'
                            % (self.domain, result['polls'][-1]['elapsed'], len(result['polls']), self.params['delay'],
                               '; '.join(missing)), **result)
        return result

    def poll(self, check, records, relevant):
        """Check again every delay seconds until the relevant checks are valid or wait_timeout: (records, polls)."""
        start = time.time()
        polls = []
        while True:
            elapsed = int(round(time.time() - start))
            polls.append({'attempt': len(polls) + 1, 'elapsed': elapsed, 'invalid_checks': failing_checks(records, relevant)})
            if not polls[-1]['invalid_checks'] or elapsed + self.params['delay'] > self.params['wait_timeout']:
                return records, polls
            time.sleep(self.params['delay'])
            records = check.records(self.domain)


def main():
    DomainCheckModule.main()


if __name__ == '__main__':
    main()
