# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The domain_onboarding role and the onboarding playbooks, run by ansible-playbook against the simulator."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import json
import os
import re
import socket
import subprocess
import sys

import pytest
import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORD_DNS_TASKS = os.path.join(REPO, 'tests', 'integration', 'onboarding', 'record_dns.yml')
DEMO = os.path.join(REPO, 'playbooks', 'demo.yml')
ONBOARD_MANY = os.path.join(REPO, 'playbooks', 'onboard_many.yml')
MANY_INVENTORY = os.path.join(REPO, 'playbooks', 'inventory', 'domains.yml')
ONBOARD_DOMAIN = os.path.join(REPO, 'playbooks', 'onboard_domain.yml')
CREDENTIAL_TYPE = os.path.join(REPO, 'extensions', 'awx', 'credential_type.yml')
SURVEY = os.path.join(REPO, 'extensions', 'awx', 'survey.json')
ARGUMENT_SPECS = os.path.join(REPO, 'roles', 'domain_onboarding', 'meta', 'argument_specs.yml')

ROLE = 'improvmx.email.domain_onboarding : '
WAIT_TASK = 'Wait until ImprovMX sees the DNS records'


def retry_lines(output, host='localhost'):
    """How many FAILED - RETRYING lines the wait task printed for host (ansible-core 2.21 puts the role name before the task name)."""
    pattern = r'FAILED - RETRYING: \[%s(?: -> [^\]]+)?\]: (?:improvmx\.email\.domain_onboarding : )?%s \(' % (
        re.escape(host), re.escape(WAIT_TASK))
    return len(re.findall(pattern, output))


# One play, the role, then the recorded records and the result where the tests can read them.
PLAYBOOK = """
- name: Onboard
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: improvmx.email.domain_onboarding

    - name: Report
      ansible.builtin.debug:
        msg:
          result: "{{ domain_onboarding_result }}"
          published: "{{ published_dns_record_sets | default([]) }}"
"""

SECRET_PASSWORD = 'Pw-7f3c9a1e5b2d-secret'


def onboarding_vars(domain='example.com', **overrides):
    variables = {
        'domain_onboarding_domain': domain,
        'domain_onboarding_notification_email': 'ops@example.org',
        'domain_onboarding_aliases': [
            {'alias': '*', 'forward': ['inbox@example.org']},
            {'alias': 'sales', 'forward': ['alice@example.org', 'bob@example.org']},
            {'alias': 'support', 'forward': 'helpdesk@example.org'},
        ],
        'domain_onboarding_credentials': [{'username': 'newsletter', 'password': SECRET_PASSWORD}],
        'domain_onboarding_check_retries': 4,
        'domain_onboarding_check_delay': 0,
        'domain_onboarding_dns_tasks': RECORD_DNS_TASKS,
    }
    variables.update(overrides)
    return variables


def checks_sent(simulator, domain='example.com'):
    return [r for r in simulator.requests if r['method'] == 'GET' and r['path'].rstrip('/') == '/domains/%s/check' % domain]


def failures(result):
    """What failed, host by host: for assertion messages."""
    return [(task['name'], host, res.get('msg')) for task in result.tasks
            for host, res in task['hosts'].items() if task['status'].get(host) == 'failed']


def report(result, host='localhost'):
    return result.result('Report', host)['msg']


def test_full_onboarding_waits_until_dns_turns_valid(run_playbook, simulator, sim_env):
    simulator.set_dns('example.com', valid_after=2)

    result = run_playbook(PLAYBOOK, extra_vars=onboarding_vars(), env=sim_env, callback='default')

    assert result.rc == 0, failures(result) or result
    assert result.total('failures') == 0
    state = simulator.state_snapshot()['domains']['example.com']
    assert state['notification_email'] == 'ops@example.org'
    assert {a['alias']: a['forward'] for a in state['aliases']} == {
        '*': 'inbox@example.org', 'sales': 'alice@example.org,bob@example.org', 'support': 'helpdesk@example.org'}
    assert simulator.check_password('example.com', 'newsletter', SECRET_PASSWORD)

    # One check before the wait, then the wait: invalid, invalid (valid_after=2), valid.
    assert len(checks_sent(simulator)) == 3
    assert retry_lines(result.output) == 1
    assert result.result(ROLE + WAIT_TASK)['attempts'] == 2

    # Credentials are configured, so the DKIM records are waited for and published too.
    published = report(result)['published']
    # One call per record set: both MX hosts in one set, never one host alone.
    assert [(r['check'], r['type'], r['name'], r['values'], r['action']) for r in published] == [
        ('mx', 'MX', 'example.com', ['10 mx1.improvmx.com', '20 mx2.improvmx.com'], 'replace'),
        ('spf', 'TXT', 'example.com', ['v=spf1 include:spf.improvmx.com ~all'], 'merge'),
        ('dkim1', 'CNAME', 'dkimprovmx1._domainkey.example.com', ['dkimprovmx1.improvmx.com'], 'replace'),
        ('dkim2', 'CNAME', 'dkimprovmx2._domainkey.example.com', ['dkimprovmx2.improvmx.com'], 'replace'),
    ]
    assert published[0]['entries'] == [{'value': 'mx1.improvmx.com', 'priority': 10}, {'value': 'mx2.improvmx.com', 'priority': 20}]
    shown = [item['msg'] for item in result.result(ROLE + 'Show the DNS record sets still missing')['results']]
    assert shown[0] == 'MX example.com (replace): "10 mx1.improvmx.com", "20 mx2.improvmx.com"; found nothing'
    assert shown[1] == 'TXT example.com (merge): "v=spf1 include:spf.improvmx.com ~all"; found nothing'

    outcome = report(result)['result']
    assert outcome['domain'] == 'example.com'
    assert outcome['valid'] is True
    assert outcome['changed'] is True
    assert outcome['wait_for'] == ['mx', 'spf', 'dkim1', 'dkim2']
    assert outcome['missing_records'] == []
    assert outcome['credentials'] == ['newsletter']
    assert sorted(a['alias'] for a in outcome['aliases']) == ['*', 'sales', 'support']
    assert {r['check'] for r in outcome['dns_records']} == {'mx', 'spf', 'dkim1', 'dkim2', 'dmarc'}
    assert all(r['valid'] for r in outcome['dns_records'])

    # The second run converges without a single write and without waiting.
    simulator.clear_requests()
    again = run_playbook(PLAYBOOK, extra_vars=onboarding_vars(), env=sim_env)
    assert again.rc == 0, again
    assert again.total('changed') == 0, again
    assert simulator.writes() == []
    assert len(checks_sent(simulator)) == 1
    assert report(again)['published'] == []
    assert report(again)['result']['valid'] is True
    assert report(again)['result']['changed'] is False


def test_dns_tasks_publish_the_records_and_the_wait_sees_them(run_playbook, simulator, sim_env):
    # DNS never turns valid by itself: only the DNS task file (POST /_sim/dns) fixes it.
    extra = onboarding_vars(domain_onboarding_credentials=[], sim_control_url=simulator.base_url)
    result = run_playbook(PLAYBOOK, extra_vars=extra, env=sim_env)

    assert result.rc == 0, failures(result) or result
    published = report(result)['published']
    assert [(r['type'], r['name']) for r in published] == [('MX', 'example.com'), ('TXT', 'example.com')]
    assert report(result)['result']['wait_for'] == ['mx', 'spf']
    assert report(result)['result']['valid'] is True
    # Published before the wait, so its first check already passes.
    assert len(checks_sent(simulator)) == 2


def test_dns_never_valid_fails_after_the_retries_naming_the_missing_records(run_playbook, simulator, sim_env):
    # MX is right, SPF is not: the failure names exactly the SPF record, with the value that keeps
    # the domain's current include.
    simulator.set_dns('example.com', mx=True, spf_value='v=spf1 include:_spf.example.net ~all')
    extra = onboarding_vars(domain_onboarding_credentials=[], domain_onboarding_check_retries=3)

    result = run_playbook(PLAYBOOK, extra_vars=extra, env=sim_env, callback='default')

    assert result.rc != 0, result
    assert result.total('failures') == 1
    # The check before the wait, then the wait's first try and its 3 retries.
    assert len(checks_sent(simulator)) == 5
    assert retry_lines(result.output) == 3
    fail_task = ROLE + 'Fail when DNS records are still missing after the wait'
    assert result.task(fail_task)['status'] == {'localhost': 'failed'}
    assert result.result(fail_task)['msg'] == 'The DNS of example.com is still not valid: see the records above.'
    # The records are printed once, by the task before the failure (issue 25: a failure printed once).
    message = result.result(ROLE + 'Show the DNS records still missing after the wait')['msg']
    assert result.output.count('Records still missing') == 1, result.output
    assert 'The DNS of example.com is still not valid after 5 checks' in message
    assert 'waiting for mx, spf' in message
    # What ImprovMX expects and what it found (the check's values).
    assert ('Records still missing: TXT example.com: expected an SPF including spf.improvmx.com '
            '("v=spf1 include:_spf.example.net include:spf.improvmx.com ~all"); '
            'found "v=spf1 include:_spf.example.net ~all".') in message
    assert 'MX example.com' not in message
    assert 'dkimprovmx' not in message and '_dmarc' not in message
    # Before the wait, the DNS task file was given exactly that record set.
    recorded = result.result(ROLE + 'Record the DNS record set the role asked for')['ansible_facts']['published_dns_record_sets']
    assert [(r['check'], r['type'], r['name'], r['values'], r['found']) for r in recorded] == [
        ('spf', 'TXT', 'example.com', ['v=spf1 include:_spf.example.net include:spf.improvmx.com ~all'],
         ['v=spf1 include:_spf.example.net ~all'])]


def test_wait_false_checks_once_and_does_not_fail(run_playbook, simulator, sim_env):
    extra = onboarding_vars(domain_onboarding_wait=False, domain_onboarding_credentials=[])

    result = run_playbook(PLAYBOOK, extra_vars=extra, env=sim_env)

    assert result.rc == 0, failures(result) or result
    assert len(checks_sent(simulator)) == 1
    outcome = report(result)['result']
    assert outcome['valid'] is False
    assert [(r['type'], r['value']) for r in outcome['missing_records']] == [
        ('MX', 'mx1.improvmx.com'), ('MX', 'mx2.improvmx.com'), ('TXT', 'v=spf1 include:spf.improvmx.com ~all')]
    # The DNS tasks still ran, once per missing record set.
    assert len(report(result)['published']) == 2


def test_wait_for_given_as_a_string_and_dmarc_included(run_playbook, simulator, sim_env):
    simulator.set_dns('example.com', mx=True, spf=True)
    extra = onboarding_vars(domain_onboarding_credentials=[], domain_onboarding_wait_for='mx,spf,dmarc',
                            domain_onboarding_check_retries='1', domain_onboarding_wait='false')

    result = run_playbook(PLAYBOOK, extra_vars=extra, env=sim_env)

    assert result.rc == 0, failures(result) or result
    outcome = report(result)['result']
    assert outcome['wait_for'] == ['mx', 'spf', 'dmarc']
    assert [(r['type'], r['name'], r['value']) for r in outcome['missing_records']] == [
        ('TXT', '_dmarc.example.com', 'v=DMARC1; p=none;')]


def test_argument_spec_rejects_a_missing_domain(run_playbook, simulator, sim_env):
    extra = onboarding_vars()
    del extra['domain_onboarding_domain']

    result = run_playbook(PLAYBOOK, extra_vars=extra, env=sim_env)

    assert result.rc != 0, result
    assert 'missing required arguments: domain_onboarding_domain' in result.output
    assert simulator.requests == []


@pytest.mark.parametrize('name, value, words', [
    ('domain_onboarding_wait_for', ['mx', 'txt'], 'domain_onboarding_wait_for must be one or more of: mx, spf, dkim1, dkim2, dmarc'),
    ('domain_onboarding_wait_for', 'mx,txt', 'domain_onboarding_wait_for must be one or more of: mx, spf, dkim1, dkim2, dmarc'),
    ('domain_onboarding_check_retries', 'many', "argument 'domain_onboarding_check_retries' is of type str"),
    ('domain_onboarding_wait', 'maybe', "argument 'domain_onboarding_wait' is of type str"),
    ('domain_onboarding_purge_aliases', 'perhaps', "argument 'domain_onboarding_purge_aliases' is of type str"),
    ('domain_onboarding_aliases', [{'alias': 'sales'}], 'missing required arguments: forward'),
    ('domain_onboarding_credentials', [{'username': 'x', 'password': SECRET_PASSWORD, 'update_password': 'never'}],
     'update_password must be one of: on_create, always'),
])
def test_variables_with_a_wrong_type_fail_before_any_request(run_playbook, simulator, sim_env, name, value, words):
    """The variables that are not strings are raw in the argument spec (so that '' passes); the role checks their real type."""
    result = run_playbook(PLAYBOOK, extra_vars=onboarding_vars(**{name: value}), env=sim_env)

    assert result.rc != 0, result
    message = result.result(ROLE + 'Check the variables that are not strings (an empty string means the default)')['msg']
    assert words in message
    assert name in message
    assert SECRET_PASSWORD not in result.output
    assert simulator.requests == []


def test_passwords_and_api_key_never_shown_with_vvv(run_playbook, simulator_factory, tmp_path):
    api_key = 'key-4b8e0d2f6a91c3e7'
    sim = simulator_factory(api_key=api_key)
    playbook = PLAYBOOK.replace('name: improvmx.email.domain_onboarding',
                                'name: improvmx.email.domain_onboarding\n      vars:\n'
                                '        domain_onboarding_api_key: "{{ key }}"\n'
                                '        domain_onboarding_api_url: "{{ url }}"')
    sim.set_dns('example.com', valid_after=1)
    extra = onboarding_vars(key=api_key, url=sim.url, domain_onboarding_credentials=[
        {'username': 'newsletter', 'password': SECRET_PASSWORD},
        {'username': 'billing', 'password': 'Pw-second-91d0c7', 'update_password': 'always'},
    ])

    result = run_playbook(playbook, extra_vars=extra, verbosity=3, diff=True, callback='default')

    assert result.rc == 0, failures(result) or result
    assert sim.check_password('example.com', 'billing', 'Pw-second-91d0c7')
    for secret in (SECRET_PASSWORD, 'Pw-second-91d0c7', api_key):
        assert secret not in result.output
    assert result.result(ROLE + 'Show the SMTP credentials')['msg'] == {'created_or_updated': ['newsletter', 'billing'], 'unchanged': []}

    # A password the API refuses: the failure names the credential and the reason, not the password.
    extra['domain_onboarding_credentials'] = [{'username': 'short', 'password': 'Xq7!z'}]
    failed = run_playbook(playbook, extra_vars=extra, verbosity=3, callback='default')
    assert failed.rc != 0, failed
    message = failed.result(ROLE + 'Report which SMTP credential failed and why')['msg']
    assert message.startswith('SMTP credentials of example.com failed: short: ')
    assert '8 characters' in message
    assert 'Xq7!z' not in failed.output
    assert api_key not in failed.output


def test_module_defaults_give_the_connection(run_playbook, simulator):
    playbook = """
- name: Onboard with module_defaults
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/improvmx.email.improvmx:
      api_key: "{{ key }}"
      api_url: "{{ url }}"
  roles:
    - role: improvmx.email.domain_onboarding
"""
    simulator.configure(dns_valid_after=0)
    extra = onboarding_vars(key=simulator.api_key, url=simulator.url)

    # No IMPROVMX_* variable in the environment: only module_defaults can connect.
    result = run_playbook(playbook, extra_vars=extra)

    assert result.rc == 0, failures(result) or result
    assert 'example.com' in simulator.state_snapshot()['domains']
    assert len(checks_sent(simulator)) == 1

    # The role's own api_key / api_url take precedence over the play's module_defaults.
    extra.update(key='wrong-key', url='http://127.0.0.1:9/v3/', domain_onboarding_domain='example.net',
                 domain_onboarding_api_key=simulator.api_key, domain_onboarding_api_url=simulator.url)
    result = run_playbook(playbook, extra_vars=extra)
    assert result.rc == 0, failures(result) or result
    assert 'example.net' in simulator.state_snapshot()['domains']


def test_check_mode_sends_no_write(run_playbook, simulator, sim_env):
    new = run_playbook(PLAYBOOK, extra_vars=onboarding_vars(), env=sim_env, check=True)
    assert new.rc == 0, new
    assert new.total('changed') >= 1
    assert simulator.writes() == []
    assert 'not in the account yet (check mode)' in new.result(ROLE + 'Show the state of the DNS check')['msg']
    outcome = new.result(ROLE + 'Show the outcome')['msg']
    assert outcome.endswith('changes predicted (check mode, nothing was written)'), outcome
    assert 'changes made' not in outcome

    simulator.seed_domain('example.com', aliases={'*': 'owner@example.net'})
    existing = run_playbook(PLAYBOOK, extra_vars=onboarding_vars(), env=sim_env, check=True)
    assert existing.rc == 0, existing
    assert simulator.writes() == []
    # No wait in check mode, and no failure for the records still missing.
    assert len(checks_sent(simulator)) == 1
    assert report(existing)['result']['valid'] is False
    assert existing.result(ROLE + 'Show the outcome')['msg'].endswith('changes predicted (check mode, nothing was written)')

    # A real run says the changes were made.
    simulator.set_dns('example.com', valid=True)
    real = run_playbook(PLAYBOOK, extra_vars=onboarding_vars(), env=sim_env)
    assert real.rc == 0, real
    assert real.result(ROLE + 'Show the outcome')['msg'].endswith('changes made')


def test_demo_playbook_twice_then_no_change(run_playbook, simulator, sim_env):
    simulator.configure(dns_valid_after=3)

    first = run_playbook(DEMO, env=sim_env, callback='default')
    assert first.rc == 0, first
    assert first.result('Show what the role did')['msg']['dns_valid'] is True
    assert 'FAILED - RETRYING' in first.output

    simulator.clear_requests()
    second = run_playbook(DEMO, env=sim_env, callback='default')
    assert second.rc == 0, second
    assert second.total('changed') == 0
    assert simulator.writes() == []


def test_demo_playbook_refuses_the_placeholder_domain_outside_the_simulator(run_playbook):
    # 192.0.2.0/24 is TEST-NET-1: nothing is ever sent there, the assert stops the play first.
    env = {'IMPROVMX_API_URL': 'http://192.0.2.1/v3/', 'IMPROVMX_API_KEY': 'not-a-real-key'}

    result = run_playbook(DEMO, env=env)

    assert result.rc != 0, result
    assert [task['name'] for task in result.tasks] == ['Refuse to add the placeholder domain to a real ImprovMX account']
    assert 'Pass a domain you own' in result.output


def test_demo_script_runs_twice_against_the_simulator_and_stops_it(collections_root):
    """scripts/demo.sh (what `make demo` runs): simulator, first run, second run with changed=0, simulator stopped."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(('ANSIBLE_', 'IMPROVMX_'))}
    # A key in the environment without IMPROVMX_DEMO_REAL=1 must not switch to the real API.
    env.update(VENV=os.path.dirname(os.path.dirname(sys.executable)), COLLECTIONS_DIR=collections_root,
               IMPROVMX_API_KEY='users-real-key-never-used', DEMO_DNS_VALID_AFTER='2')

    run = subprocess.run(['bash', os.path.join(REPO, 'scripts', 'demo.sh')], env=env, stdin=subprocess.DEVNULL, check=False,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=600)

    assert run.returncode == 0, run.stdout
    url = re.search(r'^demo: ImprovMX API simulator at (http://127\.0\.0\.1:(\d+)/v3/)', run.stdout, re.M)
    assert url, run.stdout
    recaps = re.findall(r'^localhost\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0', run.stdout, re.M)
    assert len(recaps) == 2 and int(recaps[0]) > 0 and recaps[1] == '0', run.stdout
    assert 'FAILED - RETRYING' in run.stdout
    assert 'Second run: the domain, its aliases and SMTP credentials were already as wanted (changed=0).' in run.stdout
    # The simulator is gone.
    with pytest.raises(OSError):
        socket.create_connection(('127.0.0.1', int(url.group(2))), timeout=2).close()


@pytest.mark.slow
def test_twenty_domains_with_forks_and_the_rate_limit(run_playbook, simulator, sim_env):
    simulator.configure(rate_limit_get=4, rate_limit_write=2, rate_limit_window=1, dns_valid_after=2)
    extra = {'domain_onboarding_check_retries': 5, 'domain_onboarding_check_delay': 1,
             'domain_onboarding_dns_tasks': RECORD_DNS_TASKS}

    result = run_playbook(ONBOARD_MANY, inventory=MANY_INVENTORY, forks=5, extra_vars=extra, env=sim_env)

    assert result.rc == 0, failures(result) or result
    domains = ['client%02d.example.com' % i for i in range(1, 21)]
    assert sorted(result.stats) == domains
    for domain in domains:
        assert result.stats[domain]['failures'] == 0, result
        assert result.stats[domain]['unreachable'] == 0, result
    # The forks pace themselves on the shared X-RateLimit-* budget (per method, as the API counts;
    # this simulator counts all writes in one budget, so some 429s remain): whatever 429s were met
    # were waited out without a failed task (test_reliability.py bounds their number).
    statuses = collections.Counter(r['status'] for r in simulator.requests)
    assert statuses[500] == 0
    state = simulator.state_snapshot()['domains']
    assert sorted(state) == domains
    for domain in domains:
        aliases = {a['alias']: a['forward'] for a in state[domain]['aliases']}
        if domain == 'client03.example.com':
            assert aliases == {'*': 'inbox@example.org', 'billing': 'accounts@example.org'}
        else:
            assert aliases == {'*': 'inbox@example.org', 'postmaster': 'ops@example.org'}
        assert state[domain]['notification_email'] == 'ops@example.org'
        assert state[domain]['active'] is True
        # onboard_many.yml passes each domain's outcome on with set_stats (its whole result only at -v).
        outcome = result.results['custom_stats']['_run']['improvmx_onboarding'][domain]
        assert (outcome['valid'], outcome['changed']) == (True, True), outcome
        assert result.task('Show the whole onboarding result')['status'][domain] == 'skipped'


def awx_environment(simulator):
    """The environment the AWX credential type injects (its injectors rendered as AWX does)."""
    with open(CREDENTIAL_TYPE, encoding='utf-8') as handle:
        injectors = yaml.safe_load(handle)['injectors']
    sandbox = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    return {name: sandbox.from_string(template).render(api_key=simulator.api_key, api_url=simulator.url)
            for name, template in injectors['env'].items()}


def survey_defaults(**answers):
    """The extra variables AWX sends for extensions/awx/survey.json: each question's default (a string), or the answer given."""
    with open(SURVEY, encoding='utf-8') as handle:
        spec = json.load(handle)['spec']
    extra = {question['variable']: question['default'] for question in spec}
    extra.update(answers)
    assert all(isinstance(value, str) for value in extra.values())
    return extra


SEEDED = {'notification_email': 'keep@example.net', 'webhook': 'https://hooks.example.net/improvmx'}


def domain_settings(simulator, domain='example.com'):
    state = simulator.state_snapshot()['domains'][domain]
    return {name: state[name] for name in ('notification_email', 'webhook', 'whitelabel')}


@pytest.mark.parametrize('unanswered', ['sent as empty strings', 'left out'])
def test_the_survey_defaults_leave_the_notification_email_as_it_was(run_playbook, simulator, unanswered):
    """extensions/awx/survey.json launched with only the domain answered: nothing of the domain changes."""
    simulator.seed_domain('example.com', **SEEDED)
    simulator.set_dns('example.com', valid=True)
    extra = survey_defaults(domain_onboarding_domain='example.com')
    assert extra['domain_onboarding_notification_email'] == ''
    if unanswered == 'left out':
        extra = {name: value for name, value in extra.items() if value != ''}
    before = domain_settings(simulator)

    result = run_playbook(ONBOARD_DOMAIN, extra_vars=extra, env=awx_environment(simulator))

    assert result.rc == 0, failures(result) or result
    assert domain_settings(simulator) == before
    assert before['notification_email'] == 'keep@example.net'
    assert simulator.writes() == []
    outcome = result.results['custom_stats']['_run']['improvmx_onboarding']
    assert outcome['valid'] is True
    assert outcome['changed'] is False
    assert outcome['wait_for'] == ['mx', 'spf']


def test_an_empty_string_means_not_given_for_every_optional_variable(run_playbook, simulator, sim_env):
    """Every optional variable of the argument spec given as '' (what a survey sends): the defaults, nothing cleared."""
    with open(ARGUMENT_SPECS, encoding='utf-8') as handle:
        options = yaml.safe_load(handle)['argument_specs']['main']['options']
    optional = sorted(name for name, option in options.items() if not option.get('required'))
    assert 'domain_onboarding_notification_email' in optional and 'domain_onboarding_check_retries' in optional
    simulator.seed_domain('example.com', aliases={'*': 'owner@example.net'}, **SEEDED)
    simulator.set_dns('example.com', valid=True)
    before = simulator.state_snapshot()['domains']['example.com']
    extra = dict((name, '') for name in optional)
    extra['domain_onboarding_domain'] = 'example.com'

    # The API key and URL come from the environment: '' for domain_onboarding_api_key / _api_url is "not given".
    result = run_playbook(PLAYBOOK, extra_vars=extra, env=sim_env)

    assert result.rc == 0, failures(result) or result
    assert simulator.writes() == []
    after = simulator.state_snapshot()['domains']['example.com']
    assert after == before
    outcome = report(result)['result']
    # wait_for '' and no credentials: MX and SPF; the aliases are left alone (no purge).
    assert outcome['wait_for'] == ['mx', 'spf']
    assert outcome['valid'] is True
    assert outcome['credentials'] == []
    assert [a['alias'] for a in outcome['aliases']] == ['*']
    assert result.task(ROLE + 'Ensure the aliases')['status'] == {'localhost': 'skipped'}

    # The same with the DNS not valid for two checks: '' for wait is true and '' for check_retries is 30, so the
    # role waits and its first retry says 30 retries are left (check_delay 0 here, so as not to wait 30 s).
    simulator.set_dns('example.com', valid=False, valid_after=2)
    extra['domain_onboarding_check_delay'] = '0'
    waited = run_playbook(PLAYBOOK, extra_vars=extra, env=sim_env, callback='default', timeout=120)
    assert waited.rc == 0, failures(waited) or waited
    assert re.search(r'FAILED - RETRYING: \[localhost\]: (?:improvmx\.email\.domain_onboarding : )?'
                     r'Wait until ImprovMX sees the DNS records \(30 retries left\)', waited.output), waited.output[-3000:]


def test_no_password_in_registered_results_or_facts(run_playbook, simulator, sim_env):
    """Every variable of the host after the role (registered results and facts included) and the -vvv output: no password."""
    playbook = """
- name: Onboard, then show everything the host has
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: improvmx.email.domain_onboarding
      vars:
        domain_onboarding_domain: example.com
        domain_onboarding_wait: false
        domain_onboarding_credentials:
          - username: newsletter
            password: "{{ lookup('ansible.builtin.env', 'TEST_SMTP_PASSWORD_1') }}"
          - username: billing
            password: "{{ lookup('ansible.builtin.env', 'TEST_SMTP_PASSWORD_2') }}"
            update_password: always

    - name: Every variable of the host
      ansible.builtin.debug:
        var: hostvars[inventory_hostname]

    - name: The registered credentials result
      ansible.builtin.debug:
        var: __domain_onboarding_credentials
"""
    passwords = ('Pw-1-9c2e7a4f1b30', 'Pw-2-5d8b1e6a0c47')
    env = dict(sim_env, TEST_SMTP_PASSWORD_1=passwords[0], TEST_SMTP_PASSWORD_2=passwords[1])

    for run in range(2):  # created, then on_create unchanged and always updated
        result = run_playbook(playbook, env=env, verbosity=3)
        assert result.rc == 0, failures(result) or result
        assert simulator.check_password('example.com', 'newsletter', passwords[0])
        assert simulator.check_password('example.com', 'billing', passwords[1])

        dumped = json.dumps(result.result('Every variable of the host'))
        registered = result.result('The registered credentials result')['__domain_onboarding_credentials']
        # The dump does hold the role's registered results and facts.
        assert '__domain_onboarding_credentials' in dumped and 'domain_onboarding_result' in dumped
        assert len(registered['results']) == 2
        assert [item['changed'] for item in registered['results']] == ([True, True] if run == 0 else [False, True])
        for secret in passwords:
            assert secret not in dumped
            assert secret not in json.dumps(registered)
            assert secret not in result.output
        shown = result.result(ROLE + 'Show the SMTP credentials')['msg']
        assert shown == ({'created_or_updated': ['newsletter', 'billing'], 'unchanged': []} if run == 0
                         else {'created_or_updated': ['billing'], 'unchanged': ['newsletter']})


def test_onboard_many_shows_each_host_its_own_domain_while_waiting(run_playbook, simulator, sim_env, tmp_path):
    """The wait task's name is the same for every host: it must not name the first host's domain on the others."""
    simulator.configure(dns_valid_after=2)  # the check before the wait and the wait's first try: invalid
    inventory = tmp_path / 'domains.yml'
    inventory.write_text(yaml.safe_dump({'improvmx_domains': {
        'hosts': {'first.example.com': None, 'second.example.com': None},
        'vars': {'domain_onboarding_check_retries': 3, 'domain_onboarding_check_delay': 0}}}), encoding='utf-8')

    result = run_playbook(ONBOARD_MANY, inventory=str(inventory), env=sim_env, callback='default')

    assert result.rc == 0, failures(result) or result
    retrying = [line for line in result.output.splitlines() if 'FAILED - RETRYING' in line]
    assert len(retrying) == 2, retrying
    for host, other in (('first.example.com', 'second.example.com'), ('second.example.com', 'first.example.com')):
        lines = [line for line in retrying if '[%s -> localhost]' % host in line]
        assert len(lines) == 1, retrying
        assert other not in lines[0], lines[0]
        assert retry_lines(result.output, host) == 1
        outcome = result.results['custom_stats']['_run']['improvmx_onboarding'][host]
        assert (outcome['valid'], outcome['changed']) == (True, True), outcome


def test_a_rules_domain_gets_its_rules_and_the_summary_counts_them(run_playbook, simulator, sim_env):
    rules = [
        {'type': 'alias', 'alias': 'sales', 'forward': ['alice@example.org']},
        {'type': 'regex', 'regex': '(?i)invoice', 'scopes': ['subject'], 'forward': ['https://hooks.example.org/inv']},
    ]
    extra = onboarding_vars(domain_onboarding_wait=False, domain_onboarding_credentials=[], domain_onboarding_aliases=[],
                            domain_onboarding_routing_engine='rules', domain_onboarding_rules=rules)

    result = run_playbook(PLAYBOOK, extra_vars=extra, env=sim_env)

    assert result.rc == 0, failures(result) or result
    state = simulator.state_snapshot()['domains']['example.com']
    assert state['routing_engine'] == 'rules'
    assert [(r['type'], r['rank']) for r in state['rules']] == [('alias', 1.0), ('regex', 2.0)]
    outcome = report(result)['result']
    assert outcome['routing_engine'] == 'rules' and len(outcome['rules']) == 2 and outcome['changed'] is True
    assert '2 rule(s)' in result.result(ROLE + 'Show the outcome')['msg']

    simulator.clear_requests()
    again = run_playbook(PLAYBOOK, extra_vars=extra, env=sim_env, check=True)
    assert again.rc == 0, again
    assert again.total('changed') == 0 and simulator.writes() == []
    again = run_playbook(PLAYBOOK, extra_vars=extra, env=sim_env)
    assert again.total('changed') == 0 and simulator.writes() == []


def test_the_role_reads_three_times_on_a_rerun_and_writes_one_bulk_on_a_first_run(run_playbook, simulator, sim_env):
    """Requests per domain (issue 27): what one task learned is passed to the next (the DKIM selector, whether
    there are SMTP credentials, the routing engine), so neither the aliases nor the check read the domain again,
    and the check reads no credentials: 5 requests for a new domain, 3 reads for a rerun."""
    simulator.configure(dns_valid_after=0)
    # One destination per alias: more would add one read of the account's destinations limit.
    extra = onboarding_vars(domain_onboarding_credentials=[], domain_onboarding_dns_tasks='', domain_onboarding_aliases=[
        {'alias': '*', 'forward': ['inbox@example.org']}, {'alias': 'sales', 'forward': 'alice@example.org'}])
    first = run_playbook(ONBOARD_DOMAIN, extra_vars=extra, env=sim_env)
    assert first.rc == 0, failures(first) or first
    sent = [(r['method'], r['path'].rstrip('/')) for r in simulator.requests]
    assert sent == [('GET', '/domains/example.com'), ('POST', '/domains'), ('GET', '/domains/example.com/aliases'),
                    ('POST', '/domains/example.com/aliases/bulk'), ('GET', '/domains/example.com/check')], sent
    assert len(sent) <= 5
    simulator.clear_requests()
    again = run_playbook(ONBOARD_DOMAIN, extra_vars=extra, env=sim_env)
    assert again.rc == 0, failures(again) or again
    assert [(r['method'], r['path'].rstrip('/')) for r in simulator.requests] == [
        ('GET', '/domains/example.com'), ('GET', '/domains/example.com/aliases'), ('GET', '/domains/example.com/check')]


def test_the_role_warns_of_rules_routing_from_the_domain_it_read(run_playbook, simulator, sim_env):
    """The aliases task is told the routing engine improvmx_domain returned (known_routing_engine): its
    rules-routing warning still comes, without a second read of the domain."""
    simulator.configure(dns_valid_after=0)
    simulator.seed_domain('example.com', routing_engine='rules')
    simulator.clear_requests()
    extra = onboarding_vars(domain_onboarding_credentials=[], domain_onboarding_dns_tasks='', domain_onboarding_aliases=[
        {'alias': 'sales', 'forward': 'alice@example.org'}])
    result = run_playbook(ONBOARD_DOMAIN, extra_vars=extra, env=sim_env)
    assert result.rc == 0, failures(result) or result
    assert 'routes mail by rules (routing_engine: rules): its aliases do not route mail' in result.output, result.output
    sent = [(r['method'], r['path'].rstrip('/')) for r in simulator.requests]
    assert sent.count(('GET', '/domains/example.com')) == 1, sent
    assert ('POST', '/domains/example.com/aliases/bulk') in sent, sent
