# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of improvmx_account_info: the module runs in-process against the simulator."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest


from ansible_collections.improvmx.email.plugins.modules import improvmx_account_info as module_under_test


@pytest.fixture
def run(run_module):
    """run(args) -> (result, failed, warnings): main() through the shared run_module fixture."""
    def _run(args):
        result = run_module(module_under_test, args)
        return result, bool(result.pop('failed', False)), list(run_module.warnings)

    return _run


def sim_args(simulator, **args):
    args.update(api_key=simulator.api_key, api_url=simulator.url)
    return args


def test_account_and_whitelabels(run, simulator):
    simulator.seed_whitelabel('example.net')
    simulator.seed_whitelabel('mail.example.org')

    result, failed, warnings = run(sim_args(simulator))

    assert not failed, result
    assert result['changed'] is False
    assert result['account']['email'] == 'owner@example.net'
    assert result['account']['premium'] is True
    assert result['account']['limits']['domains'] == 10000
    assert result['whitelabels'] == [{'name': 'example.net'}, {'name': 'mail.example.org'}]
    assert [(r['method'], r['path']) for r in simulator.requests] == [('GET', '/account'), ('GET', '/account/whitelabels')]
    assert warnings == []


def test_free_account_without_whitelabels(run, simulator_factory):
    simulator = simulator_factory(premium=False)

    result, failed, _warnings = run(sim_args(simulator))

    assert not failed, result
    assert result['account']['premium'] is False
    assert result['account']['plan']['kind'] == 'free'
    assert result['whitelabels'] == []


def test_whitelabels_refused_gives_an_empty_list_and_a_warning(run, simulator):
    simulator.add_fault('GET', r'/account/whitelabels$', status=403,
                        body={'error': 'This feature requires a business plan', 'code': 403, 'success': False})

    result, failed, warnings = run(sim_args(simulator))

    assert not failed, result
    assert result['account']['email'] == 'owner@example.net'
    assert result['whitelabels'] == []
    assert len(warnings) == 1 and 'business plan' in warnings[0]


def test_other_whitelabel_errors_fail(run, simulator):
    simulator.add_fault('GET', r'/account/whitelabels$', status=400,
                        body={'errors': {'account': ['Account is locked']}, 'success': False})

    result, failed, _warnings = run(sim_args(simulator))

    assert failed
    assert result['status'] == 400
    assert result['api_errors'] == {'account': ['Account is locked']}


def test_bad_key_fails_without_showing_it(run, simulator):
    result, failed, _warnings = run(dict(sim_args(simulator), api_key='not-the-right-key'))

    assert failed
    assert result['status'] == 401
    assert 'not-the-right-key' not in repr(result)


def test_check_mode_reads_normally(run, simulator):
    result, failed, _warnings = run(sim_args(simulator, _ansible_check_mode=True))

    assert not failed, result
    assert result['account']['email'] == 'owner@example.net'
    assert simulator.writes() == []
