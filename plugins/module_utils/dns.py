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
from ansible_collections.improvmx.email.plugins.module_utils.credentials import list_credentials
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


# The checks that make forwarding work for every domain; DKIM matters only for a domain that sends
# through ImprovMX's SMTP (one with SMTP credentials); DMARC is advice and never counts.
BASE_CHECKS = ('mx', 'spf')
DKIM_CHECKS = ('dkim1', 'dkim2')


def relevant_checks(has_credentials):
    """The DNS checks that matter for a domain: mx and spf, plus dkim1 and dkim2 with SMTP credentials."""
    return list(BASE_CHECKS) + (list(DKIM_CHECKS) if has_credentials else [])


def failing_checks(records, relevant):
    """The relevant checks that are not valid, in CHECKS order; a relevant check the answer lacks is not valid."""
    records = records or {}
    return [name for name in CHECKS if name in relevant
            and (not isinstance(records.get(name), dict) or records[name].get('valid') is not True)]


def has_smtp_credentials(client, domain):
    """Whether the domain has SMTP credentials (one read); an account whose plan has none (403) has none."""
    try:
        return bool(list_credentials(client, domain))
    except ImprovMXError as exc:
        if exc.status != 403 or isinstance(exc, DomainMissing):
            raise
        return False


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


DEFAULT_TTL = 3600
SPF_LOOKUP_LIMIT = 10
# SPF terms that cost a DNS lookup (RFC 7208, section 4.6.4): the mechanisms include, a, mx,
# ptr and exists, and the redirect modifier.
SPF_LOOKUP_TERMS = ('include', 'a', 'mx', 'ptr', 'exists', 'redirect')


class SPFError(ValueError):
    """The TXT values at a name cannot be merged (more than one SPF record)."""


def txt_text(value):
    """The text of a TXT value: a quoted value ("..." or "..." "..." chunks, as Route 53 writes it) unquoted and joined."""
    text = str(value).strip()
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        chunks = []
        position = 0
        while position < len(text):
            if text[position].isspace():
                position += 1
                continue
            if text[position] != '"':
                return text  # not a list of quoted chunks: take it as it is
            end = position + 1
            chunk = []
            while end < len(text) and text[end] != '"':
                if text[end] == '\\' and end + 1 < len(text):
                    end += 1
                chunk.append(text[end])
                end += 1
            if end >= len(text):
                return text
            chunks.append(''.join(chunk))
            position = end + 1
        return ''.join(chunks)
    return text


def quote_txt(text):
    """A TXT text in the quoted form (chunks of at most 255 characters), as Route 53 takes it."""
    escaped = [text[i:i + 255] for i in range(0, len(text), 255)] or ['']
    return ' '.join('"%s"' % chunk.replace('\\', '\\\\').replace('"', '\\"') for chunk in escaped)


def is_spf(value):
    """Whether a TXT value is an SPF record (its text starts with v=spf1)."""
    terms = txt_text(value).split()
    return bool(terms) and terms[0].lower() == 'v=spf1'


def is_dmarc(value):
    """Whether a TXT value is a DMARC record (its text starts with v=DMARC1)."""
    return txt_text(value).replace(' ', '').lower().startswith('v=dmarc1')


def spf_lookups(spf):
    """How many DNS lookups an SPF record costs (include, a, mx, ptr, exists, redirect=)."""
    count = 0
    for term in txt_text(spf).split()[1:]:
        name = term.lower().lstrip('+-~?')
        for separator in (':', '/', '='):
            name = name.split(separator, 1)[0]
        if name in SPF_LOOKUP_TERMS:
            count += 1
    return count


def _spf_is_all(term):
    return term.lower().lstrip('+-~?') == 'all'


def merge_spf_record(current, expected):
    """current SPF text + the mechanisms of expected that it lacks, before its all (or redirect=) term.

    The current record keeps its mechanisms, their order and its own all qualifier (or its
    redirect= modifier); expected's v=spf1 and all terms are not used.
    """
    terms = txt_text(current).split()
    wanted = [term for term in txt_text(expected).split()[1:] if not _spf_is_all(term)
              and not term.lower().startswith('redirect=')]
    present = set(term.lower().lstrip('+') for term in terms[1:])
    missing = []
    for term in wanted:
        if term.lower().lstrip('+') not in present and term not in missing:
            missing.append(term)
    if not missing:
        return ' '.join(terms)
    position = len(terms)
    for index, term in enumerate(terms):
        if index and (_spf_is_all(term) or term.lower().startswith('redirect=')):
            position = index
            break
    return ' '.join(terms[:position] + missing + terms[position:])


def spf_merge(values, expected=None):
    """The TXT set of a name with exactly one SPF record that has expected's mechanisms.

    values: the TXT values at the name now (a list, a string or None). Returns
    (new values, warnings). Every value that is not an SPF record is kept as given, in its
    place; an existing SPF record is extended (in place, keeping its quoting), otherwise
    expected is added at the end. More than one SPF record raises SPFError (SPF permerror:
    which one to extend cannot be guessed).
    """
    expected = expected or DEFAULT_EXPECTED['spf']
    if not is_spf(expected):
        raise SPFError('the SPF to merge must start with v=spf1, got %r' % (expected,))
    current = as_list(values)
    spf_positions = [index for index, value in enumerate(current) if is_spf(value)]
    if len(spf_positions) > 1:
        raise SPFError('the name has %d SPF records (%s); a name may have only one (RFC 7208, 3.2: more than one is a '
                       'permanent error). Merge them into one record first, then run again.'
                       % (len(spf_positions), '; '.join(repr(txt_text(current[i])) for i in spf_positions)))
    result = list(current)
    if spf_positions:
        index = spf_positions[0]
        old = current[index]
        merged = merge_spf_record(old, expected)
        if merged != ' '.join(txt_text(old).split()):
            quoted = str(old).strip().startswith('"')
            result[index] = quote_txt(merged) if quoted else merged
        spf = merged
    else:
        spf = ' '.join(txt_text(expected).split())
        result.append(spf)
    warnings = []
    lookups = spf_lookups(spf)
    if lookups > SPF_LOOKUP_LIMIT:
        warnings.append('the SPF record %r needs %d DNS lookups, more than the limit of %d (RFC 7208, 4.6.4): '
                        'receivers will treat it as a permanent error' % (spf, lookups, SPF_LOOKUP_LIMIT))
    return result, warnings


def _found(entry):
    return as_list((entry or {}).get('values'))


def record_sets(domain, records, dkim_selector=DEFAULT_DKIM_SELECTOR, ttl=DEFAULT_TTL):
    """The records to publish, grouped the way DNS modules take them: one entry per name and type.

    Each entry: name, type, ttl, values (zone-file form: an MX value is "<priority> <host>"),
    entries ([{value, priority}], for modules that take the MX priority apart), check, valid,
    found (what the API found, as a list) and action:

    * replace: the set holds exactly these values (the MX set, each DKIM CNAME);
    * merge: the values are an SPF to merge into the name's TXT set (spf_merge), never a
      second SPF and never a replacement of the name's other TXT values;
    * create: publish only when the name has no such record (DMARC). The DMARC set is left
      out when the API already found a DMARC record there.
    """
    flat = dns_records(domain, records, dkim_selector)
    result = []
    entries = dict(check_entries(records))
    for check in CHECKS:
        rows = [row for row in flat if row['check'] == check]
        if not rows:
            continue
        found = _found(entries.get(check))
        first = rows[0]
        item = {'check': check, 'name': first['name'], 'type': first['type'], 'ttl': ttl, 'valid': first['valid'],
                'found': found, 'action': 'replace'}
        if check == 'mx':
            item['values'] = ['%d %s' % (row['priority'], row['value']) for row in rows]
            item['entries'] = [{'value': row['value'], 'priority': row['priority']} for row in rows]
        else:
            item['values'] = [first['value']]
            item['entries'] = [{'value': first['value'], 'priority': None}]
        if check == 'spf':
            item['action'] = 'merge'
        elif check == 'dmarc':
            item['action'] = 'create'
            if any(is_dmarc(value) for value in found):
                continue  # the name has a DMARC policy: never replace it with ImprovMX's advice
        result.append(item)
    return result


def top_level_records(answer):
    """The records object of a check answer given at the top level (the vendor CLI's reading), or None."""
    if not isinstance(answer, dict):
        return None
    if 'valid' in answer or any(isinstance(answer.get(name), dict) for name in CHECKS):
        return dict((key, value) for key, value in answer.items() if key not in ('success', 'records'))
    return None


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
            # The vendor's CLI reads valid, mx and spf at the top of the answer: take that shape too.
            records = top_level_records(answer)
        if not isinstance(records, dict):
            detail = answer.get('error') or answer.get('errors') if isinstance(answer, dict) else None
            raise ImprovMXError('GET %s: the API answer has no records object%s' % (path, ': %s' % detail if detail else ''),
                                method='GET', path=path)
        return records
