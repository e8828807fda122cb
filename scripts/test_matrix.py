"""Run sanity, the unit tests and the integration targets on every ansible-core minor version.

``make test-matrix`` runs this. For each version it makes a virtual environment in
``build/matrix/<version>/venv`` (Python 3.11 up to ansible-core 2.19, Python 3.12 from 2.20 on,
found on PATH or through pyenv), installs the newest patch release of that minor version with
``tests/requirements-core-latest.txt``, installs a fresh copy of the collection next to it and runs

* ``ansible-test sanity --python X.Y`` on that copy,
* ``pytest tests/unit`` with that venv's Python,
* ``ansible-test integration --python X.Y --local`` (the targets, against their simulators).

Every stage runs even when an earlier one failed. The results (versions actually installed,
pass/fail and time of each stage) go to ``build/matrix/results.md`` and ``results.json``; the
exit status is 1 when any stage failed. A stage's full output is in
``build/matrix/<version>/<stage>.log``.

    python3 scripts/test_matrix.py                      # every version
    python3 scripts/test_matrix.py --versions 2.16 2.21 # some
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERSIONS = ['2.16', '2.17', '2.18', '2.19', '2.20', '2.21']
STAGES = ['sanity', 'units', 'integration']


def python_for(core: str) -> str:
    """The interpreter for an ansible-core minor version: 3.11 up to 2.19, 3.12 above."""
    wanted = '3.11' if tuple(int(p) for p in core.split('.')) <= (2, 19) else '3.12'
    found = shutil.which('python' + wanted)
    if found and subprocess.run([found, '-c', ''], check=False).returncode == 0:
        return found
    pyenv_root = os.environ.get('PYENV_ROOT', os.path.expanduser('~/.pyenv'))
    candidates = sorted(glob.glob(os.path.join(pyenv_root, 'versions', wanted + '.*', 'bin', 'python' + wanted)))
    if candidates:
        return candidates[-1]
    raise SystemExit('no Python %s found for ansible-core %s (on PATH or in pyenv)' % (wanted, core))


def run(cmd: list[str], log: str, cwd: str = ROOT, env: dict[str, str] | None = None) -> tuple[bool, float]:
    start = time.monotonic()
    with open(log, 'w') as handle:
        handle.write('$ %s\n' % ' '.join(cmd))
        handle.flush()
        rc = subprocess.run(cmd, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, check=False).returncode
    return rc == 0, time.monotonic() - start


def one_version(core: str, base: str, stages: list[str]) -> dict:
    work = os.path.join(base, core)
    os.makedirs(work, exist_ok=True)
    python = python_for(core)
    venv = os.path.join(work, 'venv')
    bin_dir = os.path.join(venv, 'bin')
    result = {'core': core, 'stages': {}}
    if not os.path.exists(os.path.join(bin_dir, 'python')):
        subprocess.run([python, '-m', 'venv', venv], check=True)
    install = [os.path.join(bin_dir, 'python'), '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check',
               '--upgrade', 'ansible-core==%s.*' % core, '-r', os.path.join(ROOT, 'tests', 'requirements-core-latest.txt')]
    ok = run(install, os.path.join(work, 'install.log'))[0]
    if not ok:
        result['error'] = 'pip install failed (see %s/install.log)' % work
        return result
    info = subprocess.run([os.path.join(bin_dir, 'python'), '-c',
                           'import platform, ansible.release as r; print(r.__version__, platform.python_version())'],
                          check=True, capture_output=True, text=True).stdout.split()
    result['core_version'], result['python_version'] = info
    py_minor = '.'.join(info[1].split('.')[:2])

    env = dict(os.environ)
    env['PATH'] = bin_dir + os.pathsep + env['PATH']
    env.pop('ANSIBLE_COLLECTIONS_PATH', None)
    collections = os.path.join(work, 'collections')
    copy = os.path.join(collections, 'ansible_collections', 'improvmx', 'email')
    shutil.rmtree(collections, ignore_errors=True)
    subprocess.run([os.path.join(bin_dir, 'ansible-galaxy'), 'collection', 'install', '--offline', '--no-deps', '--force',
                    ROOT, '-p', collections], check=True, env=env, stdout=subprocess.DEVNULL)
    # ansible-test lists files with git when a .git is above the collection (see the Makefile).
    subprocess.run(['git', '-c', 'init.defaultBranch=main', 'init', '--quiet', copy], check=True)
    with open(os.path.join(copy, '.git', 'info', 'exclude'), 'w') as handle:
        handle.write('/tests/output/\n__pycache__/\n*.pyc\n')
    subprocess.run([os.path.join(bin_dir, 'python'), os.path.join(ROOT, 'scripts', 'ansible_test_get_pip.py')],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    env['ANSIBLE_COLLECTIONS_PATH'] = collections

    commands = {
        'sanity': ([os.path.join(bin_dir, 'ansible-test'), 'sanity', '--python', py_minor, '--color', 'no'], copy),
        'units': ([os.path.join(bin_dir, 'python'), '-m', 'pytest', '-c', os.path.join(ROOT, 'tests', 'pytest.ini'),
                   '--rootdir', ROOT, '-q', '-p', 'no:cacheprovider', os.path.join(ROOT, 'tests', 'unit')], ROOT),
        'integration': ([os.path.join(bin_dir, 'ansible-test'), 'integration', '--python', py_minor, '--local',
                         '--color', 'no', '--continue-on-error'], copy),
    }
    for stage in stages:
        cmd, cwd = commands[stage]
        ok, seconds = run(cmd, os.path.join(work, stage + '.log'), cwd=cwd, env=env)
        result['stages'][stage] = {'passed': ok, 'seconds': round(seconds)}
        print('==> ansible-core %s (Python %s): %s %s in %ds'
              % (result['core_version'], result['python_version'], stage, 'passed' if ok else 'FAILED', seconds), flush=True)
    return result


def table(results: list[dict]) -> str:
    lines = ['| ansible-core | Python | sanity | units | integration targets |', '|---|---|---|---|---|']
    for res in results:
        if 'error' in res:
            lines.append('| %s | | %s | | |' % (res['core'], res['error']))
            continue
        cells = ['%s (%d s)' % ('passed' if res['stages'][s]['passed'] else '**failed**', res['stages'][s]['seconds'])
                 if s in res['stages'] else 'not run' for s in STAGES]
        lines.append('| %s | %s | %s |' % (res['core_version'], res['python_version'], ' | '.join(cells)))
    return '\n'.join(lines) + '\n'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--versions', nargs='+', default=VERSIONS, help='ansible-core minor versions (default: %(default)s)')
    parser.add_argument('--stages', nargs='+', default=STAGES, choices=STAGES, help='default: all')
    parser.add_argument('--build-dir', default=os.path.join(ROOT, 'build', 'matrix'))
    args = parser.parse_args()
    args.build_dir = os.path.abspath(args.build_dir)
    os.makedirs(args.build_dir, exist_ok=True)
    results = []
    for core in args.versions:
        results.append(one_version(core, args.build_dir, args.stages))
        # Write after every version, so a long run shows its progress.
        with open(os.path.join(args.build_dir, 'results.json'), 'w') as handle:
            json.dump(results, handle, indent=2)
        with open(os.path.join(args.build_dir, 'results.md'), 'w') as handle:
            when = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
            handle.write('Run %s on %s\n\n' % (when, os.uname().nodename))
            handle.write(table(results))
    print(table(results))
    failed = any('error' in r or not all(s['passed'] for s in r['stages'].values()) for r in results)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
