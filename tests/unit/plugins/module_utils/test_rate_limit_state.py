# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The shared rate-limit state (api.RateLimitState): a file in a directory private to the user, never
followed through a link, never blocking, refused with one warning when it is not safe; and what it
believes of a reset: never more than one window ahead, a fresh answer replacing the stored one.

Time is a fake clock and the client's sleeps are recorded, not slept.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat
import tempfile
import threading

import pytest

from ansible_collections.improvmx.email.plugins.module_utils import api
from ansible_collections.improvmx.email.plugins.module_utils.api import ratelimit, transport
from ansible_collections.improvmx.email.plugins.module_utils.api import (
    RATE_WINDOW,
    ImprovMXClient,
    RateLimitState,
    RetryPolicy,
    default_rate_state_dir,
)

URL = 'https://api.example.test/v3/'
NOW = 1800000000.0
OTHER_UID = 65534  # nobody


def _headers(limit, remaining, reset):
    return {'X-RateLimit-Limit': str(limit), 'X-RateLimit-Remaining': str(remaining), 'X-RateLimit-Reset': str(reset)}


@pytest.fixture
def private_dir(tmp_path):
    directory = tmp_path / 'state'
    directory.mkdir(mode=0o700)
    return str(directory)


def _state(directory, warnings):
    return RateLimitState(URL, 'sk_key', directory, warn=warnings.append)


def _uses_its_own_state(state):
    """A spent budget learnt after the refusal still paces: the process keeps its own state."""
    state.learn('GET', _headers(150, 0, NOW + 30), now=NOW)
    return state.reserve('GET', now=NOW) == pytest.approx(30)


def _assert_refused_once(state, warnings, reason):
    assert state.refused is not None and reason in state.refused, state.refused
    assert len(warnings) == 1, warnings
    assert reason in warnings[0] and state.path in warnings[0] and 'rate_limit_state' in warnings[0]
    assert 'sk_key' not in warnings[0]
    # Later requests neither touch the file again nor warn again.
    for _index in range(3):
        state.learn('GET', _headers(150, 5, NOW + 30), now=NOW)
        state.reserve('GET', now=NOW)
    assert len(warnings) == 1, warnings


# -- where the state lives ---------------------------------------------------------------------------


def test_the_default_directory_is_private_under_the_users_ansible_tmp(tmp_path, monkeypatch):
    home = tmp_path / 'home'
    home.mkdir()
    monkeypatch.setenv('HOME', str(home))
    assert default_rate_state_dir() == str(home / '.ansible' / 'tmp' / 'improvmx.email')
    warnings = []
    state = RateLimitState(URL, 'sk_key', warn=warnings.append)
    assert os.path.dirname(state.path) == default_rate_state_dir()

    state.learn('GET', _headers(150, 3, NOW + 30), now=NOW)

    info = os.lstat(default_rate_state_dir())
    assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == os.geteuid()
    assert stat.S_IMODE(os.stat(state.path).st_mode) == 0o600
    with open(state.path) as handle:
        assert json.load(handle)['GET']['remaining'] == 3
    assert warnings == [] and state.refused is None


def test_sharing_off_keeps_the_state_in_the_process(private_dir):
    warnings = []
    state = RateLimitState(URL, 'sk_key', private_dir, shared=False, warn=warnings.append)
    assert _uses_its_own_state(state)
    assert os.listdir(private_dir) == [] and warnings == []


# -- the file: a link, a FIFO, another user's ----------------------------------------------------------


@pytest.mark.parametrize('link, reason', [(os.symlink, 'it is a symbolic link'), (os.link, 'it has other hard links')],
                         ids=['symlink', 'hard-link'])
def test_a_link_to_a_victim_file_is_not_used(private_dir, tmp_path, link, reason):
    victim = tmp_path / 'victim.txt'
    victim.write_text('precious data\n')
    warnings = []
    state = _state(private_dir, warnings)
    link(str(victim), state.path)

    assert _uses_its_own_state(state)

    assert victim.read_text() == 'precious data\n'
    _assert_refused_once(state, warnings, reason)
    assert victim.read_text() == 'precious data\n'


def test_a_dangling_symlink_creates_nothing_at_its_target(private_dir, tmp_path):
    target = tmp_path / 'elsewhere' / 'created-by-the-module.json'
    target.parent.mkdir()
    warnings = []
    state = _state(private_dir, warnings)
    os.symlink(str(target), state.path)

    assert _uses_its_own_state(state)

    assert not target.exists() and os.listdir(str(target.parent)) == []
    _assert_refused_once(state, warnings, 'symbolic link')
    assert not target.exists()


def test_a_fifo_does_not_hang(private_dir):
    warnings = []
    state = _state(private_dir, warnings)
    os.mkfifo(state.path, 0o600)
    outcome = []

    def use():
        outcome.append(state.reserve('GET', now=NOW))  # the file exists: it is opened first
        outcome.append(_uses_its_own_state(state))

    worker = threading.Thread(target=use, daemon=True)
    worker.start()
    worker.join(10)

    assert not worker.is_alive(), 'the rate-limit state blocked on a FIFO'
    assert outcome == [0.0, True]
    _assert_refused_once(state, warnings, 'not a regular file')


def test_a_file_of_another_user_is_not_used(private_dir, monkeypatch):
    warnings = []
    state = _state(private_dir, warnings)
    planted = {'GET': {'limit': 150, 'remaining': 0, 'reset': NOW + 50}}
    with open(state.path, 'w') as handle:
        json.dump(planted, handle)
    if os.geteuid() == 0:
        os.chown(state.path, OTHER_UID, OTHER_UID)
    else:  # without the right to give a file away, the file says it belongs to someone else
        real_fstat = os.fstat

        def fstat(fd):
            info = list(real_fstat(fd))
            info[stat.ST_UID] = OTHER_UID
            return os.stat_result(info)

        monkeypatch.setattr(ratelimit.os, 'fstat', fstat)

    assert state.reserve('GET', now=NOW) == 0  # the planted budget is not believed

    _assert_refused_once(state, warnings, 'belongs to another user (uid %d)' % OTHER_UID)
    with open(state.path) as handle:
        assert json.load(handle) == planted  # and not written either


# -- the directory: read-only, a link, open to others, another user's -----------------------------------


def _read_only_directory_outcome():
    """What a RateLimitState does in a read-only directory of its own user: (refused, warnings, paced, files)."""
    base = tempfile.mkdtemp(prefix='improvmx-readonly-')
    try:
        directory = os.path.join(base, 'state')
        os.mkdir(directory, 0o700)
        if os.geteuid() != 0:
            os.chmod(directory, 0o500)
            warnings = []
            state = _state(directory, warnings)
            paced = _uses_its_own_state(state)
            return state.refused, warnings, paced, os.listdir(directory)
        # root may write anywhere: the check runs in a child process as another user, whose own
        # directory is read-only to it.
        os.chmod(base, 0o711)
        os.chown(directory, OTHER_UID, OTHER_UID)
        os.chmod(directory, 0o500)
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child)
            code = 1
            try:
                os.close(reader)
                os.setgid(OTHER_UID)
                os.setuid(OTHER_UID)
                warnings = []
                state = _state(directory, warnings)
                paced = _uses_its_own_state(state)
                os.write(writer, json.dumps([state.refused, warnings, paced]).encode('utf-8'))
                code = 0
            finally:
                os._exit(code)  # pylint: disable=protected-access
        os.close(writer)
        data = b''
        while True:
            chunk = os.read(reader, 65536)
            if not chunk:
                break
            data += chunk
        os.close(reader)
        _pid, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
        refused, warnings, paced = json.loads(data.decode('utf-8'))
        return refused, warnings, paced, os.listdir(directory)
    finally:
        for root, dirs, _files in os.walk(base):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o700)
        for root, dirs, files in os.walk(base, topdown=False):
            for name in files:
                os.remove(os.path.join(root, name))
            for name in dirs:
                os.rmdir(os.path.join(root, name))
        os.rmdir(base)


def test_a_read_only_directory_falls_back_with_one_warning():
    refused, warnings, paced, files = _read_only_directory_outcome()

    assert refused is not None and 'cannot be opened' in refused, refused
    assert len(warnings) == 1 and refused in warnings[0], warnings
    assert paced is True
    assert files == []


@pytest.mark.parametrize('problem', ['symlink', 'open-to-others', 'another-user', 'a-file'])
def test_a_directory_that_is_not_private_is_refused(problem, tmp_path):
    real = tmp_path / 'real'
    real.mkdir(mode=0o700)
    directory = tmp_path / 'state'
    reason = {'symlink': 'is a symbolic link', 'open-to-others': 'is open to other users (mode 0755',
              'another-user': 'belongs to another user', 'a-file': 'is not a directory'}[problem]
    if problem == 'symlink':
        directory.symlink_to(real)
    elif problem == 'a-file':
        directory.write_text('')
    else:
        directory.mkdir(mode=0o700)
        os.chmod(str(directory), 0o755 if problem == 'open-to-others' else 0o700)
        if problem == 'another-user':
            if os.geteuid() != 0:
                pytest.skip('needs root to give the directory away')
            os.chown(str(directory), OTHER_UID, OTHER_UID)
    warnings = []
    state = _state(str(directory), warnings)

    assert _uses_its_own_state(state)

    _assert_refused_once(state, warnings, reason)
    assert os.listdir(str(real)) == []
    if problem != 'a-file':
        assert os.listdir(str(directory)) == []


# -- poisoned resets ------------------------------------------------------------------------------------

YEAR_3000 = 32503680000


@pytest.mark.parametrize('reset, believed', [
    ('1e400', None),                          # infinity
    ('inf', None),
    ('nan', None),
    ('-5', None),
    (str(YEAR_3000), NOW + RATE_WINDOW),      # a Unix time far ahead: one window at most
    (str(int((NOW + 30) * 1000)), NOW + 30),  # milliseconds since the epoch (a proxy's)
    (str(int((NOW + 9000) * 1000)), NOW + RATE_WINDOW),
    ('30', NOW + 30),                         # seconds from now
    (str(NOW + 30), NOW + 30),                # a Unix time, as the API sends
])
def test_an_answers_reset_is_never_believed_more_than_one_window_ahead(private_dir, reset, believed):
    state = RateLimitState(URL, 'sk_key', private_dir)

    state.learn('GET', _headers(150, 0, reset), now=NOW)

    wait = state.reserve('GET', now=NOW)
    if believed is None:
        assert wait == 0
        assert not os.path.exists(state.path)  # nothing was learnt, so nothing was written
    else:
        assert wait == pytest.approx(believed - NOW)
        assert wait <= RATE_WINDOW


@pytest.mark.parametrize('stored', ['1e400', 'Infinity', 'NaN', '-Infinity', str(YEAR_3000),
                                    str(int((NOW + 30) * 1000)), '"soon"'])
def test_a_poisoned_stored_reset_is_dropped(private_dir, stored):
    state = RateLimitState(URL, 'sk_key', private_dir)
    with open(state.path, 'w') as handle:
        handle.write('{"GET": {"limit": 150, "remaining": 0, "reset": %s}, '
                     '"POST": {"limit": 60, "remaining": 0, "reset": %r}}' % (stored, NOW + 20))

    assert state.reserve('GET', now=NOW) == 0
    assert state.reserve('GET', now=NOW) == 0

    with open(state.path) as handle:
        kept = json.load(handle)
    assert 'GET' not in kept  # dropped, as if nothing were known
    assert state.reserve('POST', now=NOW) == pytest.approx(20)  # a sane entry beside it is kept


@pytest.mark.parametrize('field, value', [('remaining', 'NaN'), ('remaining', '-3'), ('remaining', 'Infinity'),
                                          ('limit', 'NaN')])
def test_other_poisoned_stored_numbers_do_not_stall(private_dir, field, value):
    state = RateLimitState(URL, 'sk_key', private_dir)
    entry = {'limit': '150', 'remaining': '0', 'reset': repr(NOW + 20)}
    entry[field] = value
    with open(state.path, 'w') as handle:
        handle.write('{"GET": {%s}}' % ', '.join('"%s": %s' % item for item in entry.items()))

    wait = state.reserve('GET', now=NOW)

    assert wait == (pytest.approx(20) if field == 'limit' else 0)


def test_a_fresh_answer_replaces_the_stored_state(private_dir):
    state = RateLimitState(URL, 'sk_key', private_dir)
    state.learn('GET', _headers(150, 0, NOW + 50), now=NOW)
    assert state.reserve('GET', now=NOW) == pytest.approx(50)

    # The next answer says a new window with budget to spare, its reset sooner than the one stored.
    state.learn('GET', _headers(150, 140, NOW + 10), now=NOW)

    assert state.reserve('GET', now=NOW) == 0


def test_a_late_answer_of_the_same_window_does_not_restore_spent_budget(private_dir):
    state = RateLimitState(URL, 'sk_key', private_dir)
    state.learn('GET', _headers(150, 0, NOW + 50), now=NOW)
    state.learn('GET', _headers(150, 90, NOW + 50), now=NOW)  # sent earlier, answered later
    assert state.reserve('GET', now=NOW) == pytest.approx(50)


# -- the client: the cap, and long waits in api_retries ---------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """A fake clock: time.time() of the client is NOW plus what it slept; its sleeps are recorded."""
    waits = []
    # transport.time is the time module itself: the rate-limit state (ratelimit.py) reads the same clock
    monkeypatch.setattr(transport.time, 'time', lambda: NOW + sum(waits))
    monkeypatch.setattr(transport.time, 'sleep', waits.append)
    return waits


def _client(simulator, private_dir):
    # The default bounds: a wait is capped at 60 s (max_wait), 300 s in all.
    return ImprovMXClient(simulator.api_key, simulator.url, timeout=5, retry_policy=RetryPolicy(), rate_state_dir=private_dir)


@pytest.mark.parametrize('reset', ['1e400', 'nan', str(YEAR_3000), str(int((NOW + 20) * 1000)),
                                   str(int((NOW + 86400) * 1000))])
def test_a_poisoned_reset_in_an_answer_costs_at_most_one_window(simulator, private_dir, clock, reset):
    simulator.configure(rate_limit_get=150)  # every answer carries the simulator's own X-RateLimit-*
    simulator.add_fault('GET', '/account', count=1, kind='headers',
                        headers={'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': reset})
    client = _client(simulator, private_dir)

    for _index in range(5):
        assert client.get('account/')['success']

    assert sum(clock) <= RATE_WINDOW, clock
    assert len([wait for wait in clock if wait > 0]) <= 1, clock  # the next answer replaces the poison
    long_waits = [wait for wait in clock if wait > api.PACE_REPORTED]
    paced = [line for line in client.retry_events if 'to stay within the API\'s rate limit' in line]
    assert len(paced) == len(long_waits), (clock, client.retry_events)
    for line in paced:
        assert line.startswith('GET account/: waited ')
        assert 'the API said 0 of 150 GET requests were left in its rate-limit window, which resets in' in line


@pytest.mark.parametrize('stored', ['1e400', 'NaN', str(YEAR_3000), str(int((NOW + 20) * 1000))])
def test_a_poisoned_state_file_costs_no_wait(simulator, private_dir, clock, stored):
    client = _client(simulator, private_dir)
    with open(client.rate_state.path, 'w') as handle:
        handle.write('{"GET": {"limit": 150, "remaining": 0, "reset": %s}}' % stored)

    for _index in range(3):
        assert client.get('account/')['success']

    assert sum(clock) == 0, clock
    assert client.retry_events == []


def test_a_long_pacing_wait_is_listed_with_its_reason(simulator, private_dir, clock):
    client = _client(simulator, private_dir)
    client.rate_state.learn('GET', _headers(150, 0, NOW + 40), now=NOW)

    assert client.get('account/')['success']

    assert clock == [pytest.approx(40)]
    assert client.retry_events == [
        "GET account/: waited 40.0 s before sending it, to stay within the API's rate limit: the API said 0 of 150 "
        "GET requests were left in its rate-limit window, which resets in 40 s"]


def test_a_short_pacing_wait_is_not_listed(simulator, private_dir, clock):
    client = _client(simulator, private_dir)
    client.rate_state.learn('GET', _headers(150, 9, NOW + 20), now=NOW)  # 20 s shared by the 10 requests left

    assert client.get('account/')['success']

    assert clock == [pytest.approx(2)]
    assert client.retry_events == []


def test_the_client_passes_one_warning_on(simulator, tmp_path):
    directory = tmp_path / 'state'
    directory.mkdir(mode=0o755)
    simulator.configure(rate_limit_get=150)
    seen = []
    client = ImprovMXClient(simulator.api_key, simulator.url, timeout=5, rate_state_dir=str(directory), warn=seen.append)

    for _index in range(3):
        assert client.get('account/')['success']

    assert len(seen) == 1 and client.warnings == seen
    assert 'is open to other users' in seen[0] and simulator.api_key not in seen[0]
    assert os.listdir(str(directory)) == []
