# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fault rows of the reliability matrix, for every module, in-process against the simulator.

Each test is one cell (row @ module) of docs/reliability-matrix.md; the retry waits are shrunk
(conftest.FAST), so the whole table runs in seconds.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import time

import pytest

from conftest import FAST, FAST_TIMEOUT
from reliability_cases import WRITERS, cell_id, columns_of
import reliability_scenarios as S

HTML_PAGE = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>'
WAIT = re.compile(r'retrying after ([0-9.]+) s')
# A failing run may take every retry of one request: the waits (capped) and the attempts themselves.
BOUND = FAST.max_total_wait + (FAST.retries + 1) * FAST_TIMEOUT + 3.0


def cells(row):
    return [pytest.param(row, column, id=cell_id(row, column)) for column in columns_of(row)]


@pytest.fixture
def sim(simulator_factory):
    return simulator_factory(api_key=S.API_KEY)


@pytest.fixture
def run(run_module, sim, record_property):
    """run(column, args, **connection) -> (result, seconds); every result is checked for secrets and tracebacks."""
    def _run(column, args, **connection):
        full = {'api_key': S.API_KEY, 'api_url': sim.url}
        full.update(connection)
        full.update(args)
        started = time.monotonic()
        result = run_module(S.MODULES[column], full)
        elapsed = time.monotonic() - started
        S.assert_clean(result)
        return result, elapsed

    def _record(row, column):
        record_property('matrix_cells', cell_id(row, column))

    _run.record = _record
    return _run


def _first_get_path(sim):
    gets = [r['path'] for r in sim.requests if r['method'] == 'GET']
    assert gets, sim.requests
    return gets[0].strip('/')


# -- rate limits ---------------------------------------------------------------------------------

HINTS = {
    '429-retry-after': lambda: {'Retry-After': '1'},
    '429-ratelimit-reset': lambda: {'X-RateLimit-Reset': str(int(time.time()) + 2), 'X-RateLimit-Limit': '10',
                                    'X-RateLimit-Remaining': '0'},
    '429-no-hint': lambda: {},
}


@pytest.mark.parametrize('row, column', cells('429-retry-after') + cells('429-ratelimit-reset') + cells('429-no-hint'))
def test_rate_limited_requests_wait_and_succeed(row, column, sim, run):
    seed, args, check = S.success_run(column)
    seed(sim)
    sim.add_fault('GET', '.*', count=1, status=429, headers=HINTS[row]())
    expected = 1
    if column in WRITERS:
        op = S.WRITES[column]['create']
        sim.add_fault(op.method, op.path_regex, count=1, status=429, headers=HINTS[row]())
        expected = 2

    result, elapsed = run(column, args)

    assert not result.get('failed'), result
    assert check(sim, result), (result, sim.state_snapshot())
    lines = [line for line in result.get('api_retries', []) if 'HTTP 429' in line]
    assert len(lines) == expected, result
    waits = [float(WAIT.search(line).group(1)) for line in lines]
    if row == '429-no-hint':
        assert all(wait < FAST.max_wait for wait in waits), lines  # a backoff, not the cap
    else:
        assert all(wait == FAST.max_wait for wait in waits), lines  # the hint (1 s or more) was used, capped
    assert elapsed < BOUND
    if column in WRITERS:
        assert S.applied(sim, op.method, op.path_regex) == 1
    run.record(row, column)


# -- transient failures of reads -----------------------------------------------------------------

READ_FAULTS = {
    'read-502': dict(status=502),
    'read-503': dict(status=503),
    'read-504': dict(status=504),
    'read-drop': dict(kind='drop'),
}


@pytest.mark.parametrize('row, column', cells('read-502') + cells('read-503') + cells('read-504') + cells('read-drop'))
def test_transient_read_failures_are_retried(row, column, sim, run):
    seed, args, check = S.success_run(column)
    seed(sim)
    sim.add_fault('GET', '.*', count=1, **READ_FAULTS[row])

    result, elapsed = run(column, args)

    assert not result.get('failed'), result
    assert check(sim, result), (result, sim.state_snapshot())
    retries = result.get('api_retries', [])
    assert len(retries) == 1 and retries[0].startswith('GET '), result
    if row != 'read-drop':
        assert 'HTTP %s' % READ_FAULTS[row]['status'] in retries[0]
    assert elapsed < BOUND
    run.record(row, column)


# -- writes whose answer is lost -----------------------------------------------------------------

LOST = {
    'write-applied-5xx': ('create', [dict(kind='apply_then_status', status=status) for status in (500, 502, 503, 504)]),
    'write-applied-drop': ('create', [dict(kind='apply_then_drop')]),
    'write-applied-html': ('create', [dict(kind='apply_then_status', status=200, body=HTML_PAGE)]),
    'write-applied-no-object': ('create', [dict(kind='apply_then_no_object'),
                                           dict(kind='apply_then_no_object', status=201, body={'success': True, 'x': 1})]),
    'update-applied-5xx': ('update', [dict(kind='apply_then_status', status=502)]),
    'delete-applied-drop': ('delete', [dict(kind='apply_then_drop')]),
}


@pytest.mark.parametrize('row, column', [p for row in LOST for p in cells(row)])
def test_a_write_applied_but_unanswered_is_confirmed_not_repeated(row, column, sim, run):
    which, faults = LOST[row]
    op = S.WRITES[column][which]
    for fault in faults:
        sim.reset()
        op.seed(sim)
        sim.add_fault(op.method, op.path_regex, count=1, **fault)

        result, _elapsed = run(column, op.args)

        assert not result.get('failed'), (fault, result)
        assert result['changed'] is True, result
        assert op.check(sim), (fault, sim.state_snapshot())
        if column == 'improvmx_credential' and which == 'update':
            # A password cannot be read back: the same PUT (idempotent) is sent once more.
            assert len(S.sent(sim, op.method, op.path_regex)) == 2, sim.requests
            assert any('the same (idempotent) request was sent again' in line for line in result['api_retries']), result
        else:
            assert S.applied(sim, op.method, op.path_regex) == 1, sim.requests
            assert len(S.sent(sim, op.method, op.path_regex)) == 1, sim.requests
            assert any('re-read shows the change was applied' in line for line in result['api_retries']), result
    run.record(row, column)


# -- another run changes the object between our read and our write --------------------------------

@pytest.mark.parametrize('row, column', cells('concurrent-create') + cells('concurrent-delete'))
def test_a_concurrent_change_between_read_and_write_converges(row, column, sim, run, before_write):
    # The create's "already exists" comes as {field: [messages]} and as a list of messages.
    for shape in ('fields', 'list') if row == 'concurrent-create' else ('fields',):
        op = S.WRITES[column]['create' if row == 'concurrent-create' else 'delete']
        sim.reset()
        sim.configure(error_shape=shape)
        op.seed(sim)
        before_write(lambda: op.concurrent(sim))

        result, _elapsed = run(column, op.args)

        assert not result.get('failed'), (shape, result)
        assert op.check(sim), sim.state_snapshot()
        writes = S.sent(sim, op.method, op.path_regex)
        if row == 'concurrent-delete':
            # Removed by the other run: absent all the same, and not a change of this one.
            assert result['changed'] is False, result
            assert any('already removed (by another run)' in line for line in result['api_retries']), result
        if column == 'improvmx_aliases' and row == 'concurrent-create':
            # The bulk add is refused for the two aliases the other run added: support is as wanted,
            # sales is converged by a bulk update of that one alias.
            assert [w['body']['behavior'] for w in writes] == ['add', 'update'], writes
            assert writes[1]['body']['aliases'] == [{'alias': 'sales', 'forward': ','.join(S.FORWARD)}]
            assert (result['added'], result['updated']) == ([], ['sales']), result
        else:
            assert len(writes) == 1, sim.requests
    run.record(row, column)


# -- failures that must stay failures, with a clear message ---------------------------------------

@pytest.mark.parametrize('row, column', cells('persistent-5xx-read'))
def test_persistent_5xx_on_reads_fails_in_bounded_time(row, column, sim, run):
    seed, args, _check = S.success_run(column)
    seed(sim)
    sim.add_fault('GET', '.*', count=None, status=503)

    result, elapsed = run(column, args)

    assert result.get('failed') is True, result
    path = _first_get_path(sim)
    assert 'HTTP 503' in result['msg'] and 'GET %s' % path in result['msg'], result['msg']
    assert result.get('status') == 503
    assert len(S.sent(sim, 'GET', '.*')) == FAST.retries + 1
    assert len(result['api_retries']) == FAST.retries, result
    assert elapsed < BOUND
    run.record(row, column)


@pytest.mark.parametrize('row, column', cells('persistent-5xx-write'))
def test_persistent_5xx_on_the_write_fails_without_repeating_it(row, column, sim, run):
    op = S.WRITES[column]['create']
    op.seed(sim)
    before = sim.state_snapshot()
    sim.add_fault(op.method, op.path_regex, count=None, status=500)

    result, elapsed = run(column, op.args)

    assert result.get('failed') is True, result
    assert result.get('changed') is False, result
    writes = S.sent(sim, op.method, op.path_regex)
    assert len(writes) == 1, sim.requests
    assert 'HTTP 500' in result['msg'] and '%s %s' % (op.method, writes[0]['path'].strip('/')) in result['msg'], result['msg']
    assert sim.state_snapshot()['domains'] == before['domains']
    assert elapsed < BOUND
    run.record(row, column)


NOT_JSON = {
    'html-error-page': (dict(status=502, body=HTML_PAGE, count=None), ['HTTP 502', 'not JSON', 'text/html', '502 Bad Gateway']),
    'html-200': (dict(status=200, body=HTML_PAGE, count=1), ['HTTP 200', 'not JSON', 'text/html']),
    'empty-body': (dict(status=200, body='', count=1), ['HTTP 200', 'empty body']),
}


@pytest.mark.parametrize('row, column', cells('html-error-page') + cells('html-200') + cells('empty-body'))
def test_answers_that_are_not_json_fail_clearly(row, column, sim, run):
    fault, phrases = NOT_JSON[row]
    seed, args, _check = S.success_run(column)
    seed(sim)
    sim.add_fault('GET', '.*', **fault)

    result, elapsed = run(column, args)

    assert result.get('failed') is True, result
    assert result['msg'].startswith('GET %s' % _first_get_path(sim)), result['msg']
    for phrase in phrases:
        assert phrase in result['msg'], result['msg']
    assert sim.writes() == []
    assert elapsed < BOUND
    run.record(row, column)


@pytest.mark.parametrize('row, column', cells('timeout'))
def test_a_timeout_names_the_timeout_option(row, column, sim, run):
    seed, args, _check = S.success_run(column)
    seed(sim)
    sim.add_fault('GET', '.*', count=None, kind='delay', delay=FAST_TIMEOUT * 4)

    result, elapsed = run(column, args, timeout=FAST_TIMEOUT)

    assert result.get('failed') is True, result
    assert 'GET %s' % _first_get_path(sim) in result['msg'], result['msg']
    assert 'no answer within %s seconds (the timeout option)' % FAST_TIMEOUT in result['msg'], result['msg']
    assert sim.writes() == []
    assert elapsed < BOUND
    run.record(row, column)


# -- the client's real bounds (not shrunk): time.sleep recorded instead of slept -------------------

@pytest.mark.parametrize('fault, cap', [
    (dict(status=503), 'retries'),                                   # backoff 1, 2, 4, ... 60, 60: 8 retries
    (dict(status=429, headers={'Retry-After': '120'}), 'total'),      # each wait capped at 60 s, 300 s in all
    (dict(kind='drop'), 'retries'),
])
def test_the_default_bounds_end_a_persistent_failure(fault, cap, sim, monkeypatch):
    from ansible_collections.improvmx.email.plugins.module_utils import api
    from ansible_collections.improvmx.email.plugins.module_utils.api import transport

    slept = []
    monkeypatch.setattr(transport.time, 'sleep', slept.append)
    policy = api.RetryPolicy()
    client = api.ImprovMXClient(S.API_KEY, sim.url, timeout=5)  # the default RetryPolicy
    sim.add_fault('GET', '.*', count=None, **fault)

    with pytest.raises(api.ImprovMXError) as info:
        client.get(api.api_path('account', collection=True))

    assert 'GET account/' in str(info.value)
    assert all(0 <= wait <= policy.max_wait for wait in slept), slept
    assert sum(slept) <= policy.max_total_wait, slept
    if cap == 'retries':
        assert len(slept) == policy.retries and len(S.sent(sim, 'GET', '.*')) == policy.retries + 1
    else:
        assert slept == [policy.max_wait] * int(policy.max_total_wait / policy.max_wait)
    assert len(client.retry_events) == len(slept)
