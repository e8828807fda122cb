# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection as users get it: built with ``ansible-galaxy collection build``, installed from the tarball.

The other tests use the checkout itself; these use only the installed copy (its path is the
only entry of ``ANSIBLE_COLLECTIONS_PATH`` and nothing is searched on ``sys.path``), so a file
that ``build_ignore`` drops or that the build misses makes them fail:

* the tarball holds every file of plugins/, roles/, meta/, playbooks/, extensions/, docs/ and
  changelogs/ and nothing of the developer's environment;
* ``ansible-doc`` documents every module (text and JSON), the ``domain_check`` redirect and the
  role ``improvmx.email.domain_onboarding``, all from the installed path;
* the collection's own example playbook ``improvmx.email.demo`` (onboarding role), followed by
  a play that calls every other module (and the redirect), runs from the installed copy against
  the API simulator, twice: the second run changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import typing as t

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, 'plugins', 'modules'))
                 if name.endswith('.py') and not name.startswith('_'))
ROLES = sorted(name for name in os.listdir(os.path.join(REPO, 'roles')) if not name.startswith('.'))
SHIPPED_DIRS = ('plugins', 'roles', 'meta', 'playbooks', 'extensions', 'docs', 'changelogs')
SHIPPED_FILES = ('README.md', 'requirements.txt')

pytestmark = pytest.mark.integration


def _tool(name: str) -> str:
    path = os.path.join(BIN, name)
    return path if os.path.exists(path) else name


def _run(command: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, f'{" ".join(command)} failed (rc={result.returncode}):\n{result.stdout}\n{result.stderr}'
    return result


# ansible-core 2.21's ansible-doc warns about its own internal collection (no MANIFEST.json in
# .../site-packages/ansible/_internal/ansible_collections/ansible/_protomatter) when it documents
# a role; that warning is not about this collection, every other one fails the tests.
FOREIGN_WARNING = re.compile(r'/ansible/_internal/ansible_collections/ansible/_protomatter\b')


def our_warnings(stderr: str) -> list[str]:
    """The [WARNING] / [DEPRECATION WARNING] lines of an ansible tool's stderr, but for FOREIGN_WARNING."""
    return [line for line in stderr.splitlines() if 'WARNING' in line and not FOREIGN_WARNING.search(line)]


@dataclasses.dataclass
class Built:
    """The built tarball, the collections path it is installed in, an environment for the ansible tools."""

    tarball: pathlib.Path
    collections: str
    env: dict[str, str]

    @property
    def installed(self) -> str:
        return os.path.join(self.collections, 'ansible_collections', 'improvmx', 'email')


@pytest.fixture(scope='module')
def built() -> t.Iterator[Built]:
    """Build the collection, install the tarball into a temporary collections path (removed afterwards)."""
    # Not under pytest's numbered basetemp: other pytest sessions running at the same time
    # (make test and make test-core-latest in one checkout) never touch this directory.
    base = pathlib.Path(tempfile.mkdtemp(prefix='improvmx-built-collection-'))
    try:
        yield _build(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _build(base: pathlib.Path) -> Built:
    collections = base / 'collections'
    # Only this temporary path: with another copy of improvmx.email on a configured collections
    # path (make exports ANSIBLE_COLLECTIONS_PATH), `ansible-galaxy collection install` would
    # report "already installed" and install nothing.
    env = {key: value for key, value in os.environ.items() if not key.startswith(('ANSIBLE_', 'IMPROVMX_'))}
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': str(collections),
        'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_LOCAL_TEMP': str(base / 'ansible-tmp'),
        'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
    })
    with open(os.path.join(REPO, 'galaxy.yml'), encoding='utf-8') as handle:
        version = yaml.safe_load(handle)['version']
    _run([_tool('ansible-galaxy'), 'collection', 'build', REPO, '--output-path', str(base)], env=env, cwd=str(base))
    tarball = base / f'improvmx-email-{version}.tar.gz'
    assert tarball.is_file(), sorted(os.listdir(base))

    _run([_tool('ansible-galaxy'), 'collection', 'install', '--offline', '--no-deps', '--force', str(tarball),
          '-p', str(collections)], env=env, cwd=str(base))
    manifest = collections / 'ansible_collections' / 'improvmx' / 'email' / 'MANIFEST.json'
    assert manifest.is_file(), f'ansible-galaxy collection install did not install {tarball.name} into {collections}'
    return Built(tarball, str(collections), env)


def test_tarball_holds_every_shipped_file_and_nothing_local(built):
    tarball = built.tarball
    with tarfile.open(tarball) as archive:
        members = {member.name for member in archive.getmembers() if member.isfile()}

    expected = set(SHIPPED_FILES)
    for top in SHIPPED_DIRS:
        for folder, dirs, files in os.walk(os.path.join(REPO, top)):
            dirs[:] = [d for d in dirs if d != '__pycache__']
            expected.update(os.path.relpath(os.path.join(folder, name), REPO) for name in files if not name.endswith('.pyc'))
    missing = sorted(expected - members)
    assert not missing, f'files missing from {tarball.name}: {missing}'

    assert {'MANIFEST.json', 'FILES.json'} <= members
    local = sorted(name for name in members
                   if name.startswith(('.venv/', 'build/', 'tests/output/', '.git/', '.pytest_cache/', '.hypothesis/'))
                   or '/__pycache__/' in name or name.endswith(('.pyc', '.tar.gz')))
    assert not local, f'developer files in {tarball.name}: {local}'


def test_ansible_doc_finds_every_module_in_the_installed_copy(built):
    listing = _run([_tool('ansible-doc'), '-t', 'module', '-F', 'improvmx.email'], env=built.env).stdout.split('\n')
    paths = dict(line.split(None, 1) for line in listing if line.strip())
    assert sorted(paths) == [f'improvmx.email.{module}' for module in MODULES]
    for name, path in paths.items():
        assert path.strip() == os.path.join(built.installed, 'plugins', 'modules', name.split('.')[-1] + '.py')


@pytest.mark.parametrize('module', MODULES)
def test_ansible_doc_renders_module(built, module):
    fqcn = f'improvmx.email.{module}'
    text = _run([_tool('ansible-doc'), fqcn], env=built.env)
    assert not our_warnings(text.stderr), text.stderr
    path = os.path.join(built.installed, 'plugins', 'modules', module + '.py')
    assert re.match(rf'> MODULE \*?{re.escape(fqcn)}\*? \({re.escape(path)}\)\n', text.stdout), text.stdout[:300]
    for section in ('OPTIONS', 'EXAMPLES:', 'RETURN VALUES:'):
        assert section in text.stdout

    doc = json.loads(_run([_tool('ansible-doc'), '--json', fqcn], env=built.env).stdout)[fqcn]
    assert doc['doc']['short_description']
    assert doc['doc']['version_added_collection'] == 'improvmx.email'
    assert 'api_key' in doc['doc']['options']
    assert 'api_retries' in doc['return']
    assert f'{fqcn}:' in doc['examples']


def test_ansible_doc_follows_the_domain_check_redirect(built):
    text = _run([_tool('ansible-doc'), 'improvmx.email.domain_check'], env=built.env)
    assert 'improvmx.email.improvmx_domain_check' in text.stdout
    assert not our_warnings(text.stderr), text.stderr


@pytest.mark.parametrize('role', ROLES)
def test_ansible_doc_renders_role(built, role):
    fqcn = f'improvmx.email.{role}'
    text = _run([_tool('ansible-doc'), '-t', 'role', fqcn], env=built.env)
    assert not our_warnings(text.stderr), text.stderr
    assert re.match(rf'> ROLE: \*?{re.escape(fqcn)}\*? \({re.escape(built.installed)}\)\n', text.stdout), text.stdout[:300]
    assert re.search(r'^ENTRY POINT: \*?main\*? - ', text.stdout, re.M), text.stdout[:300]

    doc = json.loads(_run([_tool('ansible-doc'), '-t', 'role', '--json', fqcn], env=built.env).stdout)[fqcn]
    main = doc['entry_points']['main']
    assert main['short_description']
    assert main['options']


EVERY_MODULE_PLAY = """
- name: Onboard example.com with the collection's demo playbook
  ansible.builtin.import_playbook: improvmx.email.demo

- name: Every other module, from the installed copy
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/improvmx.email.improvmx:
      api_key: "{{ lookup('ansible.builtin.env', 'IMPROVMX_API_KEY') }}"
  tasks:
    - name: One more alias
      improvmx.email.improvmx_alias:
        domain: example.com
        alias: info
        forward: info@example.org

    - name: One routing rule (the domain still routes by its aliases)
      improvmx.email.improvmx_rule:
        domain: example.com
        type: alias
        alias: billing
        forward: [billing@example.org]

    - name: The rules
      improvmx.email.improvmx_rule_info:
        domain: example.com
      register: rules

    - name: The account's domains as one declaration (example.com as it is, others left alone)
      improvmx.email.improvmx_domains:
        domains:
          - domain: example.com
      register: fleet

    - name: The aliases
      improvmx.email.improvmx_alias_info:
        domain: example.com
      register: aliases

    - name: The domains
      improvmx.email.improvmx_domain_info:
        domain: example.com
      register: domains

    - name: The SMTP credentials
      improvmx.email.improvmx_credential_info:
        domain: example.com
      register: credentials

    - name: The account
      improvmx.email.improvmx_account_info:
      register: account

    - name: The logs
      improvmx.email.improvmx_log_info:
        domain: example.com
        max_entries: 5
      register: logs

    - name: The DNS check, through the short name meta/runtime.yml redirects
      improvmx.email.domain_check:
        domain: example.com
      register: check

    - name: Everything answered
      ansible.builtin.assert:
        that:
          - aliases.aliases | map(attribute='alias') | sort == ['*', 'info', 'sales', 'support']
          - domains.domains | length == 1
          - credentials.credentials | map(attribute='username') | list == ['newsletter']
          - account.account.premium
          - logs.logs | length == 0
          - check.valid
          - rules.rules | map(attribute='type') | list == ['alias']
          - fleet is not changed
        quiet: true
"""


def test_example_playbook_runs_from_the_installed_copy(built, simulator_factory, run_playbook):
    sim = simulator_factory(dns_valid_after=2)
    url = sim.url if sim.url.endswith('/') else sim.url + '/'
    env = {'ANSIBLE_COLLECTIONS_PATH': built.collections, 'IMPROVMX_API_URL': url, 'IMPROVMX_API_KEY': sim.api_key}

    first = run_playbook(EVERY_MODULE_PLAY, env=env)
    assert first.rc == 0, first
    assert first.total('changed') > 0
    actions = {task['action'] for task in first.tasks}
    assert {f'improvmx.email.{module}' for module in MODULES} - {'improvmx.email.improvmx_domain_check'} <= actions, actions
    domain = sim.state_snapshot()['domains']['example.com']
    assert sorted(a['alias'] for a in domain['aliases']) == ['*', 'info', 'sales', 'support']

    sim.clear_requests()
    second = run_playbook(EVERY_MODULE_PLAY, env=env, extra_vars={'demo_second_run': True})
    assert second.rc == 0, second
    assert second.total('changed') == 0, second
    assert sim.writes() == []
