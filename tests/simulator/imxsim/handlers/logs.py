# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The /domains/:d/logs endpoints and the fake log entries they serve."""

from __future__ import absolute_import, division, print_function

import copy

from ..common import ApiError
from ..logentries import log_failed

__metaclass__ = type  # pylint: disable=invalid-name


def h_logs(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    logs = dom['logs']
    cursor = (query.get('next_cursor') or '').strip()
    start = 0
    if cursor:
        ids = [entry['id'] for entry in logs]
        if cursor not in ids:
            raise ApiError.field('next_cursor', 'Unknown cursor "%s".' % cursor)
        start = ids.index(cursor) + 1
    wanted = params.get('alias')
    only = (query.get('filter') or '').strip().lower()
    if only not in ('', 'failure'):
        raise ApiError.field('filter', 'Unknown filter "%s": the only filter is "failure".' % only)
    selected = []
    for entry in logs[start:]:
        if wanted is not None and entry['recipient']['email'].split('@')[0].lower() != wanted.lower():
            continue
        if only == 'failure' and not log_failed(entry):
            continue
        selected.append(copy.deepcopy(entry))
        if len(selected) >= sim.log_page_size:
            break
    return {'logs': selected, 'success': True}
