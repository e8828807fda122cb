# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Count the code lines of module files: lines outside the DOCUMENTATION, EXAMPLES and RETURN
strings, without blank lines, comments and docstrings.

Usage: python3 scripts/count_code_lines.py [FILE...]   (default: plugins/modules/*.py)
"""

import ast
import glob
import io
import sys
import tokenize

DOC_NAMES = ('DOCUMENTATION', 'EXAMPLES', 'RETURN')


def excluded_lines(source):
    """Line numbers of the documentation strings and of docstrings."""
    lines = set()
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) in DOC_NAMES for t in node.targets):
            lines.update(range(node.lineno, node.end_lineno + 1))
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(getattr(first, 'value', None), ast.Constant) \
                    and isinstance(first.value.value, str):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def count(path):
    with open(path) as handle:
        source = handle.read()
    skip = excluded_lines(source)
    code = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                          tokenize.DEDENT, tokenize.ENDMARKER):
            continue
        for line in range(token.start[0], token.end[0] + 1):
            if line not in skip:
                code.add(line)
    return len(code)


def main(argv):
    paths = argv or sorted(glob.glob('plugins/modules/*.py'))
    total = 0
    for path in paths:
        number = count(path)
        total += number
        print('%6d  %s' % (number, path))
    print('%6d  total' % total)


if __name__ == '__main__':
    main(sys.argv[1:])
