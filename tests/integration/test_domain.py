# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""improvmx_domain through real ansible-playbook runs against the standalone simulator."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

PLAYBOOK = """
- name: Manage a domain
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Domain
      improvmx.email.improvmx_domain:
        domain: "{{ domain_name }}"
        state: "{{ domain_state | default('present') }}"
        notification_email: "{{ notify | default(omit) }}"
        webhook: "{{ hook | default(omit) }}"
      register: domain_result
"""


def test_domain_lifecycle(run_playbook, standalone):
    first = run_playbook(PLAYBOOK, extra_vars={'domain_name': 'Example.com', 'notify': 'ops@example.org'}, env=standalone.env)
    assert first.rc == 0, first
    assert first.total('changed') == 1
    assert first.result('Domain')['domain']['domain'] == 'example.com'
    assert [w['method'] for w in standalone.writes()] == ['POST']

    standalone.clear_requests()
    second = run_playbook(PLAYBOOK, extra_vars={'domain_name': 'example.com', 'notify': 'ops@example.org'}, env=standalone.env)
    assert second.rc == 0, second
    assert second.total('changed') == 0
    assert standalone.writes() == []

    update = run_playbook(PLAYBOOK, extra_vars={'domain_name': 'example.com', 'notify': 'noc@example.org',
                                                'hook': 'https://hooks.example.org/mx'},
                          env=standalone.env, diff=True, callback='default')
    assert update.rc == 0, update
    assert '-    "notification_email": "ops@example.org"' in update.stdout
    assert '+    "notification_email": "noc@example.org",' in update.stdout
    assert '+    "webhook": "https://hooks.example.org/mx"' in update.stdout
    assert standalone.state()['domains']['example.com']['webhook'] == 'https://hooks.example.org/mx'

    standalone.clear_requests()
    check = run_playbook(PLAYBOOK, extra_vars={'domain_name': 'example.com', 'notify': 'other@example.org'},
                         env=standalone.env, check=True)
    assert check.rc == 0, check
    assert check.total('changed') == 1
    absent_check = run_playbook(PLAYBOOK, extra_vars={'domain_name': 'example.com', 'domain_state': 'absent'},
                                env=standalone.env, check=True)
    assert absent_check.total('changed') == 1
    assert standalone.writes() == []

    absent = run_playbook(PLAYBOOK, extra_vars={'domain_name': 'example.com', 'domain_state': 'absent'}, env=standalone.env)
    assert absent.rc == 0 and absent.total('changed') == 1, absent
    assert 'example.com' not in standalone.state()['domains']
    standalone.clear_requests()
    again = run_playbook(PLAYBOOK, extra_vars={'domain_name': 'example.com', 'domain_state': 'absent'}, env=standalone.env)
    assert again.rc == 0 and again.total('changed') == 0, again
    assert standalone.writes() == []


def test_wrong_key_fails_clearly_and_never_shows_the_key(run_playbook, standalone):
    secret = 'sk-wrong-7c1f9e2b44d0'
    env = dict(standalone.env, IMPROVMX_API_KEY=secret)
    result = run_playbook(PLAYBOOK, extra_vars={'domain_name': 'example.com'}, env=env, verbosity=3, diff=True,
                          callback='default')
    assert result.rc != 0
    assert 'the API key was rejected (HTTP 401' in result.output
    assert secret not in result.output
    # Given as a task option instead of the environment, it stays hidden too.
    result = run_playbook(PLAYBOOK.replace('register:', 'api_key: "{{ key }}"\n      register:'),
                          extra_vars={'domain_name': 'example.com', 'key': secret}, env=standalone.env, verbosity=3,
                          callback='default')
    assert result.rc != 0
    assert secret not in result.output


def test_invalid_domain_fails_before_any_request(run_playbook, standalone):
    result = run_playbook(PLAYBOOK, extra_vars={'domain_name': 'not a domain'}, env=standalone.env)
    assert result.rc != 0
    assert "domain 'not a domain' contains white space" in result.result('Domain')['msg']
    assert standalone.requests == []
