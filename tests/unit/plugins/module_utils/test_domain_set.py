# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The planner of improvmx_domains (pure functions) and the account-wide listing of domains.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.improvmx.email.plugins.module_utils.account_export import export_entry
from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXClient, RetryPolicy
from ansible_collections.improvmx.email.plugins.module_utils.domain_set import (
    parse_declaration,
    plan_domains,
)
from ansible_collections.improvmx.email.plugins.module_utils.domains import account_domains, embedded_aliases


def entry(domain, **kwargs):
    """A domains entry as AnsibleModule gives it: every suboption present, None when not given."""
    base = dict(domain=domain, notification_email=None, webhook=None, whitelabel=None, aliases=None, purge_aliases=False)
    base.update(kwargs)
    return base


def alias(name, forward, ident=1):
    return {'alias': name, 'forward': forward, 'id': ident}


def test_parse_normalises_names_and_fields():
    wanted = parse_declaration([entry('Example.COM', notification_email=' Ops@Example.org ',
                                      aliases=[{'alias': 'Sales', 'forward': ['a@example.org', 'b@example.org']}])])
    assert len(wanted) == 1
    assert wanted[0].name == 'example.com'
    assert wanted[0].values == {'notification_email': 'Ops@example.org'}
    assert wanted[0].desired == {'sales': ['a@example.org', 'b@example.org']}
    assert wanted[0].manages_aliases is True
    assert parse_declaration([entry('example.net')])[0].manages_aliases is False


def test_parse_collects_every_problem():
    with pytest.raises(ValueError) as info:
        parse_declaration([
            entry('example.com'),
            entry('EXAMPLE.com.'),
            entry('not a domain'),
            entry('example.org', aliases=[{'alias': 'bad name!', 'forward': ['a@example.org']}]),
            entry('example.net', notification_email='not-an-address'),
        ])
    text = str(info.value)
    assert "entry 2 (domain 'EXAMPLE.com.'): the domain example.com is listed twice" in text
    assert "entry 3: domain 'not a domain' contains white space" in text
    assert "entry 4 (domain 'example.org'): aliases: entry 1: alias" in text
    assert "entry 5 (domain 'example.net'): notification_email" in text


def test_purge_aliases_with_an_empty_list_needs_the_explicit_option():
    with pytest.raises(ValueError, match='allow_empty_purge'):
        parse_declaration([entry('example.com', aliases=[], purge_aliases=True)])
    with pytest.raises(ValueError, match='allow_empty_purge'):
        parse_declaration([entry('example.com', purge_aliases=True)])
    wanted = parse_declaration([entry('example.com', aliases=[], purge_aliases=True)], allow_empty_purge=True)
    assert wanted[0].manages_aliases and wanted[0].desired == {}


def test_parse_checks_the_entry_options_as_the_argument_spec_did():
    """The entries are taken as plain dicts: their options are checked, converted and defaulted here."""
    warnings = []
    wanted = parse_declaration([
        {'name': 'Example.com', 'purge_aliases': 'yes',
         'aliases': [{'name': 2024, 'destinations': 'a@example.org, b@example.org'}]},
        {'domain': 'example.net', 'name': 'example.org'},
    ], warnings=warnings)
    assert [w.name for w in wanted] == ['example.com', 'example.org']
    assert wanted[0].purge_aliases is True and wanted[0].manages_aliases is True
    assert wanted[0].desired == {'2024': ['a@example.org', 'b@example.org']}
    assert wanted[1].values == {} and wanted[1].manages_aliases is False and wanted[1].purge_aliases is False
    assert warnings == ['both option domain and its alias name are set; name is used']


def test_parse_refuses_entry_options_naming_the_option_and_the_value():
    with pytest.raises(ValueError) as info:
        parse_declaration([
            {'domain': 'a.example', 'notification': 'ops@example.org'},
            {'aliases': []},
            {'domain': 'c.example', 'purge_aliases': 'maybe'},
            {'domain': 'd.example', 'routing_engine': 'Alias'},
            {'domain': 'e.example', 'aliases': [{'alias': 'x'}, 'sales', {'alias': 'y', 'forward': ['a@example.org'], 'id': 3}]},
            {'domain': 'f.example', 'webhook': ['https://hooks.example.org/x']},
            {'domain': 'g.example', 'aliases': 'sales'},
        ])
    text = str(info.value)
    assert "entry 1 (domain 'a.example'): unsupported option notification (supported: " in text
    assert 'entry 2: domain is required' in text
    assert "entry 3 (domain 'c.example'): purge_aliases must be a boolean, got str 'maybe'" in text
    assert "entry 4 (domain 'd.example'): routing_engine must be one of alias, rules, got 'Alias'" in text
    assert "entry 5 (domain 'e.example'): aliases: entry 1: forward is required" in text
    assert "entry 5 (domain 'e.example'): aliases: entry 2 must be a dict, got str 'sales'" in text
    assert "entry 5 (domain 'e.example'): aliases: entry 3: unsupported option id" in text
    assert "entry 6 (domain 'f.example'): webhook must be a string, got list" in text
    assert "entry 7 (domain 'g.example'): aliases: entry 1 must be a dict, got str 'sales'" in text


def test_plan_adds_updates_keeps_and_removes():
    account = {
        'same.example': ({'domain': 'same.example', 'notification_email': 'ops@example.org'},
                         {'*': alias('*', 'ops@example.org')}),
        'drift.example': ({'domain': 'drift.example', 'notification_email': 'old@example.org'},
                          {'sales': alias('sales', 'a@example.org'), 'old': alias('old', 'a@example.org', 2)}),
        'other.example': ({'domain': 'other.example'}, None),
    }
    declared = parse_declaration([
        entry('same.example', notification_email='OPS@example.org', aliases=[{'alias': '*', 'forward': ['ops@example.org']}]),
        entry('drift.example', notification_email='new@example.org', purge_aliases=True,
              aliases=[{'alias': 'sales', 'forward': ['b@example.org']}, {'alias': 'new', 'forward': ['a@example.org']}]),
        entry('new.example', webhook='https://hooks.example.org/x', aliases=[{'alias': 'info', 'forward': ['a@example.org']}]),
    ])

    plans = plan_domains(account, declared)
    assert [(p.name, p.status) for p in plans] == [('same.example', 'keep'), ('drift.example', 'update'),
                                                   ('new.example', 'add')]
    assert plans[0].fields == {} and not plans[0].aliases
    assert plans[1].fields == {'notification_email': 'new@example.org'}
    assert plans[1].aliases.added == [('new', ['a@example.org'])]
    assert plans[1].aliases.updated == [('sales', ['b@example.org'])]
    assert plans[1].aliases.removed == ['old']
    assert plans[2].fields == {'webhook': 'https://hooks.example.org/x'}
    assert plans[2].aliases.added == [('info', ['a@example.org'])]

    purged = plan_domains(account, declared, purge=True)
    assert [(p.name, p.status) for p in purged][3:] == [('other.example', 'remove')]


def test_plan_of_an_unchanged_account_is_all_keep():
    account = {'a.example': ({'domain': 'a.example', 'webhook': None}, {'x': alias('x', 'b@example.org,a@example.org')})}
    declared = parse_declaration([entry('a.example', webhook='', aliases=[{'alias': 'X', 'forward': ['A@example.org', 'b@example.org']}],
                                        purge_aliases=True)])
    assert [p.status for p in plan_domains(account, declared, purge=True)] == ['keep']


def test_null_destinations_are_taken_exported_and_compared_as_themselves():
    stored = {'discard': alias('discard', 'null'), 'both': alias('both', 'a@example.org,null', 2)}
    account = {'a.example': ({'domain': 'a.example'}, stored)}
    declared = parse_declaration([entry('a.example', purge_aliases=True, aliases=[
        {'alias': 'discard', 'forward': 'NULL'}, {'alias': 'both', 'forward': ['null', 'A@example.org']}])])
    assert [p.status for p in plan_domains(account, declared, purge=True)] == ['keep']
    exported = export_entry({'domain': 'a.example'}, stored)
    assert {'alias': 'discard', 'forward': ['null']} in exported['aliases']
    assert [p.status for p in plan_domains(account, parse_declaration([exported]), purge=True)] == ['keep']
    changed = plan_domains(account, parse_declaration([entry('a.example', aliases=[{'alias': 'discard', 'forward': ['null@example.org']}])]))
    assert changed[0].aliases.updated == [('discard', ['null@example.org'])]


def test_export_entry_is_the_declaration_format_and_plans_no_change():
    domain = {'domain': 'example.com', 'notification_email': None, 'webhook': 'https://hooks.example.org/in',
              'whitelabel': None, 'aliases': []}
    aliases = {'*': alias('*', 'owner@example.org'), 'sales': alias('sales', 'a@example.org,b@example.org', 2)}
    exported = export_entry(domain, aliases)
    assert exported == {
        'domain': 'example.com', 'notification_email': '', 'webhook': 'https://hooks.example.org/in', 'whitelabel': '',
        'aliases': [{'alias': '*', 'forward': ['owner@example.org']},
                    {'alias': 'sales', 'forward': ['a@example.org', 'b@example.org']}],
        'purge_aliases': True,
    }
    declared = parse_declaration([dict(exported)])
    assert [p.status for p in plan_domains({'example.com': (domain, aliases)}, declared, purge=True)] == ['keep']
    # A domain without aliases is exported without purge_aliases (an empty purge is refused).
    assert export_entry(domain, {})['purge_aliases'] is False


def test_embedded_aliases_are_trusted_only_below_the_cap():
    assert embedded_aliases({'aliases': [alias('a', 'x@example.org')]}) == {'a': alias('a', 'x@example.org')}
    assert embedded_aliases({'aliases': [alias('a%d' % i, 'x@example.org', i) for i in range(200)]}) is None
    assert embedded_aliases({}) is None
    assert embedded_aliases({'aliases': [{'forward': 'x@example.org'}]}) is None


def test_account_listing_pages_only_the_domains_that_need_it(simulator):
    for index in range(150):
        simulator.seed_domain('d%03d.example' % index, aliases={'a': 'x@example.org'})
    simulator.seed_domain('big.example', aliases=dict(('u%03d' % i, 'x@example.org') for i in range(250)))
    client = ImprovMXClient(simulator.api_key, api_url=simulator.url, retry_policy=RetryPolicy(pacing=False))
    simulator.clear_requests()

    listing = account_domains(client, with_aliases=lambda name: name in ('big.example', 'd001.example'))

    assert len(listing) == 151
    sets = dict((domain['domain'], aliases) for domain, aliases in listing)
    assert len(sets['big.example']) == 250
    assert sets['d001.example'] == {'a': sets['d001.example']['a']}
    assert sets['d002.example'] is None
    paths = [(r['path'], r['query'].get('page')) for r in simulator.requests]
    assert paths == [('/domains', '1'), ('/domains', '2'),
                     ('/domains/big.example/aliases', '1'), ('/domains/big.example/aliases', '2'),
                     ('/domains/big.example/aliases', '3')]
