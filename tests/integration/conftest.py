# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The standalone simulator (a separate process, driven over /_sim/) for playbook tests."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import subprocess
import sys
import time

import pytest
import requests

SIMULATOR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'simulator', 'improvmx_sim.py')


class StandaloneSimulator(object):
    """A simulator process; the same test hooks as the in-process one, over HTTP."""

    def __init__(self, tmp_dir, api_key='standalone-test-key'):
        self.api_key = api_key
        port_file = os.path.join(tmp_dir, 'port')
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, SIMULATOR, '--port', '0', '--api-key', api_key, '--port-file', port_file],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while not os.path.exists(port_file):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError('the simulator did not start: %s' % (self.process.stderr.read() if self.process.poll() is not None else 'timeout'))
            time.sleep(0.05)
        with open(port_file) as handle:
            port = int(handle.read())
        self.root = 'http://127.0.0.1:%d/' % port
        self.url = self.root + 'v3/'
        self.env = {'IMPROVMX_API_KEY': api_key, 'IMPROVMX_API_URL': self.url}

    def control(self, method, what, body=None):
        answer = requests.request(method, self.root + '_sim/' + what, json=body, timeout=10)
        answer.raise_for_status()
        return answer.json()

    @property
    def requests(self):
        return self.control('GET', 'requests')['requests']

    def writes(self):
        return [r for r in self.requests if r['method'] in ('POST', 'PUT', 'DELETE')]

    def clear_requests(self):
        self.control('DELETE', 'requests')

    def state(self):
        return self.control('GET', 'state')

    def stop(self):
        self.process.terminate()
        try:
            self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()


@pytest.fixture(scope='module')
def standalone_process(tmp_path_factory):
    sim = StandaloneSimulator(str(tmp_path_factory.mktemp('standalone-simulator')))
    yield sim
    sim.stop()


@pytest.fixture
def standalone(standalone_process):
    """The module's simulator process, reset to a fresh account for each test."""
    standalone_process.control('POST', 'reset')
    return standalone_process
