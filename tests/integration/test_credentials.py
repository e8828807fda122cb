# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""improvmx_credential through real ansible-playbook runs against the simulator: what no target can see.

The stored password (the simulator's, never returned by the API), a create answered with a 5xx,
and the password and API key kept out of the output at -vvv with both callbacks. The life cycle,
idempotency, check mode, the write requests and a free account's 403 are in the ansible-test
targets tests/integration/targets/improvmx_credential and improvmx_credential_info."""

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


def write_methods(simulator):
    return [request['method'] for request in simulator.writes()]


TWICE_PLAYBOOK = """
- name: SMTP credential, created then declared again with another password
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Create the credential
      improvmx.email.improvmx_credential:
        domain: example.com
        username: bighead
        password: First-pass-1

    - name: The same credential, another password, update_password on_create
      improvmx.email.improvmx_credential:
        domain: example.com
        username: bighead
        password: Another-pass-2
"""


def test_the_password_stored_is_the_one_given_on_create_then_with_always(run_playbook, simulator, sim_env):
    # The simulator's stored password, which no API answer (and so no target) can see. The changed
    # flags, the write requests and check mode are in the improvmx_credential target.
    simulator.seed_domain(DOMAIN)

    created = run_playbook(TWICE_PLAYBOOK, env=sim_env)
    assert created.rc == 0, created
    assert created.result('Create the credential')['changed'] is True
    assert created.result('The same credential, another password, update_password on_create')['changed'] is False
    assert simulator.check_password(DOMAIN, 'bighead', 'First-pass-1')
    assert not simulator.check_password(DOMAIN, 'bighead', 'Another-pass-2')

    updated = run_playbook(CREDENTIAL_PLAYBOOK, extra_vars={'smtp_password': 'Rotated-pass-3', 'update_password': 'always'},
                           env=sim_env)
    assert updated.rc == 0, updated
    assert updated.result('Manage the credential')['changed'] is True
    assert simulator.check_password(DOMAIN, 'bighead', 'Rotated-pass-3')


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
