# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The improvmx.email.spf_merge filter: the TXT set of a name with exactly one SPF that includes ImprovMX."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.improvmx.email.plugins.filter import spf_merge as plugin
from ansible_collections.improvmx.email.plugins.module_utils import dns

merge = plugin.spf_merge
VERIFY = 'google-site-verification=4x9QpT3-abcdef'


def test_the_filter_is_registered():
    assert plugin.FilterModule().filters() == {'spf_merge': plugin.spf_merge}


@pytest.mark.parametrize('values', [None, [], '', ['']])
def test_no_txt_at_all_gives_improvmx_spf(values):
    assert merge(values) == ['v=spf1 include:spf.improvmx.com ~all']


def test_no_spf_adds_one_and_keeps_the_other_values():
    assert merge([VERIFY, 'some other text']) == [VERIFY, 'some other text', 'v=spf1 include:spf.improvmx.com ~all']


def test_one_spf_is_extended_in_place_keeping_mechanisms_and_all_qualifier():
    values = [VERIFY, 'v=spf1 ip4:192.0.2.0/24 include:_spf.google.com ~all', 'zzz']
    assert merge(values) == [VERIFY, 'v=spf1 ip4:192.0.2.0/24 include:_spf.google.com include:spf.improvmx.com ~all', 'zzz']


@pytest.mark.parametrize('qualifier', ['-all', '~all', '?all', '+all'])
def test_the_all_qualifier_is_kept(qualifier):
    assert merge(['v=spf1 include:_spf.google.com %s' % qualifier]) == [
        'v=spf1 include:_spf.google.com include:spf.improvmx.com %s' % qualifier]


def test_no_all_term_appends_the_include():
    assert merge(['v=spf1 mx']) == ['v=spf1 mx include:spf.improvmx.com']


def test_redirect_keeps_the_redirect_and_puts_the_include_before_it():
    assert merge(['v=spf1 mx redirect=_spf.example.net']) == ['v=spf1 mx include:spf.improvmx.com redirect=_spf.example.net']


def test_already_merged_is_unchanged_so_a_rerun_writes_nothing():
    values = [VERIFY, 'v=spf1 include:_spf.google.com include:spf.improvmx.com -all']
    assert merge(values) == values
    assert merge(merge([VERIFY, 'v=spf1 include:_spf.google.com -all'])) == values


def test_include_compared_case_insensitively_and_with_a_plus():
    values = ['v=spf1 +include:SPF.ImprovMX.com ~all']
    assert merge(values) == values


def test_two_spf_records_are_refused_naming_both():
    with pytest.raises(AnsibleFilterError) as caught:
        merge(['v=spf1 include:_spf.google.com ~all', VERIFY, 'v=spf1 include:mailgun.org ~all'])
    message = str(caught.value)
    assert 'spf_merge: the name has 2 SPF records' in message
    assert 'include:_spf.google.com' in message and 'include:mailgun.org' in message
    assert 'only one' in message


def test_quoted_values_route53_style():
    values = ['"%s"' % VERIFY, '"v=spf1 include:_spf.google.com ~all"']
    assert merge(values) == ['"%s"' % VERIFY, '"v=spf1 include:_spf.google.com include:spf.improvmx.com ~all"']
    assert merge(merge(values)) == merge(values)
    # Chunked quoted SPF is read as its joined text.
    chunked = ['"v=spf1 include:_spf.google.com " "include:spf.improvmx.com ~all"']
    assert merge(chunked) == chunked


def test_long_spf_is_quoted_in_chunks_of_255():
    long_spf = 'v=spf1 ' + ' '.join('ip4:198.51.100.%d' % i for i in range(40)) + ' ~all'
    merged = merge(['"%s"' % long_spf])[0]
    assert dns.txt_text(merged) == long_spf.replace(' ~all', ' include:spf.improvmx.com ~all')
    assert all(len(chunk) <= 257 for chunk in merged.split('" "'))


def test_a_whitelabel_spf_is_merged_by_its_own_mechanisms():
    assert merge(['v=spf1 mx -all'], spf='v=spf1 include:spf.mail.example.net ~all') == [
        'v=spf1 mx include:spf.mail.example.net -all']
    assert merge([], spf='v=spf1 include:spf.mail.example.net ~all') == ['v=spf1 include:spf.mail.example.net ~all']


def test_the_api_expected_spf_with_other_includes_only_adds_what_is_missing():
    expected = 'v=spf1 include:_spf.google.com include:spf.improvmx.com ~all'
    assert merge(['v=spf1 include:_spf.google.com -all'], spf=expected) == [
        'v=spf1 include:_spf.google.com include:spf.improvmx.com -all']


def test_more_than_ten_lookups_warns(monkeypatch):
    warnings = []
    monkeypatch.setattr(plugin.display, 'warning', warnings.append)
    spf = 'v=spf1 ' + ' '.join('include:s%d.example.net' % i for i in range(9)) + ' mx ~all'
    merged = merge([spf])
    assert merged == [spf.replace(' ~all', ' include:spf.improvmx.com ~all')]
    assert len(warnings) == 1
    assert 'needs 11 DNS lookups, more than the limit of 10' in warnings[0]


def test_ten_lookups_do_not_warn(monkeypatch):
    warnings = []
    monkeypatch.setattr(plugin.display, 'warning', warnings.append)
    spf = 'v=spf1 ' + ' '.join('include:s%d.example.net' % i for i in range(8)) + ' ip4:192.0.2.1 mx ~all'
    merge([spf])
    assert warnings == []


def test_lookup_count():
    assert dns.spf_lookups('v=spf1 a mx:mx.example.net/24 ptr exists:%{i}.x.example include:a.example redirect=b.example') == 6
    assert dns.spf_lookups('v=spf1 ip4:192.0.2.1 ip6:2001:db8::1 -all exp=explain.example') == 0


def test_not_a_list_is_refused():
    with pytest.raises(AnsibleFilterError, match='expects the TXT values as a list'):
        merge({'v': 'spf'})


def test_the_spf_to_merge_must_be_an_spf():
    with pytest.raises(AnsibleFilterError, match='must start with v=spf1'):
        merge([], spf='include:spf.improvmx.com')
