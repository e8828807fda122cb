# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ImprovMX API v3 simulator as a package; ``improvmx_sim.py`` beside it is the entry point.

Layout (docs/simulator.md, "Layout"): ``common`` (constants, the API error, value checks),
``state`` (the field tables and the account's state), ``handlers`` (one module per resource),
``dns`` (the check's records), ``faults``, ``control`` (``/_sim/``), ``server`` (HTTP),
``simulator`` (the Simulator class), ``cli`` (standalone mode).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name
