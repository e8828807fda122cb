# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""improvmx_credential and improvmx_credential_info through real ansible-playbook runs against the simulator."""

from __future__ import annotations

import pytest

from ansible.release import __version__ as _ANSIBLE_VERSION

ANSIBLE_CORE = tuple(int(part) for part in _ANSIBLE_VERSION.split('.')[:2])

pytestmark = pytest.mark.integration

DOMAIN = 'example.com'

CREDENTIAL_PLAYBOOK = """
- name: SMTP credential
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Manage the credential
      improvmx.email.improvmx_credential:
        domain: example.com
        username: bighead
        password: "{{ smtp_password | default(omit) }}"
        update_password: "{{ update_password | default('on_create') }}"
        state: "{{ credential_state | default('present') }}"
"""

INFO_PLAYBOOK = """
- name: SMTP credentials
  hosts: localhost
  gather_facts: false
  tasks:
    - name: List the credentials
      improvmx.email.improvmx_credential_info:
        domain: example.com
"""


def write_methods(simulator):
    return [request['method'] for request in simulator.writes()]


def test_credential_lifecycle(run_playbook, simulator, sim_env):
    simulator.seed_domain(DOMAIN)
    password = 'Lifecycle-pass-1'

    created = run_playbook(CREDENTIAL_PLAYBOOK, extra_vars={'smtp_password': password}, env=sim_env)
    assert created.rc == 0, created
    result = created.result('Manage the credential')
    assert result['changed'] is True
    assert result['credential']['username'] == 'bighead'
    assert result['requires_new_mx_check'] is True
    assert any('DKIM CNAME' in warning for warning in result.get('warnings', [])), result
    assert write_methods(simulator) == ['POST']
    assert simulator.check_password(DOMAIN, 'bighead', password)

    simulator.clear_requests()
    rerun = run_playbook(CREDENTIAL_PLAYBOOK, extra_vars={'smtp_password': 'Another-pass-2'}, env=sim_env)
    assert rerun.rc == 0, rerun
    assert rerun.result('Manage the credential')['changed'] is False
    assert rerun.total('changed') == 0
    assert write_methods(simulator) == []
    assert simulator.check_password(DOMAIN, 'bighead', password)

    for dummy in range(2):
        simulator.clear_requests()
        updated = run_playbook(CREDENTIAL_PLAYBOOK, extra_vars={'smtp_password': 'Rotated-pass-3', 'update_password': 'always'},
                               env=sim_env)
        assert updated.rc == 0, updated
        assert updated.result('Manage the credential')['changed'] is True
        assert updated.result('Manage the credential')['requires_new_mx_check'] is False
        assert write_methods(simulator) == ['PUT']
    assert simulator.check_password(DOMAIN, 'bighead', 'Rotated-pass-3')

    info = run_playbook(INFO_PLAYBOOK, env=sim_env, check=True)
    assert info.rc == 0, info
    assert [c['username'] for c in info.result('List the credentials')['credentials']] == ['bighead']

    simulator.clear_requests()
    removed = run_playbook(CREDENTIAL_PLAYBOOK, extra_vars={'credential_state': 'absent'}, env=sim_env)
    assert removed.rc == 0, removed
    assert removed.result('Manage the credential')['changed'] is True
    assert removed.result('Manage the credential')['credential'] == {}
    assert write_methods(simulator) == ['DELETE']

    simulator.clear_requests()
    again = run_playbook(CREDENTIAL_PLAYBOOK, extra_vars={'credential_state': 'absent'}, env=sim_env)
    assert again.rc == 0, again
    assert again.result('Manage the credential')['changed'] is False
    assert write_methods(simulator) == []
    assert simulator.state_snapshot()['domains'][DOMAIN]['credentials'] == []


def test_check_mode_sends_no_write(run_playbook, simulator, sim_env):
    simulator.seed_domain(DOMAIN)
    for extra_vars in ({'smtp_password': 'Check-pass-1'}, {'credential_state': 'absent'}):
        result = run_playbook(CREDENTIAL_PLAYBOOK, extra_vars=extra_vars, env=sim_env, check=True, diff=True)
        assert result.rc == 0, result
    assert write_methods(simulator) == []
    assert simulator.state_snapshot()['domains'][DOMAIN]['credentials'] == []

    simulator.seed_domain(DOMAIN, credentials=['bighead'])
    simulator.clear_requests()
    for extra_vars, changed in (({'smtp_password': 'Check-pass-1', 'update_password': 'always'}, True),
                                ({'credential_state': 'absent'}, True),
                                ({}, False)):
        result = run_playbook(CREDENTIAL_PLAYBOOK, extra_vars=extra_vars, env=sim_env, check=True)
        assert result.rc == 0, result
        assert result.result('Manage the credential')['changed'] is changed
    assert write_methods(simulator) == []
    assert [c['username'] for c in simulator.state_snapshot()['domains'][DOMAIN]['credentials']] == ['bighead']


def test_non_premium_account_gets_a_clear_message(run_playbook, simulator, sim_env):
    simulator.seed_domain(DOMAIN)
    simulator.configure(premium=False)
    for playbook, task in ((CREDENTIAL_PLAYBOOK, 'Manage the credential'), (INFO_PLAYBOOK, 'List the credentials')):
        result = run_playbook(playbook, extra_vars={'smtp_password': 'Premium-pass-1'}, env=sim_env)
        assert result.rc == 2, result
        assert result.task(task)['status'] == {'localhost': 'failed'}
        failed = result.result(task)
        assert failed['msg'].startswith('SMTP credentials need a premium ImprovMX plan'), failed['msg']
        assert failed['status'] == 403
    assert write_methods(simulator) == []


def test_create_answered_with_5xx_is_confirmed(run_playbook, simulator, sim_env):
    simulator.seed_domain(DOMAIN)
    simulator.add_fault(method='POST', path_regex='/credentials', kind='apply_then_status', status=502)
    result = run_playbook(CREDENTIAL_PLAYBOOK, extra_vars={'smtp_password': 'Fault-pass-1'}, env=sim_env)
    assert result.rc == 0, result
    task = result.result('Manage the credential')
    assert task['changed'] is True
    assert task['api_retries']
    assert write_methods(simulator) == ['POST']


# A password and an API key nobody would type by accident: neither may appear in any output.
SECRET_PASSWORD = 'Xq9-SMTP-pw-4f1d7c2e'
SHORT_SECRET_PASSWORD = 'Jz4#kQ'   # shorter than the API accepts: the task fails
SECRET_API_KEY = 'sk-improvmx-7e3b9d51a2c4-distinct'

LEAK_PLAYBOOK = """
- name: Secrets stay secret
  hosts: localhost
  gather_facts: false
  vars:
    improvmx_api_key: "%(api_key)s"
    smtp_password: "%(password)s"
  module_defaults:
    group/improvmx.email.improvmx:
      api_key: "{{ improvmx_api_key }}"
  tasks:
    - name: Create the credential
      improvmx.email.improvmx_credential:
        domain: example.com
        username: bighead
        password: "{{ smtp_password }}"

    - name: Set its password again
      improvmx.email.improvmx_credential:
        domain: example.com
        username: bighead
        password: "{{ smtp_password }}"
        update_password: always

    - name: List the credentials
      improvmx.email.improvmx_credential_info:
        domain: example.com
"""

FAILING_PLAYBOOK = """
- name: Secrets stay secret when the task fails
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Create a credential the API refuses
      improvmx.email.improvmx_credential:
        api_key: "%(api_key)s"
        domain: example.com
        username: monica
        password: "%(password)s"
"""


@pytest.mark.parametrize('callback', ['default', 'json'])
def test_password_and_api_key_never_appear_in_output(run_playbook, simulator_factory, callback):
    sim = simulator_factory(api_key=SECRET_API_KEY)
    sim.seed_domain(DOMAIN)
    env = {'IMPROVMX_API_URL': sim.url}

    result = run_playbook(LEAK_PLAYBOOK % {'api_key': SECRET_API_KEY, 'password': SECRET_PASSWORD},
                          env=env, diff=True, verbosity=3, callback=callback)
    assert result.rc == 0, result
    assert result.total('changed') == 2
    assert sim.check_password(DOMAIN, 'bighead', SECRET_PASSWORD)
    if ANSIBLE_CORE < (2, 21):  # ansible-core 2.21 no longer prints module arguments at -vvv
        assert 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in result.output   # -vvv did print the module arguments
    assert 'password_set' in result.output                          # and the diff
    assert SECRET_PASSWORD not in result.output
    assert SECRET_API_KEY not in result.output

    failed = run_playbook(FAILING_PLAYBOOK % {'api_key': SECRET_API_KEY, 'password': SHORT_SECRET_PASSWORD},
                          env=env, diff=True, verbosity=3, callback=callback)
    assert failed.rc == 2, failed
    assert 'at least 8 characters' in failed.output                 # the API's own explanation is shown
    assert SHORT_SECRET_PASSWORD not in failed.output
    assert SECRET_API_KEY not in failed.output
    assert [c['username'] for c in sim.state_snapshot()['domains'][DOMAIN]['credentials']] == ['bighead']
