# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stateful ImprovMX REST API v3 simulator for tests and demos.

Written from the API reference and from the live API's behaviour beyond it, as
``docs/api-behaviour.md`` in this repository lists it (webhook destinations, regex
alias names, rules routing, log times in milliseconds, per-method rate limits...),
never from what the collection's client sends.  Where the two disagree the simulator
follows the live behaviour and clients are expected to accept both shapes.
Standard library only; ``docs/simulator.md`` documents every option and test hook.

The code is the package ``imxsim/`` beside this file; this file is its entry point and
keeps the names other code imports from ``improvmx_sim``.

Two ways to use it:

* in-process: ``sim = Simulator(api_key='k'); url = sim.start(); ...; sim.stop()``
  (see ``improvmx_sim_fixtures.py`` for the pytest fixtures);
* standalone: ``python improvmx_sim.py --port 8765 --api-key KEY``; test hooks are
  then reachable over HTTP under ``/_sim/`` (no authentication).
"""

from __future__ import absolute_import, division, print_function

import os
import sys

__metaclass__ = type  # pylint: disable=invalid-name

# The package sits beside this file, whatever the working directory and however this file is loaded
# (as a script, imported from tests/simulator on sys.path, or by path from benchmarks/harness.py).
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

# pylint: disable=wrong-import-position
from imxsim.cli import build_parser, main  # noqa: E402
from imxsim.common import (  # noqa: E402
    API_PREFIX, ApiError, DNS_CHECKS, LIST_KEYS, MAX_BULK, RULE_TYPES, alias_key, is_regex_name, is_valid_email,
    match_route, normalize_domain, now_ms, parse_forward, validate_alias_name,
)
from imxsim.control import SIM_ROUTES  # noqa: E402
from imxsim.dns import expected_spf, fetch_zone, zone_check  # noqa: E402
from imxsim.faults import FAULT_KINDS  # noqa: E402
from imxsim.handlers import API_ROUTES  # noqa: E402
from imxsim.logentries import log_failed, make_log_entry  # noqa: E402
from imxsim.handlers.rules import validate_rule  # noqa: E402
from imxsim.simulator import Simulator  # noqa: E402

__all__ = [
    'API_PREFIX', 'API_ROUTES', 'ApiError', 'DNS_CHECKS', 'FAULT_KINDS', 'LIST_KEYS', 'MAX_BULK', 'RULE_TYPES', 'SIM_ROUTES',
    'Simulator', 'alias_key', 'build_parser', 'expected_spf', 'fetch_zone', 'is_regex_name', 'is_valid_email', 'log_failed',
    'main', 'make_log_entry', 'match_route', 'normalize_domain', 'now_ms', 'parse_forward', 'validate_alias_name',
    'validate_rule', 'zone_check',
]

if __name__ == '__main__':
    sys.exit(main())
