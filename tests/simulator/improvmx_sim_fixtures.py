# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest fixtures for the ImprovMX API simulator.

Load with ``pytest_plugins = ['improvmx_sim_fixtures']`` (tests/simulator on sys.path).

* ``simulator``: a fresh in-process simulator (premium account, api key ``test-api-key``)
  serving on an ephemeral loopback port for one test; stopped afterwards.
* ``simulator_factory``: ``simulator_factory(**Simulator_kwargs)`` starts more simulators
  (e.g. ``premium=False``); every one is stopped after the test.
"""

from __future__ import absolute_import, division, print_function

import os
import sys

import pytest

__metaclass__ = type  # pylint: disable=invalid-name

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from improvmx_sim import Simulator  # noqa: E402  pylint: disable=wrong-import-position

TEST_API_KEY = 'test-api-key'


@pytest.fixture
def simulator_factory():
    started = []

    def factory(**kwargs):
        kwargs.setdefault('api_key', TEST_API_KEY)
        sim = Simulator(**kwargs)
        sim.start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()


@pytest.fixture
def simulator(simulator_factory):  # pylint: disable=redefined-outer-name
    return simulator_factory()
