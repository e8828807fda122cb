# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The onboarding job template of docs/awx.md, run the way AWX runs a job: through ansible-runner.

What AWX does for a job, and this test does too:
* the project's playbook (playbooks/onboard_domain.yml) in ``private_data_dir/project``;
* the credential type's injectors (extensions/awx/injectors.json) rendered with the credential's
  inputs, as a Jinja template, into the job's environment;
* the job template's variables and the survey answers as extra vars in ``env/extravars``, the
  survey answers as strings (AWX sends text and multiple-choice answers as strings);
* ``suppress_env_files=True`` (AWX_RUNNER_OMIT_ENV_FILES, on by default), so the environment
  with the secret is not written into the private data directory;
* the inventory AWX's Demo Inventory gives: ``localhost`` with a local connection.
What it does not do: run inside an execution-environment container (that needs podman); the
collection comes from ANSIBLE_COLLECTIONS_PATH instead, the job runs with this venv's Python.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys

import jinja2.sandbox
import pytest
import yaml

pytestmark = pytest.mark.integration

ansible_runner = pytest.importorskip('ansible_runner', reason='ansible-runner is in requirements-dev.txt')

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX_DIR = os.path.join(REPO_ROOT, 'extensions', 'awx')
DOMAIN = 'awx-job.example.com'

# The job template's "Variables" (docs/awx.md, step 4), YAML there.
TEMPLATE_VARIABLES = {
    'domain_onboarding_aliases': [
        {'alias': '*', 'forward': ['inbox@example.org']},
        {'alias': 'postmaster', 'forward': ['ops@example.org']},
    ],
}
# The survey's answers, as AWX sends them: strings (docs/awx.md lists the first four as survey
# questions; the role takes numbers as text too).
SURVEY_ANSWERS = {
    'domain_onboarding_domain': DOMAIN,
    'domain_onboarding_notification_email': 'ops@example.org',
    'domain_onboarding_wait': 'true',
    'domain_onboarding_wait_for': 'mx,spf',
    'domain_onboarding_check_retries': '3',
    'domain_onboarding_check_delay': '0',
}


def injected_environment(inputs):
    """The job's environment from the credential type's env injectors, rendered as AWX renders them."""
    with open(os.path.join(AWX_DIR, 'injectors.json')) as handle:
        injectors = json.load(handle)
    sandbox = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    return {name: sandbox.from_string(template).render(**inputs) for name, template in injectors['env'].items()}


def files_under(path):
    for folder, dummy, names in os.walk(path):
        for name in names:
            yield os.path.join(folder, name)


def test_onboarding_job_as_awx_runs_it(standalone, collections_root, tmp_path):
    standalone.control('POST', 'config', {'dns_valid_after': 1})
    credential_inputs = {'api_key': standalone.api_key, 'api_url': standalone.url}
    env = injected_environment(credential_inputs)
    assert env == {'IMPROVMX_API_KEY': standalone.api_key, 'IMPROVMX_API_URL': standalone.url}

    private = tmp_path / 'private_data_dir'
    (private / 'project').mkdir(parents=True)
    (private / 'env').mkdir()
    shutil.copy(os.path.join(REPO_ROOT, 'playbooks', 'onboard_domain.yml'), private / 'project' / 'onboard_domain.yml')
    extravars = dict(TEMPLATE_VARIABLES, **SURVEY_ANSWERS)
    assert all(isinstance(value, str) for value in SURVEY_ANSWERS.values())
    (private / 'env' / 'extravars').write_text(yaml.safe_dump(extravars))
    inventory = {'all': {'hosts': {'localhost': {'ansible_connection': 'local',
                                                 'ansible_python_interpreter': sys.executable}}}}

    job = ansible_runner.run(
        private_data_dir=str(private),
        playbook='onboard_domain.yml',
        inventory=inventory,
        envvars=dict(env, ANSIBLE_COLLECTIONS_PATH=collections_root,
                     PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ['PATH']),
        suppress_env_files=True,
        quiet=True,
        ident='job-1',
    )
    stdout = job.stdout.read()
    events = list(job.events)

    assert job.status == 'successful', stdout[-5000:]
    assert job.rc == 0
    stats = job.stats
    assert stats['failures'] == {} and stats['dark'] == {}

    # The domain is onboarded as the survey and the template asked.
    domain = standalone.state()['domains'][DOMAIN]
    assert domain['notification_email'] == 'ops@example.org'
    assert sorted((a['alias'], a['forward']) for a in domain['aliases']) == [
        ('*', 'inbox@example.org'), ('postmaster', 'ops@example.org')]
    # The outcome reaches the workflow through set_stats (the stats event's artifact_data, as AWX reads it).
    stats_events = [e for e in events if e.get('event') == 'playbook_on_stats']
    outcome = stats_events[-1]['event_data'].get('artifact_data', {}).get('improvmx_onboarding', {}) if stats_events else {}
    # The job output is short: the role's one-line outcome, no dump of the whole result (alias timestamps, ids).
    assert '"created"' not in stdout and '"dns_records"' not in stdout, stdout
    assert len(stdout.splitlines()) < 100, stdout  # the whole result's dump alone was about 95 lines
    # The role's summary is one line (no literal \\n from a folded block).
    assert re.search(r'awx-job\.example\.com: DNS valid \(mx, spf\), 2 alias\(es\), 0 SMTP credential\(s\), changes made', stdout), stdout
    assert outcome.get('valid') is True and outcome['wait_for'] == ['mx', 'spf']
    # DNS valid after one check: the first check, then one wait attempt.
    assert len([r for r in standalone.requests if r['path'] == '/domains/%s/check' % DOMAIN]) == 2
    # The key reached the API through the injected environment (no request was refused) ...
    assert standalone.requests and all(r['status'] not in (401, 403) for r in standalone.requests)
    # ... and nothing the job left behind holds it: events, stdout, artifacts, the private data dir.
    assert standalone.api_key not in stdout
    for event in events:
        assert standalone.api_key not in json.dumps(event)
    artifacts = list(files_under(str(private / 'artifacts')))
    assert [path for path in artifacts if '/job_events/' in path]
    # One exception, ansible-runner's own: artifacts/<ident>/command records the command line
    # and the whole environment of the job, so the injected key too, in an owner-only file
    # (as in AWX, where it stays in the job's private data directory, deleted after the job,
    # and is neither shown nor stored; AWX keeps only the environment with secrets masked).
    command_record = str(private / 'artifacts' / 'job-1' / 'command')
    assert os.stat(command_record).st_mode & 0o077 == 0
    for path in files_under(str(private)):
        if path == command_record:
            continue
        with open(path, 'rb') as handle:
            assert standalone.api_key.encode() not in handle.read(), path


def _doc_block(marker):
    """The one fenced block of docs/awx.md that contains marker."""
    with open(os.path.join(REPO_ROOT, 'docs', 'awx.md'), encoding='utf-8') as handle:
        text = handle.read()
    blocks = [body for body in text.split('```')[1::2] if marker in body]
    assert len(blocks) == 1, marker
    return blocks[0].split('\n', 1)[1]


def test_drift_check_job_as_awx_runs_it(standalone, collections_root, tmp_path):
    """docs/awx.md's drift check: job type Check with Show Changes, the project's drift_check.yml."""
    standalone.control('POST', 'seed', {'domains': {'example.com': {'notification_email': 'ops@example.org',
                                                                    'aliases': {'*': 'inbox@example.org'}}}})
    env = injected_environment({'api_key': standalone.api_key, 'api_url': standalone.url})
    private = tmp_path / 'private_data_dir'
    (private / 'project').mkdir(parents=True)
    (private / 'env').mkdir()
    (private / 'project' / 'drift_check.yml').write_text(_doc_block('# drift_check.yml'), encoding='utf-8')
    declared = {'improvmx_domains': [{'domain': 'example.com', 'notification_email': 'ops@example.org',
                                      'aliases': [{'alias': '*', 'forward': ['inbox@example.org']}], 'purge_aliases': True}]}
    (private / 'project' / 'improvmx_account.yml').write_text(yaml.safe_dump(declared), encoding='utf-8')
    # The template has no Variables: drift_check.yml names the project's improvmx_account.yml.
    assert '| Variables | none (`drift_check.yml` names the project' in _awx_text()
    inventory = {'all': {'hosts': {'localhost': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}}

    def job(ident):
        # Job type Check and Show Changes: AWX runs ansible-playbook with --check --diff.
        return ansible_runner.run(
            private_data_dir=str(private), playbook='drift_check.yml', inventory=inventory, cmdline='--check --diff',
            envvars=dict(env, ANSIBLE_COLLECTIONS_PATH=collections_root,
                         PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ['PATH']),
            suppress_env_files=True, quiet=True, ident=ident)

    clean = job('drift-1')
    assert clean.status == 'successful', clean.stdout.read()[-3000:]
    assert 'no drift: the account is as declared' in clean.stdout.read()

    standalone.control('POST', 'seed', {'domains': {'example.com': {'notification_email': 'someone@example.org'}}})
    drifted = job('drift-2')
    stdout = drifted.stdout.read()
    assert drifted.status == 'failed', stdout[-3000:]
    assert 'drift: would change 1 domain(s): example.com (fields: notification_email)' in stdout
    plain = re.sub(r'\x1b\[[0-9;]*m', '', stdout)
    assert re.search(r'^-\s+"notification_email": "someone@example.org"', plain, re.M), plain  # Show Changes: the diff
    stats = [e for e in drifted.events if e.get('event') == 'playbook_on_stats'][-1]
    assert stats['event_data']['artifact_data']['improvmx_drift']['updated'] == ['example.com']
    assert [r for r in standalone.requests if r['method'] not in ('GET', 'HEAD')] == []
    assert standalone.api_key not in stdout


def _awx_text():
    with open(os.path.join(REPO_ROOT, 'docs', 'awx.md'), encoding='utf-8') as handle:
        return handle.read()
