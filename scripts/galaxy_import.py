#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build the collection tarball and import it with galaxy-importer, as Galaxy does on upload.

galaxy-importer's ansible-test step needs a container runtime, so it is off (ansible-test sanity
runs on its own in `make test`); ansible-lint runs. The import must end with no error and no
warning: any WARNING or ERROR line of the importer fails this script.

    python scripts/galaxy_import.py [--output-dir build/galaxy-import]
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = """[galaxy-importer]
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_LINT = True
RUN_FLAKE8 = False
LOG_LEVEL_MAIN = INFO
"""
PROBLEM = re.compile(r'\b(WARNING|ERROR|CRITICAL)\b')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--output-dir', default=os.path.join(ROOT, 'build', 'galaxy-import'))
    args = parser.parse_args()
    os.makedirs(args.output_dir, exist_ok=True)
    for old in glob.glob(os.path.join(args.output_dir, '*.tar.gz')):
        os.remove(old)
    bindir = os.path.dirname(sys.executable)
    subprocess.run([os.path.join(bindir, 'ansible-galaxy'), 'collection', 'build', '--force', '--output-path',
                    args.output_dir, ROOT], check=True, stdout=subprocess.DEVNULL)
    tarball, = glob.glob(os.path.join(args.output_dir, '*.tar.gz'))
    config = os.path.join(args.output_dir, 'galaxy-importer.cfg')
    with open(config, 'w', encoding='utf-8') as handle:
        handle.write(CONFIG)
    # ansible-lint and ansible-doc are found on PATH: the venv's own.
    env = dict(os.environ, GALAXY_IMPORTER_CONFIG=config, PATH=bindir + os.pathsep + os.environ.get('PATH', ''))
    done = subprocess.run([sys.executable, '-m', 'galaxy_importer.main', tarball], env=env, cwd=args.output_dir,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    problems = [line for line in done.stdout.splitlines() if PROBLEM.search(line)]
    print(done.stdout[-3000:] if done.returncode or problems else 'galaxy-importer: %s imported' % os.path.basename(tarball))
    if done.returncode:
        print('galaxy-importer failed with exit status %d' % done.returncode, file=sys.stderr)
        return 1
    if problems:
        print('galaxy-importer reported %d problem(s):\n%s' % (len(problems), '\n'.join(problems)), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
