# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Local stand-ins of DNS providers for the tests of the role's DNS task files.

* ``CloudflareStandIn``: a small in-memory stand-in of Cloudflare's API v4 (zones, dns_records: list
  with filters, create, update, delete), enough for community.general.cloudflare_dns and for the
  task file's reads with ansible.builtin.uri. cloudflare_dns has a fixed URL,
  https://api.cloudflare.com/client/v4, so the stand-in is also an HTTP proxy on 127.0.0.1: a
  CONNECT to api.cloudflare.com:443 is answered by the stand-in itself over TLS, with a certificate
  from a CA made for the test (``ca_file``). The playbook runs with HTTPS_PROXY pointing at it and
  SSL_CERT_FILE at the CA; every other host is refused, so nothing leaves the machine.
* ``ZoneFeed``: serves a function's records as JSON, the simulator's zone hook
  (``Simulator.set_dns(domain, zone_url=...)``): the ImprovMX check then sees what was published.
* ``moto_server()``: moto's Route 53 on 127.0.0.1, and ``route53_records()`` to read a zone back.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import socketserver
import ssl
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

CLOUDFLARE_HOST = 'api.cloudflare.com'
API_PREFIX = '/client/v4'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def make_tls_files(directory: str, hostname: str = CLOUDFLARE_HOST) -> tuple[str, str, str]:
    """A CA and a certificate for hostname signed by it: (ca.pem, cert.pem, key.pem) in directory."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'improvmx.email test CA')])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = tuple(os.path.join(directory, name) for name in ('ca.pem', 'cert.pem', 'key.pem'))
    with open(paths[0], 'wb') as handle:
        handle.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], 'wb') as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[2], 'wb') as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return paths


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server: '_Server'

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_CONNECT(self):  # noqa: N802 (the proxy's tunnel, answered by the stand-in itself)
        host = self.path.split(':', 1)[0].lower()
        if host != CLOUDFLARE_HOST:
            self.send_response(403, 'only %s is served here' % CLOUDFLARE_HOST)
            self.send_header('Content-Length', '0')
            self.end_headers()
            self.close_connection = True
            return
        self.send_response(200, 'Connection established')
        self.end_headers()
        self.wfile.flush()
        conn = self.server.tls.wrap_socket(self.connection, server_side=True)
        self.connection = conn
        self.rfile = conn.makefile('rb', -1)
        self.wfile = socketserver._SocketWriter(conn)  # pylint: disable=protected-access
        self.close_connection = False

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get('Content-Length') or 0)
        body = json.loads(self.rfile.read(length) or b'null') if length else None
        url = urlparse(self.path)
        path = url.path
        if path.startswith('http'):  # a plain proxy request (no CONNECT): refused
            self._send(403, {'success': False})
            return
        status, answer = self.server.standin.handle(method, path, parse_qs(url.query), body, self.headers)
        self._send(status, answer)

    def do_GET(self):  # noqa: N802
        self._dispatch('GET')

    def do_POST(self):  # noqa: N802
        self._dispatch('POST')

    def do_PUT(self):  # noqa: N802
        self._dispatch('PUT')

    def do_PATCH(self):  # noqa: N802
        self._dispatch('PATCH')

    def do_DELETE(self):  # noqa: N802
        self._dispatch('DELETE')


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, standin, tls):
        super().__init__(('127.0.0.1', 0), _Handler)
        self.standin = standin
        self.tls = tls


def _error(status: int, code: int, message: str) -> tuple[int, dict]:
    return status, {'success': False, 'errors': [{'code': code, 'message': message}], 'messages': [], 'result': None}


class CloudflareStandIn(object):
    """Cloudflare API v4 in memory: zones by name, DNS records, and the log of the writes."""

    def __init__(self, directory: str, token: str = 'cf-test-token'):
        self.token = token
        self.zones: dict[str, dict] = {}
        self.records: dict[str, list[dict]] = {}
        self.writes: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self.ca_file, cert, key = make_tls_files(directory)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)
        self.server = _Server(self, tls)
        self.port = self.server.server_address[1]
        self.proxy_url = 'http://127.0.0.1:%d' % self.port
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def env(self) -> dict[str, str]:
        """The environment that sends the playbook's HTTPS requests for api.cloudflare.com to the stand-in."""
        return {'HTTPS_PROXY': self.proxy_url, 'https_proxy': self.proxy_url, 'SSL_CERT_FILE': self.ca_file,
                'NO_PROXY': '127.0.0.1,localhost', 'no_proxy': '127.0.0.1,localhost'}

    # -- state ------------------------------------------------------------------------------------------
    def add_zone(self, name: str) -> str:
        zone_id = uuid.uuid4().hex
        self.zones[zone_id] = {'id': zone_id, 'name': name, 'status': 'active'}
        self.records[zone_id] = []
        return zone_id

    def zone_id(self, name: str) -> str:
        return next(zid for zid, zone in self.zones.items() if zone['name'] == name)

    def add_record(self, zone: str, rtype: str, name: str, content: str, ttl: int = 1, priority=None) -> dict:
        zone_id = self.zone_id(zone)
        record = self._new_record(zone_id, {'type': rtype, 'name': name, 'content': content, 'ttl': ttl,
                                            'priority': priority})
        self.records[zone_id].append(record)
        return record

    def _new_record(self, zone_id: str, body: dict) -> dict:
        record = {'id': uuid.uuid4().hex, 'zone_id': zone_id, 'zone_name': self.zones[zone_id]['name'],
                  'type': body['type'], 'name': body['name'].rstrip('.').lower(), 'content': body['content'],
                  'ttl': body.get('ttl') or 1, 'proxied': bool(body.get('proxied', False)),
                  'proxiable': body['type'] in ('A', 'AAAA', 'CNAME'), 'comment': body.get('comment'),
                  'tags': body.get('tags') or []}
        if body['type'] == 'MX':
            record['priority'] = body.get('priority')
        return record

    def zone_records(self, zone: str) -> list[dict]:
        """The zone's records as sets, for the simulator's zone hook: [{name, type, values}]."""
        sets: dict[tuple[str, str], list[str]] = {}
        for record in self.records[self.zone_id(zone)]:
            value = '%s %s' % (record['priority'], record['content']) if record['type'] == 'MX' else record['content']
            sets.setdefault((record['name'], record['type']), []).append(value)
        return [{'name': name, 'type': rtype, 'values': values} for (name, rtype), values in sets.items()]

    def values(self, zone: str, name: str, rtype: str) -> list[str]:
        return sorted(('%s %s' % (r['priority'], r['content']) if rtype == 'MX' else r['content'])
                      for r in self.records[self.zone_id(zone)] if r['name'] == name and r['type'] == rtype)

    # -- the API ----------------------------------------------------------------------------------------
    def handle(self, method, path, query, body, headers):  # pylint: disable=too-many-return-statements
        if not path.startswith(API_PREFIX + '/'):
            return _error(404, 7000, 'No route for that URI')
        if headers.get('Authorization') != 'Bearer %s' % self.token:
            return _error(403, 9109, 'Invalid access token')
        parts = path[len(API_PREFIX) + 1:].strip('/').split('/')
        with self._lock:
            if method == 'GET' and parts == ['zones']:
                names = query.get('name')
                zones = [z for z in self.zones.values() if not names or z['name'] == names[0]]
                return 200, self._list(zones)
            if len(parts) >= 3 and parts[0] == 'zones' and parts[2] == 'dns_records' and parts[1] in self.zones:
                return self._records(method, parts[1], parts[3:], query, body)
        return _error(404, 7003, 'Could not route to %s' % path)

    @staticmethod
    def _list(items: list) -> dict:
        return {'success': True, 'errors': [], 'messages': [], 'result': items,
                'result_info': {'page': 1, 'per_page': 100, 'total_pages': 1, 'count': len(items), 'total_count': len(items)}}

    def _records(self, method, zone_id, rest, query, body):
        records = self.records[zone_id]
        if method == 'GET' and not rest:
            found = [r for r in records
                     if all(r.get(key) == (query[key][0].rstrip('.').lower() if key == 'name' else query[key][0])
                            for key in ('type', 'name', 'content') if key in query)]
            return 200, self._list(found)
        if method == 'POST' and not rest:
            self.writes.append((method, body['type'] + ' ' + body['name']))
            new = self._new_record(zone_id, body)
            same = [r for r in records if r['type'] == new['type'] and r['name'] == new['name']]
            if any(r['content'] == new['content'] for r in same):
                return _error(400, 81058, 'An identical record already exists.')
            if same and new['type'] == 'CNAME':
                return _error(400, 81053, 'A CNAME record with that host already exists.')
            records.append(new)
            return 200, {'success': True, 'errors': [], 'messages': [], 'result': new}
        if len(rest) == 1:
            current = next((r for r in records if r['id'] == rest[0]), None)
            if current is None:
                return _error(404, 81044, 'Record does not exist.')
            if method == 'DELETE':
                self.writes.append((method, current['type'] + ' ' + current['name']))
                records.remove(current)
                return 200, {'success': True, 'errors': [], 'messages': [], 'result': {'id': current['id']}}
            if method in ('PUT', 'PATCH'):
                self.writes.append((method, current['type'] + ' ' + current['name']))
                merged = dict(current, **body) if method == 'PATCH' else dict(body)
                new = self._new_record(zone_id, merged)
                new['id'] = current['id']
                records[records.index(current)] = new
                return 200, {'success': True, 'errors': [], 'messages': [], 'result': new}
        return _error(405, 10000, 'Method not allowed')


class ZoneFeed(object):
    """Serves records() as {"records": [...]} on 127.0.0.1: the simulator's zone hook."""

    def __init__(self, records):
        feed = records

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                data = json.dumps({'records': feed()}).encode('utf-8')
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d/zone' % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- Route 53 with moto ------------------------------------------------------------------------------------

AWS_ENV = {'AWS_ACCESS_KEY_ID': 'testing', 'AWS_SECRET_ACCESS_KEY': 'testing', 'AWS_SESSION_TOKEN': 'testing',
           'AWS_DEFAULT_REGION': 'us-east-1', 'AWS_REGION': 'us-east-1'}


def moto_server():
    """moto's server on a free port of 127.0.0.1, started and empty: (server, endpoint URL). Call server.stop() after.

    moto keeps its backends in module globals, so a second server in the same pytest worker would still hold the
    first one's hosted zones (two ``example.com.`` zones, and the route53 module picks the older one): reset them.
    """
    import requests
    from moto.server import ThreadedMotoServer
    port = free_port()
    server = ThreadedMotoServer(ip_address='127.0.0.1', port=port, verbose=False)
    server.start()
    endpoint = 'http://127.0.0.1:%d' % port
    requests.post(endpoint + '/moto-api/reset', timeout=30).raise_for_status()
    return server, endpoint


def route53_client(endpoint):
    import boto3
    return boto3.client('route53', endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id='testing',
                        aws_secret_access_key='testing')


def route53_records(client, zone_id):
    """The zone's record sets as [{name, type, values}] (names without the trailing dot), NS and SOA left out."""
    result = []
    for page in client.get_paginator('list_resource_record_sets').paginate(HostedZoneId=zone_id):
        for rrset in page['ResourceRecordSets']:
            if rrset['Type'] in ('NS', 'SOA'):
                continue
            result.append({'name': rrset['Name'].rstrip('.').lower(), 'type': rrset['Type'],
                           'values': [r['Value'] for r in rrset.get('ResourceRecords', [])]})
    return result


def route53_change(client, zone_id, name, rtype, values, ttl=300):
    client.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={'Changes': [{
        'Action': 'UPSERT', 'ResourceRecordSet': {'Name': name, 'Type': rtype, 'TTL': ttl,
                                                  'ResourceRecords': [{'Value': v} for v in values]}}]})
