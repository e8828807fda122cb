# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""make test-live's mechanism (scripts/integration_live.py), pointed at a standalone simulator
that plays a real account: the targets run in their live mode, and the account must be left
exactly as it was found, after a passing run and after a run interrupted half-way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml


pytestmark = pytest.mark.integration

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIVE_SCRIPT = os.path.join(REPO_ROOT, 'scripts', 'integration_live.py')
DOMAIN = 'live-test.example.com'
OTHER = 'not-mine.example.org'
PREFIX = 'aitcafe01'
SEED = {
    'domains': {
        DOMAIN: {'notification_email': 'owner@example.org',
                 'aliases': {'*': 'owner@example.org', 'sales': 'alice@example.org,bob@example.org'},
                 'credentials': ['newsletter'],
                 'rules': [{'id': 'owner-rule-1', 'type': 'alias', 'rank': 1,
                            'config': {'alias': 'sales', 'forward': 'alice@example.org'}}]},
        OTHER: {'aliases': {'*': 'other@example.org'}},
    },
}


@pytest.fixture(scope='module')
def collection_copy(tmp_path_factory):
    """The collection installed the way the Makefile installs it, for ansible-test to run from."""
    root = tmp_path_factory.mktemp('live-collections')
    bin_dir = os.path.dirname(sys.executable)
    subprocess.run([os.path.join(bin_dir, 'ansible-galaxy'), 'collection', 'install', '--offline', '--no-deps', '--force',
                    REPO_ROOT, '-p', str(root)], check=True, stdout=subprocess.DEVNULL)
    copy = root / 'ansible_collections' / 'improvmx' / 'email'
    subprocess.run(['git', '-c', 'init.defaultBranch=main', 'init', '--quiet', str(copy)], check=True)
    (copy / '.git' / 'info' / 'exclude').write_text('/tests/output/\n__pycache__/\n*.pyc\n')
    subprocess.run([sys.executable, os.path.join(REPO_ROOT, 'scripts', 'ansible_test_get_pip.py')], check=True,
                   stdout=subprocess.DEVNULL)
    return str(copy)


@pytest.fixture
def account(standalone, tmp_path):
    """The simulator seeded as the maintainer's account; the config file make test-live reads."""
    standalone.control('POST', 'seed', SEED)
    config = tmp_path / 'integration_config.yml'
    config.write_text(yaml.safe_dump({'improvmx_api_key': standalone.api_key, 'improvmx_test_domain': DOMAIN,
                                      'improvmx_api_url': standalone.url}))
    standalone.clear_requests()
    return standalone, str(config)


def live_command(config, collection_copy, *targets):
    return [sys.executable, LIVE_SCRIPT, '--config', config, '--collection-dir', collection_copy, '--prefix', PREFIX,
            '--python', '%d.%d' % sys.version_info[:2]] + list(targets)


def live_env():
    return dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ['PATH'])


def live_account(config):
    """scripts/integration_live.py as a module, and its Account on the test domain of ``config``."""
    sys.path.insert(0, os.path.dirname(LIVE_SCRIPT))
    try:
        import integration_live  # pylint: disable=import-error,import-outside-toplevel
    finally:
        sys.path.pop(0)
    with open(config, encoding='utf-8') as stream:
        settings = yaml.safe_load(stream)
    return integration_live, integration_live.Account(settings['improvmx_api_url'], settings['improvmx_api_key'], DOMAIN)


@pytest.fixture
def sweep_start(account):
    """For the sweep's own tests: the simulator, scripts/integration_live.py, its Account on the test
    domain, that Account's snapshot and the simulator's view of the account, both taken first."""
    sim, config = account
    before_view = account_view(sim.state())
    integration_live, live = live_account(config)
    return sim, integration_live, live, live.snapshot(), before_view


def account_view(state):
    """What a run may not change: every domain's settings (unset and empty alike), aliases and credentials."""
    view = {}
    for name, domain in state['domains'].items():
        view[name] = dict(domain)
        for key in ('notification_email', 'webhook', 'whitelabel'):
            view[name][key] = domain[key] or ''
    return view


def test_a_live_run_touches_only_the_test_domain_and_prefixed_names(account, collection_copy):
    sim, config = account
    before = account_view(sim.state())

    run = subprocess.run(live_command(config, collection_copy, 'improvmx_domain', 'improvmx_credential', 'improvmx_aliases',
                                      'improvmx_rules'),
                         env=live_env(), capture_output=True, text=True, timeout=900, check=False)

    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert '%s is as found' % DOMAIN in run.stdout
    assert account_view(sim.state()) == before
    writes = [r for r in sim.requests if r['method'] in ('POST', 'PUT', 'DELETE')]
    # The targets did write (in live mode), and only there: the test domain's settings, and
    # aliases and credentials named with the run's prefix.
    assert {r['method'] for r in writes} == {'POST', 'PUT', 'DELETE'}
    for request in writes:
        path = request['path'].rstrip('/')
        assert path.startswith('/domains/%s' % DOMAIN), request
        rest = path[len('/domains/%s' % DOMAIN):]
        if rest == '':
            assert request['method'] == 'PUT', request
        elif rest == '/rules':
            config = request['body']['config']
            assert PREFIX + '-' in str(config.get('alias') or config.get('regex') or config.get('expression')), request
        elif rest.startswith('/rules/'):
            assert rest != '/rules/owner-rule-1', request
        elif rest in ('/aliases', '/credentials') or rest.startswith('/aliases/bulk'):
            names = [a.get('alias') or a.get('username') for a in (request['body'].get('aliases') or [request['body']])]
            assert all(str(name).startswith(PREFIX + '-') for name in names), request
        else:
            assert rest.split('/')[2].startswith(PREFIX + '-'), request
    # The API key never reaches the output.
    assert sim.api_key not in run.stdout + run.stderr
    assert not os.path.exists(os.path.join(collection_copy, 'tests', 'integration', 'integration_config.yml'))


def test_an_interrupted_live_run_still_leaves_the_account_as_found(account, collection_copy):
    sim, config = account
    before = account_view(sim.state())

    with subprocess.Popen(live_command(config, collection_copy, 'improvmx_alias_info'), env=live_env(),  # pylint: disable=consider-using-with
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as run:
        # Stop the run as soon as the target has created its aliases: its own clean-up never runs.
        deadline = time.monotonic() + 300
        while not any(a['alias'].startswith(PREFIX + '-') for a in sim.state()['domains'][DOMAIN]['aliases']):
            assert run.poll() is None and time.monotonic() < deadline, run.stdout.read()
            time.sleep(0.1)
        run.send_signal(signal.SIGTERM)
        output = run.communicate(timeout=300)[0]

    assert run.returncode != 0, output
    assert 'interrupted' in output
    assert 'clean-up: deleted alias %s-info1' % PREFIX in output
    assert '%s is as found' % DOMAIN in output, output[-5000:]
    assert account_view(sim.state()) == before


def test_the_sweep_deletes_the_rules_a_killed_run_left_and_only_those(sweep_start):
    """Rules whose alias, regex or expression holds the prefix are deleted; the account's own are kept."""
    sim, integration_live, live, before, before_view = sweep_start
    sim.control('POST', 'seed', {'domains': {DOMAIN: {'rules': [
        {'type': 'alias', 'config': {'alias': PREFIX + '-left', 'forward': 'a@example.org'}},
        {'type': 'regex', 'config': {'regex': '(?i)' + PREFIX + '-left', 'scopes': ['subject'], 'forward': 'a@example.org'}},
        {'type': 'cel', 'config': {'expression': "subject.contains('%s-left')" % PREFIX, 'forward': 'a@example.org'}},
    ]}}})
    assert len(integration_live.differences(before, live.snapshot())) == 1

    done = live.sweep(PREFIX, before)

    assert sorted(done) == ['deleted alias rule %s-left' % PREFIX, "deleted cel rule subject.contains('%s-left')" % PREFIX,
                            'deleted regex rule (?i)%s-left' % PREFIX]
    assert integration_live.differences(before, live.snapshot()) == []
    assert account_view(sim.state()) == before_view


def test_the_sweep_puts_the_routing_engine_and_settings_back(sweep_start):
    """A run that switched the test domain to rules routing and changed its webhook is undone."""
    sim, integration_live, live, before, before_view = sweep_start
    assert before['settings']['routing_engine'] == 'alias'
    live.call('PUT', 'domains/%s' % DOMAIN, body={'routing_engine': 'rules', 'webhook': 'https://hooks.example.org/x'})
    assert sorted(integration_live.differences(before, live.snapshot())) == [
        "routing_engine: 'rules', was 'alias'", "webhook: 'https://hooks.example.org/x', was ''"]

    done = live.sweep(PREFIX, before)

    assert done == ['restored the settings webhook, routing_engine']
    assert integration_live.differences(before, live.snapshot()) == []
    view = account_view(sim.state())
    assert view[DOMAIN].pop('routing_engine') == 'alias' and before_view[DOMAIN].pop('routing_engine') == ''
    assert view == before_view
