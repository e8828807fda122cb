# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared pytest set-up for the improvmx.email unit and integration tests.

* ``tests/simulator`` goes on ``sys.path`` and its fixtures (``simulator``, ...)
  are loaded as a pytest plugin.
* ``ansible_collections.improvmx.email`` becomes importable: when the checkout
  already lives at ``.../ansible_collections/improvmx/email`` that tree is used,
  otherwise a temporary ``<tmp>/ansible_collections/improvmx/email`` symlink to
  the checkout is made once per run (never inside the repository).
* Integration fixtures: ``collections_root``, ``run_playbook`` and ``sim_env``.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import typing as t

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIMULATOR_DIR = os.path.join(REPO_ROOT, 'tests', 'simulator')
CALLBACK_DIR = os.path.join(REPO_ROOT, 'scripts', 'callback_plugins')
RESULTS_CALLBACK = 'improvmx_test_results'
COLLECTION_NAMESPACE = 'improvmx'
COLLECTION_NAME = 'email'

# --- the simulator's fixtures -------------------------------------------------------------------

if SIMULATOR_DIR not in sys.path:
    sys.path.insert(0, SIMULATOR_DIR)

if os.path.exists(os.path.join(SIMULATOR_DIR, 'improvmx_sim_fixtures.py')):
    pytest_plugins = ['improvmx_sim_fixtures']


# --- make ansible_collections.improvmx.email importable ------------------------------------------


def _collections_root() -> str:
    """Return a directory holding ``ansible_collections/improvmx/email`` that resolves to this checkout."""
    parts = REPO_ROOT.split(os.sep)
    if parts[-3:] == ['ansible_collections', COLLECTION_NAMESPACE, COLLECTION_NAME]:
        return os.sep.join(parts[:-3]) or os.sep

    # pytest-xdist workers and repeated imports share one link per process tree.
    inherited = os.environ.get('IMPROVMX_TEST_COLLECTIONS_ROOT')
    if inherited and os.path.realpath(
            os.path.join(inherited, 'ansible_collections', COLLECTION_NAMESPACE, COLLECTION_NAME)) == os.path.realpath(REPO_ROOT):
        return inherited

    root = tempfile.mkdtemp(prefix='improvmx-email-collections-')
    namespace_dir = os.path.join(root, 'ansible_collections', COLLECTION_NAMESPACE)
    os.makedirs(namespace_dir)
    os.symlink(REPO_ROOT, os.path.join(namespace_dir, COLLECTION_NAME))
    atexit.register(shutil.rmtree, root, True)
    os.environ['IMPROVMX_TEST_COLLECTIONS_ROOT'] = root
    return root


COLLECTIONS_ROOT = _collections_root()
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope='session')
def collections_root() -> str:
    """Directory to use as ANSIBLE_COLLECTIONS_PATH: it holds ansible_collections/improvmx/email (this checkout)."""
    return COLLECTIONS_ROOT


@dataclasses.dataclass
class PlaybookResult:
    """What one ``ansible-playbook`` run produced."""

    rc: int
    stdout: str
    stderr: str
    command: list[str]
    results: dict[str, t.Any] | None = None

    @property
    def output(self) -> str:
        """stdout followed by stderr."""
        return self.stdout + self.stderr

    @property
    def stats(self) -> dict[str, dict[str, int]] | None:
        """Per-host recap counters (ok, changed, failures, unreachable, skipped, rescued, ignored), or None."""
        return None if self.results is None else self.results['stats']

    @property
    def tasks(self) -> list[dict[str, t.Any]]:
        """Every task that started, in order: {name, action, id, play, handler, hosts: {host: result}, status: {host: status}}."""
        return [] if self.results is None else self.results['tasks']

    @property
    def plays(self) -> list[dict[str, t.Any]]:
        """Every play: {name, id, task_ids} (ids of its entries in ``tasks``)."""
        return [] if self.results is None else self.results['plays']

    def task(self, name: str) -> dict[str, t.Any]:
        """The last task entry whose name is ``name`` (a play may run a task name more than once)."""
        matches = [task for task in self.tasks if task['name'] == name]
        if not matches:
            raise KeyError(f'no task named {name!r}; tasks run: {[task["name"] for task in self.tasks]}')
        return matches[-1]

    def result(self, name: str, host: str = 'localhost') -> dict[str, t.Any]:
        """The result dict of task ``name`` on ``host``."""
        task = self.task(name)
        if host not in task['hosts']:
            raise KeyError(f'task {name!r} has no result for host {host!r}: {sorted(task["hosts"])}')
        return task['hosts'][host]

    def total(self, counter: str) -> int:
        """Sum of one recap counter (``changed``, ``failures``, ...) over all hosts."""
        return sum(host_stats.get(counter, 0) for host_stats in (self.stats or {}).values())

    def failed_tasks(self) -> list[str]:
        """``task name [host]: msg`` for every task that failed (ignored failures included)."""
        lines = []
        for task in self.tasks:
            for host, status in task['status'].items():
                if status in ('failed', 'ignored', 'unreachable'):
                    msg = task['hosts'].get(host, {}).get('msg', '')
                    lines.append(f'{task["name"]} [{host}] {status}: {msg}')
        return lines

    def describe(self, limit: int = 40000) -> str:
        """The command, rc, failed tasks, stats and the (tail of the) output."""
        def tail(text: str) -> str:
            return text if len(text) <= limit else f'[... {len(text) - limit} characters cut ...]\n' + text[-limit:]

        failed = '\n'.join(self.failed_tasks()) or '(none)'
        return (f'command: {" ".join(self.command)}\nrc: {self.rc}\nfailed tasks:\n{failed}\nstats: {self.stats}\n'
                f'--- stdout:\n{tail(self.stdout)}\n--- stderr:\n{tail(self.stderr)}')

    def __str__(self) -> str:
        return self.describe()

    def __repr__(self) -> str:
        # pytest shows `assert ..., result` messages through a repr cut to ~240 characters (unless -vv),
        # so lead with what matters; the full output is attached to the failed test's report.
        failed = '; '.join(self.failed_tasks())
        return f'PlaybookResult(rc={self.rc}, failed=[{failed}], stats={self.stats}, see the ansible-playbook sections below)'


def _bin_dir() -> str:
    return os.path.dirname(sys.executable)


def _ansible_playbook() -> str:
    candidate = os.path.join(_bin_dir(), 'ansible-playbook')
    if os.path.exists(candidate):
        return candidate
    found = shutil.which('ansible-playbook')
    if not found:
        pytest.fail('ansible-playbook not found next to the test Python or on PATH; run `make install`')
    return found


_PLAYBOOK_RUNS = pytest.StashKey[list]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):  # pylint: disable=unused-argument
    """Attach every ansible-playbook run of a failed test to its report (shown under the failure)."""
    report = yield
    if report.failed and report.when == 'call':
        for number, result in enumerate(item.stash.get(_PLAYBOOK_RUNS, []), start=1):
            report.sections.append((f'ansible-playbook run {number} (rc={result.rc})', result.describe()))
    return report


@pytest.fixture
def run_playbook(collections_root, tmp_path, request):
    """Run ``ansible-playbook`` in a subprocess against this checkout's collection.

    ``run_playbook(playbook, *, extra_vars=None, check=False, diff=False, verbosity=0, env=None,
    callback='json', inventory='localhost,', forks=None, timeout=600, args=())``

    ``playbook`` is a path or YAML text (written to a temporary file).  The run is hermetic:
    inherited ``ANSIBLE_*`` and ``IMPROVMX_*`` variables are dropped (pass ``env`` to set them,
    e.g. ``env=sim_env``; a ``None`` value removes a variable), connection is local and the
    interpreter is the test Python.  ``args`` are extra ansible-playbook arguments.
    ``callback='json'`` prints a JSON document on stdout; ``'default'`` keeps Ansible's usual
    output.  In both cases ``stats`` and ``tasks`` are parsed from the recorded results.
    """
    counter = {'runs': 0}

    def _run(playbook: str | os.PathLike[str], *, extra_vars: dict[str, t.Any] | None = None, check: bool = False,
             diff: bool = False, verbosity: int = 0, env: dict[str, str | None] | None = None, callback: str = 'json',
             inventory: str = 'localhost,', forks: int | None = None, timeout: float = 600,
             args: t.Sequence[str] = ()) -> PlaybookResult:
        if callback not in ('json', 'default'):
            raise ValueError(f"callback must be 'json' or 'default', not {callback!r}")
        counter['runs'] += 1
        run_dir = tmp_path / f'playbook-run-{counter["runs"]}'
        run_dir.mkdir()

        playbook_text = os.fspath(playbook)
        if '\n' in playbook_text or not os.path.exists(playbook_text):
            if '\n' not in playbook_text and playbook_text.endswith(('.yml', '.yaml')):
                raise FileNotFoundError(playbook_text)
            playbook_path = run_dir / 'playbook.yml'
            playbook_path.write_text(playbook_text, encoding='utf-8')
            playbook_path = str(playbook_path)
        else:
            playbook_path = os.path.abspath(playbook_text)

        results_file = run_dir / 'results.json'
        all_vars = {'ansible_python_interpreter': sys.executable}
        all_vars.update(extra_vars or {})

        command = [_ansible_playbook(), '-i', inventory, '-c', 'local', '-e', json.dumps(all_vars)]
        if check:
            command.append('--check')
        if diff:
            command.append('--diff')
        if verbosity:
            command.append('-' + 'v' * verbosity)
        if forks:
            command.extend(['--forks', str(forks)])
        command.extend(args)
        command.append(playbook_path)

        run_env = {key: value for key, value in os.environ.items() if not key.startswith(('ANSIBLE_', 'IMPROVMX_'))}
        run_env.update({
            'PATH': _bin_dir() + os.pathsep + os.environ.get('PATH', ''),
            'ANSIBLE_COLLECTIONS_PATH': collections_root,
            'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
            'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORCE_COLOR': '0',
            'ANSIBLE_HOST_KEY_CHECKING': 'False',
            'ANSIBLE_RETRY_FILES_ENABLED': 'False',
            'ANSIBLE_LOCAL_TEMP': str(run_dir / 'ansible-local'),
            'ANSIBLE_CALLBACK_PLUGINS': CALLBACK_DIR,
            'IMPROVMX_TEST_RESULTS_FILE': str(results_file),
            'PYTHONUNBUFFERED': '1',
        })
        if callback == 'json':
            run_env['ANSIBLE_STDOUT_CALLBACK'] = RESULTS_CALLBACK
            run_env['IMPROVMX_TEST_CALLBACK_TYPE'] = 'stdout'
        else:
            run_env['ANSIBLE_STDOUT_CALLBACK'] = 'default'
            run_env['ANSIBLE_CALLBACKS_ENABLED'] = RESULTS_CALLBACK
            run_env['IMPROVMX_TEST_CALLBACK_TYPE'] = 'aggregate'
        for key, value in (env or {}).items():
            if value is None:
                run_env.pop(key, None)
            else:
                run_env[key] = str(value)

        with subprocess.Popen(command, cwd=os.path.dirname(playbook_path), env=run_env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True) as process:
            try:
                stdout, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                stdout, stderr = process.communicate()
                pytest.fail(f'ansible-playbook did not finish within {timeout} s\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}')

        results = None
        if results_file.exists():
            results = json.loads(results_file.read_text(encoding='utf-8'))
        result = PlaybookResult(rc=process.returncode, stdout=stdout, stderr=stderr, command=command, results=results)
        request.node.stash.setdefault(_PLAYBOOK_RUNS, []).append(result)
        return result

    return _run


@pytest.fixture
def sim_env(simulator) -> dict[str, str]:
    """Environment for ``run_playbook(..., env=sim_env)`` that points the modules at the ``simulator`` fixture."""
    url = simulator.url
    if not url.endswith('/'):
        url += '/'
    return {'IMPROVMX_API_KEY': simulator.api_key, 'IMPROVMX_API_URL': url}
