# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The bad-input rows of the reliability matrix, for every module that has the option.

Each bad value must fail the task with a message that names the option and the problem, before
any request is sent (the simulator sees none); an internationalised domain name is not bad
input and must be sent in its IDNA form.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from reliability_cases import cell_id, columns_of
import reliability_scenarios as S

IDN = 'bücher.example'
IDNA = 'xn--bcher-kva.example'
SIX = ['d%d@example.org' % i for i in range(6)]  # the simulator's account allows 5 destinations
LONG_LOCAL = 'l' * 65 + '@example.org'
LONG_ADDRESS = 'x' * 60 + '@' + '.'.join(c * 63 for c in 'abc') + '.com'  # 256 characters, a valid domain
NON_LATIN1_KEY = 'sk-\u043a\u043b\u044e\u0447-9f2c7e41'


def cells(row):
    return [pytest.param(row, column, id=cell_id(row, column)) for column in columns_of(row)]


@pytest.fixture
def sim(simulator_factory):
    return simulator_factory(api_key=S.API_KEY)


def _args(column):
    args = {'api_key': S.API_KEY, 'api_url': None}
    args.update(S.success_run(column)[1])
    return args


def _set_entry(args, **values):
    """improvmx_domains: change the first domain of its list; the message names the option domains."""
    args['domains'] = [dict(args['domains'][0], **values)]
    return 'domains'


def _set_alias(column, args, name):
    if column == 'improvmx_domains':
        return _set_entry(args, aliases=[{'alias': name, 'forward': ['ok@example.org']}])
    if column == 'improvmx_aliases':
        args['aliases'] = [dict(args['aliases'][0], alias=name)]
        return 'aliases'
    option = 'username' if column == 'improvmx_credential' else 'alias'
    args[option] = name
    return option


def _set_forward(column, args, forward):
    if column == 'improvmx_domains':
        return _set_entry(args, aliases=[{'alias': 'sales', 'forward': forward}])
    if column in ('improvmx_aliases', 'improvmx_rules'):
        key = column[len('improvmx_'):]
        args[key] = [dict(args[key][0], forward=forward)]
        return key
    args['forward'] = forward
    return 'forward'


def _set_address(value):
    """A too long address where the module takes one; improvmx_aliases gets it next to a valid entry."""
    def change(column, args):
        if column == 'improvmx_domains':
            return _set_entry(args, notification_email='ok@example.org',
                              aliases=[{'alias': 'fine', 'forward': ['ok@example.org']}, {'alias': 'long', 'forward': [value]}])
        if column == 'improvmx_domain':
            args['notification_email'] = value
            return 'notification_email'
        if column == 'improvmx_aliases':
            args['aliases'] = [{'alias': 'fine', 'forward': ['ok@example.org']}, {'alias': 'long', 'forward': [value]}]
            return 'aliases'
        if column == 'improvmx_rules':
            args['rules'] = [{'type': 'alias', 'alias': 'fine', 'forward': ['ok@example.org']},
                             {'type': 'alias', 'alias': 'long', 'forward': [value]}]
            return 'rules'
        args['forward'] = ['ok@example.org', value]
        return 'forward'
    return change


def _empty_purge(column, args):
    option = column[len('improvmx_'):]  # aliases, domains or rules
    args.update({option: [], 'purge': True})
    return option


def _duplicates(column, args):
    if column == 'improvmx_domains':  # the same domain twice (any case)
        args['domains'] = [{'domain': 'Example.com'}, {'domain': 'example.com'}]
        return 'domains'
    if column == 'improvmx_rules':  # the same rule twice (a plain alias name in any case)
        args['rules'] = [{'type': 'alias', 'alias': 'Sales', 'forward': ['a@example.org']},
                         {'type': 'alias', 'alias': 'sales', 'forward': ['b@example.org']}]
        return 'rules'
    args.update(aliases=[{'alias': 'Sales', 'forward': ['a@example.org']}, {'alias': 'sales', 'forward': ['b@example.org']}])
    return 'aliases'


def _set_password(value):
    def change(column, args):
        if column == 'improvmx_domains':
            return _set_entry(args, credentials=[{'username': 'newsletter', 'password': value}])
        args['password'] = value
        return 'password'
    return change


def _set(option, value):
    def change(column, args):
        if column == 'improvmx_domains' and option in ('domain', 'webhook'):
            # improvmx_domains takes these in its list of domains
            args['domains'] = [dict(args['domains'][0], **{option: value})]
            return 'domains'
        args[option] = value
        return option
    return change


# row -> [(how to break the arguments, words the message must contain)]
BAD = {
    'domain-space': [(_set('domain', 'exa mple.com'), ['white space'])],
    'domain-leading-dot': [(_set('domain', '.example.com'), ['starts with a dot'])],
    'domain-too-long': [(_set('domain', 'a' * 64 + '.com'), ['label of 64 characters']),
                        (_set('domain', ('a' * 60 + '.') * 5 + 'com'), ['308 characters', 'at most 253'])],
    'domain-bad-idn': [(_set('domain', '-bücher.example'), ['hyphen']),
                       (_set('domain', 'xn--zz.example'), ['not a valid internationalised domain name']),
                       (_set('domain', 'bü_cher.example'), ['invalid label'])],
    'alias-invalid': [(lambda column, args: _set_alias(column, args, 'bad alias'), ['not a valid mailbox name']),
                      (lambda column, args: _set_alias(column, args, 'a..b'), ['not a valid mailbox name']),
                      (lambda column, args: _set_alias(column, args, 'sales@example.com'), ['only the part before the @'])],
    'destination-invalid': [(lambda column, args: _set_forward(column, args, ['not-an-email']), ['not an e-mail address']),
                            (lambda column, args: _set_forward(column, args, ['a@example.org', 'b@exa mple.org']),
                             ['invalid domain'])],
    'destination-empty': [(lambda column, args: _set_forward(column, args, []), ['empty']),
                          (lambda column, args: _set_forward(column, args, ''), ['empty']),
                          (lambda column, args: _set_forward(column, args, ['a@example.org', ' ']), ['empty entry'])],
    'address-too-long': [(_set_address(LONG_LOCAL), ['local part of 65 characters', 'at most 64']),
                         (_set_address(LONG_ADDRESS), ['256 characters', 'at most 254'])],
    'purge-empty': [(_empty_purge, {'improvmx_aliases': ['every alias', 'allow_empty_purge: true'],
                                    '*': ['is empty and purge is true', 'allow_empty_purge']})],
    'duplicate-aliases': [(_duplicates, {'improvmx_rules': ['the same rule as rules[0]'], '*': ['listed twice']})],
    'webhook-not-http': [(_set('webhook', 'ftp://hooks.example.org/improvmx'), ['not an http:// or https:// URL']),
                         (_set('webhook', 'hooks.example.org/improvmx'), ['not an http:// or https:// URL'])],
    'password-empty': [(_set_password(''), ['empty']), (_set_password('   '), ['white space'])],
    'api-key-empty': [(_set('api_key', ''), ['empty'])],
    'api-key-whitespace': [(_set('api_key', '  \t '), ['empty'])],
    'api-url-not-url': [(_set('api_url', 'not a url'), ['not an http:// or https:// URL']),
                        (_set('api_url', 'api.improvmx.com/v3/'), ['not an http:// or https:// URL']),
                        (_set('api_url', 'ftp://api.improvmx.com/v3/'), ['not an http:// or https:// URL'])],
    'api-url-bad-host': [(_set('api_url', 'http://[bad'), ['http://[bad']),
                         (_set('api_url', 'https://api.improvmx.com:99999/v3/'), ['Port out of range'])],
    'api-key-not-latin1': [(_set('api_key', NON_LATIN1_KEY), ['cannot be sent in an HTTP header', 'not shown'])],
}
ROWS = list(BAD)


@pytest.mark.parametrize('row, column', [p for row in ROWS for p in cells(row)])
def test_bad_input_fails_naming_the_option_before_any_request(row, column, sim, run_module, record_property):
    seed = S.success_run(column)[0]
    seed(sim)
    for breaks, words in BAD[row]:
        sim.clear_requests()
        args = _args(column)
        args['api_url'] = sim.url
        option = breaks(column, args)

        result = run_module(S.MODULES[column], args)

        S.assert_clean(result)
        assert result.get('failed') is True, (args, result)
        # the option, or one entry of a list option (rules[0]: forward ...)
        assert result['msg'].startswith((option + ' ', option + ':', option + '[')), result['msg']
        if isinstance(words, dict):  # the words of one module, or of every other
            words = words.get(column, words['*'])
        for word in words:
            assert word in result['msg'], result['msg']
        if option == 'api_key' and args['api_key'].strip():
            assert args['api_key'] not in json.dumps(result, ensure_ascii=False) and '\\u043a' not in json.dumps(result)
        assert sim.requests == [], sim.requests
    record_property('matrix_cells', cell_id(row, column))


@pytest.mark.parametrize('row, column', cells('destinations-over-limit'))
def test_more_destinations_than_the_account_allows_writes_nothing(row, column, sim, run_module, record_property):
    seed = S.success_run(column)[0]
    seed(sim)
    args = _args(column)
    args['api_url'] = sim.url
    option = _set_forward(column, args, SIX)
    before = sim.state_snapshot()

    result = run_module(S.MODULES[column], args)

    S.assert_clean(result)
    assert result.get('failed') is True, result
    assert result['changed'] is False
    assert sim.state_snapshot() == before
    # Checked against the account's limits.destinations before any write (improvmx_aliases: before
    # the bulk request, which would apply the other entries).
    assert result['msg'].startswith((option + ': ', option + '[')) and 'forward' in result['msg'], result['msg']
    assert 'has 6 destinations' in result['msg'] and 'at most 5' in result['msg'], result['msg']
    assert sim.writes() == []
    assert [r['path'] for r in sim.requests if r['path'].startswith('/account')] == ['/account'], sim.requests
    record_property('matrix_cells', cell_id(row, column))


@pytest.mark.parametrize('row, column', cells('domain-idn'))
def test_an_internationalised_domain_is_sent_in_its_idna_form(row, column, sim, run_module, record_property):
    if column != 'improvmx_domain':
        sim.seed_domain(IDNA, credentials=[{'username': 'newsletter', 'password': S.PASSWORD}], logs=5)
    args = _args(column)
    args['api_url'] = sim.url
    _set('domain', IDN)(column, args)

    result = run_module(S.MODULES[column], args)

    S.assert_clean(result)
    assert not result.get('failed'), result
    paths = [r['path'] for r in sim.requests]
    assert any(IDNA in path for path in paths), paths
    assert all(path.isascii() for path in paths), paths
    if column == 'improvmx_domain':
        assert [w['body']['domain'] for w in sim.writes()] == [IDNA]
        assert result['domain']['domain'] == IDNA
    assert IDNA in sim.state_snapshot()['domains']
    record_property('matrix_cells', cell_id(row, column))
