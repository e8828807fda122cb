#!/usr/bin/env python
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate the module and role reference in docs/reference/ from the plugins' own documentation.

    python scripts/build_docs.py            # (re)write docs/reference/      (make docs)
    python scripts/build_docs.py --check    # fail, with a diff, when docs/reference/ is stale (make docs-check)

Runs ``antsibull-docs collection --use-current --output-format simplified-rst`` on this
checkout (made visible to ansible-doc through a temporary ansible_collections/improvmx/email
symlink, so nothing needs to be installed), then makes the links work when the .rst files
are read on a Git forge or from a checkout:

* links to this collection's plugins point to the sibling ``<name>_<type>.rst`` files
  (antsibull-docs writes some as ``../../improvmx/email/<name>_<type>.html``);
* links to plugins of other collections point to their page on docs.ansible.com.

The output depends on the plugins' DOCUMENTATION / EXAMPLES / RETURN, the role's
meta/argument_specs.yml, galaxy.yml (version, description, links) and meta/runtime.yml,
so rebuild after changing any of them.  antsibull-docs and ansible-core are taken from the
Python environment running this script (the Makefile's .venv).
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DEST = os.path.join(REPO, 'docs', 'reference')
NAMESPACE, NAME = 'improvmx', 'email'
DOCSITE = 'https://docs.ansible.com/ansible/latest/collections/{namespace}/{name}/{plugin}_{kind}.html'

# `improvmx.email.improvmx\_alias <improvmx_alias_module.rst>`__ (the FQCN's underscores are escaped)
RST_LINK = re.compile(r'`(?P<text>(?P<fqcn>[a-z0-9_\\]+\.[a-z0-9_\\]+\.[a-z0-9_\\]+)[^`<]*) <(?P<target>[a-z0-9_]+)_(?P<kind>[a-z]+)\.rst>`__')
# href='../../community/general/cloudflare_dns_module.html' inside the raw HTML option tables
HTML_LINK = re.compile(r"href='\.\./\.\./(?P<namespace>[a-z0-9_]+)/(?P<name>[a-z0-9_]+)/(?P<plugin>[a-z0-9_]+)_(?P<kind>[a-z]+)\.html(?P<anchor>#[^']*)?'")


def fix_links(text: str) -> str:
    """Make the cross-references of one generated file work outside a Sphinx build."""
    def rst(match):
        namespace, name, plugin = match.group('fqcn').replace('\\', '').split('.')
        if (namespace, name) == (NAMESPACE, NAME):
            return match.group(0)
        url = DOCSITE.format(namespace=namespace, name=name, plugin=plugin, kind=match.group('kind'))
        return f'`{match.group("text")} <{url}>`__'

    def html(match):
        if (match.group('namespace'), match.group('name')) == (NAMESPACE, NAME):
            return f"href='{match.group('plugin')}_{match.group('kind')}.rst{match.group('anchor') or ''}'"
        url = DOCSITE.format(**{key: match.group(key) for key in ('namespace', 'name', 'plugin', 'kind')})
        return f"href='{url}{match.group('anchor') or ''}'"

    return HTML_LINK.sub(html, RST_LINK.sub(rst, text))


def _tool(name: str) -> str:
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.path.exists(candidate) else name


def generate() -> dict[str, str]:
    """Run antsibull-docs on the checkout; return {file name: content} of the reference."""
    with tempfile.TemporaryDirectory(prefix='improvmx-docs-') as tmp:
        collections = os.path.join(tmp, 'collections')
        os.makedirs(os.path.join(collections, 'ansible_collections', NAMESPACE))
        os.symlink(REPO, os.path.join(collections, 'ansible_collections', NAMESPACE, NAME))
        out = os.path.join(tmp, 'out')
        os.makedirs(out)

        env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
        env.update({
            # antsibull-docs runs `ansible` / `ansible-doc`: the ones of this Python environment.
            'PATH': os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''),
            'ANSIBLE_COLLECTIONS_PATH': collections,
            'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
            'ANSIBLE_LOCAL_TEMP': os.path.join(tmp, 'ansible-tmp'),
            'ANSIBLE_NOCOLOR': '1',
        })
        command = [_tool('antsibull-docs'), 'collection', '--use-current', '--squash-hierarchy',
                   '--output-format', 'simplified-rst', '--no-add-antsibull-docs-version', '--fail-on-error',
                   '--dest-dir', out, f'{NAMESPACE}.{NAME}']
        result = subprocess.run(command, env=env, cwd=tmp, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            sys.stderr.write(f'{" ".join(command)} failed (rc={result.returncode}):\n{result.stdout}{result.stderr}')
            raise SystemExit(result.returncode or 1)

        files = {}
        for name in sorted(os.listdir(out)):
            with open(os.path.join(out, name), encoding='utf-8') as handle:
                files[name] = fix_links(handle.read())
        if not files or 'index.rst' not in files:
            raise SystemExit(f'antsibull-docs wrote no index.rst to {out}: {sorted(files)}')
        return files


def committed(dest: str) -> dict[str, str]:
    files = {}
    if os.path.isdir(dest):
        for name in sorted(os.listdir(dest)):
            path = os.path.join(dest, name)
            if os.path.isfile(path) and name.endswith('.rst'):
                with open(path, encoding='utf-8') as handle:
                    files[name] = handle.read()
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--check', action='store_true', help='do not write; fail when DEST differs from a fresh build')
    parser.add_argument('--dest', default=DEFAULT_DEST, help='output directory (default: docs/reference)')
    args = parser.parse_args(argv)

    fresh = generate()
    current = committed(args.dest)
    rel = os.path.relpath(args.dest, REPO)
    if args.check:
        if fresh == current:
            print(f'{rel}: up to date ({len(fresh)} files)')
            return 0
        for name in sorted(set(fresh) | set(current)):
            if fresh.get(name) != current.get(name):
                sys.stdout.writelines(difflib.unified_diff(
                    current.get(name, '').splitlines(True), fresh.get(name, '').splitlines(True),
                    f'{rel}/{name} (committed)', f'{rel}/{name} (from the plugins)', n=1))
        print(f'\n{rel} is stale: run `make docs` and commit the result.', file=sys.stderr)
        return 1

    os.makedirs(args.dest, exist_ok=True)
    for name in sorted(set(current) - set(fresh)):
        os.remove(os.path.join(args.dest, name))
        print(f'removed {rel}/{name}')
    for name, text in fresh.items():
        if current.get(name) != text:
            with open(os.path.join(args.dest, name), 'w', encoding='utf-8') as handle:
                handle.write(text)
            print(f'wrote {rel}/{name}')
    print(f'{rel}: {len(fresh)} files')
    return 0


if __name__ == '__main__':
    sys.exit(main())
