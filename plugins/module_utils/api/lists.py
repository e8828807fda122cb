# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Lists, a layer on top of the client: page/limit lists read to the end, and cursor lists (logs).

This file owns paginate() (with the detection of a listing that contradicts itself) and
cursor_list(). Both take the client and use only its public face: get() for each page,
event() to list a second reading in retry_events, error() for a list that cannot be trusted.
Retries, pacing and redaction happen below, in each get(). Callers use the client's methods
ImprovMXClient.paginate() and ImprovMXClient.cursor_list(), which call these.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

PAGE_LIMIT = 100


class _Contradiction(Exception):
    """A listing whose pages contradict each other (paginate reads it again, then fails)."""


def paginate(client, path, key, params=None, limit=PAGE_LIMIT, until_empty=False):
    """Yield every item of a page/limit list.

    With a total in the answers, the walk goes on until the items seen reach it; a page
    that brings nothing new before that, a total that changes from one page to the next
    or more items than the total is a listing that contradicts itself (a page lost, an
    object added or removed meanwhile): the list is read again from page 1, yielding only
    what was not yielded yet, and when it contradicts itself again an ImprovMXError is
    raised, so that nothing is ever decided on an incomplete list. Without a total, the
    walk stops at an empty page, a page shorter than the page size the server says it
    used (a server that ignores limit reports its own) or a page that repeats what was seen. With until_empty, a short page does not end the
    walk (a list whose server may page by a size of its own and say nothing of it, such as the
    rules list): only an empty page, a page that repeats what was seen or the total does.
    """
    yielded = set()
    for attempt in (1, 2):
        try:
            for item in _walk(client, path, key, params, limit, until_empty):
                mark = _identity(item)
                if mark in yielded:
                    continue
                yielded.add(mark)
                yield item
            return
        except _Contradiction as exc:
            shown = '%s %s' % ('GET', path)
            if attempt == 2:
                raise client.error('%s: the list contradicts itself again when read a second time from page 1 (%s); '
                                   'nothing was decided on it: running the task again reads it afresh'
                                   % (shown, exc), method='GET', path=path)
            client.event('%s: the list contradicts itself (%s); reading it again from page 1' % (shown, exc))


def _walk(client, path, key, params, limit, until_empty=False):
    """One walk of a page/limit list from page 1 (see paginate); raises _Contradiction."""
    query = dict(params or {})
    page = 1
    seen = 0
    seen_ids = set()
    first_total = None
    while True:
        query.update({'limit': limit, 'page': page})
        body = client.get(path, params=query) or {}
        items = body.get(key) or []
        total = body.get('total')
        total = total if isinstance(total, int) and not isinstance(total, bool) else None
        if page == 1:
            first_total = total
        elif total != first_total:
            raise _Contradiction('page %d says total %s, page 1 said %s' % (page, total, first_total))
        new = 0
        for item in items:
            ident = item.get('id') if isinstance(item, dict) else None
            if ident is not None:
                if ident in seen_ids:
                    continue
                seen_ids.add(ident)
            new += 1
            yield item
        seen += new
        if total is not None:
            if seen > total:
                raise _Contradiction('%d items seen by page %d, more than the total of %d' % (seen, page, total))
            if seen == total:
                return
            if new == 0:
                raise _Contradiction('page %d brings %s although total says %d and %d were seen'
                                     % (page, 'no new item' if items else 'an empty list', total, seen))
            page += 1
            continue
        page_size = body.get('limit') or limit
        if not items or new == 0 or (len(items) < page_size and not until_empty):
            return
        page += 1


def cursor_list(client, path, key, cursor=None, max_items=None, params=None):
    """Collect a cursor list (logs); return (items, next_cursor).

    Each request asks for the items after the cursor, the id of the last item seen
    (or the next_cursor the server gives). next_cursor is None exactly when the server
    has nothing more; when max_items stopped the walk, it is where to resume. To tell the
    two apart, a walk that reaches max_items at the end of a page reads one page more.
    params (such as a filter) go with every request.
    """
    items = []
    while True:
        query = dict(params or {})
        if cursor:
            query['next_cursor'] = cursor
        body = client.get(path, params=query or None) or {}
        page = body.get(key) or []
        if not page:
            return items, None
        items.extend(page)
        if max_items is not None and len(items) > max_items:
            del items[max_items:]
            return items, _last_id(items)
        following = body.get('next_cursor') or _last_id(page)
        if not following or following == cursor:
            return items, None
        cursor = following


def _identity(item):
    """What tells two items of a list apart across two walks: the id, else the whole item."""
    if isinstance(item, dict) and item.get('id') is not None:
        return ('id', str(item['id']))
    return ('item', json.dumps(item, sort_keys=True, default=str))


def _last_id(items):
    for item in reversed(items):
        if isinstance(item, dict) and item.get('id'):
            return item['id']
    return None
