# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The client on the oldest and the newest requests/urllib3 that requirements.txt allows.

Each variant is a venv (python -m venv, pip install from the package index), cached under
build/client-versions/ and re-created only when its pins change (the "newest" one also after a
week, to follow new releases). In it, pytest runs test_api.py and test_client.py against the
simulator, without Ansible: those files need only requests, urllib3 and pytest.

* oldest: requests 2.25.0 with urllib3 1.21.1 (the oldest urllib3 requests 2.25.0 accepts), on
  Python 3.7 to 3.9 (urllib3 before 1.24 does not import on Python 3.10 or newer, and the
  simulator needs 3.7); an interpreter is looked for on PATH and in pyenv.
* newest: the newest requests and urllib3 the index serves, on the Python running the tests.

A variant is skipped, saying why, only when no suitable interpreter exists or pip cannot reach
the package index.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CLIENT_TESTS = os.path.join(REPO, 'tests', 'unit', 'plugins', 'module_utils')
CACHE = os.path.join(REPO, 'build', 'client-versions')
TEST_FILES = [os.path.join(CLIENT_TESTS, 'test_api.py'), os.path.join(CLIENT_TESTS, 'test_client.py')]
REFRESH_NEWEST = 7 * 24 * 3600

VARIANTS = {
    'oldest': dict(pythons=('3.7', '3.8', '3.9'), expect=('2.25.0', '1.21.1'),
                   pins=['requests==2.25.0', 'urllib3==1.21.1', 'chardet==3.0.4', 'idna==2.10', 'certifi',
                         'pytest>=7,<8']),
    'newest': dict(pythons=None, expect=None, pins=['requests', 'urllib3', 'pytest'], upgrade=True),
}
NETWORK_TROUBLE = re.compile(r'(Could not find a version that satisfies|No matching distribution|'
                             r'Failed to establish a new connection|Temporary failure in name resolution|'
                             r'Network is unreachable|Max retries exceeded|ProxyError|Connection refused)')


def _declared():
    with open(os.path.join(REPO, 'requirements.txt')) as handle:
        return dict(re.findall(r'^(requests|urllib3)>=([0-9.]+)\s*$', handle.read(), re.M))


def _interpreter(versions):
    if versions is None:
        return sys.executable
    for version in versions:
        candidates = [shutil.which('python%s' % version)]
        candidates += sorted(glob.glob(os.path.expanduser('~/.pyenv/versions/%s.*/bin/python%s' % (version, version))),
                             reverse=True)
        pyenv_root = os.environ.get('PYENV_ROOT')
        if pyenv_root:
            candidates += sorted(glob.glob(os.path.join(pyenv_root, 'versions', '%s.*' % version, 'bin', 'python%s' % version)))
        for candidate in candidates:
            if not candidate or not os.access(candidate, os.X_OK):
                continue
            # A pyenv shim exists for every version but may refuse to run it: ask the interpreter.
            probe = _run([candidate, '-c', 'import sys; print("%d.%d" % sys.version_info[:2], sys.executable)'])
            parts = probe.stdout.split()
            if probe.returncode == 0 and len(parts) == 2 and parts[0] == version:
                return parts[1]
    return None


def _run(command, **kwargs):
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False,
                          **kwargs)


def _venv(name, variant):
    """The venv's python, (re)built when needed; raises pytest.skip.Exception with the reason when it cannot be."""
    python = _interpreter(variant['pythons'])
    if python is None:
        pytest.skip('%s: no Python %s found on PATH or in pyenv for requests %s with urllib3 %s'
                    % (name, ' / '.join(variant['pythons']), variant['expect'][0], variant['expect'][1]))
    folder = os.path.join(CACHE, name)
    stamp_path = os.path.join(folder, 'stamp.json')
    stamp = {'python': os.path.realpath(python), 'pins': variant['pins']}
    venv_python = os.path.join(folder, 'bin', 'python')
    try:
        with open(stamp_path) as handle:
            cached = json.load(handle)
    except (OSError, ValueError):
        cached = None
    fresh = cached is not None and cached.get('spec') == stamp and os.path.exists(venv_python)
    if fresh and variant.get('upgrade') and time.time() - cached.get('built', 0) > REFRESH_NEWEST:
        fresh = False
    if fresh:
        return venv_python
    shutil.rmtree(folder, ignore_errors=True)
    created = _run([python, '-m', 'venv', folder])
    if created.returncode != 0:
        pytest.fail('%s: python -m venv failed:\n%s' % (name, created.stdout))
    command = [venv_python, '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check']
    if variant.get('upgrade'):
        command.append('--upgrade')
    installed = _run(command + variant['pins'], timeout=600)
    if installed.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        if NETWORK_TROUBLE.search(installed.stdout):
            pytest.skip('%s: pip could not install %s from the package index:\n%s'
                        % (name, ' '.join(variant['pins']), installed.stdout[-2000:]))
        pytest.fail('%s: pip install failed:\n%s' % (name, installed.stdout))
    with open(stamp_path, 'w') as handle:
        json.dump({'spec': stamp, 'built': time.time()}, handle)
    return venv_python


@pytest.fixture(scope='module')
def runs(collections_root, tmp_path_factory):
    """Start the client tests in every variant's venv at once; {name: (outcome, detail)}, waited for lazily."""
    started = {}
    for name, variant in sorted(VARIANTS.items()):
        try:
            python = _venv(name, variant)
        except pytest.skip.Exception as exc:
            started[name] = ('skip', str(exc))
            continue
        except pytest.fail.Exception as exc:
            started[name] = ('fail', str(exc))
            continue
        versions = _run([python, '-c', 'import sys, requests, urllib3; '
                         'print(sys.version.split()[0], requests.__version__, urllib3.__version__)'])
        workdir = str(tmp_path_factory.mktemp('client-' + name))
        env = dict(os.environ)
        env['PYTHONPATH'] = os.pathsep.join([collections_root, os.path.join(REPO, 'tests', 'simulator')])
        env.pop('PYTEST_ADDOPTS', None)
        for variable in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
            env.pop(variable, None)
        # --noconftest: the repository's conftest files need Ansible; the simulator's fixtures come as a plugin.
        process = subprocess.Popen(
            [python, '-m', 'pytest', '--noconftest', '-p', 'improvmx_sim_fixtures', '-p', 'no:cacheprovider',
             '-q', '-W', 'ignore::DeprecationWarning', '--rootdir', workdir] + TEST_FILES,
            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        started[name] = ('run', (process, versions.stdout.split()))
    yield started
    for kind, detail in started.values():
        if kind == 'run' and detail[0].poll() is None:
            detail[0].kill()
            detail[0].wait()


def test_requirements_declare_the_oldest_tested_versions():
    assert _declared() == {'requests': VARIANTS['oldest']['expect'][0], 'urllib3': VARIANTS['oldest']['expect'][1]}


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_the_client_tests_pass_with_these_requests_and_urllib3(runs, name):
    kind, detail = runs[name]
    if kind == 'skip':
        pytest.skip(detail)
    if kind == 'fail':
        pytest.fail(detail)
    process, versions = detail
    output, _unused = process.communicate(timeout=600)
    assert process.returncode == 0, '%s (Python, requests, urllib3: %s):\n%s' % (name, versions, output[-6000:])
    assert re.search(r'\b\d+ passed\b', output) and ' failed' not in output and ' error' not in output, output[-3000:]
    _python, requests_version, urllib3_version = versions
    if VARIANTS[name]['expect']:
        assert (requests_version, urllib3_version) == VARIANTS[name]['expect']
    else:
        assert int(urllib3_version.split('.')[0]) >= 2, versions  # the newest urllib3 is a 2.x
