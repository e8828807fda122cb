# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The resource layer against the simulator: envelopes unwrapped, one not-found error, safe writes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.improvmx.email.plugins.module_utils.aliases import Aliases
from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXClient, ImprovMXError, ImprovMXNotFound, RetryPolicy
from ansible_collections.improvmx.email.plugins.module_utils.credentials import Credentials
from ansible_collections.improvmx.email.plugins.module_utils.domains import Domains
from ansible_collections.improvmx.email.plugins.module_utils.logs import Logs
from ansible_collections.improvmx.email.plugins.module_utils.resource import DomainMissing, is_conflict, says_exists


@pytest.fixture
def client(simulator):
    return ImprovMXClient(simulator.api_key, api_url=simulator.url,
                          retry_policy=RetryPolicy(retries=2, max_wait=0.01, max_total_wait=0.1, backoff_factor=0.0, jitter=0.0))


def methods(simulator):
    return [entry['method'] for entry in simulator.writes()]


@pytest.mark.parametrize('status, message, expected', [
    (400, 'domain: The domain example.com is already registered.', True),
    (400, 'alias: This alias already exists.', True),
    (409, 'please update the existing alias', True),
    (400, 'password: must be at least 8 characters', False),
    (500, 'alias already exists', False),
    (404, 'not found', False),
])
def test_one_conflict_predicate(status, message, expected):
    assert is_conflict(ImprovMXError(message, status=status)) is expected


def test_conflict_predicate_only_takes_api_errors():
    assert is_conflict(ValueError('already exists')) is False
    assert says_exists('This alias already exists.') and not says_exists(None)


LIMIT_TEXTS = [
    'domain: Your account is limited to 5 domains.',
    'alias: Your account is limited to 25 aliases per domain.',
    'username: You have reached the limit of account allowed for this domain.',
    'Your account is limited to 1 domain; please upgrade',
    'You have reached the limit of account allowed for this domain.',
]


@pytest.mark.parametrize('text', LIMIT_TEXTS)
def test_a_plan_limit_is_never_a_conflict(text):
    assert says_exists(text) is False
    for status in (400, 409):
        assert is_conflict(ImprovMXError('POST domains/: the API refused the request with HTTP %d: %s' % (status, text),
                                         status=status, detail=text)) is False


@pytest.mark.parametrize('text', ['The domain does not exist.', "This alias doesn't exist", 'The user is not registered',
                                  'nonexistent alias', 'alias: no longer exists'])
def test_a_negation_is_not_a_conflict(text):
    assert says_exists(text) is False


@pytest.mark.parametrize('text', ['This alias already exists.', 'The domain example.com is already registered.',
                                  'Please update the existing alias.', 'This name is taken.', 'Duplicate alias',
                                  'The SMTP account bob already exists.'])
def test_the_apis_words_for_a_conflict(text):
    assert says_exists(text) is True


def test_only_the_apis_own_words_count_not_the_path():
    """A domain named with a conflict word does not make a refusal of its request a conflict."""
    message = ('POST domains/already-taken.example/aliases/: the API refused the request with HTTP 400: '
               'alias: Your account is limited to 25 aliases per domain.')
    assert is_conflict(ImprovMXError(message, status=400, detail='alias: Your account is limited to 25 aliases per domain.')) is False
    message = 'POST domains/duplicate-shop.example/aliases/: the API refused the request with HTTP 400: forward: invalid'
    assert is_conflict(ImprovMXError(message, status=400, detail='forward: invalid')) is False
    # An error made without the API's detail is judged on its message, as before.
    assert is_conflict(ImprovMXError('alias: This alias already exists.', status=400)) is True


@pytest.mark.parametrize('shape', ['fields', 'list'])
def test_the_clients_errors_carry_the_apis_detail(client, simulator, shape):
    simulator.configure(error_shape=shape)
    simulator.seed_domain('existing-shop.example', aliases={'sales': 'a@example.org'})
    with pytest.raises(ImprovMXError) as info:
        client.post('domains/existing-shop.example/aliases/', {'alias': 'sales', 'forward': 'b@example.org'})
    expected = 'alias: This alias already exists.' if shape == 'fields' else 'This alias already exists.'
    assert info.value.detail == expected
    assert is_conflict(info.value)


@pytest.mark.parametrize('shape', ['fields', 'list'])
@pytest.mark.parametrize('what', ['domain', 'alias', 'credential'])
def test_a_create_refused_for_a_plan_limit_fails_with_the_apis_text_and_is_not_reread(client, simulator, shape, what):
    """The domain's name holds conflict words: before, the whole message (with the path) was read as a conflict."""
    domain = 'already-existing-duplicate.example'
    simulator.configure(error_shape=shape, domains_limit=1, aliases_limit=2, credentials_limit=1)
    simulator.seed_domain(domain, aliases={'*': 'a@example.org', 'sales': 'a@example.org'}, credentials=['first'])
    simulator.clear_requests()
    create = {
        'domain': lambda: Domains(client).create('registered-taken.example', {}),
        'alias': lambda: Aliases(client, domain).create('support', ['b@example.org']),
        'credential': lambda: Credentials(client, domain).create('second', 'long-enough-1', False),
    }[what]
    text = {'domain': 'Your account is limited to 1 domains.',
            'alias': 'Your account is limited to 2 aliases per domain.',
            'credential': 'You have reached the limit of account allowed for this domain.'}[what]

    with pytest.raises(ImprovMXError) as info:
        create()

    assert info.value.status == 400 and text in str(info.value) and 'HTTP 400' in str(info.value)
    assert not is_conflict(info.value)
    assert [r['method'] for r in simulator.requests] == ['POST'], simulator.requests  # no re-read as a conflict
    if shape == 'list':
        assert info.value.errors == [text]


def test_domain_missing_is_the_one_not_found_error():
    error = DomainMissing('missing.example', ImprovMXNotFound('GET x: not found', method='GET', path='x', status=404))
    assert isinstance(error, ImprovMXNotFound) and isinstance(error, ImprovMXError)
    assert error.status == 404 and error.method == 'GET' and error.path == 'x'
    assert str(error) == ('the domain missing.example is not in the ImprovMX account; '
                          'add it first with improvmx.email.improvmx_domain')


def test_get_unwraps_the_envelope_and_none_when_absent(client, simulator):
    simulator.seed_domain('example.com', notification_email='a@example.org')
    domain = Domains(client).fetch('example.com')
    assert domain['domain'] == 'example.com' and domain['notification_email'] == 'a@example.org'
    assert Domains(client).fetch('missing.example') is None


def test_every_resource_of_a_missing_domain_raises_domain_missing(client, simulator):
    for call in (lambda: list(Aliases(client, 'missing.example').iterate()),
                 lambda: Aliases(client, 'missing.example').create('a', ['x@example.org']),
                 lambda: Credentials(client, 'missing.example').list(),
                 lambda: Logs(client, 'missing.example').collect()):
        with pytest.raises(DomainMissing, match='missing.example is not in the ImprovMX account'):
            call()


def test_create_converges_when_another_run_created_it_first(client, simulator):
    simulator.seed_domain('example.com')
    created, domain = Domains(client).create('example.com', {})
    assert created is False and domain['domain'] == 'example.com'
    assert methods(simulator) == ['POST']


def test_create_refused_for_another_reason_is_raised(client, simulator):
    with pytest.raises(ImprovMXError) as info:
        Domains(client).create('example.com', {'notification_email': 'not-an-address'})
    assert info.value.status == 400 and not is_conflict(info.value)


def test_ambiguous_update_is_confirmed_by_a_reread_not_sent_twice(client, simulator):
    simulator.seed_domain('example.com', notification_email='old@example.org')
    simulator.add_fault(method='PUT', path_regex='/domains/example.com$', kind='apply_then_status', status=502)
    after = Domains(client).update('example.com', {'notification_email': 'new@example.org'})
    assert after['notification_email'] == 'new@example.org'  # the re-read object, no envelope
    assert methods(simulator) == ['PUT']
    assert any('a re-read shows the change was applied' in line for line in client.retry_events)


def test_ambiguous_write_that_did_not_apply_fails(client, simulator):
    simulator.seed_domain('example.com')
    simulator.seed_alias('example.com', 'sales', 'a@example.org')
    simulator.add_fault(method='PUT', path_regex='/aliases/sales$', kind='status', status=502)
    with pytest.raises(ImprovMXError, match='running the task again is safe'):
        Aliases(client, 'example.com').update('sales', ['b@example.org'])
    assert methods(simulator) == ['PUT']


def test_discard_reports_false_when_another_run_removed_it(client, simulator):
    simulator.seed_domain('example.com')
    simulator.seed_alias('example.com', 'sales', 'a@example.org')
    aliases = Aliases(client, 'example.com')
    assert aliases.discard('sales') is True
    assert aliases.discard('sales') is False


def test_ambiguous_bulk_is_classified_from_a_reread(client, simulator):
    simulator.seed_domain('example.com')
    simulator.seed_alias('example.com', 'taken', 'other@example.org')
    simulator.add_fault(method='POST', path_regex='/aliases/bulk$', kind='apply_then_status', status=502)
    applied, failed = Aliases(client, 'example.com').bulk('add', [('new', ['n@example.org']), ('taken', ['t@example.org'])])
    assert [obj['alias'] for obj in applied] == ['new']
    assert [(obj['alias'], says_exists(obj['error'])) for obj in failed] == [('taken', True)]
    assert methods(simulator) == ['POST']


def test_credential_created_first_answer_lost_requires_the_dns_check(client, simulator):
    simulator.seed_domain('example.com')
    simulator.add_fault(method='POST', path_regex='/credentials', kind='apply_then_status', status=502)
    created, credential, requires_check = Credentials(client, 'example.com').create('bob', 'long-enough-1', True)
    assert created is True and requires_check is True
    assert credential['username'] == 'bob' and 'password' not in credential


def test_a_domain_resource_tells_a_missing_domain_from_a_missing_child(client, simulator):
    from ansible_collections.improvmx.email.plugins.module_utils.resource import DomainResource, unwrap
    simulator.seed_domain('example.com', aliases={'sales': 'a@example.org'})
    here = DomainResource(client, 'example.com')
    assert here.child(here.domain_path('aliases', 'sales'), 'alias')['forward'] == 'a@example.org'
    simulator.clear_requests()
    # An absent child: None, after one more read that finds the domain.
    assert here.child(here.domain_path('aliases', 'nobody'), 'alias') is None
    assert [r['path'] for r in simulator.requests] == ['/domains/example.com/aliases/nobody', '/domains/example.com']
    # An absent domain: DomainMissing, for a child and for a list alike.
    gone = DomainResource(client, 'gone.example')
    with pytest.raises(DomainMissing, match='the domain gone.example is not in the ImprovMX account'):
        gone.child(gone.domain_path('aliases', 'sales'), 'alias')
    with pytest.raises(DomainMissing):
        list(gone.items(gone.domain_path('aliases', collection=True), 'aliases'))
    # An object every domain has (docs/developing.md's endpoint recipe): a 404 is DomainMissing.
    # (The check answers success: false while the DNS is not valid, hence accept_unsuccessful.)
    with here.settled():
        assert 'mx' in unwrap(client.get(here.domain_path('check'), accept_unsuccessful=True), 'records')
    with pytest.raises(DomainMissing):
        with gone.settled():
            unwrap(client.get(gone.domain_path('check'), accept_unsuccessful=True), 'records')
    # An alias path through the segment known to address it.
    aliases = Aliases(client, 'example.com')
    assert aliases.address({'alias': 'sales', 'id': 1}, 'extra') == 'domains/example.com/aliases/sales/extra'
