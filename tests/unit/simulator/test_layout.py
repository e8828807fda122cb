# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulator's package layout (issue 26, item 5): what the integration targets copy, file sizes, independence."""

from __future__ import absolute_import, division, print_function

import os

__metaclass__ = type  # pylint: disable=invalid-name

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SIM_DIR = os.path.join(ROOT, 'tests', 'simulator')
ALIASES = os.path.join(ROOT, 'tests', 'integration', 'targets', 'setup_improvmx', 'aliases')


def package_files():
    found = []
    for dirpath, _dirs, files in os.walk(os.path.join(SIM_DIR, 'imxsim')):
        found.extend(os.path.relpath(os.path.join(dirpath, name), ROOT) for name in files if name.endswith('.py'))
    return sorted(found)


def test_the_targets_copy_every_file_of_the_simulator():
    """ansible-test copies only the needs/file aliases into its work directory: a file missing there
    makes every integration target fail to start the simulator."""
    with open(ALIASES, encoding='utf-8') as handle:
        needed = {line.strip()[len('needs/file/'):] for line in handle if line.startswith('needs/file/')}
    assert set(package_files()) | {'tests/simulator/improvmx_sim.py'} == needed


def test_no_simulator_file_is_over_800_lines_nor_imports_the_collection():
    for path in package_files() + ['tests/simulator/improvmx_sim.py']:
        with open(os.path.join(ROOT, path), encoding='utf-8') as handle:
            text = handle.read()
        assert text.count('\n') <= 800, path
        assert 'ansible_collections' not in text, path
