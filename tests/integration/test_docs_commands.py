# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Commands and playbooks of the user guide, docs/awx.md, the role's README and the playbooks' comments, run as written.

Each block is taken from the document itself. The only changes made to a command are the ones a
reader makes too: a placeholder key (sk_..., <key>) becomes the simulator's key, and /tmp/ becomes
the test's own temporary directory.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
import requests
import yaml

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
USER_GUIDE = os.path.join(REPO, 'docs', 'user-guide.md')
AWX_DOC = os.path.join(REPO, 'docs', 'awx.md')
ROLE_README = os.path.join(REPO, 'roles', 'domain_onboarding', 'README.md')
CLOUDFLARE_TASKS = os.path.join(REPO, 'roles', 'domain_onboarding', 'files', 'dns_tasks_cloudflare.yml')
BIN = os.path.dirname(sys.executable)

# A fence may be indented (a block inside a list item); its body is dedented as a reader copies it.
FENCE = re.compile(r'^[ ]*```(\w*)\n(.*?)^[ ]*```', re.S | re.M)


def fenced_block(path, language, marker):
    """The one fenced block of the given language in the Markdown file that contains marker."""
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    blocks = [textwrap.dedent(body) for lang, body in FENCE.findall(text) if lang == language and marker in body]
    assert len(blocks) == 1, '%s: %d %s blocks contain %r' % (path, len(blocks), language, marker)
    return blocks[0]


def clean_env(tmp_path, **extra):
    """A new user's environment: the venv's tools on PATH, a fresh HOME, no ANSIBLE_* or IMPROVMX_* settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(('ANSIBLE_', 'IMPROVMX_'))}
    home = tmp_path / 'home'
    home.mkdir(exist_ok=True)
    env.update(PATH=BIN + os.pathsep + env.get('PATH', ''), HOME=str(home), ANSIBLE_NOCOLOR='1')
    env.update(extra)
    return env


def bash(script, cwd, env, timeout=600):
    """Run script with bash -e (stop at the first failing command); return the completed process."""
    return subprocess.run(['bash', '-e', '-c', script], cwd=str(cwd), env=env, stdin=subprocess.DEVNULL, check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout)


def ansible_builder():
    candidate = os.path.join(BIN, 'ansible-builder')
    return candidate if os.path.exists(candidate) else shutil.which('ansible-builder')


# -- the role's README: the Cloudflare example -------------------------------------------------------------

def test_role_readme_cloudflare_example_passes_syntax_check_with_its_variables(tmp_path, collections_root):
    example = fenced_block(ROLE_README, 'yaml', 'cloudflare_api_token')
    (tmp_path / 'onboard.yml').write_text(example, encoding='utf-8')
    shutil.copy(CLOUDFLARE_TASKS, str(tmp_path / 'dns_tasks_cloudflare.yml'))
    env = clean_env(tmp_path, ANSIBLE_COLLECTIONS_PATH=collections_root)
    your_vars = ['-e', 'vault_newsletter_smtp_password=Pw-readme-0a1b2c', '-e', 'vault_cloudflare_api_token=cf-token-3d4e5f']

    check = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '--syntax-check'] + your_vars + ['onboard.yml'],
                           cwd=str(tmp_path), env=env, stdin=subprocess.DEVNULL, check=False,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300)
    assert check.returncode == 0, check.stdout

    # --syntax-check does not template variables. The Cloudflare task file needs variables of its own: render
    # its module options with the example's role variables and one record, as the role's include does.
    role_vars = yaml.safe_load(example)[0]['roles'][0]['vars']
    with open(CLOUDFLARE_TASKS, encoding='utf-8') as handle:
        cloudflare_task = [task for task in yaml.safe_load(handle)
                           if task.get('community.general.cloudflare_dns', {}).get('state') == 'present'][0]
    options = dict(cloudflare_task['community.general.cloudflare_dns'], value="{{ domain_onboarding_dns_record_set.entries[0].value }}",
                   priority='{{ domain_onboarding_dns_record_set.entries[0].priority }}')
    record = {'check': 'mx', 'type': 'MX', 'name': 'example.com', 'ttl': 3600, 'values': ['10 mx1.improvmx.com', '20 mx2.improvmx.com'],
              'entries': [{'value': 'mx1.improvmx.com', 'priority': 10}, {'value': 'mx2.improvmx.com', 'priority': 20}],
              'action': 'replace', 'valid': False, 'found': []}
    render = [{
        'name': 'Render the options of the Cloudflare task',
        'hosts': 'localhost',
        'gather_facts': False,
        'vars': dict(role_vars, domain_onboarding_dns_record_set=record),
        'tasks': [{'name': 'Options', 'ansible.builtin.debug': {'msg': options}}],
    }]
    (tmp_path / 'render.yml').write_text(yaml.safe_dump(render), encoding='utf-8')
    rendered = subprocess.run([os.path.join(BIN, 'ansible-playbook')] + your_vars + ['render.yml'],
                              cwd=str(tmp_path), env=env, stdin=subprocess.DEVNULL, check=False,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300)
    assert rendered.returncode == 0, rendered.stdout
    assert '"api_token": "cf-token-3d4e5f"' in rendered.stdout
    assert '"zone": "example.com"' in rendered.stdout


def test_role_readme_copies_the_cloudflare_task_file_from_the_installed_collection(tmp_path, collections_root):
    block = fenced_block(ROLE_README, 'console', 'dns_tasks_cloudflare.yml')
    lines = block.strip().splitlines()
    assert lines[0] == 'ansible-galaxy collection install community.general'
    # The first line needs Galaxy (the network); the next two find the installed collection and copy.
    copy = bash('\n'.join(lines[1:]), tmp_path, clean_env(tmp_path, ANSIBLE_COLLECTIONS_PATH=collections_root))

    assert copy.returncode == 0, copy.stdout
    with open(CLOUDFLARE_TASKS, encoding='utf-8') as handle:
        assert (tmp_path / 'dns_tasks_cloudflare.yml').read_text(encoding='utf-8') == handle.read()


# -- the user guide: the vault, the install ------------------------------------------------------------------

def test_user_guide_vault_steps_give_the_key_to_the_modules(tmp_path, simulator, collections_root):
    create = fenced_block(USER_GUIDE, 'console', 'mkdir -p group_vars/all')
    playbook = fenced_block(USER_GUIDE, 'yaml', '# account.yml')
    run = fenced_block(USER_GUIDE, 'console', '--ask-vault-pass')
    project = tmp_path / 'project'
    project.mkdir()
    (project / 'account.yml').write_text(playbook, encoding='utf-8')
    password_file = tmp_path / 'vault-password'
    password_file.write_text('vault-test-password\n', encoding='utf-8')
    # ansible-vault asks for the new password on the terminal; the test gives it the way Ansible's
    # configuration does (ANSIBLE_VAULT_PASSWORD_FILE), and runs the playbook with --vault-password-file,
    # the non-interactive form the guide names next to --ask-vault-pass.
    env = clean_env(tmp_path, ANSIBLE_COLLECTIONS_PATH=collections_root, IMPROVMX_API_URL=simulator.url)

    made = bash(create.replace("'sk_...'", "'%s'" % simulator.api_key), project,
                dict(env, ANSIBLE_VAULT_PASSWORD_FILE=str(password_file)))
    assert made.returncode == 0, made.stdout
    vault_file = (project / 'group_vars' / 'all' / 'vault.yml').read_text(encoding='utf-8')
    assert '$ANSIBLE_VAULT' in vault_file and simulator.api_key not in vault_file

    assert run.strip() == 'ansible-playbook --ask-vault-pass account.yml'
    assert '--vault-password-file FILE' in open(USER_GUIDE, encoding='utf-8').read()
    played = bash(run.replace('--ask-vault-pass', '--vault-password-file %s' % password_file), project, env)
    assert played.returncode == 0, played.stdout
    assert 'ok=2' in played.stdout and 'failed=0' in played.stdout, played.stdout
    assert simulator.api_key not in played.stdout

    # Without the vault password the variable cannot be read: the run fails.
    refused = bash('ansible-playbook account.yml', project, env)
    assert refused.returncode != 0
    assert 'vault' in refused.stdout.lower()


def test_user_guide_install_then_awx_introspect(tmp_path):
    """The user guide's install from a checkout (twice), then docs/awx.md's EE steps: the tarball, introspect."""
    install = fenced_block(USER_GUIDE, 'console', 'collection build --force').replace('/tmp/', '%s/' % tmp_path)
    tarball_ee = fenced_block(AWX_DOC, 'console', 'mkdir -p /tmp/ee-improvmx').replace('/tmp/', '%s/' % tmp_path)
    introspect = fenced_block(AWX_DOC, 'console', 'introspect').replace('/tmp/', '%s/' % tmp_path)
    builder = ansible_builder()
    if builder is None:
        # Only the ansible-galaxy steps can run; the ansible-builder lines are left out.
        tarball_ee = '\n'.join(line for line in tarball_ee.splitlines() if not line.startswith('ansible-builder'))
        introspect = '\n'.join(line for line in introspect.splitlines() if not line.startswith('ansible-builder'))
    env = clean_env(tmp_path)
    if builder is not None:
        env['PATH'] = os.path.dirname(builder) + os.pathsep + env['PATH']

    for attempt in ('first', 'second'):  # pasted again after a change: --force
        done = bash(install, REPO, env)
        assert done.returncode == 0, (attempt, done.stdout)
    listed = bash('ansible-doc -l improvmx.email', REPO, env)
    assert listed.returncode == 0 and 'improvmx.email.improvmx_domain ' in listed.stdout, listed.stdout

    for attempt in ('first', 'second'):
        done = bash(tarball_ee, REPO, env)
        assert done.returncode == 0, (attempt, done.stdout)
    assert (tmp_path / 'ee-improvmx' / 'improvmx-email-1.1.0.tar.gz').exists()

    # The same version is installed in ~/.ansible/collections now: without --force nothing would be written.
    done = bash(introspect, REPO, env)
    assert done.returncode == 0, done.stdout
    assert (tmp_path / 'ee-check' / 'ansible_collections' / 'improvmx' / 'email' / 'meta' / 'execution-environment.yml').exists()
    if builder is None:
        pytest.skip('ansible-builder is not installed: its steps were not run (pip install ansible-builder to run them)')
    assert "- 'requests>=2.25.0  # from collection improvmx.email'" in done.stdout
    context = tmp_path / 'ee-improvmx' / 'context'
    assert (context / 'Containerfile').exists()
    assert (context / '_build' / 'collections' / 'improvmx-email-1.1.0.tar.gz').exists()


def test_awx_doc_ee_context_from_the_shipped_definition(tmp_path):
    builder = ansible_builder()
    if builder is None:
        pytest.skip('ansible-builder is not installed (pip install ansible-builder to run this check)')
    create = fenced_block(AWX_DOC, 'console', 'ansible-builder create -f extensions/awx/').replace('/tmp/', '%s/' % tmp_path)
    env = clean_env(tmp_path)
    env['PATH'] = os.path.dirname(builder) + os.pathsep + env['PATH']

    done = bash(create, REPO, env)

    assert done.returncode == 0, done.stdout
    context = tmp_path / 'ee-context'
    # Named Containerfile whether or not podman is installed (--output-filename).
    assert (context / 'Containerfile').exists()
    assert not (context / 'Dockerfile').exists()
    with open(os.path.join(REPO, 'extensions', 'awx', 'requirements.yml'), encoding='utf-8') as handle:
        assert yaml.safe_load((context / '_build' / 'requirements.yml').read_text(encoding='utf-8')) == yaml.safe_load(handle)


# -- the playbooks' own comments -------------------------------------------------------------------------------

def commented_command(playbook):
    """The ansible-playbook command of a playbook's header comment, continuation lines joined."""
    with open(os.path.join(REPO, 'playbooks', playbook), encoding='utf-8') as handle:
        comment = [line[1:].strip() for line in handle if line.startswith('#')]
    start = next(i for i, line in enumerate(comment) if 'ansible-playbook -i localhost, -c local' in line)
    command = []
    for line in comment[start:]:
        command.append(line.rstrip('\\').strip())
        if not line.endswith('\\'):
            break
    return ' '.join(command)


@pytest.mark.parametrize('playbook', ['onboard_domain.yml', 'demo.yml'])
def test_playbook_comment_commands_run_with_the_interpreter_they_set(playbook, tmp_path, simulator, collections_root):
    command = commented_command(playbook)
    assert "-e 'ansible_python_interpreter={{ ansible_playbook_python }}'" in command
    command = command.replace('<key>', simulator.api_key)
    simulator.configure(dns_valid_after=0)
    # No IMPROVMX_API_KEY for demo.yml's line: it is run against the simulator, whose key the environment gives.
    env = clean_env(tmp_path, ANSIBLE_COLLECTIONS_PATH=collections_root, IMPROVMX_API_URL=simulator.url,
                    IMPROVMX_API_KEY=simulator.api_key)
    # Interpreter discovery would pick the system's Python for the inventory host localhost; only the
    # ansible_python_interpreter of the command makes the venv's (with requests) run the modules.
    done = bash(command, REPO, env)

    assert done.returncode == 0, done.stdout
    assert re.search(r'^localhost\s+: ok=\d+\s+changed=[1-9]\d*\s+unreachable=0\s+failed=0', done.stdout, re.M), done.stdout
    assert 'example.com' in simulator.state_snapshot()['domains']


@pytest.mark.parametrize('marker', ['IMPROVMX_API_KEY=sk_... ansible-playbook forwarding.yml', '-i localhost, -c local'])
def test_user_guide_first_playbook_runs_twice_with_no_change(marker, tmp_path, simulator, collections_root):
    """The first playbook, run with the guide's command (implicit localhost, or an inventory localhost and its interpreter)."""
    playbook = fenced_block(USER_GUIDE, 'yaml', '# forwarding.yml')
    command = fenced_block(USER_GUIDE, 'console', marker).replace('sk_...', simulator.api_key)
    (tmp_path / 'forwarding.yml').write_text(playbook, encoding='utf-8')
    env = clean_env(tmp_path, ANSIBLE_COLLECTIONS_PATH=collections_root, IMPROVMX_API_URL=simulator.url)

    first = bash(command, tmp_path, env)
    assert first.returncode == 0, first.stdout
    assert re.search(r'^localhost\s+: ok=4\s+changed=2\s+unreachable=0\s+failed=0', first.stdout, re.M), first.stdout
    assert 'MX example.com mx1.improvmx.com (priority 10)' in first.stdout
    assert simulator.state_snapshot()['domains']['example.com']['notification_email'] == 'postmaster@example.org'

    # "Run it a second time: every task reports ok and no write request is sent."
    simulator.clear_requests()
    second = bash(command, tmp_path, env)
    assert second.returncode == 0, second.stdout
    assert re.search(r'^localhost\s+: ok=4\s+changed=0\s+unreachable=0\s+failed=0', second.stdout, re.M), second.stdout
    assert simulator.writes() == []


def test_user_guide_null_destination_task_runs_twice_with_no_change(tmp_path, simulator, collections_root):
    """The guide's `null` task, in a play of its own: it creates the alias, a rerun writes nothing."""
    task = fenced_block(USER_GUIDE, 'yaml', 'forward: "null"')
    play = [{'name': 'null', 'hosts': 'localhost', 'gather_facts': False, 'tasks': yaml.safe_load(task)}]
    (tmp_path / 'discard.yml').write_text(yaml.safe_dump(play), encoding='utf-8')
    simulator.seed_domain('example.com')
    env = clean_env(tmp_path, ANSIBLE_COLLECTIONS_PATH=collections_root, IMPROVMX_API_URL=simulator.url,
                    IMPROVMX_API_KEY=simulator.api_key)
    command = 'ansible-playbook discard.yml -e ansible_python_interpreter=%s' % sys.executable

    first = bash(command, tmp_path, env)
    assert first.returncode == 0, first.stdout
    assert re.search(r'^localhost\s+: ok=1\s+changed=1\s+unreachable=0\s+failed=0', first.stdout, re.M), first.stdout
    aliases = simulator.state_snapshot()['domains']['example.com']['aliases']
    assert [alias['forward'] for alias in aliases if alias['alias'] == 'noreply'] == ['null']

    simulator.clear_requests()
    second = bash(command, tmp_path, env)
    assert second.returncode == 0, second.stdout
    assert re.search(r'^localhost\s+: ok=1\s+changed=0\s+unreachable=0\s+failed=0', second.stdout, re.M), second.stdout
    assert simulator.writes() == []


# -- the user guide: adopting an account, drift that fails a CI job ---------------------------------------------
# The export, the converge, improvmx.email.drift and the CI recipes (GitHub Actions, GitLab CI), run as
# written from a user's own directory with the installed collection's names; the CI secret is the
# simulator's key.

def _account(simulator):
    simulator.seed_domain('example.com', notification_email='ops@example.org',
                          aliases={'*': 'owner@example.org', 'sales': 'a@example.org,b@example.org', 'old': 'x@example.org'})
    simulator.seed_domain('example.net', aliases={'noreply': 'null', '^invoice-.*$': 'https://hooks.example.org/In'})


def _project(tmp_path, simulator, collections_root):
    project = tmp_path / 'project'
    project.mkdir()
    env = clean_env(tmp_path, ANSIBLE_COLLECTIONS_PATH=collections_root, IMPROVMX_API_URL=simulator.url)
    return project, env


def _export(project, env, simulator):
    command = fenced_block(USER_GUIDE, 'console', 'improvmx.email.export_account').replace('sk_...', simulator.api_key)
    done = bash(command, project, env)
    assert done.returncode == 0, done.stdout
    assert (project / 'improvmx_account.yml').is_file()


def _drift(project, env, extra=''):
    command = fenced_block(USER_GUIDE, 'console', 'ansible-playbook improvmx.email.drift')
    return bash(command.strip() + extra, project, dict(env))


def test_export_converge_and_drift_as_the_guide_says(tmp_path, simulator, collections_root):
    _account(simulator)
    project, env = _project(tmp_path, simulator, collections_root)
    _export(project, env, simulator)
    env['IMPROVMX_API_KEY'] = simulator.api_key

    # The converge playbook of step 2: the first run changes nothing and only reads.
    (project / 'converge.yml').write_text(fenced_block(USER_GUIDE, 'yaml', '# converge.yml'), encoding='utf-8')
    simulator.clear_requests()
    converged = bash(fenced_block(USER_GUIDE, 'console', 'ansible-playbook converge.yml'), project, env)
    assert converged.returncode == 0, converged.stdout
    assert re.search(r'^localhost\s+: ok=1\s+changed=0\s+unreachable=0\s+failed=0', converged.stdout, re.M), converged.stdout
    assert simulator.writes() == []

    # No drift: the job succeeds.
    clean = _drift(project, env)
    assert clean.returncode == 0, clean.stdout
    assert 'no drift: the account is as declared' in clean.stdout
    assert simulator.writes() == []

    # Changes by hand in the dashboard: a field, a deleted alias, a domain added.
    simulator.seed_domain('example.com', notification_email='someone@example.org', merge=True)
    deleted = requests.delete('%s/domains/example.com/aliases/old' % simulator.url, auth=('api', simulator.api_key), timeout=10)
    assert deleted.ok, deleted.text
    simulator.seed_domain('handmade.example')
    simulator.clear_requests()

    drifted = _drift(project, env, ' --diff')
    assert drifted.returncode == 2, drifted.stdout
    assert ('drift: would remove 1 domain(s) (handmade.example); would change 1 domain(s): example.com '
            '(fields: notification_email; aliases: 1 added)') in drifted.stdout, drifted.stdout
    assert drifted.stdout.count('drift: would remove') == 1, drifted.stdout  # the failure is printed once
    assert '"removed": [' in drifted.stdout and 'domain handmade.example, with its aliases' in drifted.stdout
    assert simulator.writes() == []

    # Comparing only what the file declares: the domain it does not list is no drift.
    declared_only = _drift(project, env, ' -e improvmx_drift_purge=false')
    assert declared_only.returncode == 2, declared_only.stdout
    assert 'handmade.example' not in declared_only.stdout.split('drift:')[-1]


def _github_step(name):
    workflow = yaml.safe_load(fenced_block(USER_GUIDE, 'yaml', '# .github/workflows/improvmx-drift.yml'))
    steps = [step for step in workflow['jobs']['drift']['steps'] if step.get('name') == name]
    assert len(steps) == 1, workflow
    return steps[0]


def test_the_ci_recipes_fail_on_drift_and_pass_without(tmp_path, simulator, collections_root):
    _account(simulator)
    project, env = _project(tmp_path, simulator, collections_root)
    _export(project, env, simulator)

    step = _github_step('Compare the account with improvmx_account.yml')
    assert step['env'] == {'IMPROVMX_API_KEY': '${{ secrets.IMPROVMX_API_KEY }}'}
    install = _github_step('Install Ansible and the collection')['run']
    assert 'ansible-galaxy collection install improvmx.email' in install  # the test uses the installed copy instead
    gitlab = yaml.safe_load(fenced_block(USER_GUIDE, 'yaml', '# .gitlab-ci.yml'))['improvmx-drift']
    assert gitlab['before_script'][-1] == 'ansible-galaxy collection install improvmx.email'

    def github():
        return bash(step['run'], project, dict(env, IMPROVMX_API_KEY=simulator.api_key))

    def gitlab_job():
        return bash('\n'.join(gitlab['script']), project,
                    dict(env, IMPROVMX_API_KEY=simulator.api_key, CI_PROJECT_DIR=str(project)))

    for job in (github, gitlab_job):
        passed = job()
        assert passed.returncode == 0, passed.stdout
    simulator.seed_domain('example.net', webhook='https://hooks.example.org/by-hand', merge=True)
    for job in (github, gitlab_job):
        failed = job()
        assert failed.returncode != 0, failed.stdout
        assert 'drift: would change 1 domain(s): example.net (fields: webhook)' in failed.stdout, failed.stdout
    assert simulator.writes() == []


# -- the user guide: DNS publishing (issue 23) ----------------------------------------------------------------


def test_user_guide_route53_snippet_runs_against_moto_and_keeps_the_zone(run_playbook, simulator, sim_env, collections_root):
    """The Route 53 tasks as written, against moto's server: the verification TXT, a strict DMARC and an A record survive."""
    pytest.importorskip('moto', reason='moto[server] and boto3 are test requirements (requirements-dev.txt)')
    sys.path.insert(0, os.path.join(REPO, 'scripts'))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import dns_standins  # pylint: disable=import-outside-toplevel
    from dns_test_collections import collections_path  # pylint: disable=import-outside-toplevel

    tasks = yaml.safe_load(fenced_block(USER_GUIDE, 'yaml', 'amazon.aws.route53'))
    wait = [task for task in tasks if task['name'] == 'Wait until ImprovMX sees them'][0]
    assert (wait['retries'], wait['delay']) == (30, 60)
    wait['delay'] = 1  # the stand-ins answer at once: a failure shows in 30 s, not 30 minutes
    server, endpoint = dns_standins.moto_server()
    feed = None
    try:
        client = dns_standins.route53_client(endpoint)
        zone_id = client.create_hosted_zone(Name='example.com.', CallerReference='guide')['HostedZone']['Id']
        verify = '"google-site-verification=guide-0123456789"'
        dns_standins.route53_change(client, zone_id, 'example.com', 'TXT', [verify, '"v=spf1 include:_spf.google.com -all"'])
        dns_standins.route53_change(client, zone_id, 'example.com', 'MX', ['1 aspmx.l.google.com.'])
        dns_standins.route53_change(client, zone_id, '_dmarc.example.com', 'TXT', ['"v=DMARC1; p=reject"'])
        dns_standins.route53_change(client, zone_id, 'www.example.com', 'A', ['192.0.2.10'])
        feed = dns_standins.ZoneFeed(lambda: dns_standins.route53_records(client, zone_id))
        simulator.seed_domain('example.com')
        simulator.set_dns('example.com', zone_url=feed.url)
        play = [{'name': 'The guide', 'hosts': 'localhost', 'gather_facts': False,
                 'module_defaults': {'group/amazon.aws.aws': {'endpoint_url': endpoint}}, 'tasks': tasks}]
        env = dict(sim_env, ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([collections_root, collections_path()]),
                   **dns_standins.AWS_ENV)

        first = run_playbook(yaml.safe_dump(play), env=env, callback='default')
        assert first.rc == 0, first
        assert first.result('Wait until ImprovMX sees them')['valid'] is True
        sets = {(r['name'], r['type']): sorted(r['values']) for r in dns_standins.route53_records(client, zone_id)}
        assert sets[('example.com', 'TXT')] == sorted([verify, '"v=spf1 include:_spf.google.com include:spf.improvmx.com -all"'])
        assert sets[('example.com', 'MX')] == ['10 mx1.improvmx.com', '20 mx2.improvmx.com']
        assert sets[('_dmarc.example.com', 'TXT')] == ['"v=DMARC1; p=reject"']
        assert sets[('www.example.com', 'A')] == ['192.0.2.10']

        again = run_playbook(yaml.safe_dump(play), env=env, callback='default')
        assert again.rc == 0, again
        assert again.total('changed') == 0, again
    finally:
        if feed is not None:
            feed.stop()
        server.stop()


def test_user_guide_role_with_route53_file_passes_syntax_check(tmp_path, collections_root):
    example = fenced_block(USER_GUIDE, 'yaml', 'dns_tasks_route53.yml')
    (tmp_path / 'onboard.yml').write_text(example, encoding='utf-8')
    env = clean_env(tmp_path, ANSIBLE_COLLECTIONS_PATH=collections_root)
    check = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '--syntax-check', 'onboard.yml'],
                           cwd=str(tmp_path), env=env, stdin=subprocess.DEVNULL, check=False,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300)
    assert check.returncode == 0, check.stdout
    role_vars = yaml.safe_load(example)[0]['roles'][0]['vars']
    assert role_vars['domain_onboarding_dns_replace_mx'] is True


def test_dns_status_playbook_groups_the_domains_by_what_they_miss(tmp_path, simulator, collections_root):
    """improvmx.email.dns_status, run as its header says: one line, only the checks that matter."""
    simulator.seed_domain('fine.example', active=True)
    simulator.seed_domain('new.example', active=False)
    simulator.seed_domain('shop.example', credentials=['mailer'])
    simulator.set_dns('shop.example', mx=True, spf=True, dkim1=False, dkim2=False, dmarc=False)
    with open(os.path.join(REPO, 'playbooks', 'dns_status.yml'), encoding='utf-8') as handle:
        command = re.search(r'^#\s+(IMPROVMX_API_KEY=<key> ansible-playbook improvmx\.email\.dns_status)$', handle.read(), re.M).group(1)
    env = clean_env(tmp_path, ANSIBLE_COLLECTIONS_PATH=collections_root, IMPROVMX_API_URL=simulator.url)
    done = bash(command.replace('<key>', simulator.api_key), tmp_path, env)
    assert done.returncode == 0, done.stdout
    assert ('"msg": "2 of 3 domain(s) not valid: missing mx, spf: new.example; missing dkim1, dkim2: shop.example"'
            in done.stdout), done.stdout
    assert simulator.writes() == []
    failing = bash(command.replace('<key>', simulator.api_key) + ' -e improvmx_dns_status_fail=true', tmp_path, env)
    assert failing.returncode == 2, failing.stdout


README = os.path.join(REPO, 'README.md')


def _readme_benchmark_line(marker, tmp_path):
    """The README's benchmark command that contains marker, run with this venv's python, writing into tmp_path."""
    lines = [line for line in fenced_block(README, 'console', marker).splitlines() if marker in line]
    assert len(lines) == 1, lines
    command = lines[0].split('#', 1)[0].strip().replace('/tmp/', '%s/' % tmp_path)
    assert command.startswith('.venv/bin/python benchmarks/'), command
    return command.replace('.venv/bin/python', sys.executable, 1)


def test_readme_rules_benchmark_command_writes_its_section(tmp_path):
    # The README's command rewrites benchmarks/RESULTS.md; here it writes a copy of it instead.
    results = tmp_path / 'RESULTS.md'
    shutil.copy(os.path.join(REPO, 'benchmarks', 'RESULTS.md'), str(results))
    command = _readme_benchmark_line('benchmarks/rules.py', tmp_path) + ' --output %s' % results
    done = bash(command, REPO, clean_env(tmp_path), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    section = results.read_text(encoding='utf-8').split('<!-- benchmarks/rules.py: start -->', 1)[1]
    for order in ('unchanged', 'reversed', 'shuffled'):
        assert re.search(r'^\| plan \(parse_rules \+ plan_rules, purge\) \| %s \| 3000 \| \d+ \| [\d.]+ s CPU' % order,
                         section, re.M), section
    assert '| 3000 | 30 requests |' in section and '| 3000 | 121 requests |' in section, section
    assert '<!-- benchmarks/fleet.py: start -->' in results.read_text(encoding='utf-8')  # the other sections are kept


def test_readme_quick_fleet_benchmark_runs_as_written(tmp_path):
    command = _readme_benchmark_line('--output /tmp/fleet.md', tmp_path)
    assert 'fleet.py' in command and '%s/fleet.md' % tmp_path in command, command
    done = bash(command, REPO, clean_env(tmp_path), timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    section = (tmp_path / 'fleet.md').read_text(encoding='utf-8')
    assert re.search(r'^\| improvmx_domains \| first run \| 100 \| 201 \| 1 \| 200 \| 0 \|', section, re.M), section
    assert re.search(r'^\| improvmx_domains \| rerun \| 100 \| 1 \| 1 \| 0 \| 0 \|', section, re.M), section
    assert not re.search(r'^\| role per domain', section, re.M), section  # --role-sizes with no size: no role rows
