# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DNS check's records: from the simulated DNS state or from a zone hook (published records)."""

from __future__ import absolute_import, division, print_function

import json
import re
from urllib.request import ProxyHandler, build_opener

from .common import DKIM_EXPECTED_FORMAT, DMARC_EXPECTED, MX_HOSTS, SPF_EXPECTED, SPF_INCLUDE

__metaclass__ = type  # pylint: disable=invalid-name


def expected_spf(existing):
    """The SPF record ImprovMX expects, keeping the other mechanisms of an existing record."""
    if not existing or not existing.strip().lower().startswith('v=spf1'):
        return SPF_EXPECTED
    kept = []
    for term in existing.split()[1:]:
        low = term.lower()
        if low == SPF_INCLUDE or low.lstrip('+-~?') == 'all':
            continue
        kept.append(term)
    return ' '.join(['v=spf1'] + kept + [SPF_INCLUDE, '~all'])


def _txt_text(value):
    """A TXT value's text: quoted chunks ("..." "...", as Route 53 stores them) unquoted and joined."""
    text = str(value).strip()
    if text.startswith('"') and text.endswith('"'):
        chunks = re.findall(r'"((?:[^"\\]|\\.)*)"', text)
        if chunks:
            return ''.join(re.sub(r'\\(.)', r'\1', chunk) for chunk in chunks)
    return text


def fetch_zone(url):
    """The records a zone hook URL answers (a list of {name, type, values}); [] when it cannot be read."""
    try:
        with build_opener(ProxyHandler({})).open(url, timeout=5) as answer:
            data = json.loads(answer.read().decode('utf-8'))
    except (OSError, ValueError):
        return []
    items = data.get('records') if isinstance(data, dict) else data
    return [item for item in items or [] if isinstance(item, dict)]


def zone_check(dom, zone, provider='cloudflare'):
    """The check's records object decided from published records (the zone hook).

    As the simulator reads the live check: MX is valid when every ImprovMX host is in the apex's
    MX set (other hosts there are listed in its values); SPF when the apex has exactly one SPF
    record and it includes spf.improvmx.com; each DKIM when its CNAME points to the expected
    target; DMARC when _dmarc has a v=DMARC1 record (any policy).
    """
    apex = dom['domain']

    def values(name, rtype):
        found = []
        for item in zone:
            if str(item.get('name', '')).rstrip('.').lower() == name and str(item.get('type', '')).upper() == rtype:
                raw = item.get('values')
                if raw is None and item.get('value') is not None:
                    raw = [item['value']]
                found.extend(raw if isinstance(raw, list) else [raw])
        return [str(v) for v in found if v is not None]

    mx_pairs = []
    for value in values(apex, 'MX'):
        parts = value.split()
        priority, host = (int(parts[0]), parts[1]) if len(parts) == 2 and parts[0].isdigit() else (0, parts[-1])
        mx_pairs.append((priority, host.rstrip('.').lower()))
    mx_hosts = [pair[1] for pair in sorted(mx_pairs)]
    spfs = [_txt_text(v) for v in values(apex, 'TXT') if _txt_text(v).lower().startswith('v=spf1')]
    spf_ok = len(spfs) == 1 and SPF_INCLUDE in spfs[0].lower().split()
    dmarcs = [_txt_text(v) for v in values('_dmarc.' + apex, 'TXT') if _txt_text(v).replace(' ', '').lower().startswith('v=dmarc1')]
    records = {'provider': provider, 'advanced': True, 'error': None}
    for number in (1, 2):
        expected = DKIM_EXPECTED_FORMAT % (dom['dkim_selector'], number)
        found = values('%s%d._domainkey.%s' % (dom['dkim_selector'], number, apex), 'CNAME')
        ok = bool(found) and found[0].rstrip('.').lower() == expected.rstrip('.').lower()
        records['dkim%d' % number] = {'expected': expected, 'valid': ok, 'values': found[0] if found else None}
    records['dmarc'] = {'expected': DMARC_EXPECTED, 'valid': bool(dmarcs), 'values': dmarcs[0] if dmarcs else None}
    records['mx'] = {'expected': list(MX_HOSTS), 'valid': all(host in mx_hosts for host in MX_HOSTS),
                     'values': mx_hosts or None}
    records['spf'] = {'expected': expected_spf(spfs[0] if len(spfs) == 1 else None), 'valid': spf_ok,
                      'values': (spfs[0] if len(spfs) == 1 else spfs) or None}
    overall = records['mx']['valid'] and spf_ok
    if dom['credentials']:
        overall = overall and records['dkim1']['valid'] and records['dkim2']['valid']
    records['valid'] = overall
    if len(spfs) > 1:
        records['error'] = 'More than one SPF record found'
    return records
