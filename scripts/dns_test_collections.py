# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The DNS collections the provider task files are tested with, taken from the `ansible` package on PyPI.

The role's DNS task files (roles/domain_onboarding/files/dns_tasks_*.yml) call amazon.aws.route53,
community.general.cloudflare_dns and the community.dns modules. The tests run them against local
stand-ins (moto's server, a stand-in of Cloudflare's API). The collections come from the `ansible`
package on PyPI, which bundles them (the Galaxy collection index is not reachable everywhere): this
script runs `pip download ansible==VERSION --no-deps` once, and extracts only those collections into
DEST/collections/ansible_collections/. A second run finds them there and does nothing.

    python scripts/dns_test_collections.py [--dest build/dns-test-collections]

Prints the directory to use in ANSIBLE_COLLECTIONS_PATH (with this collection's own path).
Several processes may run it at once (pytest-xdist workers): a lock file serialises them.
"""

from __future__ import annotations

import argparse
import fcntl
import glob
import os
import shutil
import subprocess
import sys
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The `ansible` release that pairs with the ansible-core of requirements-dev.txt (2.19).
ANSIBLE_VERSION = '12.3.0'
COLLECTIONS = ('amazon/aws', 'community/general', 'community/dns')
DEFAULT_DEST = os.path.join(REPO, 'build', 'dns-test-collections')


def collections_path(dest: str = DEFAULT_DEST, version: str = ANSIBLE_VERSION, python: str = sys.executable) -> str:
    """Make sure DEST/collections holds the collections; return DEST/collections."""
    dest = os.path.abspath(dest)
    root = os.path.join(dest, 'collections')
    stamp = os.path.join(dest, 'extracted-%s' % version)
    if os.path.exists(stamp):
        return root
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(dest, '.lock'), 'w', encoding='utf-8') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(stamp):  # another process did it meanwhile
            return root
        wheels = glob.glob(os.path.join(dest, 'ansible-%s-*.whl' % version))
        if not wheels:
            subprocess.run([python, '-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary', ':all:',
                            '--dest', dest, 'ansible==%s' % version], check=True, stdin=subprocess.DEVNULL)
            wheels = glob.glob(os.path.join(dest, 'ansible-%s-*.whl' % version))
        if not wheels:
            raise RuntimeError('pip download ansible==%s left no wheel in %s' % (version, dest))
        shutil.rmtree(root, ignore_errors=True)
        prefixes = tuple('ansible_collections/%s/' % name for name in COLLECTIONS)
        with zipfile.ZipFile(wheels[0]) as wheel:
            wheel.extractall(root, [name for name in wheel.namelist() if name.startswith(prefixes)])
        open(stamp, 'w', encoding='utf-8').close()
    return root


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--dest', default=DEFAULT_DEST, help='where the wheel and the collections go (default: %(default)s)')
    parser.add_argument('--version', default=ANSIBLE_VERSION, help='the ansible package release (default: %(default)s)')
    args = parser.parse_args(argv)
    print(collections_path(args.dest, args.version))
    return 0


if __name__ == '__main__':
    sys.exit(main())
