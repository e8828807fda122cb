# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""docs/reliability-matrix.md cannot drift from the tests.

The document is rendered by scripts/reliability_matrix.py from the table the tests are
parametrized from (reliability_cases.py). A green test run means every applicable cell passed,
so the committed document must be exactly the all-passing rendering of the current table; and
every cell of the table must be covered by a collected test.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import os

import pytest

import reliability_cases

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCRIPT = os.path.join(ROOT, 'scripts', 'reliability_matrix.py')
DOC = os.path.join(ROOT, 'docs', 'reliability-matrix.md')


def _script():
    spec = importlib.util.spec_from_file_location('improvmx_reliability_matrix_script', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_matrix_is_what_the_table_renders():
    script = _script()
    cases = script.load_cases()
    rendered = script.render(cases, script.expected_outcomes(cases))
    with open(DOC, encoding='utf-8') as handle:
        committed = handle.read()
    assert committed == rendered, 'docs/reliability-matrix.md is stale: run python scripts/reliability_matrix.py --run'


def _covered(items):
    """Cells covered by the collected tests, and the test files they come from."""
    covered, files = set(), set()
    for item in items:
        params = getattr(getattr(item, 'callspec', None), 'params', {})
        cells = []
        if 'row' in params and 'column' in params:
            cells.append((params['row'], params['column']))
        for cell in getattr(getattr(item, 'function', None), 'matrix_cells', ()):
            cells.append(tuple(cell.split('@')))
        if cells:
            covered.update(cells)
            files.add(os.path.basename(str(getattr(item, 'path', None) or item.fspath)))
    return covered, files


@pytest.mark.parametrize('kind, test_files', [
    (reliability_cases.IN_PROCESS, {'test_faults.py', 'test_bad_input.py', 'test_writes_and_lists.py'}),
    (reliability_cases.PLAYBOOK, {'test_reliability.py', 'test_secrets.py'}),
])
def test_every_cell_of_the_table_has_a_test(request, kind, test_files):
    covered, files = _covered(request.session.items)
    if not test_files <= files:
        pytest.skip('the tests of these cells were not collected in this run: %s' % ', '.join(sorted(test_files - files)))
    missing = [reliability_cases.cell_id(*cell) for cell in reliability_cases.cells(kind) if cell not in covered]
    assert missing == []


def test_every_module_is_a_column_with_its_scenario_data():
    """A module added to plugins/modules is a column of the matrix, and the tests know how to run it.

    The columns are read from plugins/modules (reliability_cases.discover_modules); this fails when
    a module has no column, or a column has no module, or the scenarios (reliability_scenarios.py)
    lack its arguments (a reader) or its create, update and delete (a writer).
    """
    import reliability_scenarios as S

    modules = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, 'plugins', 'modules'))
                     if name.startswith('improvmx_') and name.endswith('.py'))
    assert modules, 'no module found in plugins/modules'
    columns = reliability_cases.COLUMNS
    assert [c for c in modules if c not in columns] == [], 'modules without a column'
    assert sorted(c for c in columns if c != reliability_cases.ROLE) == modules, 'columns without a module'
    assert columns[-1] == reliability_cases.ROLE
    assert sorted(S.MODULES) == modules, 'reliability_scenarios.MODULES is not every module'
    for module in reliability_cases.WRITERS:
        assert sorted(S.WRITES.get(module, {})) == ['create', 'delete', 'update'], module
    for module in reliability_cases.READERS:
        assert module in S.READS, module
    # Every column is in the rows that apply to every module.
    for ident in ('read-502', 'timeout', 'secret-in-error-body', 'api-key-empty', 'ratelimit-state-unsafe'):
        assert reliability_cases.ROWS_BY_ID[ident].columns == reliability_cases.MODULES, ident
    assert reliability_cases.ROWS_BY_ID['secrets-vvv-diff'].all_columns == columns
