# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

import pytest

from ansible_collections.improvmx.email.plugins.module_utils import dns

# The check answer of the API reference (GET /domains/piedpiper.com/check), verbatim.
REFERENCE_RECORDS = {
    'provider': 'cloudflare',
    'advanced': True,
    'dkim1': {'expected': 'dkimprovmx1.improvmx.com.', 'valid': True, 'values': 'dkimprovmx1.improvmx.com.'},
    'dkim2': {'expected': 'dkimprovmx2.improvmx.com.', 'valid': True, 'values': 'dkimprovmx2.improvmx.com.'},
    'dmarc': {'expected': 'v=DMARC1; p=none;', 'valid': False, 'values': None},
    'error': None,
    'mx': {'expected': ['mx1.improvmx.com', 'mx2.improvmx.com'], 'valid': True, 'values': ['mx2.improvmx.com', 'mx1.improvmx.com']},
    'spf': {'expected': 'v=spf1 include:someservice.org include:spf.improvmx.com ~all', 'valid': False,
            'values': 'v=spf1 include:someservice.org ~all'},
    'valid': False,
}


def records(**changes):
    answer = copy.deepcopy(REFERENCE_RECORDS)
    answer.update(changes)
    return answer


def by_check(result, check):
    return [record for record in result if record['check'] == check]


def test_reference_answer_maps_to_every_record():
    assert dns.dns_records('piedpiper.com', REFERENCE_RECORDS) == [
        {'check': 'mx', 'type': 'MX', 'name': 'piedpiper.com', 'value': 'mx1.improvmx.com', 'priority': 10, 'valid': True},
        {'check': 'mx', 'type': 'MX', 'name': 'piedpiper.com', 'value': 'mx2.improvmx.com', 'priority': 20, 'valid': True},
        {'check': 'spf', 'type': 'TXT', 'name': 'piedpiper.com',
         'value': 'v=spf1 include:someservice.org include:spf.improvmx.com ~all', 'priority': None, 'valid': False},
        {'check': 'dkim1', 'type': 'CNAME', 'name': 'dkimprovmx1._domainkey.piedpiper.com',
         'value': 'dkimprovmx1.improvmx.com', 'priority': None, 'valid': True},
        {'check': 'dkim2', 'type': 'CNAME', 'name': 'dkimprovmx2._domainkey.piedpiper.com',
         'value': 'dkimprovmx2.improvmx.com', 'priority': None, 'valid': True},
        {'check': 'dmarc', 'type': 'TXT', 'name': '_dmarc.piedpiper.com', 'value': 'v=DMARC1; p=none;',
         'priority': None, 'valid': False},
    ]


def test_reference_answer_verdicts():
    assert dns.invalid_checks(REFERENCE_RECORDS) == ['spf', 'dmarc']
    assert dns.overall_valid(REFERENCE_RECORDS) is False
    assert dns.overall_valid(records(valid=True)) is True
    assert dns.check_error(REFERENCE_RECORDS) is None


def test_the_input_is_not_modified():
    answer = records()
    dns.dns_records('piedpiper.com', answer)
    dns.invalid_checks(answer)
    assert answer == REFERENCE_RECORDS


@pytest.mark.parametrize('expected', [
    'v=spf1 include:someservice.org include:spf.improvmx.com ~all',
    ['v=spf1 include:someservice.org include:spf.improvmx.com ~all'],
])
def test_spf_keeps_the_expected_value_as_the_api_computes_it(expected):
    answer = records(spf={'expected': expected, 'valid': False, 'values': ['v=spf1 include:someservice.org ~all']})
    [spf] = by_check(dns.dns_records('piedpiper.com', answer), 'spf')
    assert spf['value'] == 'v=spf1 include:someservice.org include:spf.improvmx.com ~all'
    assert spf['type'] == 'TXT' and spf['name'] == 'piedpiper.com' and spf['valid'] is False


@pytest.mark.parametrize('expected', [
    ['mx1.improvmx.com', 'mx2.improvmx.com'],
    ['mx1.improvmx.com.', 'MX2.improvmx.com.'],
    'mx1.improvmx.com',  # a single string is one host
])
def test_mx_expected_as_list_or_string(expected):
    answer = records(mx={'expected': expected, 'valid': False, 'values': None})
    mx = by_check(dns.dns_records('piedpiper.com', answer), 'mx')
    hosts = dns.as_list(expected)
    assert [r['value'] for r in mx] == [h.rstrip('.').lower() for h in hosts]
    assert [r['priority'] for r in mx] == [10, 20][:len(hosts)]
    assert all(r['type'] == 'MX' and r['name'] == 'piedpiper.com' and r['valid'] is False for r in mx)


def test_mx_duplicate_hosts_are_listed_once():
    answer = records(mx={'expected': ['mx1.improvmx.com', 'mx1.improvmx.com.', 'mx2.improvmx.com'], 'valid': True, 'values': []})
    mx = by_check(dns.dns_records('piedpiper.com', answer), 'mx')
    assert [(r['value'], r['priority']) for r in mx] == [('mx1.improvmx.com', 10), ('mx2.improvmx.com', 20)]


@pytest.mark.parametrize('values', [None, 'v=spf1 ~all', ['a', 'b'], []])
def test_values_as_string_list_or_null_do_not_matter_for_the_records(values):
    answer = records()
    for check in dns.CHECKS:
        answer[check]['values'] = values
    assert dns.dns_records('piedpiper.com', answer) == dns.dns_records('piedpiper.com', REFERENCE_RECORDS)


@pytest.mark.parametrize('value, expected', [
    (None, []),
    ('', []),
    ('a', ['a']),
    (['a', 'b'], ['a', 'b']),
    (('a', None, ''), ['a']),
])
def test_as_list(value, expected):
    assert dns.as_list(value) == expected


def test_whitelabel_values_come_from_the_api():
    answer = records(
        mx={'expected': ['mx1.mail.example.net', 'mx2.mail.example.net'], 'valid': False, 'values': None},
        spf={'expected': 'v=spf1 include:spf.example.net ~all', 'valid': False, 'values': None},
        dkim1={'expected': 'dkim1.example.net.', 'valid': False, 'values': None},
        dkim2={'expected': ['dkim2.example.net.'], 'valid': False, 'values': None},
        dmarc={'expected': 'v=DMARC1; p=quarantine;', 'valid': False, 'values': None},
    )
    result = dns.dns_records('customer.example', answer)
    assert [(r['type'], r['name'], r['value'], r['priority']) for r in result] == [
        ('MX', 'customer.example', 'mx1.mail.example.net', 10),
        ('MX', 'customer.example', 'mx2.mail.example.net', 20),
        ('TXT', 'customer.example', 'v=spf1 include:spf.example.net ~all', None),
        ('CNAME', 'dkimprovmx1._domainkey.customer.example', 'dkim1.example.net', None),
        ('CNAME', 'dkimprovmx2._domainkey.customer.example', 'dkim2.example.net', None),
        ('TXT', '_dmarc.customer.example', 'v=DMARC1; p=quarantine;', None),
    ]
    assert not any('improvmx.com' in r['value'] for r in result)


def test_defaults_only_when_the_api_gives_no_expected_value():
    answer = records()
    for check in dns.CHECKS:
        answer[check] = {'valid': False, 'values': None}
    result = dns.dns_records('example.com', answer)
    assert [(r['check'], r['value']) for r in result] == [
        ('mx', 'mx1.improvmx.com'),
        ('mx', 'mx2.improvmx.com'),
        ('spf', 'v=spf1 include:spf.improvmx.com ~all'),
        ('dkim1', 'dkimprovmx1.improvmx.com'),
        ('dkim2', 'dkimprovmx2.improvmx.com'),
        ('dmarc', 'v=DMARC1; p=none;'),
    ]


@pytest.mark.parametrize('current, merged', [
    ('v=spf1 include:someservice.org ~all', 'v=spf1 include:someservice.org include:spf.improvmx.com ~all'),
    (['google-site-verification=abc', 'v=spf1 mx -all'], 'v=spf1 mx include:spf.improvmx.com -all'),
    ('v=spf1 include:spf.improvmx.com ~all', 'v=spf1 include:spf.improvmx.com ~all'),
    ('v=spf1 a redirect=_spf.example.com', 'v=spf1 a include:spf.improvmx.com redirect=_spf.example.com'),
    ('v=spf1 a', 'v=spf1 a include:spf.improvmx.com'),
    (None, 'v=spf1 include:spf.improvmx.com ~all'),
    ('not an spf record', 'v=spf1 include:spf.improvmx.com ~all'),
])
def test_spf_without_expected_value_keeps_the_current_mechanisms(current, merged):
    assert dns.merged_spf(current) == merged
    answer = records(spf={'expected': None, 'valid': False, 'values': current})
    [spf] = by_check(dns.dns_records('example.com', answer), 'spf')
    assert spf['value'] == merged


def test_names_are_fqdns_without_trailing_dot():
    result = dns.dns_records('Example.COM.', REFERENCE_RECORDS)
    names = sorted(set(r['name'] for r in result))
    assert names == ['_dmarc.example.com', 'dkimprovmx1._domainkey.example.com', 'dkimprovmx2._domainkey.example.com', 'example.com']
    assert not any(r['value'].endswith('.') for r in result if r['type'] in ('MX', 'CNAME'))


def test_dkim_selector_can_be_given():
    result = dns.dns_records('example.com', REFERENCE_RECORDS, dkim_selector='custom')
    assert [r['name'] for r in by_check(result, 'dkim1') + by_check(result, 'dkim2')] == [
        'custom1._domainkey.example.com', 'custom2._domainkey.example.com']


def test_missing_checks_give_no_record_and_are_not_reported_invalid():
    answer = {'mx': REFERENCE_RECORDS['mx'], 'spf': REFERENCE_RECORDS['spf'], 'valid': False, 'error': None}
    result = dns.dns_records('example.com', answer)
    assert [r['check'] for r in result] == ['mx', 'mx', 'spf']
    assert dns.invalid_checks(answer) == ['spf']


def test_only_true_counts_as_valid():
    answer = records()
    answer['mx']['valid'] = None
    answer['dkim1']['valid'] = 'yes'
    answer['dkim2'].pop('valid')
    assert dns.invalid_checks(answer) == ['mx', 'spf', 'dkim1', 'dkim2', 'dmarc']
    assert not any(r['valid'] for r in dns.dns_records('example.com', answer))


@pytest.mark.parametrize('error, passed', [
    (None, None),
    ('', None),
    ('The domain has no MX record', 'The domain has no MX record'),
    ({'mx': ['missing']}, {'mx': ['missing']}),
])
def test_error_is_passed_through(error, passed):
    assert dns.check_error(records(error=error)) == passed


@pytest.mark.parametrize('answer', [None, {}, {'valid': None}])
def test_empty_answers(answer):
    assert dns.dns_records('example.com', answer) == []
    assert dns.invalid_checks(answer) == []
    assert dns.overall_valid(answer) is False
    assert dns.check_error(answer) is None


def test_every_record_has_the_same_keys():
    for record in dns.dns_records('example.com', REFERENCE_RECORDS):
        assert sorted(record) == ['check', 'name', 'priority', 'type', 'valid', 'value']
        assert (record['priority'] is None) == (record['type'] != 'MX')


# -- record sets (issue 23) ------------------------------------------------------------------------------

def test_record_sets_of_the_reference_answer():
    sets = dns.record_sets('piedpiper.com', REFERENCE_RECORDS)
    assert [(s['check'], s['type'], s['name'], s['action']) for s in sets] == [
        ('mx', 'MX', 'piedpiper.com', 'replace'),
        ('spf', 'TXT', 'piedpiper.com', 'merge'),
        ('dkim1', 'CNAME', 'dkimprovmx1._domainkey.piedpiper.com', 'replace'),
        ('dkim2', 'CNAME', 'dkimprovmx2._domainkey.piedpiper.com', 'replace'),
        ('dmarc', 'TXT', '_dmarc.piedpiper.com', 'create'),
    ]
    mx = sets[0]
    # One MX set holding both hosts and their priorities, never one host alone.
    assert mx['values'] == ['10 mx1.improvmx.com', '20 mx2.improvmx.com']
    assert mx['entries'] == [{'value': 'mx1.improvmx.com', 'priority': 10}, {'value': 'mx2.improvmx.com', 'priority': 20}]
    assert mx['found'] == ['mx2.improvmx.com', 'mx1.improvmx.com']
    assert mx['ttl'] == 3600 and mx['valid'] is True
    spf = sets[1]
    assert spf['values'] == ['v=spf1 include:someservice.org include:spf.improvmx.com ~all']
    assert spf['found'] == ['v=spf1 include:someservice.org ~all']
    assert spf['valid'] is False
    assert sets[2]['values'] == ['dkimprovmx1.improvmx.com']
    assert sets[4]['values'] == ['v=DMARC1; p=none;'] and sets[4]['found'] == []


def test_record_sets_leave_dmarc_out_when_the_name_has_one():
    strict = records(dmarc={'expected': 'v=DMARC1; p=none;', 'valid': False, 'values': 'v=DMARC1; p=reject; rua=mailto:d@example.org'})
    assert [s['check'] for s in dns.record_sets('piedpiper.com', strict)] == ['mx', 'spf', 'dkim1', 'dkim2']


def test_record_sets_use_the_selector_and_a_ttl():
    sets = dns.record_sets('piedpiper.com', REFERENCE_RECORDS, dkim_selector='wl', ttl=300)
    assert [s['name'] for s in sets if s['check'].startswith('dkim')] == ['wl1._domainkey.piedpiper.com', 'wl2._domainkey.piedpiper.com']
    assert {s['ttl'] for s in sets} == {300}


def test_record_sets_found_lists_a_foreign_mx():
    answer = records(mx={'expected': ['mx1.improvmx.com', 'mx2.improvmx.com'], 'valid': False, 'values': 'aspmx.l.google.com'})
    assert dns.record_sets('piedpiper.com', answer)[0]['found'] == ['aspmx.l.google.com']


# -- the check answered at the top level (issue 22, item 5) ----------------------------------------------

def test_top_level_answer_is_read_as_the_records_object():
    answer = dict(copy.deepcopy(REFERENCE_RECORDS), success=False)
    assert dns.top_level_records(answer) == REFERENCE_RECORDS
    assert dns.top_level_records({'success': False, 'error': 'boom'}) is None
    assert dns.top_level_records(['not', 'a', 'dict']) is None


class _Client(object):
    def __init__(self, answer):
        self.answer = answer

    def get(self, path, params=None, accept_unsuccessful=False):
        return self.answer


@pytest.mark.parametrize('shape', ['records', 'top'])
def test_domain_check_reads_both_shapes(shape):
    answer = {'records': copy.deepcopy(REFERENCE_RECORDS), 'success': False} if shape == 'records' else dict(
        copy.deepcopy(REFERENCE_RECORDS), success=False)
    got = dns.DomainCheck(_Client(answer)).records('piedpiper.com')
    assert got == REFERENCE_RECORDS
    assert dns.invalid_checks(got) == ['spf', 'dmarc']


def test_domain_check_without_records_in_either_shape_fails_clearly():
    with pytest.raises(dns.ImprovMXError, match='no records object: nope'):
        dns.DomainCheck(_Client({'success': False, 'error': 'nope'})).records('piedpiper.com')
