# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rows of the reliability matrix about the shared rate-limit state: a state file that is not safe to
use, and resets that cannot be true (in an answer, or stored in the file).

Each test is one cell (row @ module), run in-process against the simulator, which sends the live
API's X-RateLimit-* headers on every answer. The reset rows run the client with its real bounds
(60 s for one wait) on a fake clock: the waits are recorded, not slept.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import json
import os
import stat
import threading

import pytest

from ansible_collections.improvmx.email.plugins.module_utils import api, common
from ansible_collections.improvmx.email.plugins.module_utils.api import ratelimit, transport

from reliability_cases import cell_id, columns_of
import reliability_scenarios as S

OTHER_UID = 65534  # nobody
NOW = 1800000000.0
YEAR_3000 = 32503680000


def cells(row):
    return [pytest.param(row, column, id=cell_id(row, column)) for column in columns_of(row)]


@pytest.fixture
def sim(simulator_factory):
    simulator = simulator_factory(api_key=S.API_KEY)
    simulator.configure(rate_limit_api=True)
    return simulator


@pytest.fixture
def run(run_module, sim, record_property):
    """run(column, args, state_dir) -> result, in a thread that must end within a minute (a FIFO must not hang it)."""
    def _run(column, args, state_dir):
        full = {'api_key': S.API_KEY, 'api_url': sim.url, 'rate_limit_state': state_dir}
        full.update(args)
        outcome = []
        worker = threading.Thread(target=lambda: outcome.append(run_module(S.MODULES[column], full)), daemon=True)
        worker.start()
        worker.join(60)
        assert not worker.is_alive(), 'the module hung'
        assert outcome, 'the module raised (see the thread\'s traceback)'
        S.assert_clean(outcome[0])
        return outcome[0]

    _run.warnings = run_module.warnings
    _run.record = lambda row, column: record_property('matrix_cells', cell_id(row, column))
    return _run


def _state_path(sim, directory):
    return api.RateLimitState(sim.url, S.API_KEY, directory).path


# -- a state file that is not safe to use ---------------------------------------------------------------


def _plant(case, path, tmp_path, patch):
    """Make the state file (or its directory) unsafe; return a check that nothing outside was touched."""
    if case == 'symlink':
        victim = tmp_path / 'victim.txt'
        victim.write_text('the victim\n')
        os.symlink(str(victim), path)
        return lambda: victim.read_text() == 'the victim\n' and os.path.islink(path)
    if case == 'dangling-symlink':
        target = tmp_path / 'elsewhere' / 'target.json'
        target.parent.mkdir()
        os.symlink(str(target), path)
        return lambda: not target.exists() and os.listdir(str(target.parent)) == []
    if case == 'fifo':
        os.mkfifo(path, 0o600)
        return lambda: stat.S_ISFIFO(os.lstat(path).st_mode)
    if case == 'another-user':
        planted = json.dumps({'GET': {'limit': 150, 'remaining': 0, 'reset': 9e9}})
        with open(path, 'w') as handle:
            handle.write(planted)
        if os.geteuid() == 0:
            os.chown(path, OTHER_UID, OTHER_UID)
        else:
            real_fstat = os.fstat

            def fstat(fd):
                info = list(real_fstat(fd))
                info[stat.ST_UID] = OTHER_UID
                return os.stat_result(info)

            patch.setattr(ratelimit.os, 'fstat', fstat)
        return lambda: open(path).read() == planted
    # read-only: the directory's file system refuses writes (root could write a mode 0500 directory)
    directory = os.path.dirname(path)
    real_open = os.open

    def read_only_open(name, flags, *args, **kwargs):
        if os.path.dirname(name) == directory and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), name)
        return real_open(name, flags, *args, **kwargs)

    patch.setattr(ratelimit.os, 'open', read_only_open)
    return lambda: os.listdir(directory) == []


UNSAFE = ['symlink', 'dangling-symlink', 'fifo', 'another-user', 'read-only-directory']
REASONS = {'symlink': 'it is a symbolic link', 'dangling-symlink': 'it is a symbolic link',
           'fifo': 'it is not a regular file', 'another-user': 'it belongs to another user',
           'read-only-directory': 'it cannot be opened (Read-only file system)'}


@pytest.mark.parametrize('row, column', cells('ratelimit-state-unsafe'))
def test_an_unsafe_state_file_is_refused_with_one_warning(row, column, sim, run, tmp_path, monkeypatch):
    seed, args, check = S.success_run(column)
    for index, case in enumerate(UNSAFE):
        sim.reset()
        sim.configure(rate_limit_api=True)
        seed(sim)
        directory = tmp_path / ('state-%d' % index)
        directory.mkdir(mode=0o700)
        outside = tmp_path / ('outside-%d' % index)
        outside.mkdir()
        with monkeypatch.context() as patch:
            untouched = _plant(case, _state_path(sim, str(directory)), outside, patch)

            result = run(column, args, str(directory))

            assert not result.get('failed'), (case, result)
            assert check(sim, result), (case, result)
            about = [warning for warning in run.warnings if 'rate-limit state' in warning]
            assert len(about) == 1, (case, run.warnings)
            assert REASONS[case] in about[0] and 'rate_limit_state' in about[0], (case, about)
            assert untouched(), case
    run.record(row, column)


# -- resets that cannot be true ----------------------------------------------------------------------------

POISONS = ['1e400', 'NaN', str(YEAR_3000), str(int((NOW + 86400) * 1000)), str(int((NOW + 20) * 1000))]


@pytest.fixture
def clock(monkeypatch):
    """The client with its real bounds, on a fake clock whose time moves only when it sleeps."""
    monkeypatch.setattr(common, 'ImprovMXClient', api.ImprovMXClient)
    waits = []
    # transport.time is the time module itself: the rate-limit state (ratelimit.py) reads the same clock
    monkeypatch.setattr(transport.time, 'time', lambda: NOW + sum(waits))
    monkeypatch.setattr(transport.time, 'sleep', waits.append)
    return waits


@pytest.mark.parametrize('row, column', cells('ratelimit-reset-poisoned'))
def test_a_poisoned_reset_costs_at_most_one_window(row, column, sim, run, tmp_path, clock):
    seed, args, check = S.success_run(column)
    for index, poison in enumerate(POISONS):
        for where in ('answer', 'file'):
            sim.reset()
            sim.configure(rate_limit_api=True)
            seed(sim)
            directory = tmp_path / ('%s-%d' % (where, index))
            directory.mkdir(mode=0o700)
            if where == 'answer':  # the first answer says the budget is spent until the poisoned reset
                sim.add_fault('GET', '.*', count=1, kind='headers',
                              headers={'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': poison})
            else:  # every method's budget stored as spent until the poisoned reset
                with open(_state_path(sim, str(directory)), 'w') as handle:
                    handle.write('{%s}' % ', '.join('"%s": {"limit": 60, "remaining": 0, "reset": %s}' % (method, poison)
                                                    for method in ('GET', 'POST', 'PUT', 'DELETE')))
            del clock[:]

            result = run(column, args, str(directory))

            assert not result.get('failed'), (poison, where, result)
            assert check(sim, result), (poison, where, result)
            if where == 'file':
                assert sum(clock) == 0, (poison, clock)
            else:
                assert sum(clock) <= api.RATE_WINDOW, (poison, clock)
                assert len([wait for wait in clock if wait > 0]) <= 1, (poison, clock)
            paced = [line for line in result.get('api_retries', []) if "to stay within the API's rate limit" in line]
            assert len(paced) == len([wait for wait in clock if wait > api.PACE_REPORTED]), (clock, result)
            assert all('were left in its rate-limit window, which resets in' in line for line in paced), paced
    run.record(row, column)
