# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Smoke tests of the test infrastructure itself (tests/conftest.py), independent of the modules."""

from __future__ import annotations

import os

PLAYBOOK = """
- name: Infrastructure smoke test
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: "hello {{ who }}"

    - name: Show the interpreter
      ansible.builtin.debug:
        var: ansible_python_interpreter
"""


def test_run_playbook_json_results(run_playbook):
    result = run_playbook(PLAYBOOK, extra_vars={'who': 'improvmx'})

    assert result.rc == 0, result
    assert result.stats == {'localhost': {'changed': 0, 'failures': 0, 'ignored': 0, 'ok': 2,
                                          'rescued': 0, 'skipped': 0, 'unreachable': 0}}, result
    assert [task['name'] for task in result.tasks] == ['Say hello', 'Show the interpreter']
    assert result.result('Say hello')['msg'] == 'hello improvmx'
    assert result.task('Say hello')['status'] == {'localhost': 'ok'}
    assert result.total('changed') == 0
    # The stdout callback printed the same JSON document.
    assert '"stats"' in result.stdout


def test_run_playbook_default_callback_and_failure(run_playbook, tmp_path):
    playbook = tmp_path / 'fail.yml'
    playbook.write_text(
        '- hosts: localhost\n'
        '  gather_facts: false\n'
        '  tasks:\n'
        '    - name: Change something\n'
        '      ansible.builtin.debug:\n'
        '        msg: changed\n'
        '      changed_when: true\n'
        '    - name: Fail on purpose\n'
        '      ansible.builtin.fail:\n'
        '        msg: deliberate failure\n',
        encoding='utf-8',
    )
    result = run_playbook(str(playbook), callback='default', check=True, diff=True, verbosity=1)

    assert result.rc == 2, result
    assert 'deliberate failure' in result.output
    assert 'PLAY RECAP' in result.stdout
    assert result.stats['localhost']['failures'] == 1
    assert result.stats['localhost']['changed'] == 1
    assert result.task('Fail on purpose')['status'] == {'localhost': 'failed'}
    # Recorded results read like registered variables: 'failed' is there although callbacks do not get it.
    assert result.result('Fail on purpose')['failed'] is True
    assert result.result('Change something')['failed'] is False
    assert result.failed_tasks() == ['Fail on purpose [localhost] failed: deliberate failure']


def test_run_playbook_is_hermetic(run_playbook, monkeypatch, collections_root):
    monkeypatch.setenv('IMPROVMX_API_KEY', 'must-not-leak')
    result = run_playbook(
        """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the environment
      ansible.builtin.debug:
        msg: "{{ lookup('ansible.builtin.env', 'IMPROVMX_API_KEY', default='unset') }} {{ lookup('ansible.builtin.env', 'ANSIBLE_COLLECTIONS_PATH') }}"
""")
    assert result.rc == 0, result
    assert result.result('Read the environment')['msg'] == f'unset {collections_root}'
    assert os.path.isdir(os.path.join(collections_root, 'ansible_collections', 'improvmx', 'email', 'plugins'))
