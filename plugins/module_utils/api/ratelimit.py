# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The shared rate-limit state: what the API last said about the account's budget, kept where pacing can read it.

The answers' X-RateLimit-Limit/Remaining/Reset headers are kept, per HTTP method, in a small
locked file in a directory private to the user (RateLimitState: by default
~/.ansible/tmp/improvmx.email, default_rate_state_dir()), named after a hash of the API URL and
key (never the key itself), so that the module processes of one controller that share an
account also share what the API last said about its budget. A reset is never believed more than
one window of 60 s ahead (reset_time()). A state file that is not safe to use is refused with one
warning, and the process keeps its own state.

This file owns the state and the reading of the headers' numbers; the client (transport.py)
decides how long to wait from RateLimitState.reserve_why() and sleeps.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import hashlib
import json
import math
import os
import stat
import time

try:
    import fcntl
except ImportError:  # not on POSIX: the pacing state stays in the process
    fcntl = None

RATE_STATE_PREFIX = 'improvmx-email-ratelimit-'
RATE_STATE_DIR_NAME = 'improvmx.email'  # the default directory of the state: ~/.ansible/tmp/improvmx.email
RATE_STATE_OFF = 'off'                  # rate_limit_state: keep the state in the module's process
RATE_WINDOW = 60.0   # the API's rate-limit window: a reset is never believed further ahead than this


def _finite(value):
    """value as a float when it is a finite number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return None
    return value


def header_number(headers, name):
    """A header's value as a finite float; None when it is missing, not a number, infinite or NaN."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        return _finite(float(str(value).strip()))
    except (ValueError, OverflowError):
        return None


def reset_time(value, now):
    """The Unix time an X-RateLimit-Reset value means, never more than one window (RATE_WINDOW) ahead of now.

    The API sends a Unix time in seconds; a small number is read as seconds from now, a huge one
    as milliseconds since the epoch (a proxy's). None for a value that is not a finite number >= 0.
    """
    value = _finite(value)
    if value is None or value < 0:
        return None
    if value > 1e11:  # milliseconds since the epoch: 1e11 seconds is the year 5138
        value /= 1000.0
    if value < 1e9:  # seconds from now rather than a Unix time
        value += now
    return min(value, now + RATE_WINDOW)


class _Refused(Exception):
    """The shared state file, or its directory, is not safe to use (the reason is the message)."""


def default_rate_state_dir():
    """Where the rate-limit state is shared by default: ~/.ansible/tmp/improvmx.email (the user's own)."""
    return os.path.join(os.path.expanduser('~'), '.ansible', 'tmp', RATE_STATE_DIR_NAME)


class RateLimitState(object):
    """What the API last said about the account's budget, per HTTP method, shared through a locked file.

    The file (JSON, mode 0600) lives in a directory private to the user (directory, by default
    ~/.ansible/tmp/improvmx.email: created with mode 0700; its owner and mode are checked before
    each use) and is named after a hash of the API URL and key; it holds only numbers:
    {method: {"limit", "remaining", "reset"}}. It is opened without following a symbolic link and
    without blocking, and used only when it is a regular file of the user with no other link.
    Anything else (a symbolic link, a FIFO, another user's file or directory, a directory that
    cannot be written) is refused once: the state then stays in this process, and warn(message),
    when given, is called that one time. With shared=False, or without fcntl, the state stays in
    this process from the start. A missing or corrupt file counts as knowing nothing.
    """

    def __init__(self, api_url, api_key, directory=None, shared=True, warn=None):
        digest = hashlib.sha256(('improvmx.email rate limit\0%s\0%s' % (api_url, api_key)).encode('utf-8', 'replace'))
        self.directory = directory or default_rate_state_dir()
        self.path = os.path.join(self.directory, RATE_STATE_PREFIX + digest.hexdigest()[:32] + '.json')
        self.shared = shared and fcntl is not None
        self.refused = None  # why the file is not used (set once, when it is refused)
        self._warn = warn
        self._local = {}

    def _refuse(self, reason):
        self.refused = reason
        if self._warn is not None:
            self._warn('the shared rate-limit state %s is not used: %s. This task spaces its API requests out on '
                       'its own, not together with the other tasks that use the same account. Set the option '
                       'rate_limit_state (or IMPROVMX_RATE_LIMIT_STATE) to a directory of your own (mode 0700), '
                       'or to off to keep the state per task without this warning' % (self.path, reason))

    def _directory(self):
        """Make sure the directory is a real directory of this user that no one else may enter, or raise _Refused."""
        directory = self.directory
        if not os.path.isabs(directory):
            raise _Refused('its directory %r is not an absolute path' % directory)
        try:
            info = os.lstat(directory)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise _Refused('its directory cannot be read (%s)' % exc.strerror)
            try:
                os.makedirs(directory, 0o700)
            except OSError as made:
                if made.errno != errno.EEXIST:
                    raise _Refused('its directory cannot be created (%s)' % made.strerror)
            info = os.lstat(directory)
        if stat.S_ISLNK(info.st_mode):
            raise _Refused('its directory %s is a symbolic link' % directory)
        if not stat.S_ISDIR(info.st_mode):
            raise _Refused('%s is not a directory' % directory)
        if info.st_uid != os.geteuid():
            raise _Refused('its directory %s belongs to another user (uid %d)' % (directory, info.st_uid))
        if info.st_mode & 0o077:
            raise _Refused('its directory %s is open to other users (mode %04o; it must be 0700)'
                           % (directory, stat.S_IMODE(info.st_mode)))

    def _open(self):
        """The state file, opened read-write (created when missing): a file descriptor, or raise _Refused."""
        self._directory()
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0)
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _Refused('it is a symbolic link')
            raise _Refused('it cannot be opened (%s)' % exc.strerror)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise _Refused('it is not a regular file')
            if info.st_uid != os.geteuid():
                raise _Refused('it belongs to another user (uid %d)' % info.st_uid)
            if info.st_nlink != 1:
                raise _Refused('it has other hard links')
            if info.st_mode & 0o022:
                raise _Refused('other users may write it (mode %04o)' % stat.S_IMODE(info.st_mode))
        except _Refused:
            os.close(fd)
            raise
        return fd

    def _update(self, change, create=True):
        """Apply change(state) -> result under the lock and save the state; returns the result.

        Without create, a missing file is not made: only an answer with rate-limit headers creates it.
        """
        if not self.shared or self.refused is not None or (not create and not os.path.lexists(self.path)):
            return change(self._local)
        try:
            fd = self._open()
        except _Refused as exc:
            self._refuse(str(exc))
            return change(self._local)
        except OSError:
            return change(self._local)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = b''
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                raw += chunk
            try:
                state = json.loads(raw.decode('utf-8')) if raw.strip() else {}
            except ValueError:
                state = {}
            if not isinstance(state, dict):
                state = {}
            result = change(state)
            data = json.dumps(state, sort_keys=True).encode('utf-8')
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, data)
            if len(data) < len(raw):
                # Only cut what the old state had beyond the new one: truncating to zero first costs a
                # file system round trip on every request (milliseconds on a busy disk).
                os.ftruncate(fd, len(data))
            return result
        except (OSError, ValueError):
            return change(self._local)
        finally:
            os.close(fd)

    def learn(self, bucket, headers, now=None):
        """Keep what an answer's X-RateLimit-* headers say; answers without them change nothing.

        A fresh answer replaces what was known, except within the same window (the same reset),
        where an answer that arrived late must not restore spent budget. A reset is never
        believed more than one window ahead (reset_time).
        """
        now = time.time() if now is None else now
        remaining = header_number(headers, 'X-RateLimit-Remaining')
        reset = reset_time(header_number(headers, 'X-RateLimit-Reset'), now)
        if remaining is None or reset is None:
            return
        limit = header_number(headers, 'X-RateLimit-Limit')

        def change(state):
            known = state.get(bucket)
            if isinstance(known, dict) and _finite(known.get('reset')) == reset:
                stored = _finite(known.get('remaining'))
                remaining_now = remaining if stored is None else min(remaining, stored)
            else:
                remaining_now = remaining
            state[bucket] = {'limit': limit, 'remaining': max(0.0, remaining_now), 'reset': reset}

        self._update(change)

    def reserve(self, bucket, now=None):
        """Seconds to wait before one more request of this bucket (0 when the budget is fine), and count it."""
        return self.reserve_why(bucket, now)[0]

    def reserve_why(self, bucket, now=None):
        """(seconds to wait, why) before one more request of this bucket, and count it; why is None without a wait.

        A stored state that cannot be true (a reset more than one window ahead, a number that is
        not finite) is dropped, as if nothing were known.
        """
        now = time.time() if now is None else now

        def change(state):
            known = state.get(bucket)
            if not isinstance(known, dict):
                return 0.0, None
            reset = _finite(known.get('reset'))
            remaining = _finite(known.get('remaining'))
            if reset is None or remaining is None or remaining < 0 or reset > now + RATE_WINDOW + 1:
                del state[bucket]
                return 0.0, None
            if reset <= now:
                return 0.0, None
            limit = _finite(known.get('limit'))
            low = max(1.0, (limit or 10.0) * 0.1)
            until_reset = reset - now
            said = 'the API said %d%s %s requests were left in its rate-limit window, which resets in %.0f s' % (
                remaining, ' of %d' % limit if limit else '', bucket, until_reset)
            if remaining < 1:
                return until_reset, said  # the window is spent: the next request fits after its reset
            known['remaining'] = remaining - 1
            if remaining > low:
                return 0.0, None
            return until_reset / (remaining + 1), said + ', so the requests are spread over that time'

        return self._update(change, create=False) or (0.0, None)
