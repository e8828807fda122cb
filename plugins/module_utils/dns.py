# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The DNS check of a domain: GET /domains/:domain/check, and the DNS records ImprovMX expects.

DomainCheck reads the check; the functions are pure (no I/O) and work on the API's
C(records) object, as improvmx_domain_check returns it.

Conventions (documented in improvmx_domain_check):

* record names are fully qualified, without the trailing dot (V(example.com),
  V(_dmarc.example.com)): the form community.general.cloudflare_dns, amazon.aws.route53
  and the community.dns modules accept;
* host names used as values (MX exchanges, CNAME targets) lose their trailing dot too,
  so a DNS module comparing them with what the provider stores stays idempotent;
  TXT values are passed exactly as the API computes them;
* C(priority) is set for MX records only (10 for the first expected host, 20 for the
  second, ...) and is None for the other types;
* every value comes from the API's C(expected) field, so a whitelabel domain gets its
  whitelabel's hosts. Only when the API leaves C(expected) out are ImprovMX's standard
  values used (see DEFAULT_EXPECTED).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError
from ansible_collections.improvmx.email.plugins.module_utils.resource import DomainMissing, Resource

# The checks the API reports, in the order records are listed.
CHECKS = ('mx', 'spf', 'dkim1', 'dkim2', 'dmarc')

DEFAULT_DKIM_SELECTOR = 'dkimprovmx'
MX_PRIORITY_STEP = 10

# Used only for a check whose answer has no expected value.
DEFAULT_EXPECTED = {
    'mx': ['mx1.improvmx.com', 'mx2.improvmx.com'],
    'spf': 'v=spf1 include:spf.improvmx.com ~all',
    'dkim1': 'dkimprovmx1.improvmx.com',
    'dkim2': 'dkimprovmx2.improvmx.com',
    'dmarc': 'v=DMARC1; p=none;',
}
SPF_INCLUDE = 'include:spf.improvmx.com'


def as_list(value):
    """The API gives expected/values as a string, a list of strings or null: always return a list of strings."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value if item is not None and str(item) != '']
    text = str(value)
    return [text] if text != '' else []


def first_text(value):
    """The first string of a string or list answer; None when empty.

    An expected TXT or CNAME value is one string; when the API wraps it in a list, the
    first item is the record to create.
    """
    items = as_list(value)
    return items[0] if items else None


def hostname(value):
    """A host name without its trailing dot, lower-cased."""
    return value.strip().rstrip('.').lower()


def check_entries(records):
    """(name, entry) for each of CHECKS present in the answer as an object, in CHECKS order."""
    records = records or {}
    return [(name, records[name]) for name in CHECKS if isinstance(records.get(name), dict)]


def invalid_checks(records):
    """Names of the checks the API does not report as valid, in CHECKS order."""
    return [name for name, entry in check_entries(records) if entry.get('valid') is not True]


def overall_valid(records):
    """The API's overall verdict, as a bool."""
    return (records or {}).get('valid') is True


def check_error(records):
    """The API's explanation of why the entries are not valid (passed through), or None."""
    error = (records or {}).get('error')
    if error is None or error == '':
        return None
    return error


def merged_spf(current):
    """An SPF record that adds ImprovMX's include to the current one (used only when the API gives no expected SPF)."""
    for value in as_list(current):
        terms = value.split()
        if not terms or terms[0].lower() != 'v=spf1':
            continue
        if SPF_INCLUDE in [term.lower() for term in terms]:
            return ' '.join(terms)
        position = len(terms)
        for index, term in enumerate(terms):
            if term.lower().lstrip('+-~?') == 'all' or term.lower().startswith('redirect='):
                position = index
                break
        return ' '.join(terms[:position] + [SPF_INCLUDE] + terms[position:])
    return DEFAULT_EXPECTED['spf']


def _record(check, rtype, name, value, valid, priority=None):
    return {
        'check': check,
        'type': rtype,
        'name': name,
        'value': value,
        'priority': priority,
        'valid': valid,
    }


def dns_records(domain, records, dkim_selector=DEFAULT_DKIM_SELECTOR):
    """Every DNS record ImprovMX expects for domain, from the check answer's records object.

    Returns a list of dicts {check, type, name, value, priority, valid}; valid is the API's
    verdict on the record's check. A check missing from the answer yields no record.
    """
    apex = hostname(domain)
    selector = dkim_selector or DEFAULT_DKIM_SELECTOR
    result = []
    for check, entry in check_entries(records):
        valid = entry.get('valid') is True
        expected = entry.get('expected')
        if check == 'mx':
            hosts = []
            for host in as_list(expected) or DEFAULT_EXPECTED['mx']:
                host = hostname(host)
                if host and host not in hosts:
                    hosts.append(host)
            for index, host in enumerate(hosts):
                result.append(_record(check, 'MX', apex, host, valid, priority=MX_PRIORITY_STEP * (index + 1)))
        elif check == 'spf':
            value = first_text(expected) or merged_spf(entry.get('values'))
            result.append(_record(check, 'TXT', apex, value, valid))
        elif check in ('dkim1', 'dkim2'):
            target = first_text(expected) or DEFAULT_EXPECTED[check]
            name = '%s%s._domainkey.%s' % (selector, check[-1], apex)
            result.append(_record(check, 'CNAME', name, hostname(target), valid))
        elif check == 'dmarc':
            value = first_text(expected) or DEFAULT_EXPECTED['dmarc']
            result.append(_record(check, 'TXT', '_dmarc.%s' % apex, value, valid))
    return result


class DomainCheck(Resource):
    """GET /domains/:domain/check."""

    def records(self, domain):
        """The check's records object; DomainMissing when the domain is not in the account."""
        path = self.path('domains', domain, 'check')
        try:
            # The API may answer "success": false when the entries are not valid: the records still count.
            answer = self.client.get(path, accept_unsuccessful=True) or {}
        except ImprovMXError as exc:
            if exc.status == 404:
                raise DomainMissing(domain, exc)
            raise
        records = answer.get('records') if isinstance(answer, dict) else None
        if not isinstance(records, dict):
            detail = answer.get('error') or answer.get('errors') if isinstance(answer, dict) else None
            raise ImprovMXError('GET %s: the API answer has no records object%s' % (path, ': %s' % detail if detail else ''),
                                method='GET', path=path)
        return records
