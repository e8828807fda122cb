# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulator's DNS check: the top-level answer shape (issue 22, item 5) and the zone hook (issue 23)."""

from __future__ import absolute_import, division, print_function

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

import improvmx_sim

from improvmx_sim_fixtures import TEST_API_KEY  # noqa: E402  pylint: disable=wrong-import-position

# pylint: disable=redefined-outer-name


def check(sim, domain='example.com'):
    answer = requests.get(sim.url + 'domains/%s/check' % domain, auth=('api', TEST_API_KEY), timeout=10)
    assert answer.status_code == 200
    return answer.json()


def test_check_shape_records_by_default_and_top_as_an_option(simulator):
    simulator.seed_domain('example.com')
    nested = check(simulator)
    assert set(nested) == {'records', 'success'}
    assert simulator.configure(check_shape='top')['check_shape'] == 'top'
    top = check(simulator)
    assert top['success'] is False
    assert {key: value for key, value in top.items() if key != 'success'} == nested['records']
    with pytest.raises(ValueError, match='check_shape'):
        simulator.configure(check_shape='flat')


def test_check_shape_from_the_control_api_and_the_cli(simulator):
    simulator.seed_domain('example.com')
    done = requests.post(simulator.base_url + '_sim/config', json={'check_shape': 'top'}, timeout=10)
    assert done.json()['config']['check_shape'] == 'top'
    assert 'mx' in check(simulator)
    assert improvmx_sim.build_parser().parse_args(['--check-shape', 'top']).check_shape == 'top'


class Zone(object):
    """A zone hook: serves the records it holds as {"records": [...]}."""

    def __init__(self):
        self.records = []
        zone = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                body = json.dumps({'records': zone.records}).encode()
                self.send_response(200)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = 'http://127.0.0.1:%d/zone' % self.server.server_address[1]


@pytest.fixture
def zone():
    hook = Zone()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


def test_zone_hook_decides_the_check_from_published_records(simulator, zone):
    simulator.seed_domain('example.com')
    simulator.set_dns('example.com', zone_url=zone.url)
    zone.records = [
        {'name': 'example.com', 'type': 'MX', 'values': ['1 aspmx.l.google.com.']},
        {'name': 'example.com', 'type': 'TXT', 'values': ['"google-site-verification=abc"', '"v=spf1 include:_spf.google.com ~all"']},
        {'name': '_dmarc.example.com', 'type': 'TXT', 'values': ['v=DMARC1; p=reject']},
    ]
    records = check(simulator)['records']
    assert records['valid'] is False
    assert records['mx'] == {'expected': ['mx1.improvmx.com', 'mx2.improvmx.com'], 'valid': False, 'values': ['aspmx.l.google.com']}
    assert records['spf']['values'] == 'v=spf1 include:_spf.google.com ~all'
    assert records['spf']['expected'] == 'v=spf1 include:_spf.google.com include:spf.improvmx.com ~all'
    assert records['dmarc']['valid'] is True and records['dmarc']['values'] == 'v=DMARC1; p=reject'

    zone.records[0]['values'] = ['10 mx1.improvmx.com', '20 mx2.improvmx.com.']
    zone.records[1]['values'].append('v=spf1 include:spf.improvmx.com ~all')
    records = check(simulator)['records']
    assert records['mx']['valid'] is True
    assert records['spf']['valid'] is False and records['error'] == 'More than one SPF record found'

    zone.records[1]['values'] = ['"v=spf1 include:_spf.google.com " "include:spf.improvmx.com -all"']
    zone.records.append({'name': 'dkimprovmx1._domainkey.example.com', 'type': 'CNAME', 'values': ['dkimprovmx1.improvmx.com']})
    records = check(simulator)['records']
    assert records['valid'] is True and records['spf']['valid'] is True
    assert records['dkim1']['valid'] is True and records['dkim2']['valid'] is False

    # Unreachable hook: nothing is published.
    simulator.set_dns('example.com', zone_url='http://127.0.0.1:9/none')
    assert check(simulator)['records']['mx']['values'] is None
    simulator.set_dns('example.com', zone_url=None)
    assert check(simulator)['records']['valid'] is False
