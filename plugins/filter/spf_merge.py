# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: spf_merge
short_description: Merge ImprovMX's SPF into the TXT values of a DNS name
version_added: 1.1.0
author:
  - improvmx.email developers (@improvmx-email)
description:
  - Takes the TXT values a DNS name has now and returns the TXT set to publish there, with exactly one
    SPF record that includes ImprovMX's C(include:spf.improvmx.com) (or the mechanisms of the SPF given in O(spf)).
  - When the name has an SPF record, it is extended, in place - the mechanisms ImprovMX needs are added before
    its C(all) term (or its C(redirect=) modifier); its other mechanisms, their order and its C(all) qualifier
    (V(-all), V(~all), ...) are kept. When the name has none, the SPF is added at the end.
  - Every other TXT value (site verification tokens, DKIM keys, ...) is returned exactly as given.
  - A value in quoted form (V("v=spf1 ...") or several quoted chunks, as M(amazon.aws.route53) returns TXT values)
    is read as its text; an SPF record given quoted is returned quoted.
  - The result equals the input when the SPF already has every mechanism, so a task that writes it only on a
    difference is idempotent.
  - Fails when the name has more than one SPF record (an SPF permanent error); merge them by hand first.
  - Warns when the merged SPF needs more than 10 DNS lookups (C(include), C(a), C(mx), C(ptr), C(exists),
    C(redirect=)), the limit of RFC 7208.
options:
  _input:
    description:
      - The TXT values at the name now, a list of strings; a single string or V(null) (no TXT record) are accepted.
    type: raw
    required: true
  spf:
    description:
      - The SPF whose mechanisms must be in the result, for example the value of the SPF record set that
        M(improvmx.email.improvmx_domain_check) returns in RV(improvmx.email.improvmx_domain_check#module:record_sets)
        (a whitelabel domain has its own include). Its C(all) term is only used when the name has no SPF yet.
    type: str
    default: v=spf1 include:spf.improvmx.com ~all
seealso:
  - module: improvmx.email.improvmx_domain_check
'''

EXAMPLES = r'''
- name: The apex TXT set with ImprovMX's SPF merged in
  ansible.builtin.debug:
    msg: "{{ ['google-site-verification=abc', 'v=spf1 include:_spf.google.com -all'] | improvmx.email.spf_merge }}"
  # -> ['google-site-verification=abc', 'v=spf1 include:_spf.google.com include:spf.improvmx.com -all']

- name: No SPF yet
  ansible.builtin.debug:
    msg: "{{ [] | improvmx.email.spf_merge }}"
  # -> ['v=spf1 include:spf.improvmx.com ~all']

- name: The SPF the domain check asks for (a whitelabel may have its own include)
  ansible.builtin.set_fact:
    txt_values: "{{ current_txt_values | improvmx.email.spf_merge(spf=spf_set['values'][0]) }}"
  vars:
    spf_set: "{{ check.record_sets | selectattr('check', 'eq', 'spf') | first }}"
'''

RETURN = r'''
_value:
  description:
    - The TXT values to publish at the name, the existing SPF extended or ImprovMX's SPF added.
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.improvmx.email.plugins.module_utils.dns import DEFAULT_EXPECTED, SPFError
from ansible_collections.improvmx.email.plugins.module_utils.dns import spf_merge as merge_values

display = Display()


def spf_merge(values, spf=None):
    """Merge spf (ImprovMX's by default) into the TXT values of a name; see DOCUMENTATION."""
    if values is not None and not isinstance(values, (list, tuple, str)):
        raise AnsibleFilterError('spf_merge: expects the TXT values as a list of strings, got %s' % type(values).__name__)
    try:
        result, warnings = merge_values(values, spf or DEFAULT_EXPECTED['spf'])
    except SPFError as exc:
        raise AnsibleFilterError('spf_merge: %s' % exc)
    for warning in warnings:
        display.warning('spf_merge: %s' % warning)
    return result


class FilterModule(object):
    def filters(self):
        return {'spf_merge': spf_merge}
