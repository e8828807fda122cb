# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The user guide's table of connection options is the modules' own: every option, its environment variable, its default."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.improvmx.email.plugins.module_utils.common import improvmx_argument_spec

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = '| option | environment variable | default | |'


def _table():
    with open(os.path.join(REPO, 'docs', 'user-guide.md'), encoding='utf-8') as handle:
        text = handle.read()
    assert text.count(HEADER) == 1
    rows = text[text.index(HEADER):].split('\n\n', 1)[0].splitlines()[2:]
    table = {}
    for row in rows:
        option, variable, default, _what = [cell.strip() for cell in row.strip('|').split('|')]
        table[option.strip('`')] = (variable.strip('`'), default.strip('`'))
    return table


def test_every_connection_option_with_its_environment_variable_and_default():
    expected = {}
    for option, spec in improvmx_argument_spec().items():
        fallback = spec.get('fallback')
        variable = fallback[1][0] if fallback else ''
        default = spec.get('default')
        if default is None:
            default = 'none'
        elif isinstance(default, bool):
            default = str(default).lower()
        elif isinstance(default, float) and default.is_integer():
            default = str(int(default))
        expected[option] = (variable, str(default))

    assert _table() == expected
