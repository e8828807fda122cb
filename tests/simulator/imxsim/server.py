# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP server: parses requests, applies faults, serves /_sim/ and /v3/."""

from __future__ import absolute_import, division, print_function

import json
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

from .common import API_PREFIX, match_route
from .control import SIM_ROUTES

__metaclass__ = type  # pylint: disable=invalid-name


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, sim):
        self.sim = sim
        self.open_connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def close_open_connections(self):
        with self.connections_lock:
            conns = list(self.open_connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'ImprovMXSimulator/1.0'
    timeout = 120  # idle keep-alive connections are closed after this
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms delayed-ACK stalls

    def setup(self):
        super().setup()
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.open_connections.discard(self.connection)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: no per-request logging."""

    def do_GET(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_POST(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_PUT(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_DELETE(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_PATCH(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_OPTIONS(self):  # pylint: disable=invalid-name
        self._dispatch()

    def _read_body(self):
        if 'chunked' in (self.headers.get('Transfer-Encoding') or '').lower():
            chunks = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    while self.rfile.readline() not in (b'\r\n', b'\n', b''):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b''.join(chunks)
        length = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(length) if length > 0 else b''

    def _send(self, status, body, headers=None, content_type='application/json'):
        data = body if isinstance(body, bytes) else body.encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, str(value))
        if self.close_connection:
            self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_json(self, status, payload, headers=None):
        self._send(status, json.dumps(payload, indent=None, sort_keys=False), headers)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _dispatch(self):
        try:
            self._dispatch_inner()
        except (ConnectionError, socket.timeout):
            self.close_connection = True
        except Exception:  # pylint: disable=broad-except
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            try:
                self._send_json(500, {'error': 'Internal simulator error', 'code': 500, 'success': False})
            except OSError:
                pass

    def _dispatch_inner(self):
        sim = self.server.sim
        started = time.time()
        method = self.command.upper()
        raw_path, _sep, raw_query = self.path.partition('?')
        raw_body = self._read_body()
        query = {key: values[0] for key, values in parse_qs(raw_query, keep_blank_values=True).items()}
        segments = [unquote(seg) for seg in raw_path.split('/') if seg != '']
        body = None
        body_error = False
        if raw_body.strip():
            try:
                body = json.loads(raw_body.decode('utf-8'))
            except (ValueError, UnicodeDecodeError):
                body_error = True

        if segments and segments[0] == '_sim':
            self._control(sim, method, segments[1:], body, body_error)
            return

        is_api = bool(segments) and segments[0] == API_PREFIX
        path = '/' + '/'.join(segments[1:] if is_api else segments)
        entry = sim.log_request(method, path, query, body, started)
        # The query reaches take_fault through a thread-local: take_fault(method, path) stays the
        # two-argument hook that tests may wrap.
        sim.request_context.query = query
        try:
            fault = sim.take_fault(method, path)
        finally:
            sim.request_context.query = None
        kind = fault['kind'] if fault else None
        sim.note_request(entry, fault=kind)
        if kind in ('status', 'no_object'):
            status, data, headers, ctype = sim.fault_response(fault)
            sim.note_request(entry, status=status)
            self._send(status, data, headers, ctype)
            return
        if kind == 'redirect':
            status, data, headers, ctype = sim.fault_response(fault)
            headers.setdefault('Location', sim.redirect_location(fault, self.headers.get('Host'), raw_path, raw_query))
            sim.note_request(entry, status=status)
            self._send(status, data, headers, ctype)
            return
        if kind == 'drop':
            self._drop()
            return
        if kind == 'delay':
            time.sleep(fault['delay'])

        if is_api:
            status, payload, headers = sim.handle_api(method, segments[1:], query, body, body_error, self.headers.get('Authorization'))
        else:
            status, payload, headers = 404, {'error': 'Not found', 'code': 404, 'success': False}, {}

        if kind == 'apply_then_drop':
            sim.note_request(entry, applied_status=status)
            self._drop()
            return
        if kind in ('apply_then_status', 'apply_then_no_object'):
            fault_status, data, fault_headers, ctype = sim.fault_response(fault)
            sim.note_request(entry, applied_status=status, status=fault_status)
            self._send(fault_status, data, fault_headers, ctype)
            return
        if kind in ('empty_list', 'total_delta') and status == 200 and isinstance(payload, dict):
            payload = sim.distort_listing(fault, payload)
        if kind == 'headers':
            headers = dict(headers or {}, **(fault['headers'] or {}))
        sim.note_request(entry, status=status)
        self._send_json(status, payload, headers)

    def _control(self, sim, method, segments, body, body_error):
        if body_error:
            self._send_json(400, {'error': 'Invalid JSON body', 'code': 400, 'success': False})
            return
        handler, _params, allowed = match_route(SIM_ROUTES, method, segments)
        if handler is None:
            if allowed:
                self._send_json(405, {'error': 'Method not allowed', 'code': 405, 'success': False}, {'Allow': ', '.join(allowed)})
            else:
                self._send_json(404, {'error': 'Unknown simulator endpoint', 'code': 404, 'success': False})
            return
        try:
            payload = handler(sim, body)
        except (TypeError, ValueError, KeyError) as err:
            self._send_json(400, {'error': str(err), 'code': 400, 'success': False})
            return
        self._send_json(200, payload)
