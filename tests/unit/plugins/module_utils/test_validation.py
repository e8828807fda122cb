# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.improvmx.email.plugins.module_utils import validation


@pytest.mark.parametrize('raw, expected', [
    ('Example.COM', 'example.com'),
    (' example.com. ', 'example.com'),
    ('bücher.example', 'xn--bcher-kva.example'),
    ('xn--bcher-kva.example', 'xn--bcher-kva.example'),
    ('a-b.c-d.example', 'a-b.c-d.example'),
])
def test_domain_name_normalises(raw, expected):
    assert validation.domain_name(raw) == expected


@pytest.mark.parametrize('raw, problem', [
    ('', 'is empty'),
    ('exa mple.com', 'white space'),
    ('.example.com', 'starts with a dot'),
    ('example..com', 'empty label'),
    ('localhost', 'at least two labels'),
    ('-bad.example', 'invalid label'),
    ('bad_.example', 'invalid label'),
    ('a' * 64 + '.example', 'at most 63'),
    (('a' * 60 + '.') * 5 + 'com', 'at most 253'),
    ('10.0.0.1', 'numeric label'),
])
def test_domain_name_rejects(raw, problem):
    with pytest.raises(ValueError, match=problem):
        validation.domain_name(raw)


def test_email_address_lowercases_only_the_domain():
    assert validation.email_address(' John.Doe@Example.COM ') == 'John.Doe@example.com'


@pytest.mark.parametrize('raw, problem', [
    ('', 'is empty'),
    ('no-at-sign', 'exactly one @'),
    ('a@b@example.com', 'exactly one @'),
    ('.dot@example.com', 'invalid local part'),
    ('a..b@example.com', 'invalid local part'),
    ('user@localhost', 'invalid domain'),
])
def test_email_address_rejects(raw, problem):
    with pytest.raises(ValueError, match=problem):
        validation.email_address(raw)


def test_email_list_accepts_lists_and_comma_strings_and_drops_duplicates():
    assert validation.email_list('a@example.com, b@example.com') == ['a@example.com', 'b@example.com']
    assert validation.email_list(['a@example.com', 'B@example.com,a@EXAMPLE.com']) == ['a@example.com', 'B@example.com']


@pytest.mark.parametrize('raw, problem', [
    ('', 'is empty'),
    ([''], 'is empty'),
    ('a@example.com,,b@example.com', 'empty entry'),
    (['a@example.com', 3], 'as strings'),
    ({'a': 1}, 'must be a list'),
    ('not-an-address', 'exactly one @'),
])
def test_email_list_rejects(raw, problem):
    with pytest.raises(ValueError, match=problem):
        validation.email_list(raw)


def test_mailbox_name():
    assert validation.mailbox_name('Info.Desk+x') == 'info.desk+x'
    assert validation.mailbox_name('*', allow_catch_all=True) == '*'
    for bad in ('*', 'a@b', '.lead', 'tr..ail', 'sp ace', 'x' * 65):
        with pytest.raises(ValueError):
            validation.mailbox_name(bad)


def test_http_url():
    assert validation.http_url('https://hooks.example.org/a?b=c') == 'https://hooks.example.org/a?b=c'
    for bad, problem in (('ftp://x.example', 'not an http'), ('https://', 'no host'), ('http://a b', 'white space')):
        with pytest.raises(ValueError, match=problem):
            validation.http_url(bad)


def test_regex_alias_names():
    assert validation.is_regex_alias('(contact|support)') and validation.is_regex_alias('^invoice-.*$')
    assert not validation.is_regex_alias('first.last+tag') and not validation.is_regex_alias('*')
    assert validation.regex_alias(' ^[A-Z]+$ ') == '^[A-Z]+$'
    assert validation.regex_alias('(' + 'x' * 148 + ')') == '(' + 'x' * 148 + ')'
    for bad, problem in (('(' + 'x' * 149 + ')', 'at most 150'), ('(a', 'not a valid regular expression'),
                         ('(a |b)', 'white space')):
        with pytest.raises(ValueError, match=problem):
            validation.regex_alias(bad)
