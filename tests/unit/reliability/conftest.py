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

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.improvmx.email.plugins.module_utils import api, common

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

# The client's own bounds, shrunk: a single wait is at most 0.2 s, all waits of one request 1 s.
FAST = api.RetryPolicy(retries=4, max_wait=0.2, max_total_wait=1.0, backoff_factor=0.01, jitter=0.01)
FAST_TIMEOUT = 0.15


class ModuleExited(Exception):
    def __init__(self, result):
        super(ModuleExited, self).__init__(result)
        self.result = result


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
def run_module(monkeypatch):
    """run_module(module, args, check_mode=False, diff=False) -> the exit_json / fail_json dict (unmasked).

    fail_json results carry failed=True. A Python exception escaping the module is not caught:
    a traceback fails the test.
    """
    def _exit_json(self, **kwargs):  # pylint: disable=unused-argument
        kwargs.setdefault('changed', False)
        raise ModuleExited(kwargs)

    def _fail_json(self, **kwargs):  # pylint: disable=unused-argument
        kwargs['failed'] = True
        raise ModuleExited(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', _fail_json)
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, warning: None)
    monkeypatch.setattr(common, 'ImprovMXClient', FastClient)

    def run(module, args, check_mode=False, diff=False):
        args = dict(args)
        if check_mode:
            args['_ansible_check_mode'] = True
        if diff:
            args['_ansible_diff'] = True
        with patch_module_args(args):
            try:
                module.main()
            except ModuleExited as exc:
                return exc.result
        raise AssertionError('the module returned without exit_json or fail_json')

    return run
