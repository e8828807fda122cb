# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the ImprovMX API simulator itself (tests/simulator)."""

from __future__ import absolute_import, division, print_function

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

__metaclass__ = type  # pylint: disable=invalid-name

SIM_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', 'simulator'))

# tests/conftest.py puts tests/simulator on sys.path and loads the fixture plugin.
from improvmx_sim import Simulator, expected_spf, normalize_domain  # noqa: E402  pylint: disable=wrong-import-position
from improvmx_sim_fixtures import TEST_API_KEY  # noqa: E402  pylint: disable=wrong-import-position

# pylint: disable=redefined-outer-name


class Api:
    """Tiny authenticated client for the tests."""

    def __init__(self, sim, key=TEST_API_KEY):
        self.sim = sim
        self.session = requests.Session()
        self.session.auth = ('api', key)

    def __call__(self, method, path, **kwargs):
        kwargs.setdefault('timeout', 10)
        return self.session.request(method, self.sim.url + path.lstrip('/'), **kwargs)

    def get(self, path, **kwargs):
        return self('GET', path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self('POST', path, json=body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self('PUT', path, json=body, **kwargs)

    def delete(self, path, **kwargs):
        return self('DELETE', path, **kwargs)


@pytest.fixture
def api(simulator):
    client = Api(simulator)
    yield client
    client.session.close()


def _errors(resp, field):
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body['success'] is False
    return body['errors'][field]


# ---------------------------------------------------------------- auth & errors

def test_auth_required(simulator):
    for auth in (None, ('api', 'wrong'), ('user', TEST_API_KEY)):
        resp = requests.get(simulator.url + 'account', auth=auth, timeout=10)
        assert resp.status_code == 401
        assert resp.json() == {'error': 'Authentication required', 'code': 401, 'success': False}
    resp = requests.get(simulator.url + 'account', auth=simulator.auth, timeout=10)
    assert resp.status_code == 200
    assert [r['status'] for r in simulator.requests] == [401, 401, 401, 200]


def test_unknown_route_and_wrong_method(api):
    resp = api.get('nope')
    assert resp.status_code == 404
    assert resp.json() == {'error': 'Not found', 'code': 404, 'success': False}
    resp = api.delete('account')
    assert resp.status_code == 405
    assert resp.json()['code'] == 405 and resp.json()['success'] is False
    assert 'GET' in resp.headers['Allow']


def test_invalid_json_body(api):
    resp = api('POST', 'domains', data='{not json', headers={'Content-Type': 'application/json'})
    assert _errors(resp, 'body')
    resp = api.post('domains', ['a', 'list'])
    assert _errors(resp, 'body')


def test_trailing_slash_optional(api):
    assert api.get('account/').status_code == 200
    assert api.get('account').status_code == 200
    assert api.get('domains/').json()['total'] == 0


# ---------------------------------------------------------------- account

def test_account_and_whitelabels(api, simulator):
    account = api.get('account').json()['account']
    assert account['email'] == 'owner@example.net'
    assert account['premium'] is True
    assert account['limits']['destinations'] == 5
    assert account['plan']['kind'] == 'enterprise'
    assert api.get('account/whitelabels').json() == {'whitelabels': [], 'success': True}
    simulator.seed_whitelabel('piedpiper.com')
    assert api.get('account/whitelabels').json() == {'whitelabels': [{'name': 'piedpiper.com'}], 'success': True}
    simulator.configure(premium=False, account_email='free@example.org')
    account = api.get('account').json()['account']
    assert account['premium'] is False and account['email'] == 'free@example.org'


# ---------------------------------------------------------------- domains

def test_create_domain_gets_catch_all(api):
    resp = api.post('domains', {'domain': 'NewDomain.com'})
    assert resp.status_code == 200, resp.text
    dom = resp.json()['domain']
    assert dom['domain'] == 'newdomain.com'
    assert dom['display'] == 'newdomain.com'
    assert dom['dkim_selector'] == 'dkimprovmx'
    assert dom['active'] is False
    assert dom['notification_email'] is None and dom['webhook'] is None and dom['whitelabel'] is None
    assert isinstance(dom['added'], int)
    assert [(a['alias'], a['forward']) for a in dom['aliases']] == [('*', 'owner@example.net')]
    assert api.get('domains/newdomain.com/aliases/*').json()['alias']['forward'] == 'owner@example.net'
    assert api.get('domains/NEWDOMAIN.com/aliases/%2A').status_code == 200


def test_create_domain_validation(api):
    assert api.post('domains', {'domain': 'dup.com'}).status_code == 200
    assert 'already registered' in _errors(api.post('domains', {'domain': 'DUP.com'}), 'domain')[0]
    for bad in ('nodot', '-bad.com', 'bad-.com', 'a..com', 'under_score.com', 'x' * 64 + '.com', '1.2.3.4', '', None, 'sp ace.com'):
        assert _errors(api.post('domains', {'domain': bad}), 'domain'), bad
    assert _errors(api.post('domains', {'domain': 'ok.com', 'notification_email': 'nope'}), 'notification_email')
    assert _errors(api.post('domains', {'domain': 'ok.com', 'notification_email': 'me@ok.com'}), 'notification_email')
    assert api.get('domains').json()['total'] == 1


def test_idn_domain(api):
    dom = api.post('domains', {'domain': 'xn--mnchen-3ya.de'}).json()['domain']
    assert dom['domain'] == 'xn--mnchen-3ya.de'
    assert dom['display'] == 'm\u00fcnchen.de'
    assert api.get('domains/xn--mnchen-3ya.de').status_code == 200
    assert normalize_domain('M\u00fcnchen.de') == ('xn--mnchen-3ya.de', 'm\u00fcnchen.de')


def test_domain_get_put_delete(api):
    assert api.get('domains/missing.com').status_code == 404
    assert api.get('domains/missing.com').json() == {'error': 'Domain not found', 'code': 404, 'success': False}
    api.post('domains', {'domain': 'piedpiper.com'})
    resp = api.put('domains/piedpiper.com', {'notification_email': 'email@example.com',
                                             'webhook': 'https://requestbin.com/r/x', 'whitelabel': 'hooli.com', 'unknown': 1})
    assert resp.status_code == 200, resp.text
    dom = resp.json()['domain']
    assert (dom['notification_email'], dom['webhook'], dom['whitelabel']) == ('email@example.com', 'https://requestbin.com/r/x', 'hooli.com')
    assert _errors(api.put('domains/piedpiper.com', {'webhook': 'ftp://x.com/'}), 'webhook')
    assert _errors(api.put('domains/piedpiper.com', {'domain': 'other.com'}), 'domain')
    dom = api.put('domains/piedpiper.com', {'notification_email': '', 'webhook': None}).json()['domain']
    assert dom['notification_email'] is None and dom['webhook'] is None and dom['whitelabel'] == 'hooli.com'
    assert api.get('domains/piedpiper.com').json()['domain']['whitelabel'] == 'hooli.com'
    assert api.put('domains/missing.com', {}).status_code == 404
    assert api.delete('domains/piedpiper.com').json() == {'success': True}
    assert api.get('domains/piedpiper.com').status_code == 404
    assert api.delete('domains/piedpiper.com').status_code == 404


def test_a_new_domain_field_is_one_line_of_the_table(api, simulator, monkeypatch):
    """A field added to DOMAIN_FIELDS with the TYPED check (docs/developing.md's spam_filter) works end to end."""
    from imxsim import state  # pylint: disable=import-outside-toplevel
    fields = state.DOMAIN_FIELDS + (state.Field('spam_filter', bool, False, state.TYPED, True, True, 'true or false'),)
    monkeypatch.setattr(state, 'DOMAIN_FIELDS', fields)
    monkeypatch.setattr(state, 'DOMAIN_FIELD_NAMES', tuple(field.name for field in fields))
    assert api.post('domains', {'domain': 'spam.com'}).json()['domain']['spam_filter'] is False  # the default
    assert api.post('domains', {'domain': 'ham.com', 'spam_filter': True}).json()['domain']['spam_filter'] is True
    for wrong in ('yes', 1, None):
        assert _errors(api.put('domains/spam.com', {'spam_filter': wrong}), 'spam_filter') == ['must be true or false.']
    assert api.put('domains/spam.com', {'spam_filter': True}).json()['domain']['spam_filter'] is True
    assert api.get('domains/spam.com').json()['domain']['spam_filter'] is True
    assert simulator.state_snapshot()['domains']['spam.com']['spam_filter'] is True
    simulator.seed_domain('seeded.com', spam_filter=True)
    assert api.get('domains/seeded.com').json()['domain']['spam_filter'] is True


def test_domain_paging_and_search(api, simulator):
    for index in range(12):
        simulator.seed_domain('d%02d.example.com' % index)
    simulator.seed_domain('other.org', active=True)
    page = api.get('domains', params={'limit': 5, 'page': 2}).json()
    assert (page['total'], page['limit'], page['page']) == (13, 5, 2)
    assert [d['domain'] for d in page['domains']] == ['d%02d.example.com' % i for i in range(5, 10)]
    assert len(api.get('domains', params={'limit': 5, 'page': 3}).json()['domains']) == 3
    far = api.get('domains', params={'limit': 5, 'page': 9}).json()
    assert far['domains'] == [] and far['total'] == 13
    assert api.get('domains').json()['limit'] == 50
    for bad in (4, 101, 'x'):
        assert _errors(api.get('domains', params={'limit': bad}), 'limit')
    assert _errors(api.get('domains', params={'page': 0}), 'page')
    found = api.get('domains', params={'q': 'd1'}).json()
    assert [d['domain'] for d in found['domains']] == ['d10.example.com', 'd11.example.com']
    assert found['total'] == 2
    assert api.get('domains', params={'q': 'example'}).json()['total'] == 0  # prefix, not substring
    assert [d['domain'] for d in api.get('domains', params={'is_active': '1'}).json()['domains']] == ['other.org']
    assert api.get('domains', params={'is_active': 'false'}).json()['total'] == 12
    assert _errors(api.get('domains', params={'is_active': 'maybe'}), 'is_active')


def test_domain_answer_caps_aliases_at_200(api, simulator):
    simulator.seed_domain('big.com', aliases={'a%03d' % i: 'x@y.com' for i in range(250)})
    assert len(api.get('domains/big.com').json()['domain']['aliases']) == 200
    assert len(api.get('domains').json()['domains'][0]['aliases']) == 200
    assert api.get('domains/big.com/aliases').json()['total'] == 250


# ---------------------------------------------------------------- DNS check

def test_dns_check_shape_and_states(api, simulator):
    api.post('domains', {'domain': 'piedpiper.com'})
    records = api.get('domains/piedpiper.com/check').json()['records']
    assert set(records) == {'provider', 'advanced', 'mx', 'spf', 'dkim1', 'dkim2', 'dmarc', 'error', 'valid'}
    assert records['mx']['expected'] == ['mx1.improvmx.com', 'mx2.improvmx.com']
    assert records['spf']['expected'] == 'v=spf1 include:spf.improvmx.com ~all'
    assert records['dkim1']['expected'] == 'dkimprovmx1.improvmx.com.'
    assert records['dkim2']['expected'] == 'dkimprovmx2.improvmx.com.'
    assert records['dmarc']['expected'] == 'v=DMARC1; p=none;'
    assert records['valid'] is False and records['mx']['values'] is None

    simulator.set_dns('piedpiper.com', mx=True, spf_value='v=spf1 include:someservice.org ~all')
    records = api.get('domains/piedpiper.com/check').json()['records']
    assert records['mx']['valid'] is True
    assert sorted(records['mx']['values']) == ['mx1.improvmx.com', 'mx2.improvmx.com']
    assert records['spf'] == {'expected': 'v=spf1 include:someservice.org include:spf.improvmx.com ~all',
                              'valid': False, 'values': 'v=spf1 include:someservice.org ~all'}
    assert records['valid'] is False

    simulator.set_dns('piedpiper.com', spf=True)
    records = api.get('domains/piedpiper.com/check').json()['records']
    assert records['valid'] is True and records['dmarc']['valid'] is False  # dmarc never blocks
    assert api.get('domains/piedpiper.com').json()['domain']['active'] is True

    # SMTP credentials make DKIM required
    api.post('domains/piedpiper.com/credentials', {'username': 'bighead', 'password': '12341234'})
    assert api.get('domains/piedpiper.com/check').json()['records']['valid'] is False
    simulator.set_dns('piedpiper.com', dkim1=True, dkim2=True)
    records = api.get('domains/piedpiper.com/check').json()['records']
    assert records['valid'] is True and records['dkim1']['values'] == 'dkimprovmx1.improvmx.com.'
    assert api.get('domains/nope.com/check').status_code == 404


def test_dns_valid_after_n_checks(api, simulator):
    api.post('domains', {'domain': 'slow.com'})
    simulator.set_dns('slow.com', valid_after=2)
    results = [api.get('domains/slow.com/check').json()['records']['valid'] for _attempt in range(4)]
    assert results == [False, False, True, True]
    assert simulator.state_snapshot()['dns']['slow.com']['checks'] == 4


def test_dns_valid_after_default(simulator_factory):
    sim = simulator_factory(dns_valid_after=1)
    client = Api(sim)
    client.post('domains', {'domain': 'a.com'})
    assert [client.get('domains/a.com/check').json()['records']['valid'] for _attempt in range(2)] == [False, True]


def test_expected_spf_keeps_other_mechanisms():
    assert expected_spf(None) == 'v=spf1 include:spf.improvmx.com ~all'
    assert expected_spf('v=spf1 ip4:1.2.3.4 include:a.org -all') == 'v=spf1 ip4:1.2.3.4 include:a.org include:spf.improvmx.com ~all'
    assert expected_spf('v=spf1 include:spf.improvmx.com ~all') == 'v=spf1 include:spf.improvmx.com ~all'


# ---------------------------------------------------------------- aliases

def test_alias_crud(api):
    api.post('domains', {'domain': 'piedpiper.com'})
    resp = api.post('domains/piedpiper.com/aliases', {'alias': 'Richard', 'forward': 'richard.hendricks@gmail.com'})
    assert resp.status_code == 200, resp.text
    alias = resp.json()['alias']
    assert set(alias) == {'forward', 'alias', 'id', 'created'}
    assert alias['alias'] == 'richard'
    rid = alias['id']
    assert api.get('domains/piedpiper.com/aliases/richard').json()['alias']['id'] == rid
    assert api.get('domains/piedpiper.com/aliases/%d' % rid).json()['alias']['alias'] == 'richard'
    assert api.get('domains/piedpiper.com/aliases/nobody').json() == {'error': 'Alias not found', 'code': 404, 'success': False}
    assert api.get('domains/piedpiper.com/aliases/99999').status_code == 404
    assert api.get('domains/nope.com/aliases/richard').status_code == 404

    resp = api.put('domains/piedpiper.com/aliases/richard', {'forward': 'richard.hendricks@protonmail.com'})
    assert resp.json()['alias']['forward'] == 'richard.hendricks@protonmail.com'
    assert _errors(api.put('domains/piedpiper.com/aliases/richard', {}), 'forward')
    resp = api.put('domains/piedpiper.com/aliases/%d' % rid, {'alias': 'richardhendricks', 'forward': 'richardhendricks@gmail.com'})
    assert resp.json()['alias'] == dict(resp.json()['alias'], alias='richardhendricks', forward='richardhendricks@gmail.com', id=rid)
    assert api.get('domains/piedpiper.com/aliases/richard').status_code == 404
    assert 'already exists' in _errors(api.put('domains/piedpiper.com/aliases/%d' % rid, {'alias': '*'}), 'alias')[0]
    assert api.put('domains/piedpiper.com/aliases/nobody', {'forward': 'a@b.com'}).status_code == 404

    assert api.delete('domains/piedpiper.com/aliases/%d' % rid).json() == {'success': True}
    assert api.delete('domains/piedpiper.com/aliases/richardhendricks').status_code == 404
    assert api.delete('domains/piedpiper.com/aliases/*').json() == {'success': True}
    assert api.get('domains/piedpiper.com/aliases').json()['total'] == 0


def test_alias_name_preferred_over_id(api, simulator):
    simulator.seed_domain('num.com', aliases=[{'alias': 'x', 'forward': 'a@b.com', 'id': 7},
                                              {'alias': '7', 'forward': 'c@d.com', 'id': 8}])
    assert api.get('domains/num.com/aliases/7').json()['alias']['forward'] == 'c@d.com'
    assert api.get('domains/num.com/aliases/8').json()['alias']['forward'] == 'c@d.com'


def test_alias_segment_id_first(api, simulator):
    """configure(alias_segment='id'): a numeric segment names the alias of that id first, for GET, PUT and DELETE."""
    simulator.seed_domain('num.com', aliases=[{'alias': 'x', 'forward': 'a@b.com', 'id': 7},
                                              {'alias': '7', 'forward': 'c@d.com', 'id': 8}])
    assert simulator.configure(alias_segment='id')['alias_segment'] == 'id'
    assert api.get('domains/num.com/aliases/7').json()['alias']['alias'] == 'x'
    assert api.get('domains/num.com/aliases/x').json()['alias']['id'] == 7
    assert api.put('domains/num.com/aliases/7', {'forward': 'e@f.com'}).json()['alias']['alias'] == 'x'
    assert api.delete('domains/num.com/aliases/7').json() == {'success': True}
    assert [a['alias'] for a in api.get('domains/num.com/aliases').json()['aliases']] == ['7']
    # With no alias of that id, the segment is the name again.
    assert api.get('domains/num.com/aliases/7').json()['alias']['id'] == 8
    with pytest.raises(ValueError):
        simulator.configure(alias_segment='both')


def test_alias_validation(api, simulator):
    api.post('domains', {'domain': 'v.com'})
    assert 'already exists' in _errors(api.post('domains/v.com/aliases', {'alias': '*', 'forward': 'a@b.com'}), 'alias')[0]
    for bad in ('.dot', 'dot.', 'sp ace', 'a' * 65, '', 'x/y', None):
        assert _errors(api.post('domains/v.com/aliases', {'alias': bad, 'forward': 'a@b.com'}), 'alias'), bad
    for bad in ('', 'notanemail', 'a@b.com,', 'a@b.com, nope', None, ['a@b.com']):
        assert _errors(api.post('domains/v.com/aliases', {'alias': 'ok', 'forward': bad}), 'forward'), bad
    six = ','.join('u%d@b.com' % i for i in range(6))
    assert _errors(api.post('domains/v.com/aliases', {'alias': 'ok', 'forward': six}), 'forward')
    five = ', '.join('u%d@b.com' % i for i in range(5))
    alias = api.post('domains/v.com/aliases', {'alias': 'ok', 'forward': five}).json()['alias']
    assert alias['forward'] == five.replace(', ', ',')
    simulator.configure(destinations_limit=1)
    assert _errors(api.post('domains/v.com/aliases', {'alias': 'two', 'forward': 'a@b.com,c@d.com'}), 'forward')
    assert api.post('domains/v.com/aliases', {'alias': 'a.b+c_d-e', 'forward': 'a@b.com'}).status_code == 200


def test_alias_list_search_and_paging(api, simulator):
    simulator.seed_domain('piedpiper.com', aliases=[
        ('richard', 'richard.hendricks@gmail.com'), ('jared', 'jared.dunn@gmail.com'),
        ('monica', 'monica.hall@gmail.com'), ('dinesh', 'dinesh.chugtai@gmail.com'),
        ('bertram', 'bertram.gilfoyle@gmail.com'), ('nelson', 'nelson.bighetti@gmail.com'),
        ('rich2', 'x@y.com,big@head.com'),
    ])
    page = api.get('domains/piedpiper.com/aliases', params={'limit': 5}).json()
    assert (page['total'], page['limit'], page['page'], len(page['aliases'])) == (7, 5, 1, 5)
    assert [a['id'] for a in page['aliases']] == sorted(a['id'] for a in page['aliases'])
    page2 = api.get('domains/piedpiper.com/aliases', params={'limit': 5, 'page': 2}).json()
    assert [a['alias'] for a in page2['aliases']] == ['nelson', 'rich2']
    assert [a['alias'] for a in api.get('domains/piedpiper.com/aliases', params={'q': 'rich'}).json()['aliases']] == ['richard', 'rich2']
    assert [a['alias'] for a in api.get('domains/piedpiper.com/aliases', params={'q': 'big'}).json()['aliases']] == ['rich2']
    assert [a['alias'] for a in api.get('domains/piedpiper.com/aliases', params={'q': 'nelson.b'}).json()['aliases']] == ['nelson']
    assert api.get('domains/piedpiper.com/aliases', params={'alias': 'big'}).json()['total'] == 0
    assert api.get('domains/piedpiper.com/aliases', params={'alias': 'rich'}).json()['total'] == 2
    assert api.get('domains/piedpiper.com/aliases', params={'is_active': 1}).json()['total'] == 7
    assert _errors(api.get('domains/piedpiper.com/aliases', params={'limit': 500}), 'limit')
    assert api.get('domains/nope.com/aliases').status_code == 404


def test_bulk_add_update_failed(api, simulator):
    simulator.seed_domain('piedpiper.com', aliases={'monica': 'old@x.com', 'dinesh': 'old@x.com'})
    body = {'aliases': [
        {'alias': 'richard', 'forward': 'richard.hendricks@gmail.com'},
        {'alias': 'monica', 'forward': 'monica.hall@gmail.com'},
        {'alias': 'bad alias', 'forward': 'a@b.com'},
        {'alias': 'jared', 'forward': 'not-an-email'},
    ]}
    result = api.post('domains/piedpiper.com/aliases/bulk', body).json()
    assert result['success'] is True
    assert [(a['alias'], a['forward']) for a in result['added']] == [('richard', 'richard.hendricks@gmail.com')]
    assert isinstance(result['added'][0]['id'], int)
    assert result['updated'] == []
    assert [a['alias'] for a in result['failed']] == ['monica', 'bad alias', 'jared']
    assert all(a['error'] for a in result['failed'])
    assert 'already exists' in result['failed'][0]['error']
    assert api.get('domains/piedpiper.com/aliases/monica').json()['alias']['forward'] == 'old@x.com'

    body = {'behavior': 'update', 'aliases': [{'alias': 'monica', 'forward': 'monica.hall@gmail.com'},
                                              {'alias': 'gilfoyle', 'forward': 'g@x.com'}]}
    result = api.post('domains/piedpiper.com/aliases/bulk', body).json()
    assert [a['alias'] for a in result['updated']] == ['monica']
    assert [a['alias'] for a in result['added']] == ['gilfoyle']
    assert api.get('domains/piedpiper.com/aliases/monica').json()['alias']['forward'] == 'monica.hall@gmail.com'

    too_many = {'aliases': [{'alias': 'a%d' % i, 'forward': 'a@b.com'} for i in range(501)]}
    assert _errors(api.post('domains/piedpiper.com/aliases/bulk', too_many), 'aliases')
    assert _errors(api.post('domains/piedpiper.com/aliases/bulk', {'aliases': [], 'behavior': 'merge'}), 'behavior')
    assert _errors(api.post('domains/piedpiper.com/aliases/bulk', {}), 'aliases')
    assert api.post('domains/nope.com/aliases/bulk', {'aliases': []}).status_code == 404
    exactly_500 = {'aliases': [{'alias': 'b%d' % i, 'forward': 'a@b.com'} for i in range(500)]}
    assert len(api.post('domains/piedpiper.com/aliases/bulk', exactly_500).json()['added']) == 500
    # GET on .../aliases/bulk is the alias named "bulk"
    assert api.get('domains/piedpiper.com/aliases/bulk').status_code == 404


# ---------------------------------------------------------------- logs

def test_logs_cursor_paging(api, simulator):
    simulator.configure(log_page_size=4)
    simulator.seed_domain('piedpiper.com', aliases={'richard': 'r@gmail.com', 'monica': 'm@gmail.com'})
    ids = simulator.seed_logs('piedpiper.com', 10)
    assert len(set(ids)) == 10
    first = api.get('domains/piedpiper.com/logs').json()
    assert set(first) == {'logs', 'success'}
    entry = first['logs'][0]
    for key in ('created', 'created_raw', 'events', 'forward', 'hostname', 'id', 'messageId', 'recipient', 'sender', 'subject', 'transport'):
        assert key in entry
    assert entry['recipient']['email'].endswith('@piedpiper.com')
    collected = []
    cursor = None
    for _attempt in range(5):
        params = {'next_cursor': cursor} if cursor else {}
        logs = api.get('domains/piedpiper.com/logs', params=params).json()['logs']
        if not logs:
            break
        collected.extend(log['id'] for log in logs)
        cursor = logs[-1]['id']
    assert collected == sorted(ids, reverse=True)  # newest first, no duplicates
    richard = api.get('domains/piedpiper.com/logs/richard').json()['logs']
    assert richard and all(log['recipient']['email'] == 'richard@piedpiper.com' for log in richard)
    assert api.get('domains/piedpiper.com/logs/nobody').json() == {'logs': [], 'success': True}
    assert _errors(api.get('domains/piedpiper.com/logs', params={'next_cursor': 'bogus'}), 'next_cursor')
    assert api.get('domains/nope.com/logs').status_code == 404
    assert api.get('domains/nope.com/logs/richard').status_code == 404


def test_seed_logs_for_alias(simulator, api):
    simulator.seed_domain('a.com')
    simulator.seed_logs('a.com', 3, alias='sales')
    logs = api.get('domains/a.com/logs/sales').json()['logs']
    assert len(logs) == 3 and logs[0]['recipient']['email'] == 'sales@a.com'


# ---------------------------------------------------------------- credentials

def test_credentials_crud(api, simulator):
    api.post('domains', {'domain': 'piedpiper.com'})
    assert api.get('domains/piedpiper.com/credentials').json() == {'credentials': [], 'success': True}
    resp = api.post('domains/piedpiper.com/credentials', {'username': 'bighead', 'password': '12341234'})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body['requires_new_mx_check'] is True
    assert set(body['credential']) == {'created', 'usage', 'username', 'is_limited'}
    body = api.post('domains/piedpiper.com/credentials', {'username': 'monica', 'password': '12341234'}).json()
    assert body['requires_new_mx_check'] is False
    assert 'password' not in json.dumps(api.get('domains/piedpiper.com/credentials').json())
    assert _errors(api.post('domains/piedpiper.com/credentials', {'username': 'bighead', 'password': '12341234'}), 'username')
    assert _errors(api.post('domains/piedpiper.com/credentials', {'username': 'x', 'password': 'short'}), 'password')
    assert _errors(api.post('domains/piedpiper.com/credentials', {'username': '*', 'password': '12341234'}), 'username')
    resp = api.put('domains/piedpiper.com/credentials/bighead', {'password': 'R3@l_p@$$w0rD'})
    assert resp.json()['credential']['username'] == 'bighead'
    assert simulator.check_password('piedpiper.com', 'bighead', 'R3@l_p@$$w0rD')
    assert _errors(api.put('domains/piedpiper.com/credentials/bighead', {'password': 'x'}), 'password')
    assert api.put('domains/piedpiper.com/credentials/russ', {'password': '12341234'}).status_code == 404
    assert api.delete('domains/piedpiper.com/credentials/russ').status_code == 404
    assert api.delete('domains/piedpiper.com/credentials/bighead').json() == {'success': True}
    assert [c['username'] for c in api.get('domains/piedpiper.com/credentials').json()['credentials']] == ['monica']
    assert api.get('domains/nope.com/credentials').status_code == 404
    snapshot = simulator.state_snapshot()
    assert 'password' not in json.dumps(snapshot)


def test_credentials_forbidden_for_non_premium(simulator_factory):
    sim = simulator_factory(premium=False)
    client = Api(sim)
    client.post('domains', {'domain': 'free.com'})
    expected = {'error': 'This feature requires a premium account', 'code': 403, 'success': False}
    for method, path, body in (('GET', 'domains/free.com/credentials', None),
                               ('POST', 'domains/free.com/credentials', {'username': 'a', 'password': '12345678'}),
                               ('PUT', 'domains/free.com/credentials/a', {'password': '12345678'}),
                               ('DELETE', 'domains/free.com/credentials/a', None)):
        resp = client(method, path, json=body)
        assert resp.status_code == 403 and resp.json() == expected, (method, path)


# ---------------------------------------------------------------- rate limit

def test_rate_limit(api, simulator):
    assert not any(h.lower().startswith('x-ratelimit') for h in api.get('account').headers)  # off by default
    simulator.configure(rate_limit_get=3, rate_limit_write=1, rate_limit_window=1)
    statuses = []
    for _attempt in range(3):
        resp = api.get('account')
        statuses.append(resp.status_code)
    assert statuses == [200, 200, 200]
    assert resp.headers['X-RateLimit-Limit'] == '3' and resp.headers['X-RateLimit-Remaining'] == '0'
    limited = api.get('account')
    assert limited.status_code == 429
    assert limited.json()['code'] == 429 and limited.json()['success'] is False
    assert int(limited.headers['Retry-After']) >= 1
    assert limited.headers['X-RateLimit-Remaining'] == '0'
    assert int(limited.headers['X-RateLimit-Reset']) >= int(time.time())
    # writes have their own counter
    assert api.post('domains', {'domain': 'rl.com'}).status_code == 200
    assert api.post('domains', {'domain': 'rl2.com'}).status_code == 429
    assert 'rl2.com' not in simulator.state_snapshot()['domains']
    time.sleep(1.1)
    assert api.get('account').status_code == 200
    simulator.configure(rate_limit_get=0, rate_limit_write=0)
    assert all(api.get('account').status_code == 200 for _attempt in range(5))


# ---------------------------------------------------------------- faults

def test_fault_status(api, simulator):
    simulator.add_fault(method='POST', path_regex=r'^/domains$', status=503)
    resp = api.post('domains', {'domain': 'f.com'})
    assert resp.status_code == 503 and resp.json()['code'] == 503
    assert 'f.com' not in simulator.state_snapshot()['domains']
    assert api.post('domains', {'domain': 'f.com'}).status_code == 200  # count=1 consumed
    simulator.add_fault(path_regex='account', status=429, count=2)
    assert api.get('account').headers['Retry-After'] == '1'
    assert api.get('account').status_code == 429
    assert api.get('account').status_code == 200
    simulator.add_fault(status=502, body='<html>Bad gateway</html>')
    resp = api.get('account')
    assert resp.status_code == 502 and resp.text == '<html>Bad gateway</html>'
    assert [r['fault'] for r in simulator.requests] == ['status', None, 'status', 'status', None, 'status']


def test_fault_drop(api, simulator):
    simulator.add_fault(method='GET', path_regex='/domains', kind='drop')
    with pytest.raises(requests.exceptions.ConnectionError):
        api.get('domains')
    assert api.get('domains').status_code == 200
    assert simulator.requests[0]['fault'] == 'drop' and simulator.requests[0]['status'] is None


def test_fault_delay(api, simulator):
    simulator.add_fault(kind='delay', delay=0.5)
    start = time.time()
    assert api.post('domains', {'domain': 'slow.com'}).status_code == 200
    assert time.time() - start >= 0.5
    simulator.add_fault(kind='delay', delay=1.0)
    with pytest.raises(requests.exceptions.Timeout):
        api.post('domains', {'domain': 'timeout.com'}, timeout=0.3)
    time.sleep(1.0)
    assert 'timeout.com' in simulator.state_snapshot()['domains']  # applied even though the client gave up


def test_fault_apply_then_status(api, simulator):
    simulator.add_fault(method='POST', kind='apply_then_status', path_regex='aliases')
    api.post('domains', {'domain': 'a.com'})
    resp = api.post('domains/a.com/aliases', {'alias': 'x', 'forward': 'a@b.com'})
    assert resp.status_code == 502
    assert api.get('domains/a.com/aliases/x').status_code == 200
    entry = simulator.writes('aliases')[0]
    assert (entry['status'], entry['applied_status'], entry['fault']) == (502, 200, 'apply_then_status')


def test_fault_apply_then_drop(api, simulator):
    api.post('domains', {'domain': 'a.com'})
    simulator.add_fault(method='DELETE', kind='apply_then_drop')
    with pytest.raises(requests.exceptions.ConnectionError):
        api.delete('domains/a.com')
    assert api.get('domains/a.com').status_code == 404
    assert simulator.requests[-2]['applied_status'] == 200


def test_fault_count_unlimited_and_clear(api, simulator):
    simulator.add_fault(status=500, count=None)
    assert all(api.get('account').status_code == 500 for _attempt in range(3))
    assert len(simulator.faults) == 1
    simulator.clear_faults()
    assert api.get('account').status_code == 200
    with pytest.raises(ValueError):
        simulator.add_fault(kind='explode')


# ---------------------------------------------------------------- hooks

def test_request_log_and_writes(api, simulator):
    api.post('domains', {'domain': 'log.com'})
    api.get('domains/log.com/aliases/%2A', params={'x': '1'})
    api.put('domains/log.com', {'webhook': ''})
    log = simulator.requests
    assert [(r['method'], r['path'], r['status']) for r in log] == [
        ('POST', '/domains', 200), ('GET', '/domains/log.com/aliases/*', 200), ('PUT', '/domains/log.com', 200)]
    assert log[0]['body'] == {'domain': 'log.com'} and log[1]['query'] == {'x': '1'} and log[1]['body'] is None
    assert isinstance(log[0]['time'], float)
    assert [w['method'] for w in simulator.writes()] == ['POST', 'PUT']
    simulator.clear_requests()
    assert simulator.requests == [] and simulator.writes() == []


def test_reset_and_seed(simulator, api):
    simulator.load_seed({
        'whitelabels': ['hooli.com'],
        'domains': {'seeded.com': {'aliases': {'info': 'i@x.com'}, 'credentials': ['smtp'], 'notification_email': 'n@x.com', 'logs': 2}},
        'dns': {'seeded.com': {'mx': True, 'spf': True, 'dkim1': True, 'dkim2': True}},
    })
    snap = simulator.state_snapshot()
    dom = snap['domains']['seeded.com']
    assert [a['alias'] for a in dom['aliases']] == ['info']
    assert [c['username'] for c in dom['credentials']] == ['smtp']
    assert dom['active'] is True and dom['logs'] == 2 and snap['whitelabels'] == ['hooli.com']
    assert api.get('domains/seeded.com').json()['domain']['notification_email'] == 'n@x.com'
    json.dumps(snap)
    # the snapshot round-trips
    other = Simulator()
    other.load_seed(snap)
    assert other.state_snapshot()['domains']['seeded.com']['aliases'] == dom['aliases']
    simulator.reset()
    assert simulator.state_snapshot()['domains'] == {} and simulator.requests == []


def test_concurrent_clients(simulator):
    simulator.seed_domain('c.com')
    errors = []

    def worker(index):
        client = Api(simulator)
        try:
            for j in range(10):
                resp = client.post('domains/c.com/aliases', {'alias': 'w%d-%d' % (index, j), 'forward': 'a@b.com'})
                if resp.status_code != 200:
                    errors.append(resp.text)
        finally:
            client.session.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    aliases = simulator.state_snapshot()['domains']['c.com']['aliases']
    assert len(aliases) == 81 and len({a['id'] for a in aliases}) == 81


# ---------------------------------------------------------------- standalone mode

def _free_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture
def standalone(tmp_path):
    seed = tmp_path / 'seed.json'
    seed.write_text(json.dumps({'domains': {'seeded.org': {'aliases': {'hello': 'h@x.com'}}}}))
    port_file = tmp_path / 'port'
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, os.path.join(SIM_DIR, 'improvmx_sim.py'), '--port', '0', '--api-key', 'standalone-key',
         '--seed', str(seed), '--port-file', str(port_file), '--dns-valid-after', '1'],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        yield proc, line, port_file
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        proc.stdout.close()
        proc.stderr.close()


def test_standalone_mode(standalone):
    proc, line, port_file = standalone
    assert line.startswith('improvmx simulator listening on http://127.0.0.1:')
    url = line.split(' on ')[1].strip()
    assert url.endswith('/v3/')
    port = int(port_file.read_text().strip())
    assert url == 'http://127.0.0.1:%d/v3/' % port
    root = 'http://127.0.0.1:%d/' % port
    auth = ('api', 'standalone-key')

    assert requests.get(url + 'domains', timeout=10).status_code == 401
    domains = requests.get(url + 'domains', auth=auth, timeout=10).json()['domains']
    assert [d['domain'] for d in domains] == ['seeded.org']
    assert [r['path'] for r in requests.get(root + '_sim/requests', timeout=10).json()['requests']] == ['/domains', '/domains']

    # /_sim endpoints (no auth, not logged)
    assert requests.delete(root + '_sim/requests', timeout=10).json()['success'] is True
    assert requests.post(root + '_sim/faults', json={'method': 'GET', 'path_regex': 'account', 'status': 500}, timeout=10).status_code == 200
    assert requests.get(url + 'account', auth=auth, timeout=10).status_code == 500
    assert requests.post(root + '_sim/faults', json={'kind': 'nope'}, timeout=10).status_code == 400
    assert requests.post(root + '_sim/config', json={'premium': False}, timeout=10).json()['config']['premium'] is False
    assert requests.get(url + 'domains/seeded.org/credentials', auth=auth, timeout=10).status_code == 403
    dns = requests.post(root + '_sim/dns', json={'domain': 'seeded.org', 'mx': True, 'spf': True, 'valid_after': None}, timeout=10)
    assert dns.json()['dns']['mx'] is True
    assert requests.get(url + 'domains/seeded.org/check', auth=auth, timeout=10).json()['records']['valid'] is True
    assert requests.post(root + '_sim/seed', json={'domains': {'more.org': {}}}, timeout=10).status_code == 200
    ids = requests.post(root + '_sim/logs', json={'domain': 'more.org', 'count': 3}, timeout=10).json()['ids']
    assert len(ids) == 3
    assert len(requests.get(url + 'domains/more.org/logs', auth=auth, timeout=10).json()['logs']) == 3
    state = requests.get(root + '_sim/state', timeout=10).json()
    assert set(state['domains']) == {'seeded.org', 'more.org'} and state['domains']['more.org']['logs'] == 3
    assert [r['path'] for r in requests.get(root + '_sim/requests', timeout=10).json()['requests']] == [
        '/account', '/domains/seeded.org/credentials', '/domains/seeded.org/check', '/domains/more.org/logs']
    assert requests.get(root + '_sim/nothing', timeout=10).status_code == 404

    # reset goes back to the seed file's state
    assert requests.post(root + '_sim/reset', timeout=10).json()['success'] is True
    state = requests.get(root + '_sim/state', timeout=10).json()
    assert set(state['domains']) == {'seeded.org'} and state['account']['premium'] is True
    # --dns-valid-after 1: the second check is valid
    checks = [requests.get(url + 'domains/seeded.org/check', auth=auth, timeout=10).json()['records']['valid'] for _attempt in range(2)]
    assert checks == [False, True]

    proc.terminate()
    assert proc.wait(10) == 0
    assert proc.stderr.read() == ''


# ---------------------------------------------------------------- the live API beyond the reference (docs/api-behaviour.md)

def test_webhook_destinations_mixed_with_addresses(api, simulator):
    simulator.seed_domain('hook.com')
    forward = 'Ops@Example.org, https://hooks.example.org/In/Path?x=1,http://h.example.net'
    resp = api.post('domains/hook.com/aliases', {'alias': 'events', 'forward': forward})
    assert resp.status_code == 200, resp.text
    assert resp.json()['alias']['forward'] == 'Ops@Example.org,https://hooks.example.org/In/Path?x=1,http://h.example.net'
    resp = api.put('domains/hook.com/aliases/events', {'forward': 'https://hooks.example.org/only'})
    assert resp.json()['alias']['forward'] == 'https://hooks.example.org/only'
    bulk = api.post('domains/hook.com/aliases/bulk', {'aliases': [{'alias': 'b', 'forward': 'https://h.example.org/b,a@b.com'}]}).json()
    assert bulk['added'][0]['forward'] == 'https://h.example.org/b,a@b.com'
    for bad in ('ftp://x.example.org', 'a b', 'https://', 'https://h.example.org/a b', 'mailto:a@b.com'):
        message = _errors(api.post('domains/hook.com/aliases', {'alias': 'bad', 'forward': 'a@b.com,' + bad}), 'forward')[0]
        assert bad in message, message
    assert 'bad' not in [a['alias'] for a in simulator.state_snapshot()['domains']['hook.com']['aliases']]


def test_regex_alias_names_kept_as_written(api, simulator):
    simulator.seed_domain('re.com', aliases={'sales': 's@x.com'})
    for name in ('(contact|support)', '^invoice-[A-Z]+-.*$', '^' + 'a' * 148 + '$'[:1]):
        resp = api.post('domains/re.com/aliases', {'alias': name, 'forward': '$1@x.com' if '(' in name else 'a@x.com'})
        assert resp.status_code == 200, resp.text
        assert resp.json()['alias']['alias'] == name
        got = api.get('domains/re.com/aliases/' + requests.utils.quote(name, safe=''))
        assert got.status_code == 200 and got.json()['alias']['alias'] == name
    # a regex name is matched exactly, a plain name without case
    assert api.get('domains/re.com/aliases/' + requests.utils.quote('^INVOICE-[A-Z]+-.*$', safe='')).status_code == 404
    assert api.get('domains/re.com/aliases/SALES').json()['alias']['alias'] == 'sales'
    assert api.post('domains/re.com/aliases', {'alias': 'MiXed.Case+x', 'forward': 'a@x.com'}).json()['alias']['alias'] == 'mixed.case+x'
    assert 'already exists' in _errors(api.post('domains/re.com/aliases', {'alias': '(contact|support)', 'forward': 'a@x.com'}), 'alias')[0]
    # the same regex with other case is another alias
    assert api.post('domains/re.com/aliases', {'alias': '(Contact|Support)', 'forward': 'a@x.com'}).status_code == 200
    assert '150' in _errors(api.post('domains/re.com/aliases', {'alias': '^' + 'a' * 150 + '$', 'forward': 'a@x.com'}), 'alias')[0]
    assert 'regular expression' in _errors(api.post('domains/re.com/aliases', {'alias': '(unclosed', 'forward': 'a@x.com'}), 'alias')[0]
    assert _errors(api.post('domains/re.com/aliases', {'alias': '^a b$', 'forward': 'a@x.com'}), 'alias')
    assert _errors(api.post('domains/re.com/aliases', {'alias': 'a' * 65, 'forward': 'a@x.com'}), 'alias')  # plain: 64 at most
    # PUT and DELETE by regex name, listing and search keep the case
    name = requests.utils.quote('(contact|support)', safe='')
    assert api.put('domains/re.com/aliases/' + name, {'forward': 'b@x.com'}).json()['alias']['forward'] == 'b@x.com'
    listed = [a['alias'] for a in api.get('domains/re.com/aliases', params={'limit': 100}).json()['aliases']]
    assert '(contact|support)' in listed and '(Contact|Support)' in listed
    assert [a['alias'] for a in api.get('domains/re.com/aliases', params={'q': '^invoice'}).json()['aliases']] == ['^invoice-[A-Z]+-.*$']
    assert api.delete('domains/re.com/aliases/' + name).json() == {'success': True}
    assert api.get('domains/re.com/aliases/' + name).status_code == 404
    # a regex is never an SMTP username
    assert _errors(api.post('domains/re.com/credentials', {'username': '(a|b)', 'password': '12341234'}), 'username')
    # seeding keeps regex names too
    simulator.seed_alias('re.com', '^Seeded$', 'a@x.com')
    assert api.get('domains/re.com/aliases/' + requests.utils.quote('^Seeded$', safe='')).status_code == 200


def test_numeric_segment_is_a_name_first_then_an_id(api, simulator):
    simulator.seed_domain('num.com', aliases=[{'alias': 'sales', 'forward': 'sales@x.com', 'id': 2024},
                                              {'alias': '2024', 'forward': 'year@x.com', 'id': 5},
                                              {'alias': 'support', 'forward': 'support@x.com', 'id': 6}])
    # GET: the alias named 2024 wins over the alias whose id is 2024
    assert api.get('domains/num.com/aliases/2024').json()['alias']['forward'] == 'year@x.com'
    # no alias named 6: the alias whose id is 6
    assert api.get('domains/num.com/aliases/6').json()['alias']['alias'] == 'support'
    # PUT: by name when the name exists, else by id
    assert api.put('domains/num.com/aliases/2024', {'forward': 'y2@x.com'}).json()['alias']['alias'] == '2024'
    assert api.put('domains/num.com/aliases/6', {'forward': 'sup2@x.com'}).json()['alias']['alias'] == 'support'
    snap = {a['alias']: a['forward'] for a in simulator.state_snapshot()['domains']['num.com']['aliases']}
    assert snap == {'sales': 'sales@x.com', '2024': 'y2@x.com', 'support': 'sup2@x.com'}
    # DELETE: the alias named 2024 goes, sales (id 2024) stays; then 2024 is the id of sales
    assert api.delete('domains/num.com/aliases/2024').json() == {'success': True}
    assert api.get('domains/num.com/aliases/2024').json()['alias']['alias'] == 'sales'
    assert api.delete('domains/num.com/aliases/2024').json() == {'success': True}
    assert [a['alias'] for a in simulator.state_snapshot()['domains']['num.com']['aliases']] == ['support']
    assert api.delete('domains/num.com/aliases/2024').status_code == 404


def test_domain_fields_of_the_live_api(api, simulator):
    dom = api.post('domains', {'domain': 'fields.com'}).json()['domain']
    assert dom['dkim_selector'] == 'dkimprovmx' and dom['routing_engine'] == ''
    assert dom['banned'] is False and dom['daily_quota'] == 100000
    assert api.get('domains').json()['domains'][0]['routing_engine'] == ''
    for value in ('rules', 'alias', 'RULES', '', None):
        resp = api.put('domains/fields.com', {'routing_engine': value})
        assert resp.status_code == 200, resp.text
        assert resp.json()['domain']['routing_engine'] == (value or '').lower()
    assert 'routing engine' in _errors(api.put('domains/fields.com', {'routing_engine': 'smtp'}), 'routing_engine')[0]
    assert _errors(api.put('domains/fields.com', {'routing_engine': 3}), 'routing_engine')
    api.put('domains/fields.com', {'routing_engine': 'rules'})
    assert api.get('domains/fields.com').json()['domain']['routing_engine'] == 'rules'
    assert simulator.state_snapshot()['domains']['fields.com']['routing_engine'] == 'rules'
    # seeded fields; a whitelabel domain with another selector: DKIM expected values follow it
    simulator.seed_domain('wl.com', whitelabel='mail.example.net', dkim_selector='wlsel', banned=True, daily_quota=300)
    dom = api.get('domains/wl.com').json()['domain']
    assert (dom['dkim_selector'], dom['banned'], dom['daily_quota']) == ('wlsel', True, 300)
    records = api.get('domains/wl.com/check').json()['records']
    assert records['dkim1']['expected'] == 'wlsel1.improvmx.com.' and records['dkim2']['expected'] == 'wlsel2.improvmx.com.'
    simulator.set_dns('wl.com', dkim1=True)
    assert api.get('domains/wl.com/check').json()['records']['dkim1']['values'] == 'wlsel1.improvmx.com.'


def test_log_times_in_milliseconds_and_failure_filter(api, simulator):
    simulator.configure(log_page_size=100)
    simulator.seed_domain('logs.com', aliases={'sales': 's@x.com'})
    simulator.seed_logs('logs.com', 40)
    logs = api.get('domains/logs.com/logs').json()['logs']
    before_ms = int(time.time() * 1000)
    for entry in logs:
        assert isinstance(entry['created'], int) and not isinstance(entry['created'], bool)
        assert before_ms - 10 ** 8 < entry['created'] <= before_ms  # milliseconds, not seconds
        assert isinstance(entry['saved'], bool) and entry['url'].startswith('https://')
        assert isinstance(entry['created_raw'], str)
        for event in entry['events']:
            assert isinstance(event['created'], int) and event['created'] >= entry['created']
            assert '@' in event['recipient']['email']
    failed = api.get('domains/logs.com/logs', params={'filter': 'failure'}).json()['logs']
    statuses = {entry['events'][-1]['status'] for entry in failed}
    assert failed and statuses <= {'REFUSED', 'SOFT-BOUNCE', 'HARD-BOUNCE'}
    assert [e['id'] for e in failed] == [e['id'] for e in logs if e['events'][-1]['status'] not in ('DELIVERED', 'QUEUED')]
    assert len(failed) < len(logs)
    by_alias = api.get('domains/logs.com/logs/sales', params={'filter': 'failure'}).json()['logs']
    assert [e['id'] for e in by_alias] == [e['id'] for e in failed]
    # cursor paging with the filter
    simulator.configure(log_page_size=2)
    page = api.get('domains/logs.com/logs', params={'filter': 'failure'}).json()['logs']
    nxt = api.get('domains/logs.com/logs', params={'filter': 'failure', 'next_cursor': page[-1]['id']}).json()['logs']
    assert [e['id'] for e in page + nxt] == [e['id'] for e in failed[:4]]
    assert _errors(api.get('domains/logs.com/logs', params={'filter': 'bogus'}), 'filter')


def test_credential_is_limited(api, simulator):
    simulator.seed_domain('smtp.com')
    resp = api.post('domains/smtp.com/credentials', {'username': 'limited', 'password': '12341234', 'is_limited': True})
    assert resp.json()['credential']['is_limited'] is True
    assert api.post('domains/smtp.com/credentials', {'username': 'free', 'password': '12341234'}).json()['credential']['is_limited'] is False
    listed = {c['username']: c['is_limited'] for c in api.get('domains/smtp.com/credentials').json()['credentials']}
    assert listed == {'limited': True, 'free': False}
    # PUT: the flag alone, the password alone, or both
    assert api.put('domains/smtp.com/credentials/free', {'is_limited': True}).json()['credential']['is_limited'] is True
    assert simulator.check_password('smtp.com', 'free', '12341234')
    resp = api.put('domains/smtp.com/credentials/free', {'password': 'n3w-passw0rd'})
    assert resp.json()['credential']['is_limited'] is True and simulator.check_password('smtp.com', 'free', 'n3w-passw0rd')
    resp = api.put('domains/smtp.com/credentials/free', {'password': 'an0ther-one', 'is_limited': False})
    assert resp.json()['credential']['is_limited'] is False and simulator.check_password('smtp.com', 'free', 'an0ther-one')
    assert _errors(api.put('domains/smtp.com/credentials/free', {}), 'password')
    assert _errors(api.put('domains/smtp.com/credentials/free', {'is_limited': 'yes'}), 'is_limited')
    assert _errors(api.post('domains/smtp.com/credentials', {'username': 'x', 'password': '12341234', 'is_limited': 1}), 'is_limited')
    simulator.seed_domain('smtp2.com', credentials=[{'username': 'seeded', 'is_limited': True}])
    assert simulator.state_snapshot()['domains']['smtp2.com']['credentials'][0]['is_limited'] is True


def test_unencoded_basic_auth(simulator):
    for header, status in (('Basic api:%s' % TEST_API_KEY, 200), ('basic api:%s' % TEST_API_KEY, 200),
                           ('Basic api:wrong', 401), ('Basic user:%s' % TEST_API_KEY, 401), ('Basic %s' % TEST_API_KEY, 401)):
        resp = requests.get(simulator.url + 'account', headers={'Authorization': header}, timeout=10)
        assert resp.status_code == status, header


def test_rate_limits_per_method_with_headers_on_every_answer(api, simulator):
    simulator.configure(rate_limit_get=3, rate_limit_write=2, rate_limit_window=30)
    simulator.seed_domain('rl.com')
    answers = [api.get('account'), api.get('domains/none.com'), api.post('domains', {'domain': 'bad domain'})]
    for resp in answers:  # 200, 404, 400 all carry the headers
        assert {'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'} <= set(resp.headers), resp.status_code
    assert [r.headers['X-RateLimit-Remaining'] for r in answers] == ['2', '1', '1']
    assert answers[2].headers['X-RateLimit-Limit'] == '2'
    # POST, PUT and DELETE each have their own bucket
    assert api.post('domains', {'domain': 'a.com'}).status_code == 200
    assert api.post('domains', {'domain': 'b.com'}).status_code == 429
    assert api.put('domains/rl.com', {'webhook': ''}).status_code == 200
    assert api.put('domains/rl.com', {'webhook': ''}).headers['X-RateLimit-Remaining'] == '0'
    assert api.put('domains/rl.com', {'webhook': ''}).status_code == 429
    assert api.delete('domains/a.com').status_code == 200
    assert api.get('account').status_code == 200
    limited = api.get('account')
    assert limited.status_code == 429 and int(limited.headers['Retry-After']) >= 1
    assert int(limited.headers['X-RateLimit-Reset']) >= int(time.time())
    simulator.configure(rate_limit_post=1, rate_limit_put=0)
    config = simulator.configure()
    assert (config['rate_limit_get'], config['rate_limit_post'], config['rate_limit_put'], config['rate_limit_delete']) == (3, 1, 0, 2)
    assert all(api.put('domains/rl.com', {'webhook': ''}).status_code == 200 for _attempt in range(4))
    assert 'X-RateLimit-Limit' not in api.put('domains/rl.com', {'webhook': ''}).headers  # PUT unlimited now


def test_rate_limit_api_defaults_and_scale(simulator_factory):
    sim = simulator_factory(rate_limit_scale=60)
    config = sim.configure()
    assert (config['rate_limit_get'], config['rate_limit_post'], config['rate_limit_put'], config['rate_limit_delete']) == (150, 60, 60, 60)
    assert config['rate_limit_scale'] == 60
    client = Api(sim)
    sim.seed_domain('scale.com')
    started = time.time()
    statuses = [client.post('domains/scale.com/aliases', {'alias': 'a%d' % i, 'forward': 'a@b.com'}).status_code for i in range(60)]
    limited = client.post('domains/scale.com/aliases', {'alias': 'over', 'forward': 'a@b.com'})
    if time.time() - started < 0.9:  # all 61 inside one scaled window (1 s)
        assert statuses == [200] * 60
        assert limited.status_code == 429 and limited.headers['X-RateLimit-Limit'] == '60'
        assert limited.headers['Retry-After'] == '1'
    time.sleep(1.05)
    assert client.post('domains/scale.com/aliases', {'alias': 'later', 'forward': 'a@b.com'}).status_code == 200
    client.session.close()
    other = simulator_factory(rate_limit_api=True)
    assert other.configure()['rate_limit_window'] == 60 and other.configure()['rate_limit_get'] == 150
    resp = requests.get(other.url + 'account', auth=other.auth, timeout=10)
    assert resp.headers['X-RateLimit-Limit'] == '150' and resp.headers['X-RateLimit-Remaining'] == '149'
    other.configure(rate_limit_api=False)
    assert 'X-RateLimit-Limit' not in requests.get(other.url + 'account', auth=other.auth, timeout=10).headers


# ---------------------------------------------------------------- rules routing

def test_rules_crud_and_shapes(api, simulator):
    simulator.configure(rule_envelope='rule')  # the wrapped answer, an option since issue 22.10 (top level by default)
    simulator.seed_domain('rules.com')
    assert api.get('domains/rules.com/rules').json() == {'rules': [], 'limit': 50, 'page': 1, 'total': 0, 'success': True}
    before = int(time.time())
    resp = api.post('domains/rules.com/rules', {'type': 'alias', 'config': {'alias': 'Sales', 'forward': 'a@x.com, https://h.example.org/in'},
                                                'active': True, 'rank': 2})
    assert resp.status_code == 200, resp.text
    rule = resp.json()['rule']
    assert resp.json()['success'] is True
    assert set(rule) == {'id', 'type', 'config', 'rank', 'active', 'created'}
    assert isinstance(rule['id'], str) and rule['type'] == 'alias'
    assert rule['config'] == {'alias': 'sales', 'forward': 'a@x.com,https://h.example.org/in'}
    assert rule['rank'] == 2.0 and isinstance(rule['rank'], float) and rule['active'] is True
    assert before <= rule['created'] <= int(time.time()) + 1  # seconds, not milliseconds
    regex = api.post('domains/rules.com/rules', {'type': 'regex', 'config': {'regex': '^(billing|invoice)', 'scopes': ['subject', 'sender'],
                                                                             'forward': 'b@x.com'}, 'rank': 1.5}).json()['rule']
    assert regex['config']['scopes'] == ['subject', 'sender'] and regex['active'] is True
    cel = api.post('domains/rules.com/rules', {'type': 'cel', 'config': {'expression': "subject.contains('finance')", 'forward': 'c@x.com'},
                                               'active': False}).json()['rule']
    assert cel['rank'] == 3.0  # without rank: after the last one
    # GET one: the rule at the top level
    got = api.get('domains/rules.com/rules/' + regex['id']).json()
    assert got == dict(regex, success=True)  # the rule at the top level, beside the answer's success (api-facts.md)
    # the list in rank order, with paging fields and search
    listing = api.get('domains/rules.com/rules').json()
    assert [r['id'] for r in listing['rules']] == [regex['id'], rule['id'], cel['id']] and listing['total'] == 3
    assert [r['id'] for r in api.get('domains/rules.com/rules', params={'search': 'finance'}).json()['rules']] == [cel['id']]
    assert [r['id'] for r in api.get('domains/rules.com/rules', params={'search': 'SALES'}).json()['rules']] == [rule['id']]
    page2 = api.get('domains/rules.com/rules', params={'limit': 5, 'page': 2}).json()
    assert page2['rules'] == [] and page2['page'] == 2 and page2['total'] == 3
    # PUT any field; config merged while the type stays
    updated = api.put('domains/rules.com/rules/' + regex['id'], {'config': {'scopes': ['body']}, 'active': False, 'rank': 9}).json()['rule']
    assert updated['config'] == {'regex': '^(billing|invoice)', 'scopes': ['body'], 'forward': 'b@x.com'}
    assert (updated['active'], updated['rank'], updated['id'], updated['created']) == (False, 9.0, regex['id'], regex['created'])
    changed = api.put('domains/rules.com/rules/' + cel['id'], {'type': 'alias', 'config': {'alias': 'info', 'forward': 'i@x.com'}}).json()['rule']
    assert changed['type'] == 'alias' and changed['config'] == {'alias': 'info', 'forward': 'i@x.com'}
    assert 'config' in api.put('domains/rules.com/rules/' + rule['id'], {'type': 'cel'}).json()['errors']
    # DELETE one, then all
    assert api.delete('domains/rules.com/rules/' + rule['id']).json() == {'success': True}
    assert api.get('domains/rules.com/rules/' + rule['id']).json() == {'error': 'Rule not found', 'code': 404, 'success': False}
    assert api.delete('domains/rules.com/rules/' + rule['id']).status_code == 404
    assert api.put('domains/rules.com/rules/nope', {'active': True}).status_code == 404
    assert api.delete('domains/rules.com/rules-all').json() == {'success': True}
    assert api.get('domains/rules.com/rules').json()['total'] == 0
    assert api.get('domains/nope.com/rules').status_code == 404
    assert api.delete('domains/nope.com/rules-all').status_code == 404
    assert api.get('domains/rules.com/rules-all').status_code == 405


def test_rules_validation(api, simulator):
    simulator.seed_domain('rv.com')

    def errors(body):
        resp = api.post('domains/rv.com/rules', body)
        assert resp.status_code == 400, resp.text
        return resp.json()['errors']

    assert 'type' in errors({'type': 'smtp', 'config': {'forward': 'a@x.com'}})
    assert 'type' in errors({'config': {'alias': 'a', 'forward': 'a@x.com'}})
    assert 'config' in errors({'type': 'alias'})
    assert 'config' in errors({'type': 'alias', 'config': 'sales'})
    assert 'config.alias' in errors({'type': 'alias', 'config': {'forward': 'a@x.com'}})
    assert 'config.forward' in errors({'type': 'alias', 'config': {'alias': 'a'}})
    assert 'config.forward' in errors({'type': 'alias', 'config': {'alias': 'a', 'forward': 'ftp://x'}})
    assert 'config' in errors({'type': 'alias', 'config': {'alias': 'a', 'forward': 'a@x.com', 'regex': 'x'}})
    assert 'config.regex' in errors({'type': 'regex', 'config': {'regex': '(unclosed', 'scopes': ['body'], 'forward': 'a@x.com'}})
    assert 'config.regex' in errors({'type': 'regex', 'config': {'regex': '', 'scopes': ['body'], 'forward': 'a@x.com'}})
    assert 'config.scopes' in errors({'type': 'regex', 'config': {'regex': 'x', 'scopes': ['headers'], 'forward': 'a@x.com'}})
    assert 'config.scopes' in errors({'type': 'regex', 'config': {'regex': 'x', 'scopes': [], 'forward': 'a@x.com'}})
    assert 'config.scopes' in errors({'type': 'regex', 'config': {'regex': 'x', 'forward': 'a@x.com'}})
    assert 'config.expression' in errors({'type': 'cel', 'config': {'expression': '  ', 'forward': 'a@x.com'}})
    assert 'rank' in errors({'type': 'cel', 'config': {'expression': 'true', 'forward': 'a@x.com'}, 'rank': 'first'})
    assert 'rank' in errors({'type': 'cel', 'config': {'expression': 'true', 'forward': 'a@x.com'}, 'rank': True})
    assert 'active' in errors({'type': 'cel', 'config': {'expression': 'true', 'forward': 'a@x.com'}, 'active': 'yes'})
    assert 'body' in errors({'type': 'cel', 'config': {'expression': 'true', 'forward': 'a@x.com'}, 'priority': 1})
    assert simulator.state_snapshot()['domains']['rv.com']['rules'] == []
    assert not [r for r in simulator.requests if r['status'] == 200]


def test_rules_envelope_seed_and_snapshot(api, simulator):
    simulator.configure(rule_envelope='top')
    simulator.seed_domain('env.com', rules=[{'type': 'cel', 'config': {'expression': 'true', 'forward': 'a@x.com'}, 'id': 'r-1',
                                             'rank': 5, 'created': 1700000000}])
    rule = api.post('domains/env.com/rules', {'type': 'alias', 'config': {'alias': 'a', 'forward': 'a@x.com'}}).json()
    assert rule['type'] == 'alias' and rule['rank'] == 6.0 and rule['success'] is True  # top level, with success
    assert api.put('domains/env.com/rules/r-1', {'active': False}).json()['active'] is False
    snap = simulator.state_snapshot()['domains']['env.com']['rules']
    assert [r['id'] for r in snap] == ['r-1', rule['id']] and snap[0]['created'] == 1700000000
    other = Simulator()
    other.load_seed(simulator.state_snapshot())
    assert other.state_snapshot()['domains']['env.com']['rules'] == snap
    with pytest.raises(ValueError):
        simulator.configure(rule_envelope='nested')


# ---------------------------------------------------------------- faults for the reliability work

def test_fault_no_object_with_and_without_applying(api, simulator):
    simulator.seed_domain('no.com')
    simulator.add_fault(method='POST', path_regex='/aliases$', kind='no_object')
    resp = api.post('domains/no.com/aliases', {'alias': 'x', 'forward': 'a@b.com'})
    assert resp.status_code == 200 and resp.json() == {'success': True}
    assert api.get('domains/no.com/aliases/x').status_code == 404  # not applied
    simulator.add_fault(method='POST', path_regex='^/domains$', kind='apply_then_no_object')
    resp = api.post('domains', {'domain': 'applied.com'})
    assert resp.status_code == 200 and resp.json() == {'success': True}
    assert api.get('domains/applied.com').status_code == 200  # applied
    entry = simulator.writes('^/domains$')[0]
    assert (entry['fault'], entry['status'], entry['applied_status']) == ('apply_then_no_object', 200, 200)
    simulator.add_fault(method='PUT', kind='apply_then_no_object', status=201, body={'ok': 1})
    resp = api.put('domains/no.com', {'webhook': 'https://h.example.org/'})
    assert resp.status_code == 201 and resp.json() == {'ok': 1}
    assert simulator.state_snapshot()['domains']['no.com']['webhook'] == 'https://h.example.org/'


def test_fault_redirect(api, simulator):
    simulator.seed_domain('redir.com')
    simulator.add_fault(method='POST', kind='redirect')
    resp = api.post('domains/redir.com/aliases', {'alias': 'x', 'forward': 'a@b.com'}, allow_redirects=False)
    assert resp.status_code == 301
    assert resp.headers['Location'] == 'https://127.0.0.1:%d/v3/domains/redir.com/aliases' % simulator.port
    assert api.get('domains/redir.com/aliases/x').status_code == 404
    # a Location a client can follow: requests re-sends the POST as a GET after a 301/302
    simulator.add_fault(method='POST', kind='redirect', status=302, location='http://{host}:{port}{path}{query}')
    resp = api.post('domains/redir.com/aliases', {'alias': 'x', 'forward': 'a@b.com'}, params={'a': 'b'})
    assert resp.status_code == 200 and 'aliases' in resp.json()  # the listing, nothing created
    assert [(r['method'], r['status'], r['fault']) for r in simulator.requests[-2:]] == [('POST', 302, 'redirect'), ('GET', 200, None)]
    assert simulator.requests[-1]['query'] == {'a': 'b'}
    assert api.get('domains/redir.com/aliases/x').status_code == 404


def test_fault_contradicting_listings(api, simulator):
    simulator.seed_domain('pages.com', aliases={'a%02d' % i: 'x@y.com' for i in range(12)})
    simulator.add_fault(method='GET', path_regex='/aliases$', kind='empty_list', query={'page': '2'})
    first = api.get('domains/pages.com/aliases', params={'limit': 5, 'page': 1}).json()
    assert len(first['aliases']) == 5 and first['total'] == 12
    second = api.get('domains/pages.com/aliases', params={'limit': 5, 'page': 2}).json()
    assert second['aliases'] == [] and second['total'] == 12 and second['page'] == 2
    assert len(api.get('domains/pages.com/aliases', params={'limit': 5, 'page': 2}).json()['aliases']) == 5  # once
    simulator.add_fault(method='GET', path_regex='/aliases$', kind='total_delta', delta=-4, query={'page': 2})
    assert api.get('domains/pages.com/aliases', params={'limit': 5, 'page': 1}).json()['total'] == 12
    assert api.get('domains/pages.com/aliases', params={'limit': 5, 'page': 2}).json()['total'] == 8
    simulator.add_fault(method='GET', path_regex='^/domains$', kind='total_delta', count=None)
    assert api.get('domains').json()['total'] == 2
    simulator.clear_faults()
    simulator.add_fault(method='GET', path_regex='^/domains$', kind='empty_list')
    assert api.get('domains').json()['domains'] == []
    with pytest.raises(ValueError):
        simulator.add_fault(kind='empty_list', query='page=2')


# ---------------------------------------------------------------- seeding merges

def test_seed_merges_into_an_existing_domain(api, simulator):
    simulator.seed_domain('merge.com', aliases={'sales': 's@x.com', 'info': 'i@x.com'}, credentials=['smtp'],
                          notification_email='n@x.com')
    simulator.load_seed({'domains': {'merge.com': {'aliases': {'sales': 'new@x.com', 'hr': 'h@x.com'}, 'credentials': ['other'],
                                                   'webhook': 'https://h.example.org/'}}})
    dom = simulator.state_snapshot()['domains']['merge.com']
    assert {a['alias']: a['forward'] for a in dom['aliases']} == {'sales': 'new@x.com', 'info': 'i@x.com', 'hr': 'h@x.com'}
    assert sorted(c['username'] for c in dom['credentials']) == ['other', 'smtp']
    assert (dom['notification_email'], dom['webhook']) == ('n@x.com', 'https://h.example.org/')
    assert '*' not in [a['alias'] for a in dom['aliases']]  # merging adds no catch-all
    # the Python method still replaces, unless merge=True
    simulator.seed_domain('merge.com', aliases={'only': 'o@x.com'})
    assert [a['alias'] for a in simulator.state_snapshot()['domains']['merge.com']['aliases']] == ['only']
    simulator.seed_domain('merge.com', aliases={'two': 't@x.com'}, merge=True)
    assert [a['alias'] for a in simulator.state_snapshot()['domains']['merge.com']['aliases']] == ['only', 'two']


def test_standalone_rate_limit_scale_and_new_fault_kinds(tmp_path):
    port_file = tmp_path / 'port'
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, os.path.join(SIM_DIR, 'improvmx_sim.py'), '--port', '0', '--api-key', 'k', '--port-file', str(port_file),
         '--rate-limit-scale', '60', '--rule-envelope', 'top'],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        root = 'http://127.0.0.1:%d/' % int(port_file.read_text())
        auth = ('api', 'k')
        config = requests.post(root + '_sim/config', json={}, timeout=10).json()['config']
        assert (config['rate_limit_get'], config['rate_limit_post'], config['rate_limit_scale'], config['rule_envelope']) == (150, 60, 60, 'top')
        resp = requests.get(root + 'v3/account', headers={'Authorization': 'Basic api:k'}, timeout=10)
        assert resp.status_code == 200 and resp.headers['X-RateLimit-Limit'] == '150'
        requests.post(root + '_sim/seed', json={'domains': {'s.com': {'aliases': {'a': 'a@x.com'}}}}, timeout=10)
        requests.post(root + '_sim/seed', json={'domains': {'s.com': {'aliases': {'b': 'b@x.com'}}}}, timeout=10)
        listed = requests.get(root + 'v3/domains/s.com/aliases', auth=auth, timeout=10).json()['aliases']
        assert [a['alias'] for a in listed] == ['a', 'b']  # the second seed added to the domain
        fault = {'method': 'POST', 'path_regex': '/rules$', 'kind': 'redirect', 'location': 'https://api.example.org{path}'}
        assert requests.post(root + '_sim/faults', json=fault, timeout=10).status_code == 200
        resp = requests.post(root + 'v3/domains/s.com/rules', json={'type': 'cel', 'config': {'expression': 'true', 'forward': 'a@x.com'}},
                             auth=auth, allow_redirects=False, timeout=10)
        assert resp.status_code == 301 and resp.headers['Location'] == 'https://api.example.org/v3/domains/s.com/rules'
        rule = requests.post(root + 'v3/domains/s.com/rules', json={'type': 'cel', 'config': {'expression': 'true', 'forward': 'a@x.com'}},
                             auth=auth, timeout=10).json()
        assert rule['type'] == 'cel' and 'rule' not in rule
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_scaled_rate_limit_reset_has_millisecond_precision(simulator_factory):
    sim = simulator_factory(rate_limit_scale=60)
    before = time.time()
    resp = requests.get(sim.url + 'account', auth=sim.auth, timeout=10)
    reset = float(resp.headers['X-RateLimit-Reset'])
    assert before < reset <= time.time() + 1.001  # the end of a one-second window, not the next whole second
    plain = simulator_factory(rate_limit_api=True)
    assert requests.get(plain.url + 'account', auth=plain.auth, timeout=10).headers['X-RateLimit-Reset'].isdigit()


# ---------------------------------------------------------------- error shapes, plan limits, header faults

def test_error_shape_list_gives_the_messages_without_their_fields(api, simulator):
    simulator.seed_domain('shape.com', aliases={'sales': 's@x.com'})
    fields = api.post('domains/shape.com/aliases', {'alias': 'sales', 'forward': 'x@y.com'})
    assert fields.status_code == 400 and fields.json()['errors'] == {'alias': ['This alias already exists.']}
    assert simulator.configure(error_shape='list')['error_shape'] == 'list'
    listed = api.post('domains/shape.com/aliases', {'alias': 'a b', 'forward': 'not-an-address'})
    assert listed.status_code == 400
    body = listed.json()
    assert body['success'] is False and body['code'] == 400
    assert isinstance(body['errors'], list) and len(body['errors']) == 2 and all(isinstance(m, str) for m in body['errors'])
    # Other errors keep their shape.
    assert api.get('domains/missing.com').json() == {'error': 'Domain not found', 'code': 404, 'success': False}
    with pytest.raises(ValueError):
        simulator.configure(error_shape='xml')
    simulator.reset()
    assert simulator.error_shape == 'fields'


def test_plan_limits_answer_with_the_apis_words(api, simulator):
    config = simulator.configure(domains_limit=2, aliases_limit=2, credentials_limit=1)
    assert (config['domains_limit'], config['aliases_limit'], config['credentials_limit']) == (2, 2, 1)
    assert api.post('domains', {'domain': 'one.com'}).status_code == 200  # with its catch-all: 1 alias
    assert api.post('domains', {'domain': 'two.com'}).status_code == 200
    refused = api.post('domains', {'domain': 'three.com'})
    assert refused.status_code == 400
    assert refused.json()['errors'] == {'domain': ['Your account is limited to 2 domains.']}
    assert api.post('domains', {'domain': 'one.com'}).json()['errors']['domain'][0].endswith('is already registered.')
    assert api.post('domains/one.com/aliases', {'alias': 'a', 'forward': 'x@y.com'}).status_code == 200
    refused = api.post('domains/one.com/aliases', {'alias': 'b', 'forward': 'x@y.com'})
    assert refused.json()['errors'] == {'alias': ['Your account is limited to 2 aliases per domain.']}
    entries = [{'alias': 'c', 'forward': 'x@y.com'}, {'alias': 'd', 'forward': 'x@y.com'}]
    bulk = api.post('domains/two.com/aliases/bulk', {'aliases': entries}).json()
    assert [a['alias'] for a in bulk['added']] == ['c']
    assert bulk['failed'] == [{'alias': 'd', 'forward': 'x@y.com', 'error': 'Your account is limited to 2 aliases per domain.'}]
    assert api.post('domains/one.com/credentials', {'username': 'first', 'password': 'long-enough-1'}).status_code == 200
    refused = api.post('domains/one.com/credentials', {'username': 'second', 'password': 'long-enough-1'})
    assert refused.json()['errors'] == {'username': ['You have reached the limit of account allowed for this domain.']}
    account = api.get('account').json()['account']
    assert (account['limits']['domains'], account['limits']['aliases'], account['limits']['credentials']) == (2, 2, 1)
    simulator.configure(error_shape='list')
    assert api.post('domains', {'domain': 'three.com'}).json()['errors'] == ['Your account is limited to 2 domains.']
    simulator.configure(domains_limit=None)
    assert api.post('domains', {'domain': 'three.com'}).status_code == 200
    simulator.reset()
    assert (simulator.domains_limit, simulator.aliases_limit, simulator.credentials_limit) == (None, None, 50)


def test_fault_headers_adds_to_a_normal_answer(api, simulator):
    simulator.configure(rate_limit_get=10)
    simulator.add_fault('GET', '/account', kind='headers', headers={'X-RateLimit-Reset': '1e400', 'X-Proxy': 'yes'})
    first = api.get('account')
    assert first.status_code == 200 and first.json()['account']['email']
    assert first.headers['X-RateLimit-Reset'] == '1e400' and first.headers['X-Proxy'] == 'yes'
    assert first.headers['X-RateLimit-Remaining'] == '9'  # the simulator's own, kept
    second = api.get('account')
    assert second.headers['X-RateLimit-Reset'] != '1e400' and 'X-Proxy' not in second.headers
    assert [r['fault'] for r in simulator.requests] == ['headers', None]


def test_standalone_error_shape_and_plan_limits(tmp_path):
    port_file = tmp_path / 'port'
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, os.path.join(SIM_DIR, 'improvmx_sim.py'), '--port', '0', '--api-key', 'k', '--port-file', str(port_file),
         '--error-shape', 'list', '--domains-limit', '1', '--aliases-limit', '3', '--credentials-limit', '2'],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        root = 'http://127.0.0.1:%d/' % int(port_file.read_text())
        config = requests.post(root + '_sim/config', json={}, timeout=10).json()['config']
        assert (config['error_shape'], config['domains_limit'], config['aliases_limit'], config['credentials_limit']) == ('list', 1, 3, 2)
        assert requests.post(root + 'v3/domains', json={'domain': 'a.com'}, auth=('api', 'k'), timeout=10).status_code == 200
        refused = requests.post(root + 'v3/domains', json={'domain': 'b.com'}, auth=('api', 'k'), timeout=10).json()
        assert refused['errors'] == ['Your account is limited to 1 domains.']
        config = requests.post(root + '_sim/config', json={'domains_limit': None, 'error_shape': 'fields'}, timeout=10).json()['config']
        assert (config['domains_limit'], config['error_shape']) == (None, 'fields')
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_rules_paged_by_a_size_of_its_own(simulator):
    # issue 22.2: limit ignored, pages of N rules, only {"rules", "success"}; CLI flag and control API option.
    import improvmx_sim  # pylint: disable=import-outside-toplevel
    assert improvmx_sim.build_parser().parse_args(['--rules-page-size', '25']).rules_page_size == 25
    answer = requests.post(simulator.base_url + '_sim/config', json={'rules_page_size': 25}, timeout=5).json()
    assert answer['config']['rules_page_size'] == 25
    simulator.seed_domain('paged.com', rules=[{'type': 'alias', 'config': {'alias': 'u%d' % i, 'forward': 'a@x.com'},
                                               'rank': i} for i in range(30)])
    pages = [requests.get(simulator.url + 'domains/paged.com/rules', params={'page': page, 'limit': 100},
                          auth=simulator.auth, timeout=5).json() for page in (1, 2, 3)]
    assert [len(page['rules']) for page in pages] == [25, 5, 0]
    assert all(sorted(page) == ['rules', 'success'] for page in pages)
    simulator.configure(rules_page_size=None)
    whole = requests.get(simulator.url + 'domains/paged.com/rules', params={'limit': 100}, auth=simulator.auth, timeout=5).json()
    assert len(whole['rules']) == 30 and whole['total'] == 30


def test_rules_need_a_paid_plan_and_answer_at_the_top_level_by_default(simulator):
    # issues 22.7 and 22.10b
    import improvmx_sim  # pylint: disable=import-outside-toplevel
    assert improvmx_sim.build_parser().parse_args([]).rule_envelope == 'top'
    simulator.seed_domain('plan.com')
    url = simulator.url + 'domains/plan.com/rules'
    created = requests.post(url, json={'type': 'alias', 'config': {'alias': 'a', 'forward': 'a@x.com'}},
                            auth=simulator.auth, timeout=5).json()
    assert created['config']['alias'] == 'a' and created['success'] is True and 'rule' not in created
    simulator.configure(premium=False)
    for method, path in (('GET', url), ('POST', url), ('GET', url + '/' + created['id']), ('PUT', url + '/' + created['id']),
                         ('DELETE', url + '/' + created['id']), ('DELETE', simulator.url + 'domains/plan.com/rules-all')):
        answer = requests.request(method, path, json={'active': False}, auth=simulator.auth, timeout=5)
        assert answer.status_code == 403 and 'plan' in answer.text, (method, path, answer.text)
