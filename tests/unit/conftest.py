# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run a module's main() in-process, the way community collections test modules.

``run_module(module, args, check_mode=False, diff=False)`` returns the dict the module
passed to exit_json, or to fail_json (then with ``failed: True``); what the module passed
to ``warn()`` during the last run is in ``run_module.warnings``. Like Ansible's executor,
it reports ``changed: false`` when the module did not say. tests/unit/reliability narrows
it to a client with tiny retry waits.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core 2.16 to 2.18 have no testing helper
    @contextlib.contextmanager
    def patch_module_args(args=None):
        """Hand ``args`` to the next AnsibleModule the way those versions read them.

        AnsibleModule's ``_load_params`` takes the arguments from ``basic._ANSIBLE_ARGS``
        when it is set, instead of stdin.
        """
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args or {}}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


class ModuleExited(Exception):
    def __init__(self, result):
        super(ModuleExited, self).__init__(result)
        self.result = result


def _exit_json(self, **kwargs):  # pylint: disable=unused-argument
    kwargs.setdefault('changed', False)
    raise ModuleExited(kwargs)


def _fail_json(self, **kwargs):  # pylint: disable=unused-argument
    kwargs.setdefault('changed', False)
    kwargs['failed'] = True
    raise ModuleExited(kwargs)


@pytest.fixture
def run_module(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', _fail_json)
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, warning: warnings.append(warning))

    def run(module, args, check_mode=False, diff=False):
        del warnings[:]
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

    run.warnings = warnings
    return run


@pytest.fixture
def sim_args(simulator):
    """Connection options for the simulator of this test."""
    return {'api_key': simulator.api_key, 'api_url': simulator.url}
