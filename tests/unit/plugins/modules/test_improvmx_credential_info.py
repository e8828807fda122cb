# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""improvmx_credential_info run in-process against the API simulator (loopback HTTP)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest


from ansible_collections.improvmx.email.plugins.modules import improvmx_credential_info


@pytest.fixture
def run(run_module, sim_args):
    """run(args, check_mode=False) -> result (with failed=True when the module failed)."""
    def _run(args, check_mode=False):
        return run_module(improvmx_credential_info, dict(sim_args, **args), check_mode=check_mode)

    return _run


def test_lists_credentials_without_passwords(run, simulator):
    simulator.seed_domain('example.com', credentials=[
        {'username': 'richard', 'password': 'Secret-richard-1', 'usage': 4, 'created': 1581604970000},
        {'username': 'monica', 'password': 'Secret-monica-1', 'created': 1581607028000, 'is_limited': True},
    ])
    result = run({'domain': 'Example.COM'}, check_mode=True)
    assert not result.get('failed'), result
    assert result['changed'] is False
    assert sorted(result['credentials'], key=lambda c: c['username']) == [
        {'username': 'monica', 'usage': 0, 'created': 1581607028000, 'is_limited': True},
        {'username': 'richard', 'usage': 4, 'created': 1581604970000, 'is_limited': False},
    ]
    assert 'Secret-' not in json.dumps(result)
    assert simulator.writes() == []


def test_no_credentials_is_an_empty_list(run, simulator):
    simulator.seed_domain('example.com')
    result = run({'domain': 'example.com'})
    assert result['credentials'] == []


def test_missing_domain_fails_clearly(run, simulator):
    result = run({'domain': 'example.com'})
    assert result['failed']
    assert 'example.com is not in the ImprovMX account' in result['msg']


def test_non_premium_account_fails_with_a_clear_message(run, simulator):
    simulator.seed_domain('example.com')
    simulator.configure(premium=False)
    result = run({'domain': 'example.com'})
    assert result['failed']
    assert result['msg'].startswith('SMTP credentials need a premium ImprovMX plan')
    assert result['status'] == 403


def test_bad_domain_fails_naming_the_option(run, simulator):
    result = run({'domain': 'example'})
    assert result['failed']
    assert result['msg'].startswith('domain ')
    assert simulator.requests == []
