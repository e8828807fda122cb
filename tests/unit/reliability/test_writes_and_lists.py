# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rows of the reliability matrix about writes that are not what they seem (a 2xx without the
object, a redirect, a re-read that fails), what a failure after a create leaves behind, check
mode on a domain the run would add, and listings that contradict themselves.

Each test is one cell (row @ module) of docs/reliability-matrix.md, run in-process against the
simulator with the retry waits shrunk (conftest.FAST).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import html
import json

import pytest

from reliability_cases import cell_id, columns_of
import reliability_scenarios as S


def cells(row):
    return [pytest.param(row, column, id=cell_id(row, column)) for column in columns_of(row)]


@pytest.fixture
def sim(simulator_factory):
    return simulator_factory(api_key=S.API_KEY)


@pytest.fixture
def run(run_module, sim, record_property):
    """run(column, args, check_mode=False) -> result, checked for secrets and tracebacks."""
    def _run(column, args, check_mode=False):
        full = {'api_key': S.API_KEY, 'api_url': sim.url}
        full.update(args)
        result = run_module(S.MODULES[column], full, check_mode=check_mode)
        S.assert_clean(result)
        return result

    _run.record = lambda row, column: record_property('matrix_cells', cell_id(row, column))
    _run.warnings = run_module.warnings
    return _run


def _ops(column, row):
    """The writes of a module a row exercises: the create, and the update where it has an object to confirm."""
    if row == 'write-no-object' and column != 'improvmx_credential':
        return ['create', 'update']  # a credential's update is a password, which no re-read can confirm
    return ['create']


# -- a 2xx answer without the object, not applied ----------------------------------------------

@pytest.mark.parametrize('row, column', cells('write-no-object'))
def test_a_success_answer_without_the_object_is_confirmed_and_not_reported_as_done(row, column, sim, run):
    for which in _ops(column, row):
        op = S.WRITES[column][which]
        sim.reset()
        op.seed(sim)
        before = sim.state_snapshot()['domains']
        sim.add_fault(op.method, op.path_regex, count=1, kind='no_object')

        result = run(column, op.args)

        assert result.get('failed') is True, (which, result)
        assert result['changed'] is False, (which, result)
        assert sim.state_snapshot()['domains'] == before, which
        assert len(S.sent(sim, op.method, op.path_regex)) == 1, sim.requests
        if column == 'improvmx_aliases':
            assert 'without the added or updated or failed object' in result['msg'], result['msg']
        assert 'was not applied' in result['msg'] and 'running the task again is safe' in result['msg'], result['msg']

        # The next run (the fault is gone) converges.
        again = run(column, op.args)
        assert not again.get('failed') and again['changed'] is True, (which, again)
        assert op.check(sim), (which, sim.state_snapshot())
    run.record(row, column)


# -- a redirect on a write --------------------------------------------------------------------

@pytest.mark.parametrize('row, column', cells('write-redirect'))
def test_a_redirected_write_is_not_followed(row, column, sim, run):
    op = S.WRITES[column]['create']
    op.seed(sim)
    before = sim.state_snapshot()['domains']
    sim.add_fault(op.method, op.path_regex, count=1, kind='redirect')

    result = run(column, op.args)

    assert result.get('failed') is True, result
    assert result['changed'] is False, result
    assert 'HTTP 301, redirecting to https://' in result['msg'], result['msg']
    assert 'set api_url to https://' in result['msg'], result['msg']
    writes = S.sent(sim, op.method, op.path_regex)
    assert len(writes) == 1, sim.requests
    # Not followed: no request after the redirected write (requests would re-send a POST as a GET).
    assert sim.requests[-1]['method'] == op.method, sim.requests
    assert sim.state_snapshot()['domains'] == before
    run.record(row, column)


# -- an ambiguous write whose confirming re-read fails as well --------------------------------

def _unconfirmable(column):
    """(op, fault) pairs: every write of the module, answered 502, or 200 without the object where one is expected.

    A credential's password update is left out: no re-read can confirm it, so it is sent again instead
    (the row update-applied-5xx).
    """
    ops = ['create', 'delete'] if column == 'improvmx_credential' else ['create', 'update', 'delete']
    pairs = []
    for which in ops:
        pairs.append((which, dict(status=502)))
        if which != 'delete':  # a DELETE answered {"success": true} is a success: it carries no object
            pairs.append((which, dict(kind='no_object')))
    return pairs


@pytest.mark.parametrize('row, column', cells('write-reread-fails'))
def test_an_unconfirmable_write_says_it_may_have_been_applied(row, column, sim, run, before_write):
    for which, fault in _unconfirmable(column):
        op = S.WRITES[column][which]
        sim.reset()
        op.seed(sim)
        sim.add_fault(op.method, op.path_regex, count=1, **fault)
        before_write(lambda: sim.add_fault('GET', '.*', count=None, status=503))

        result = run(column, op.args)

        assert result.get('failed') is True, (which, fault, result)
        message = result['msg']
        assert message.startswith('%s ' % op.method), (which, fault, message)
        assert ('HTTP 502' if fault.get('status') else 'answered success without the') in message, (which, message)
        assert 'the write may have been applied' in message, (which, fault, message)
        assert 'running the task again converges' in message, (which, fault, message)
        assert 'HTTP 503' in message, message  # and why the re-read did not tell
        assert len(S.sent(sim, op.method, op.path_regex)) == 1, sim.requests
    run.record(row, column)


# -- a domain created, then the PUT that follows fails --------------------------------------------

@pytest.mark.parametrize('row, column', cells('created-then-put-fails'))
def test_a_created_domain_is_reported_changed_when_the_put_fails(row, column, sim, run):
    sim.add_fault('PUT', r'^/domains/example\.com$', count=1, status=400,
                  body={'errors': {'webhook': ['The webhook could not be reached.']}, 'success': False})

    entry = {'domain': S.DOMAIN, 'notification_email': 'ops@example.org', 'webhook': 'https://hooks.example.org/improvmx'}
    result = run(column, {'domains': [entry]} if column == 'improvmx_domains' else entry)

    assert result.get('failed') is True, result
    assert result['changed'] is True, result
    assert 'HTTP 400' in result['msg'] and 'webhook: The webhook could not be reached' in result['msg'], result['msg']
    # The message says the domain exists now, and names the field not set and the failed PUT.
    assert result['msg'].startswith('the domain example.com was created, but setting webhook on it afterwards failed: '
                                    'PUT domains/example.com: '), result['msg']
    if column == 'improvmx_domains':
        assert result['added'] == [S.DOMAIN] and result['changes'][S.DOMAIN]['status'] == 'added', result
    else:
        assert result['domain']['domain'] == S.DOMAIN and result['domain']['notification_email'] == 'ops@example.org'
    assert S.DOMAIN in sim.state_snapshot()['domains']
    run.record(row, column)


# -- check mode on a domain an earlier task of the run would add -----------------------------------

@pytest.mark.parametrize('row, column', cells('check-mode-new-domain'))
def test_check_mode_predicts_for_a_domain_the_run_would_add(row, column, sim, run):
    op = S.WRITES[column]['create']  # not seeded: the domain is not in the account

    result = run(column, op.args, check_mode=True)

    assert not result.get('failed'), result
    assert result['changed'] is True, result
    assert sim.writes() == []
    assert sim.state_snapshot()['domains'] == {}
    if column == 'improvmx_aliases':
        assert result['added'] == ['sales', 'support'] and result['removed'] == [], result
    run.record(row, column)


# -- listings that contradict themselves ----------------------------------------------------------

LISTING = {
    'improvmx_aliases': r'^/domains/example\.com/aliases/?$',
    'improvmx_alias_info': r'^/domains/example\.com/aliases/?$',
    'improvmx_domain_info': r'^/domains/?$',
    'improvmx_domains': r'^/domains/?$',
    'improvmx_rules': r'^/domains/example\.com/rules/?$',
    'improvmx_rule_info': r'^/domains/example\.com/rules/?$',
}
KEEP = ['u%03d' % index for index in range(130)]  # two pages of aliases (100 a page) besides the one to purge


def _rule(name, rank):
    return {'id': 'rule-%s' % name, 'type': 'alias', 'config': {'alias': name, 'forward': 'keep@example.org'}, 'rank': rank}


def _seed_listing(sim, column):
    if column in ('improvmx_domain_info', 'improvmx_domains'):
        for index in range(130):
            sim.seed_domain('d%03d.example' % index)
        if column == 'improvmx_domains':
            sim.seed_domain('zz-old.example')
        return None
    if column in ('improvmx_rules', 'improvmx_rule_info'):
        rules = [_rule(name, index + 1) for index, name in enumerate(KEEP + ['zz-old'])]
        sim.seed_domain(S.DOMAIN, routing_engine='rules', rules=rules)
        return None
    aliases = [(name, 'keep@example.org') for name in KEEP] + [('zz-old', 'old@example.org')]
    sim.seed_domain(S.DOMAIN, aliases=aliases)
    return aliases


def _listing_args(column):
    if column == 'improvmx_aliases':
        return {'domain': S.DOMAIN, 'purge': True,
                'aliases': [{'alias': name, 'forward': ['keep@example.org']} for name in KEEP]}
    if column == 'improvmx_domains':
        return {'purge': True, 'domains': [{'domain': 'd%03d.example' % index} for index in range(130)]}
    if column == 'improvmx_rules':
        return {'domain': S.DOMAIN, 'purge': True,
                'rules': [{'type': 'alias', 'alias': name, 'forward': ['keep@example.org']} for name in KEEP]}
    if column in ('improvmx_alias_info', 'improvmx_rule_info'):
        return {'domain': S.DOMAIN}
    return {}


CONTRADICTIONS = {
    'list-empty-page': dict(kind='empty_list'),
    'list-total-changes': dict(kind='total_delta', delta=-50),
}
# Where each contradiction is injected: an emptied page 2, or a page 1 whose total is 50 short
# (the walk would stop after page 1, its total reached).
PAGE = {'list-empty-page': '2', 'list-total-changes': '1'}


@pytest.mark.parametrize('row, column', cells('list-empty-page') + cells('list-total-changes'))
def test_a_listing_that_contradicts_itself_once_is_read_again(row, column, sim, run):
    _seed_listing(sim, column)
    sim.add_fault('GET', LISTING[column], count=1, query={'page': PAGE[row]}, **CONTRADICTIONS[row])

    result = run(column, _listing_args(column))

    assert not result.get('failed'), result
    assert any('contradicts itself' in line and 'reading it again from page 1' in line
               for line in result['api_retries']), result
    pages = [r['query'].get('page') for r in S.sent(sim, 'GET', LISTING[column])]
    assert pages[:4] == (['1', '2', '1', '2'] if PAGE[row] == '2' else ['1', '1', '2']), pages
    if column == 'improvmx_domain_info':
        assert len(result['domains']) == 130
    elif column == 'improvmx_alias_info':
        assert len(result['aliases']) == 131
    elif column == 'improvmx_rule_info':
        assert len(result['rules']) == 131
    elif column == 'improvmx_domains':
        # Exactly the unlisted domain is purged, nothing else is written.
        assert result['changed'] is True and result['removed'] == ['zz-old.example'], result
        assert result['added'] == [] and result['updated'] == [], result
        assert [(w['method'], w['path']) for w in sim.writes()] == [('DELETE', '/domains/zz-old.example')], sim.writes()
        assert len(sim.state_snapshot()['domains']) == 130
    elif column == 'improvmx_rules':
        assert result['changed'] is True and len(result['removed']) == 1 and 'zz-old' in result['removed'][0], result
        assert result['created'] == [] and result['updated'] == [], result
        assert [(w['method'], w['path']) for w in sim.writes()] == [('DELETE', '/domains/example.com/rules/rule-zz-old')], sim.writes()
        assert sorted(r['config']['alias'] for r in sim.state_snapshot()['domains'][S.DOMAIN]['rules']) == KEEP
    else:
        # Exactly the unlisted alias is purged, nothing is re-added, and aliases is the API's state.
        assert result['changed'] is True and result['removed'] == ['zz-old'], result
        assert result['added'] == [] and result['updated'] == [], result
        assert [w['method'] for w in sim.writes()] == ['DELETE'], sim.writes()
        state = sorted(a['alias'] for a in sim.state_snapshot()['domains'][S.DOMAIN]['aliases'])
        assert state == KEEP
        assert sorted(a['alias'] for a in result['aliases']) == state
    run.record(row, column)


@pytest.mark.parametrize('row, column', cells('list-contradicts-twice'))
def test_a_listing_that_keeps_contradicting_itself_fails_before_any_write(row, column, sim, run):
    for kind, fault in CONTRADICTIONS.items():
        sim.reset()
        _seed_listing(sim, column)
        before = sim.state_snapshot()['domains']
        sim.add_fault('GET', LISTING[column], count=None, query={'page': PAGE[kind]}, **fault)

        result = run(column, _listing_args(column))

        assert result.get('failed') is True, (fault, result)
        assert result['changed'] is False, result
        assert 'the list contradicts itself again when read a second time from page 1' in result['msg'], result['msg']
        assert result['msg'].startswith('GET '), result['msg']
        assert sim.writes() == [], sim.writes()
        assert sim.state_snapshot()['domains'] == before
    run.record(row, column)


# -- a secret repeated in an error body --------------------------------------------------------------

# A password with non-ASCII letters and inner white space, so that its JSON-escaped and collapsed
# forms differ from it.
ODD_PASSWORD = 'P\u00e455w\u00f6rt  gEh31m\tR3liab1lity-7d1e'


def _error_bodies(secret):
    """Raw (not JSON) error bodies that repeat secret: cut by the 200-character snippet, JSON-escaped, collapsed."""
    return ['E' * 190 + ' ' + secret + ' trailing text',
            'refused: ' + json.dumps(secret)[1:-1] + ' is not accepted',
            'refused: ' + ' '.join(secret.split()) + ' is not accepted']


def _leaks(result, secret):
    """Windows of 6 characters of any form of secret found in a result."""
    texts = [json.dumps(result, ensure_ascii=False, default=str), json.dumps(result, default=str)]
    forms = set([secret, ' '.join(secret.split()), json.dumps(secret)[1:-1]])
    return sorted(set(form[i:i + 6] for form in forms for i in range(len(form) - 5)
                      if not form[i:i + 6].isspace() and any(form[i:i + 6] in text for text in texts)))


@pytest.mark.parametrize('row, column', cells('secret-in-error-body'))
def test_a_secret_in_an_error_body_is_redacted_in_every_form(row, column, sim, run):
    seed, args, _check = S.success_run(column)
    cases = [(S.API_KEY, 'GET', '.*', args)]
    if column == 'improvmx_credential':
        op = S.WRITES[column]['create']
        cases.append((ODD_PASSWORD, 'POST', op.path_regex, dict(op.args, password=ODD_PASSWORD)))
    for secret, method, path_regex, task_args in cases:
        for body in _error_bodies(secret):
            sim.reset()
            seed(sim)
            sim.add_fault(method, path_regex, count=1, status=400, body=body, headers={'Content-Type': 'text/plain'})

            result = run(column, task_args)

            assert result.get('failed') is True, result
            assert 'HTTP 400' in result['msg'], result['msg']
            assert '********' in result['msg'], result['msg']
            assert _leaks(result, secret) == [], (body, result)
    run.record(row, column)


# -- a secret repeated encoded: base64 (the Authorization value, the key alone), HTML-escaped ------------

# A password that HTML escaping changes: a quote, an ampersand, an umlaut, angle brackets.
HTML_PASSWORD = 'Pw"R3l&i\u00f6b<1>lity-2c9d'


def _base64_forms(secret):
    forms = []
    for value in ('api:' + secret, secret):
        encoded = base64.b64encode(value.encode('utf-8')).decode('ascii')
        forms.extend([encoded, encoded.rstrip('=')])
    return forms


def _html_forms(secret):
    return [html.escape(secret, quote=True).replace('\u00f6', '&ouml;'),
            ''.join('&#%d;' % ord(char) for char in secret),
            ''.join('&#x%x;' % ord(char) if not char.isalnum() else char for char in secret)]


def _encoded_leaks(result, forms):
    """Windows of 8 characters of any encoded form found in a result."""
    text = json.dumps(result, ensure_ascii=False, default=str)
    return sorted(set(form[i:i + 8] for form in forms for i in range(len(form) - 7) if form[i:i + 8] in text))


@pytest.mark.parametrize('row, column', cells('secret-encoded-in-error-body'))
def test_an_encoded_secret_in_an_error_body_is_redacted(row, column, sim, run):
    seed, args, _check = S.success_run(column)
    key_forms = _base64_forms(S.API_KEY)
    cases = [(key_forms, 'GET', '.*', args, 'rejected: Authorization: Basic %s; key %s' % (key_forms[0], key_forms[3]))]
    if column == 'improvmx_credential':
        op = S.WRITES[column]['create']
        password_forms = _html_forms(HTML_PASSWORD)
        cases.append((password_forms, 'POST', op.path_regex, dict(op.args, password=HTML_PASSWORD),
                      '<p>The password %s is too common</p>' % ' or '.join(password_forms)))
    for forms, method, path_regex, task_args, body in cases:
        sim.reset()
        seed(sim)
        sim.add_fault(method, path_regex, count=1, status=400, body=body, headers={'Content-Type': 'text/html'})

        result = run(column, task_args)

        assert result.get('failed') is True, result
        assert 'HTTP 400' in result['msg'] and '********' in result['msg'], result['msg']
        assert _encoded_leaks(result, forms) == [], (body, result)
    run.record(row, column)


# -- a create refused for a plan limit -------------------------------------------------------------------------

LIMITS = {
    'improvmx_domain': (dict(domains_limit=1), lambda sim: sim.seed_domain('other.example'),
                        'domain', 'Your account is limited to 1 domains.'),
    'improvmx_domains': (dict(domains_limit=1), lambda sim: sim.seed_domain('other.example'),
                         'domain', 'Your account is limited to 1 domains.'),
    'improvmx_alias': (dict(aliases_limit=1), lambda sim: sim.seed_domain(S.DOMAIN),  # its catch-all is the one alias
                       'alias', 'Your account is limited to 1 aliases per domain.'),
    'improvmx_aliases': (dict(aliases_limit=1), lambda sim: sim.seed_domain(S.DOMAIN),
                         None, 'Your account is limited to 1 aliases per domain.'),
    'improvmx_credential': (dict(credentials_limit=1), lambda sim: sim.seed_domain(S.DOMAIN, credentials=['other']),
                            'username', 'You have reached the limit of account allowed for this domain.'),
}


@pytest.mark.parametrize('row, column', cells('plan-limit-refusal'))
def test_a_plan_limit_fails_with_the_apis_text_and_is_no_conflict(row, column, sim, run):
    limit, seed, field, text = LIMITS[column]
    op = S.WRITES[column]['create']
    for shape in ('fields', 'list'):
        sim.reset()
        sim.configure(error_shape=shape, **limit)
        seed(sim)
        before = sim.state_snapshot()['domains']
        sim.clear_requests()

        result = run(column, op.args)

        assert result.get('failed') is True, (shape, result)
        assert result['changed'] is False, result
        if field is None:  # a bulk add answers 200, naming each alias it refused
            assert sorted(entry['alias'] for entry in result['failed_aliases']) == ['sales', 'support'], result
            assert all(entry['error'] == text for entry in result['failed_aliases']), result
            assert text in result['msg'], result['msg']
        else:
            shown = '%s: %s' % (field, text) if shape == 'fields' else text
            assert result['msg'].endswith('the API refused the request with HTTP 400: %s' % shown), result['msg']
            assert result['status'] == 400
            assert result['api_errors'] == ({field: [text]} if shape == 'fields' else [text]), result
        # Not "already exists": nothing is read after the refused write, and only that one write was sent.
        assert sim.requests[-1]['method'] == op.method, sim.requests
        assert [r['method'] for r in sim.writes()] == [op.method], sim.writes()
        assert sim.state_snapshot()['domains'] == before
    run.record(row, column)


# -- an http:// api_url that is not the local machine --------------------------------------------------

@pytest.mark.parametrize('row, column', cells('api-url-cleartext'))
def test_a_clear_text_api_url_is_warned_about(row, column, sim, run):
    seed, args, _check = S.success_run(column)
    seed(sim)

    result = run(column, dict(args, api_url='http://api.improvmx.invalid/v3/'))

    assert result.get('failed') is True, result  # the host does not resolve: nothing is sent anywhere
    assert 'could not connect to the API at api_url http://api.improvmx.invalid/v3/' in result['msg'], result['msg']
    assert any('uses http://: the API key is sent in clear text to api.improvmx.invalid' in warning
               for warning in run.warnings), run.warnings
    assert sim.requests == []
    run.record(row, column)
