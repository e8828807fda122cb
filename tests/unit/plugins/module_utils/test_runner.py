# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one module runner: the same failure for the same API error in every module, diff always."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.improvmx.email.plugins.modules import (
    improvmx_alias,
    improvmx_alias_info,
    improvmx_aliases,
    improvmx_credential_info,
    improvmx_domain_check,
    improvmx_log_info,
)

MISSING = 'the domain missing.example is not in the ImprovMX account; add it first with improvmx.email.improvmx_domain'


@pytest.mark.parametrize('module, args', [
    (improvmx_alias_info, {}),
    (improvmx_alias, {'alias': 'sales', 'forward': ['a@example.org']}),
    (improvmx_aliases, {'aliases': [{'alias': 'sales', 'forward': ['a@example.org']}]}),
    (improvmx_credential_info, {}),
    (improvmx_domain_check, {}),
    (improvmx_log_info, {}),
])
def test_a_missing_domain_fails_the_same_way_everywhere(module, args, run_module, sim_args):
    result = run_module(module, dict(sim_args, domain='missing.example', **args))
    assert result['failed'] is True
    assert result['msg'] == MISSING
    assert result['status'] == 404
    assert result['changed'] is False


def test_aliases_returns_its_diff_without_the_diff_flag(run_module, sim_args, simulator):
    simulator.seed_domain('example.com')
    result = run_module(improvmx_aliases, dict(sim_args, domain='example.com',
                                               aliases=[{'alias': 'sales', 'forward': ['a@example.org']}]))
    assert result['changed'] is True
    assert result['diff']['after']['aliases']['sales'] == 'a@example.org'
    assert 'sales' not in result['diff']['before']['aliases']


def test_a_task_error_after_a_retry_reports_api_retries(run_module, sim_args, simulator):
    simulator.seed_domain('example.com')
    simulator.add_fault(method='GET', path_regex='/aliases', kind='status', status=503, count=1)
    result = run_module(improvmx_alias, dict(sim_args, domain='example.com', alias='help', id=99, max_retry_wait=1))
    assert result['failed'] is True and result['msg'] == 'there is no alias with id 99 in domain example.com'
    assert result['changed'] is False
    assert any('HTTP 503' in line for line in result['api_retries'])
