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
  - The module reads the check and the domain (for its C(dkim_selector)), two GET requests.
  - The API answers C(expected) and C(values) either as a string or as a list; both are handled.
  - The API's overall verdict RV(valid) does not need every check to pass (DMARC, for one, is
    advice). Decide from RV(valid) or from RV(invalid_checks), as your policy requires.
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

- name: Wait until ImprovMX sees the records (DNS takes a while to propagate)
  improvmx.email.improvmx_domain_check:
    domain: example.com
    api_key: "{{ improvmx_api_key }}"
  register: result
  until: result.valid
  retries: 30
  delay: 60

- name: Insist on every check, DMARC included (the API's overall verdict does not need it)
  ansible.builtin.assert:
    that: result.invalid_checks | length == 0
    fail_msg: "Still invalid: {{ result.invalid_checks | join(', ') }}"
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
  description: Names of the checks the API does not report as valid, in the order C(mx), C(spf), C(dkim1), C(dkim2), C(dmarc).
  returned: success
  type: list
  elements: str
  sample: ["spf", "dmarc"]
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

from ansible_collections.improvmx.email.plugins.module_utils.dns import (
    DEFAULT_DKIM_SELECTOR,
    DomainCheck,
    check_error,
    dns_records,
    invalid_checks,
    overall_valid,
    record_sets,
)
from ansible_collections.improvmx.email.plugins.module_utils.domains import Domains, dkim_selector
from ansible_collections.improvmx.email.plugins.module_utils.runner import DOMAIN_OR_NAME, ImprovMXModule


class DomainCheckModule(ImprovMXModule):
    domain_option = DOMAIN_OR_NAME

    def run(self):
        records = DomainCheck(self.client).records(self.domain)
        selector = dkim_selector(Domains(self.client).fetch(self.domain), DEFAULT_DKIM_SELECTOR)
        return dict(valid=overall_valid(records), records=records, error=check_error(records), dkim_selector=selector,
                    invalid_checks=invalid_checks(records), dns_records=dns_records(self.domain, records, selector),
                    record_sets=record_sets(self.domain, records, selector))


def main():
    DomainCheckModule.main()


if __name__ == '__main__':
    main()
