# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The API key and SMTP passwords never appear: every module and the role at -vvv with --diff,
once succeeding and once with every task forced to fail (with an API that echoes the secrets
back in its error messages). Neither secret may appear in stdout, stderr, the registered results
or the error messages.
"""

from __future__ import annotations

import base64
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'unit', 'reliability'))

from reliability_cases import COLUMNS, ROLE, cell_id  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.integration

API_KEY = 'sk-S3cr3t-apikey-d41d8cd98f00b204'
PASSWORD = 'Pw-S3cr3t-passw0rd-9e107d9d372bb6'
ROLE_PASSWORD = 'Pw-S3cr3t-r0le-e4da3b7fbbce2345'
SECRETS = (API_KEY, PASSWORD, ROLE_PASSWORD)

PLAYBOOK = """
- name: Every module and the role, with secrets
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/improvmx.email.improvmx:
      api_key: "{{ secret_key }}"
      api_url: "{{ api_url }}"
  vars:
    forced_failure: false
  tasks:
    - name: improvmx_domain
      improvmx.email.improvmx_domain:
        domain: example.com
        notification_email: ops@example.org
        webhook: https://hooks.example.org/improvmx
      register: r_domain
      ignore_errors: "{{ forced_failure }}"

    - name: improvmx_alias
      improvmx.email.improvmx_alias:
        domain: example.com
        alias: sales
        forward: [alice@example.org, bob@example.org]
      register: r_alias
      ignore_errors: "{{ forced_failure }}"

    - name: improvmx_aliases
      improvmx.email.improvmx_aliases:
        domain: example.com
        aliases:
          - alias: support
            forward: [help@example.org]
      register: r_aliases
      ignore_errors: "{{ forced_failure }}"

    - name: improvmx_domains
      improvmx.email.improvmx_domains:
        domains:
          - domain: example.com
            credentials:
              - username: bulkmail
                password: "{{ secret_password }}"
                update_password: always
      register: r_domains
      ignore_errors: "{{ forced_failure }}"

    - name: improvmx_credential
      improvmx.email.improvmx_credential:
        domain: example.com
        username: newsletter
        password: "{{ secret_password }}"
        update_password: always
      register: r_credential
      ignore_errors: "{{ forced_failure }}"

    - name: improvmx_rule
      improvmx.email.improvmx_rule:
        domain: example.com
        type: alias
        alias: sales
        forward: [alice@example.org, https://hooks.example.org/sales]
      register: r_rule
      ignore_errors: "{{ forced_failure }}"

    - name: improvmx_rules
      improvmx.email.improvmx_rules:
        domain: example.com
        rules:
          - type: regex
            regex: "(?i)invoice"
            scopes: [subject, body]
            forward: accounting@example.org
      register: r_rules
      ignore_errors: "{{ forced_failure }}"

    - name: improvmx_domain_check
      improvmx.email.improvmx_domain_check:
        domain: example.com
      register: r_domain_check
      ignore_errors: "{{ forced_failure }}"

    - name: improvmx_domain_info
      improvmx.email.improvmx_domain_info:
        domain: example.com
      register: r_domain_info
      ignore_errors: "{{ forced_failure }}"

    - name: improvmx_alias_info
      improvmx.email.improvmx_alias_info:
        domain: example.com
      register: r_alias_info
      ignore_errors: "{{ forced_failure }}"

    - name: improvmx_credential_info
      improvmx.email.improvmx_credential_info:
        domain: example.com
      register: r_credential_info
      ignore_errors: "{{ forced_failure }}"

    - name: improvmx_rule_info
      improvmx.email.improvmx_rule_info:
        domain: example.com
      register: r_rule_info
      ignore_errors: "{{ forced_failure }}"

    - name: improvmx_account_info
      improvmx.email.improvmx_account_info:
      register: r_account_info
      ignore_errors: "{{ forced_failure }}"

    - name: improvmx_log_info
      improvmx.email.improvmx_log_info:
        domain: example.com
      register: r_log_info
      ignore_errors: "{{ forced_failure }}"

    - name: domain_onboarding
      block:
        - name: Run the role
          ansible.builtin.include_role:
            name: improvmx.email.domain_onboarding
          vars:
            domain_onboarding_domain: example.net
            domain_onboarding_api_key: "{{ secret_key }}"
            domain_onboarding_api_url: "{{ api_url }}"
            domain_onboarding_aliases:
              - alias: "*"
                forward: [inbox@example.org]
            domain_onboarding_credentials:
              - username: mailer
                password: "{{ secret_role_password }}"
                update_password: always
            domain_onboarding_wait: false
      rescue:
        - name: Note the role's failure
          ansible.builtin.set_fact:
            role_failure: "{{ ansible_failed_result }}"

    - name: Show every registered result
      ansible.builtin.debug:
        msg:
          domain: "{{ r_domain }}"
          alias: "{{ r_alias }}"
          aliases: "{{ r_aliases }}"
          domains: "{{ r_domains }}"
          credential: "{{ r_credential }}"
          rule: "{{ r_rule }}"
          rules: "{{ r_rules }}"
          rule_info: "{{ r_rule_info }}"
          domain_check: "{{ r_domain_check }}"
          domain_info: "{{ r_domain_info }}"
          alias_info: "{{ r_alias_info }}"
          credential_info: "{{ r_credential_info }}"
          account_info: "{{ r_account_info }}"
          log_info: "{{ r_log_info }}"
          role: "{{ domain_onboarding_result | default(role_failure | default('none')) }}"
"""

# One task per column of the matrix (every module of plugins/modules), named after its module.
MODULE_TASKS = [column for column in COLUMNS if column != ROLE]


def _base64(text):
    return base64.b64encode(text.encode('utf-8')).decode('ascii')


def _numeric_entities(text):
    """text HTML-escaped with a numeric entity for every character that is not a letter or a digit."""
    return ''.join(char if char.isalnum() else '&#%d;' % ord(char) for char in text)


# The forms an API may echo besides the secrets themselves: the Authorization value the client sends
# (base64 of api:KEY), the key alone in base64, and the passwords HTML-escaped.
ENCODED = (_base64('api:' + API_KEY), _base64(API_KEY), _numeric_entities(PASSWORD), _numeric_entities(ROLE_PASSWORD))


def _assert_no_secret(result):
    everything = result.output + json.dumps(result.results)
    for secret in SECRETS + ENCODED:
        assert secret not in everything, 'a secret leaked: %s' % secret
    assert 'Traceback' not in everything


def _extra(sim, forced):
    return {'secret_key': API_KEY, 'secret_password': PASSWORD, 'secret_role_password': ROLE_PASSWORD,
            'api_url': sim.url, 'forced_failure': forced}


def test_secrets_never_appear_at_vvv_with_diff_succeeding_or_failing(run_playbook, simulator_factory, record_property):
    sim = simulator_factory(api_key=API_KEY)
    sim.configure(dns_valid_after=0)
    sim.seed_domain('example.com', logs=3, credentials=[{'username': 'newsletter', 'password': 'Pw-old-one-0000'}],
                    routing_engine='rules')
    for name in MODULE_TASKS:  # a module without its task here would be a column this test does not cover
        assert '- name: %s\n      improvmx.email.%s:' % (name, name) in PLAYBOOK, name

    ok = run_playbook(PLAYBOOK, extra_vars=_extra(sim, False), verbosity=3, diff=True, callback='default')

    assert ok.rc == 0, ok
    _assert_no_secret(ok)
    assert sim.check_password('example.com', 'newsletter', PASSWORD)
    assert sim.check_password('example.com', 'bulkmail', PASSWORD)  # through improvmx_domains' credentials
    assert sim.check_password('example.net', 'mailer', ROLE_PASSWORD)
    assert 'password_set' in ok.output  # the credential diff was shown, without the password
    rules = sim.state_snapshot()['domains']['example.com']['rules']
    assert sorted(rule['type'] for rule in rules) == ['alias', 'regex'], rules

    # Every task fails; the API echoes the key and the password back in its error messages: as they
    # are, the key also as the Authorization value and alone in base64, the passwords HTML-escaped too.
    too_common = ['"%s" is too common (<b>%s</b>)' % (PASSWORD, _numeric_entities(PASSWORD))]
    sim.add_fault('POST', r'^/domains/example\.com/credentials', count=None, status=400,
                  body={'errors': {'password': too_common}, 'success': False})
    sim.add_fault('PUT', r'^/domains/example\.com/credentials', count=None, status=400,
                  body={'errors': {'password': too_common}, 'success': False})
    # improvmx_credential's own list read passes (a no-op fault), improvmx_credential_info's is refused.
    sim.add_fault('GET', r'^/domains/example\.com/credentials', count=1, kind='delay', delay=0)
    sim.add_fault('*', r'^/(account|domains/?$|domains/example\.com)', count=None, status=401,
                  body={'error': 'Invalid API key %s (Authorization: Basic %s, key %s)'
                                 % (API_KEY, _base64('api:' + API_KEY), _base64(API_KEY)), 'code': 401, 'success': False})
    for method in ('POST', 'PUT'):
        sim.add_fault(method, r'^/domains/example\.net/credentials', count=None, status=400,
                      body={'errors': {'password': ['"%s" is too common (%s)' % (ROLE_PASSWORD, _numeric_entities(ROLE_PASSWORD))]},
                            'success': False})

    failed = run_playbook(PLAYBOOK, extra_vars=_extra(sim, True), verbosity=3, diff=True, callback='default')

    assert failed.rc == 0, failed  # ignore_errors and a rescue: every failure is reported, the play goes on
    _assert_no_secret(failed)
    for name in MODULE_TASKS:
        assert failed.task(name)['status']['localhost'] in ('failed', 'ignored'), name
        assert failed.result(name)['msg'], name
    assert 'HTTP 401' in failed.result('improvmx_domain')['msg']
    assert 'Basic ********, key ********' in failed.result('improvmx_domain')['msg']
    assert 'HTTP 400: password: "********" is too common (<b>********</b>)' in failed.result('improvmx_credential')['msg']
    assert 'mailer' in failed.result('Note the role\'s failure')['ansible_facts']['role_failure']['msg']
    record_property('matrix_cells', ' '.join(test_secrets_never_appear_at_vvv_with_diff_succeeding_or_failing.matrix_cells))


test_secrets_never_appear_at_vvv_with_diff_succeeding_or_failing.matrix_cells = [
    cell_id('secrets-vvv-diff', column) for column in COLUMNS]
