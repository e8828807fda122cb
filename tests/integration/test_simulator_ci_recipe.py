# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CI recipe of docs/simulator.md, run exactly as the document shows it.

The shell of the recipe's ``run:`` block is extracted from the document and run with bash in
a scratch directory holding a ``site.yml`` and the seed file it names: it must pass for a
playbook that converges, fail when a run fails or the second run changes something, and stop
the simulator it started in every case.
"""

from __future__ import absolute_import, division, print_function

import os
import re
import socket
import subprocess
import sys

import pytest
import yaml

__metaclass__ = type  # pylint: disable=invalid-name

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
DOC = os.path.join(ROOT, 'docs', 'simulator.md')
SIM = os.path.join(ROOT, 'tests', 'simulator', 'improvmx_sim.py')

CONVERGES = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: An alias on the seeded domain
      improvmx.email.improvmx_alias:
        domain: seeded.example.com
        alias: sales
        forward: [sales@example.org]
'''

FAILS = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: The run fails
      ansible.builtin.fail:
        msg: broken on purpose
'''

NEVER_CONVERGES = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Reports a change on every run
      ansible.builtin.command: "true"
      changed_when: true
'''


def recipe():
    """The shell of the YAML step that follows 'A CI job' in docs/simulator.md."""
    with open(DOC, encoding='utf-8') as handle:
        text = handle.read()
    section = text[text.index('A CI job'):]
    block = re.search(r'```yaml\n(.*?)```', section, re.S).group(1)
    steps = yaml.safe_load(block)
    assert steps[0].get('shell') == 'bash'
    return steps[0]['run']


def run_recipe(tmp_path, playbook, collections_root):
    (tmp_path / 'site.yml').write_text(playbook, encoding='utf-8')
    (tmp_path / 'tests').mkdir()
    (tmp_path / 'tests' / 'improvmx-seed.json').write_text(
        '{"domains": {"seeded.example.com": {"aliases": {"*": "owner@example.org"}}}}', encoding='utf-8')
    env = {key: value for key, value in os.environ.items() if not key.startswith(('ANSIBLE_', 'IMPROVMX_'))}
    env.update({
        'SIM': SIM,
        # the venv first, as in a CI job that installed Ansible: python3 and ansible-playbook come from it
        'PATH': os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', ''),
        'ANSIBLE_COLLECTIONS_PATH': collections_root,
        'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-tmp'),
        'ANSIBLE_NOCOLOR': '1',
    })
    proc = subprocess.run(['bash', '-c', recipe()], cwd=str(tmp_path), env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    port = int((tmp_path / 'improvmx.port').read_text())
    return proc, port


def assert_stopped(port):
    """Nothing listens on the simulator's port any more."""
    with pytest.raises(OSError):
        socket.create_connection(('127.0.0.1', port), timeout=2).close()


def test_recipe_passes_when_the_playbook_converges(tmp_path, collections_root):
    proc, port = run_recipe(tmp_path, CONVERGES, collections_root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'changed=0' in (tmp_path / 'second-run.log').read_text()
    state = (tmp_path / 'improvmx-state.json').read_text()
    assert '"sales"' in state
    assert_stopped(port)


@pytest.mark.parametrize('playbook', [FAILS, NEVER_CONVERGES], ids=['a-run-fails', 'second-run-changes'])
def test_recipe_fails_and_stops_the_simulator(tmp_path, collections_root, playbook):
    proc, port = run_recipe(tmp_path, playbook, collections_root)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert not (tmp_path / 'improvmx-state.json').exists()
    assert_stopped(port)
