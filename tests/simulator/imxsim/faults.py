# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection: queued faults matched against requests, and the answers they make."""

from __future__ import absolute_import, division, print_function

import copy
import json
import re

from .common import _UNSET, LIST_KEYS

__metaclass__ = type  # pylint: disable=invalid-name

FAULT_KINDS = ('status', 'drop', 'delay', 'apply_then_status', 'apply_then_drop',
               'no_object', 'apply_then_no_object', 'redirect', 'empty_list', 'total_delta', 'headers')


class FaultsMixin:
    """The Simulator's fault queue (``self._faults``, guarded by ``self._lock``)."""

    def add_fault(self, method='*', path_regex='.*', count=1, status=None, headers=None, body=None,
                  kind='status', delay=0.0, query=None, location=None, delta=1):
        """Queue a fault for the next ``count`` matching requests (count None: unlimited).

        ``path_regex`` is searched (re.search) in the decoded path without the /v3 prefix, e.g.
        ``/domains/example.com/aliases``.  Kinds: status (answer ``status``/``body`` without applying),
        drop (close the connection without answering), delay (sleep ``delay`` s, then proceed),
        apply_then_status (apply, then answer ``status``), apply_then_drop (apply, then close),
        no_object (answer ``status``, default 200, with ``body``, default {"success": true}: a 2xx
        without the object, not applied), apply_then_no_object (the same, applied), redirect (answer
        ``status``, default 301, with a Location header: ``location``, a template of {host}, {port},
        {path} (with /v3) and {query}; default ``https://{host}:{port}{path}{query}``; not applied),
        empty_list (a listing served normally but its list emptied, total unchanged), total_delta (a
        listing whose ``total`` is off by ``delta``), headers (served normally, its answer carrying
        ``headers`` besides its own, replacing those of the same name: X-RateLimit-* values of a proxy).  ``query``: a dict of query parameters that must
        all match (as strings), e.g. {"page": "2"}.
        """
        if kind not in FAULT_KINDS:
            raise ValueError('kind must be one of %s' % ', '.join(FAULT_KINDS))
        re.compile(path_regex)
        if query is not None and not isinstance(query, dict):
            raise ValueError('query must be an object of query parameters')
        if status is None:
            status = {'apply_then_status': 502, 'no_object': 200, 'apply_then_no_object': 200, 'redirect': 301}.get(kind, 500)
        if body is None and kind in ('no_object', 'apply_then_no_object'):
            body = {'success': True}
        fault = {'method': method.upper(), 'path_regex': path_regex, 'count': count, 'status': int(status),
                 'headers': headers, 'body': body, 'kind': kind, 'delay': float(delay),
                 'query': {str(k): str(v) for k, v in query.items()} if query else None,
                 'location': location, 'delta': int(delta)}
        with self._lock:
            self._faults.append(fault)
        return dict(fault)

    @property
    def faults(self):
        with self._lock:
            return copy.deepcopy(self._faults)

    def clear_faults(self):
        with self._lock:
            self._faults = []

    def take_fault(self, method, path, query=_UNSET):
        """The fault for this request, if one is queued (its count is taken); ``query`` defaults to the
        query of the request being served on this thread."""
        if query is _UNSET:
            query = getattr(self.request_context, 'query', None)
        with self._lock:
            for fault in self._faults:
                if fault['method'] not in ('*', method):
                    continue
                if not re.search(fault['path_regex'], path):
                    continue
                if fault.get('query') and any((query or {}).get(k) != v for k, v in fault['query'].items()):
                    continue
                if fault['count'] is not None:
                    fault['count'] -= 1
                    if fault['count'] <= 0:
                        self._faults.remove(fault)
                return dict(fault)
        return None

    @staticmethod
    def fault_response(fault):
        """(status, body bytes, headers, content type) for a status fault."""
        status = fault['status']
        body = fault['body']
        if body is None:
            body = json.dumps({'error': 'Simulated fault (HTTP %d)' % status, 'code': status, 'success': False})
        elif not isinstance(body, str):
            body = json.dumps(body)
        try:
            json.loads(body)
            ctype = 'application/json'
        except ValueError:
            ctype = 'text/html'
        headers = fault['headers']
        if headers is None:
            headers = {'Retry-After': '1'} if status == 429 else {}
        return status, body, dict(headers), ctype

    def redirect_location(self, fault, host_header, raw_path, raw_query):
        """The Location of a redirect fault (see add_fault)."""
        host, _sep, port = (host_header or '%s:%s' % (self.host, self.port)).rpartition(':')
        if not host:
            host, port = port, str(self.port)
        template = fault.get('location') or 'https://{host}:{port}{path}{query}'
        return template.format(host=host, port=port, path=raw_path, query='?' + raw_query if raw_query else '')

    @staticmethod
    def distort_listing(fault, payload):
        """A listing answer made to contradict itself (empty_list / total_delta faults)."""
        payload = dict(payload)
        if fault['kind'] == 'empty_list':
            for key in LIST_KEYS:
                if isinstance(payload.get(key), list):
                    payload[key] = []
        elif isinstance(payload.get('total'), int):
            payload['total'] = max(0, payload['total'] + fault['delta'])
        return payload
