#!/bin/sh
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Run `duplicates` over a copy of plugins/ whose DOCUMENTATION, EXAMPLES and RETURN strings
# are blanked (line numbers kept), so it lists only code that repeats itself.
set -eu
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cp -r plugins "$out/plugins"
python3 - "$out/plugins" <<'PY'
import ast, glob, sys
for path in glob.glob(sys.argv[1] + '/**/*.py', recursive=True):
    lines = open(path).read().split('\n')
    for node in ast.walk(ast.parse('\n'.join(lines))):
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) in ('DOCUMENTATION', 'EXAMPLES', 'RETURN')
                                                for t in node.targets):
            for number in range(node.lineno - 1, node.end_lineno):
                lines[number] = ''
    open(path, 'w').write('\n'.join(lines))
PY
cd "$out" && duplicates --repo plugins "$@"
