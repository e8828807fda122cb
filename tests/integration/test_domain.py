# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""improvmx_domain with a wrong key at -vvv with diff, against the standalone simulator.

The lifecycle, idempotency, check mode and bad input are in the ansible-test target
tests/integration/targets/improvmx_domain/."""

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
