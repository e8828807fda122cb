# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""meta/runtime.yml and galaxy.yml stay in step with the plugins."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import yaml

from ansible_collections.improvmx.email.plugins.module_utils.version import COLLECTION_VERSION

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _yaml(*path):
    with open(os.path.join(REPO, *path)) as handle:
        return yaml.safe_load(handle)


def _modules():
    folder = os.path.join(REPO, 'plugins', 'modules')
    return sorted(name[:-3] for name in os.listdir(folder) if name.endswith('.py') and not name.startswith('_'))


def test_every_module_is_in_the_action_group_and_nothing_else():
    group = _yaml('meta', 'runtime.yml')['action_groups']['improvmx']
    assert sorted(group) == _modules()


def test_requires_ansible():
    assert _yaml('meta', 'runtime.yml')['requires_ansible'] == '>=2.16.0'


def test_domain_check_short_name_is_routed():
    routing = _yaml('meta', 'runtime.yml')['plugin_routing']['modules']
    assert routing['domain_check']['redirect'] == 'improvmx.email.improvmx_domain_check'
    assert 'improvmx_domain_check' in _modules()


def test_version_in_code_matches_galaxy():
    assert _yaml('galaxy.yml')['version'] == COLLECTION_VERSION


def test_execution_environment_installs_requests():
    ee = _yaml('meta', 'execution-environment.yml')
    assert ee['dependencies']['python'] == 'requirements.txt'
    with open(os.path.join(REPO, 'requirements.txt')) as handle:
        assert any(line.startswith('requests') for line in handle)
