# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What each module does in the matrix: the arguments, the state it starts from, the write it
sends and what the simulator must hold afterwards."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

from ansible_collections.improvmx.email.plugins.modules import (
    improvmx_account_info,
    improvmx_alias,
    improvmx_alias_info,
    improvmx_aliases,
    improvmx_credential,
    improvmx_credential_info,
    improvmx_domain,
    improvmx_domain_check,
    improvmx_domain_info,
    improvmx_domains,
    improvmx_log_info,
    improvmx_rule,
    improvmx_rule_info,
    improvmx_rules,
)

# Distinctive secrets: neither may appear in any result, message or error.
API_KEY = 'sk-R3liab1lity-apikey-9f2c7e41'
PASSWORD = 'Pw-R3liab1lity-password-5d80b3'
NEW_PASSWORD = 'Pw-R3liab1lity-newpass-c61a0e'
DOMAIN = 'example.com'
FORWARD = ['alice@example.org', 'bob@example.org']
OLD_FORWARD = 'old@example.org'

MODULES = {
    'improvmx_domain': improvmx_domain,
    'improvmx_alias': improvmx_alias,
    'improvmx_aliases': improvmx_aliases,
    'improvmx_credential': improvmx_credential,
    'improvmx_domain_check': improvmx_domain_check,
    'improvmx_domain_info': improvmx_domain_info,
    'improvmx_alias_info': improvmx_alias_info,
    'improvmx_credential_info': improvmx_credential_info,
    'improvmx_account_info': improvmx_account_info,
    'improvmx_log_info': improvmx_log_info,
    'improvmx_domains': improvmx_domains,
    'improvmx_rule': improvmx_rule,
    'improvmx_rules': improvmx_rules,
    'improvmx_rule_info': improvmx_rule_info,
}


class Op(object):
    """One write a module makes: from seed() and args, it sends method on a path matching path_regex;
    check(sim) says whether the simulator now holds the wanted state; concurrent(sim) makes the
    same change behind the module's back (another run), between its read and its write."""

    def __init__(self, args, method, path_regex, check, seed=None, concurrent=None):
        self.args = args
        self.method = method
        self.path_regex = path_regex
        self.check = check
        self.seed = seed or (lambda sim: sim.seed_domain(DOMAIN))
        self.concurrent = concurrent


def _domain(sim, name=DOMAIN):
    return sim.state_snapshot()['domains'].get(name)


def _aliases(sim):
    return dict((a['alias'], a['forward']) for a in _domain(sim)['aliases'])


def _credentials(sim):
    return [c['username'] for c in _domain(sim)['credentials']]


def _same(forward, wanted):
    if isinstance(forward, (list, tuple)):
        forward = ','.join(forward)
    return sorted(forward.split(',')) == sorted(wanted)


# Rules: the domain routes mail by rules; a seeded rule has a fixed id, so that a fault can target its path.
SALES_RULE = {'id': 'rule-sales', 'type': 'alias', 'config': {'alias': 'sales', 'forward': OLD_FORWARD}, 'rank': 1.0}
OLD_RULE = {'id': 'rule-old', 'type': 'regex', 'config': {'regex': '(?i)old', 'scopes': ['subject'], 'forward': OLD_FORWARD},
            'rank': 2.0}


def _seed_rules(*rules):
    return lambda sim: sim.seed_domain(DOMAIN, routing_engine='rules', rules=[dict(rule) for rule in rules])


def _rules(sim):
    """The domain's rules: (type, alias or regex) -> forward."""
    found = {}
    for rule in _domain(sim)['rules']:
        config = rule['config']
        found[(rule['type'], config.get('alias') or config.get('regex') or config.get('expression'))] = config['forward']
    return found


def _concurrent_rule(sim, rule_id):
    del sim.domains[DOMAIN]['rules'][rule_id]


# -- the writing modules -------------------------------------------------------------------------

WRITES = {
    'improvmx_domain': {
        'create': Op(
            {'domain': DOMAIN, 'notification_email': 'ops@example.org'}, 'POST', r'^/domains/?$',
            lambda sim: (_domain(sim) or {}).get('notification_email') == 'ops@example.org',
            seed=lambda sim: None,
            concurrent=lambda sim: sim.seed_domain(DOMAIN, notification_email='other@example.org')),
        'update': Op(
            {'domain': DOMAIN, 'notification_email': 'new@example.org'}, 'PUT', r'^/domains/example\.com$',
            lambda sim: _domain(sim)['notification_email'] == 'new@example.org',
            seed=lambda sim: sim.seed_domain(DOMAIN, notification_email='old@example.org')),
        'delete': Op(
            {'domain': DOMAIN, 'state': 'absent'}, 'DELETE', r'^/domains/example\.com$',
            lambda sim: _domain(sim) is None,
            concurrent=lambda sim: sim.domains.pop(DOMAIN)),
    },
    'improvmx_alias': {
        'create': Op(
            {'domain': DOMAIN, 'alias': 'sales', 'forward': FORWARD}, 'POST', r'^/domains/example\.com/aliases/?$',
            lambda sim: _same(_aliases(sim).get('sales', ''), FORWARD),
            concurrent=lambda sim: sim.seed_alias(DOMAIN, 'sales', OLD_FORWARD)),
        'update': Op(
            {'domain': DOMAIN, 'alias': 'sales', 'forward': FORWARD}, 'PUT', r'^/domains/example\.com/aliases/sales$',
            lambda sim: _same(_aliases(sim)['sales'], FORWARD),
            seed=lambda sim: sim.seed_domain(DOMAIN, aliases={'sales': OLD_FORWARD})),
        'delete': Op(
            {'domain': DOMAIN, 'alias': 'sales', 'state': 'absent'}, 'DELETE', r'^/domains/example\.com/aliases/sales$',
            lambda sim: 'sales' not in _aliases(sim),
            seed=lambda sim: sim.seed_domain(DOMAIN, aliases={'sales': OLD_FORWARD}),
            concurrent=lambda sim: sim.domains[DOMAIN]['aliases'].pop('sales')),
    },
    'improvmx_aliases': {
        'create': Op(
            {'domain': DOMAIN, 'aliases': [{'alias': 'sales', 'forward': FORWARD}, {'alias': 'support', 'forward': ['help@example.org']}]},
            'POST', r'^/domains/example\.com/aliases/bulk$',
            lambda sim: _same(_aliases(sim).get('sales', ''), FORWARD) and _aliases(sim).get('support') == 'help@example.org',
            concurrent=lambda sim: (sim.seed_alias(DOMAIN, 'sales', OLD_FORWARD), sim.seed_alias(DOMAIN, 'support', 'help@example.org'))),
        'update': Op(
            {'domain': DOMAIN, 'aliases': [{'alias': 'sales', 'forward': FORWARD}]},
            'POST', r'^/domains/example\.com/aliases/bulk$',
            lambda sim: _same(_aliases(sim)['sales'], FORWARD),
            seed=lambda sim: sim.seed_domain(DOMAIN, aliases={'sales': OLD_FORWARD})),
        'delete': Op(
            {'domain': DOMAIN, 'aliases': [{'alias': 'sales', 'forward': FORWARD}], 'purge': True},
            'DELETE', r'^/domains/example\.com/aliases/old$',
            lambda sim: _aliases(sim) == {'sales': ','.join(FORWARD)},
            seed=lambda sim: sim.seed_domain(DOMAIN, aliases={'sales': FORWARD, 'old': OLD_FORWARD}),
            concurrent=lambda sim: sim.domains[DOMAIN]['aliases'].pop('old')),
    },
    'improvmx_credential': {
        'create': Op(
            {'domain': DOMAIN, 'username': 'newsletter', 'password': PASSWORD}, 'POST', r'^/domains/example\.com/credentials/?$',
            lambda sim: _credentials(sim) == ['newsletter'] and sim.check_password(DOMAIN, 'newsletter', PASSWORD),
            concurrent=lambda sim: sim.add_credential(sim.domains[DOMAIN], 'newsletter', PASSWORD)),
        'update': Op(
            {'domain': DOMAIN, 'username': 'newsletter', 'password': NEW_PASSWORD, 'update_password': 'always'},
            'PUT', r'^/domains/example\.com/credentials/newsletter$',
            lambda sim: _credentials(sim) == ['newsletter'] and sim.check_password(DOMAIN, 'newsletter', NEW_PASSWORD),
            seed=lambda sim: sim.seed_domain(DOMAIN, credentials=[{'username': 'newsletter', 'password': PASSWORD}])),
        'delete': Op(
            {'domain': DOMAIN, 'username': 'newsletter', 'state': 'absent'},
            'DELETE', r'^/domains/example\.com/credentials/newsletter$',
            lambda sim: _credentials(sim) == [],
            seed=lambda sim: sim.seed_domain(DOMAIN, credentials=[{'username': 'newsletter', 'password': PASSWORD}]),
            concurrent=lambda sim: sim.domains[DOMAIN]['credentials'].pop('newsletter')),
    },
}

WRITES['improvmx_domains'] = {
    'create': Op(
        {'domains': [{'domain': DOMAIN, 'notification_email': 'ops@example.org'}]}, 'POST', r'^/domains/?$',
        lambda sim: (_domain(sim) or {}).get('notification_email') == 'ops@example.org',
        seed=lambda sim: None,
        concurrent=lambda sim: sim.seed_domain(DOMAIN, notification_email='other@example.org')),
    'update': Op(
        {'domains': [{'domain': DOMAIN, 'notification_email': 'new@example.org'}]}, 'PUT', r'^/domains/example\.com$',
        lambda sim: _domain(sim)['notification_email'] == 'new@example.org',
        seed=lambda sim: sim.seed_domain(DOMAIN, notification_email='old@example.org')),
    'delete': Op(
        {'domains': [{'domain': 'keep.example'}], 'purge': True}, 'DELETE', r'^/domains/example\.com$',
        lambda sim: _domain(sim) is None and _domain(sim, 'keep.example') is not None,
        seed=lambda sim: (sim.seed_domain('keep.example'), sim.seed_domain(DOMAIN)),
        concurrent=lambda sim: sim.domains.pop(DOMAIN)),
}
WRITES['improvmx_rule'] = {
    'create': Op(
        {'domain': DOMAIN, 'type': 'alias', 'alias': 'sales', 'forward': FORWARD}, 'POST', r'^/domains/example\.com/rules/?$',
        lambda sim: list(_rules(sim)) == [('alias', 'sales')] and _same(_rules(sim)[('alias', 'sales')], FORWARD),
        seed=_seed_rules()),
    'update': Op(
        {'domain': DOMAIN, 'type': 'alias', 'alias': 'sales', 'forward': FORWARD}, 'PUT', r'^/domains/example\.com/rules/rule-sales$',
        lambda sim: list(_rules(sim)) == [('alias', 'sales')] and _same(_rules(sim)[('alias', 'sales')], FORWARD),
        seed=_seed_rules(SALES_RULE)),
    'delete': Op(
        {'domain': DOMAIN, 'type': 'alias', 'alias': 'sales', 'state': 'absent'}, 'DELETE', r'^/domains/example\.com/rules/rule-sales$',
        lambda sim: _rules(sim) == {},
        seed=_seed_rules(SALES_RULE),
        concurrent=lambda sim: _concurrent_rule(sim, 'rule-sales')),
}
WRITES['improvmx_rules'] = {
    'create': Op(
        {'domain': DOMAIN, 'rules': [{'type': 'alias', 'alias': 'sales', 'forward': FORWARD}]},
        'POST', r'^/domains/example\.com/rules/?$',
        lambda sim: list(_rules(sim)) == [('alias', 'sales')] and _same(_rules(sim)[('alias', 'sales')], FORWARD),
        seed=_seed_rules()),
    'update': Op(
        {'domain': DOMAIN, 'rules': [{'type': 'alias', 'alias': 'sales', 'forward': FORWARD}]},
        'PUT', r'^/domains/example\.com/rules/rule-sales$',
        lambda sim: list(_rules(sim)) == [('alias', 'sales')] and _same(_rules(sim)[('alias', 'sales')], FORWARD),
        seed=_seed_rules(SALES_RULE)),
    'delete': Op(
        {'domain': DOMAIN, 'rules': [{'type': 'alias', 'alias': 'sales', 'forward': [OLD_FORWARD]}], 'purge': True},
        'DELETE', r'^/domains/example\.com/rules/rule-old$',
        lambda sim: list(_rules(sim)) == [('alias', 'sales')],
        seed=_seed_rules(SALES_RULE, OLD_RULE),
        concurrent=lambda sim: _concurrent_rule(sim, 'rule-old')),
}

# -- every module: arguments for a successful run (writers: their create) --------------------------


def _seed_for_reads(sim):
    sim.seed_domain(DOMAIN, aliases={'*': 'owner@example.net', 'sales': FORWARD},
                    credentials=[{'username': 'newsletter', 'password': PASSWORD}], logs=5,
                    rules=[dict(SALES_RULE)])


READS = {
    'improvmx_domain_check': {'domain': DOMAIN},
    'improvmx_domain_info': {'domain': DOMAIN},
    'improvmx_alias_info': {'domain': DOMAIN},
    'improvmx_credential_info': {'domain': DOMAIN},
    'improvmx_account_info': {},
    'improvmx_log_info': {'domain': DOMAIN},
    'improvmx_rule_info': {'domain': DOMAIN},
}


def success_run(column):
    """(seed, args, check) of a run of the module that must succeed; check(sim, result) -> bool."""
    if column in WRITES:
        op = WRITES[column]['create']
        return op.seed, op.args, lambda sim, result: result.get('changed') is True and op.check(sim)
    return _seed_for_reads, READS[column], _read_result_ok


def _read_result_ok(sim, result):
    for key in ('domains', 'aliases', 'credentials', 'logs', 'rules'):
        if key in result:
            return len(result[key]) >= 1
    if 'account' in result:
        return result['account'].get('email') == 'owner@example.net'
    return 'records' in result


# -- checks shared by every cell ------------------------------------------------------------------

def assert_clean(result):
    """No secret and no Python traceback anywhere in a result; each api_retries line names its request once."""
    text = json.dumps(result, default=str)
    assert API_KEY not in text, result
    assert PASSWORD not in text and NEW_PASSWORD not in text, result
    assert 'Traceback' not in text, result
    assert 'exception' not in result, result
    for line in result.get('api_retries') or []:
        request = line.split(': ', 1)[0]  # "METHOD path"
        assert line.count(request + ': ') == 1, 'api_retries names its request twice: %s' % line


def sent(sim, method, path_regex):
    """The logged requests of one method whose path matches."""
    pattern = re.compile(path_regex)
    return [r for r in sim.requests if r['method'] == method and pattern.search(r['path'])]


def applied(sim, method, path_regex):
    """How many of those the simulator applied (answered 2xx, or applied and then faulted)."""
    count = 0
    for entry in sent(sim, method, path_regex):
        status = entry.get('applied_status', entry.get('status'))
        if status is not None and 200 <= status < 300:
            count += 1
    return count
