# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures of the reliability matrix: modules run in-process, tiny retry waits, a hook between read and write."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sys

import pytest


from ansible_collections.improvmx.email.plugins.module_utils import api, common

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

# The client's own bounds, shrunk: a single wait is at most 0.2 s, all waits of one request 1 s.
FAST = api.RetryPolicy(retries=4, max_wait=0.2, max_total_wait=1.0, backoff_factor=0.01, jitter=0.01)
FAST_TIMEOUT = 0.15


class FastClient(api.ImprovMXClient):
    """The real client with FAST retry bounds; runs before_write hooks once, just before the first write."""

    before_write = []

    def __init__(self, *args, **kwargs):
        kwargs['retry_policy'] = FAST
        super(FastClient, self).__init__(*args, **kwargs)

    def request(self, method, path, data=None, params=None, accept_unsuccessful=False):
        if method.upper() in api.WRITE_METHODS:
            while FastClient.before_write:
                FastClient.before_write.pop(0)()
        return super(FastClient, self).request(method, path, data=data, params=params, accept_unsuccessful=accept_unsuccessful)


class BeforeWrite(object):
    """before_write(callable): run it once, right before the module's next write (a concurrent run)."""

    def __call__(self, hook):
        FastClient.before_write.append(hook)

    @staticmethod
    def clear():
        del FastClient.before_write[:]


@pytest.fixture
def before_write():
    hooks = BeforeWrite()
    hooks.clear()
    yield hooks
    hooks.clear()


@pytest.fixture
def run_module(run_module, monkeypatch):  # pylint: disable=redefined-outer-name
    """The shared run_module (tests/unit/conftest.py) with FastClient: the real client, tiny retry waits.

    fail_json results carry failed=True. A Python exception escaping the module is not caught:
    a traceback fails the test.
    """
    monkeypatch.setattr(common, 'ImprovMXClient', FastClient)
    return run_module
