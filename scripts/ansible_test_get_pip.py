"""Provide ansible-test's pip bootstrap script without reaching its download host.

``ansible-test sanity`` creates one virtual environment per sanity test and
bootstraps pip into each of them with a ``get-pip.py`` script that it downloads
from a host this project cannot reach.  Before downloading it looks for a cached
copy at ``~/.ansible/test/cache/get_pip_<version with underscores>.py``.

This script writes that cached copy: a small stand-in that installs pip from a
wheel fetched once with ``pip download pip==<version> --no-deps`` (PyPI is
reachable) and stored next to it.  Run it with the Python of the virtual
environment that has ansible-core installed, so the pip version matches the
installed ansible-test:

    .venv/bin/python scripts/ansible_test_get_pip.py
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import subprocess
import sys

STUB_TEMPLATE = '''\
"""Offline stand-in for get-pip.py {version} (written by improvmx.email scripts/ansible_test_get_pip.py).

ansible-test runs this as ``python get_pip.py [pip install options] pip=={version}
--no-setuptools --no-wheel`` inside a fresh virtual environment without pip.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WHEEL = os.path.join(HERE, {wheel!r})
GET_PIP_ONLY_OPTIONS = ("--no-setuptools", "--no-wheel")


def main():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    wanted = [arg for arg in args if not arg.startswith("-")]
    options = ["--find-links", HERE]
    if wanted and all(arg.split("==")[0].lower() == "pip" for arg in wanted):
        # Only pip itself is requested: the wheel next to this file is all we need.
        options.insert(0, "--no-index")
    sys.path.insert(0, WHEEL)
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-error

    return pip_main(["install", "--upgrade", "--force-reinstall"] + options + args)


if __name__ == "__main__":
    sys.exit(main())
'''


def ansible_test_pip_version() -> str:
    """Return the pip version the installed ansible-test bootstraps into its virtual environments."""
    import ansible_test  # pylint: disable=import-outside-toplevel

    source_path = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')
    with open(source_path, encoding='utf-8') as source_file:
        source = source_file.read()
    match = re.search(r"def get_venv_packages\(.*?default_packages = dict\((.*?)\)", source, re.S)
    versions = re.search(r"\bpip\s*=\s*'([0-9][0-9A-Za-z.]*)'", match.group(1)) if match else None
    if not versions:
        raise SystemExit(f'cannot find the pip version ansible-test wants in {source_path}; pass --pip-version')
    return versions.group(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--pip-version', help='pip version to provide (default: the one the installed ansible-test wants)')
    parser.add_argument('--cache-dir', default=os.path.expanduser('~/.ansible/test/cache'),
                        help='ansible-test cache directory (default: %(default)s)')
    parser.add_argument('--force', action='store_true', help='rewrite the stub and re-download the wheel')
    args = parser.parse_args()

    version = args.pip_version or ansible_test_pip_version()
    cache_dir = args.cache_dir
    stub_path = os.path.join(cache_dir, f"get_pip_{version.replace('.', '_')}.py")
    os.makedirs(cache_dir, exist_ok=True)

    wheels = sorted(glob.glob(os.path.join(cache_dir, f'pip-{version}-*.whl')))
    if args.force or not wheels:
        for stale in wheels:
            os.unlink(stale)
        subprocess.run(
            [sys.executable, '-m', 'pip', 'download', '--quiet', '--disable-pip-version-check',
             '--no-deps', '--only-binary=:all:', '--dest', cache_dir, f'pip=={version}'],
            check=True,
        )
        wheels = sorted(glob.glob(os.path.join(cache_dir, f'pip-{version}-*.whl')))
    if not wheels:
        raise SystemExit(f'pip download did not produce a pip {version} wheel in {cache_dir}')

    stub = STUB_TEMPLATE.format(version=version, wheel=os.path.basename(wheels[-1]))
    current = None
    if os.path.exists(stub_path):
        with open(stub_path, encoding='utf-8') as stub_file:
            current = stub_file.read()
    if current != stub:
        tmp_path = stub_path + '.tmp'
        with open(tmp_path, 'w', encoding='utf-8') as stub_file:
            stub_file.write(stub)
        os.replace(tmp_path, stub_path)
        print(f'ansible-test pip {version} bootstrap: wrote {stub_path}')
    else:
        print(f'ansible-test pip {version} bootstrap: {stub_path} is up to date')
    return 0


if __name__ == '__main__':
    sys.exit(main())
