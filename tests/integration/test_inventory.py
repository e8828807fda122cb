# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The inventory plugin improvmx.email.improvmx, run as users run it: ansible-inventory -i FILE --list / --graph
against the simulator, with the collection found through ANSIBLE_COLLECTIONS_PATH.

Covered: more than 100 domains (two list pages in the request log), the filters, the host variables,
compose / groups / keyed_groups / strict, check_dns (the checks that matter), the jsonfile cache (a second
run sends no request), a bad key (a clear error), and the key never in stdout or stderr, also at -vvv.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys

import jinja2.sandbox
import pytest
import yaml

pytestmark = pytest.mark.integration

BIN = os.path.dirname(sys.executable)
API_KEY = 'sk-inv-S3cr3t-key-7c4a8d09ca3762af'


def _unsafe(value):
    """ansible-inventory's output without its {"__ansible_unsafe": ...} wrappers (values no one templates)."""
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return value['__ansible_unsafe']
        return {key: _unsafe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unsafe(item) for item in value]
    return value


class Inventory(object):
    """One ansible-inventory run."""

    def __init__(self, completed, command):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.command = command

    @property
    def output(self):
        return self.stdout + self.stderr

    @property
    def data(self):
        # At -vvv, ansible-inventory prints what it does on stdout before the inventory.
        lines = self.stdout.splitlines(True)
        start = lines.index('{\n') if '{\n' in lines else 0
        return _unsafe(json.loads(''.join(lines[start:])))

    @property
    def hostvars(self):
        return self.data['_meta']['hostvars']

    def group(self, name):
        """The hosts of a group (directly in it)."""
        return sorted(self.data.get(name, {}).get('hosts', []))

    def __repr__(self):
        return 'ansible-inventory rc=%s\n--- stdout:\n%s\n--- stderr:\n%s' % (self.rc, self.stdout[-6000:], self.stderr[-6000:])


@pytest.fixture
def inventory(tmp_path, collections_root):
    """inventory(config, sim, name='improvmx.yml', args=('--list',), env=None): write the file, run ansible-inventory."""
    def run(config, sim, name='improvmx.yml', args=('--list',), env=None, api_key=None):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(config if isinstance(config, str) else yaml.safe_dump(config), encoding='utf-8')
        home = tmp_path / 'home'
        home.mkdir(exist_ok=True)
        run_env = {key: value for key, value in os.environ.items() if not key.startswith(('ANSIBLE_', 'IMPROVMX_'))}
        run_env.update({
            'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
            'HOME': str(home),
            'ANSIBLE_COLLECTIONS_PATH': collections_root,
            'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-local'),
            'IMPROVMX_API_KEY': api_key if api_key is not None else sim.api_key,
            'IMPROVMX_API_URL': sim.url,
            'IMPROVMX_RATE_LIMIT_STATE': str(tmp_path / 'rate-state'),
        })
        for key, value in (env or {}).items():
            if value is None:
                run_env.pop(key, None)
            else:
                run_env[key] = value
        command = [os.path.join(BIN, 'ansible-inventory'), '-i', str(path)] + list(args)
        completed = subprocess.run(command, cwd=str(tmp_path), env=run_env, stdin=subprocess.DEVNULL, check=False,
                                   capture_output=True, text=True, timeout=600)
        return Inventory(completed, command)
    return run


def domain_lists(sim):
    """The GET /domains requests of the simulator's log."""
    return [r for r in sim.requests if r['method'] == 'GET' and r['path'].rstrip('/') == '/domains']


def seed_account(sim, count):
    for number in range(count):
        sim.seed_domain('d%03d.example.com' % number, active=number % 2 == 0)


def test_more_than_100_domains_are_read_in_two_pages_with_their_fields(inventory, simulator):
    seed_account(simulator, 127)
    simulator.seed_domain('rules.example.net', routing_engine='rules', notification_email='ops@example.org',
                          webhook='https://hooks.example.org/improvmx', dkim_selector='custom',
                          aliases={'a': 'x@example.org', 'b': 'y@example.org', 'c': 'z@example.org'})
    simulator.clear_requests()

    result = inventory('plugin: improvmx.email.improvmx\n', simulator)

    assert result.rc == 0, result
    hostvars = result.hostvars
    assert len(hostvars) == 128
    assert 'd000.example.com' in hostvars and 'd126.example.com' in hostvars
    pages = domain_lists(simulator)
    assert [(r['query'].get('page'), r['query'].get('limit')) for r in pages] == [('1', '100'), ('2', '100')], pages
    assert len(simulator.requests) == 2  # nothing but the two list pages
    assert simulator.writes() == []

    rules = hostvars['rules.example.net']
    assert rules['improvmx_domain'] == 'rules.example.net'
    assert rules['improvmx_active'] is False
    assert rules['improvmx_routing_engine'] == 'rules'
    assert rules['improvmx_notification_email'] == 'ops@example.org'
    assert rules['improvmx_webhook'] == 'https://hooks.example.org/improvmx'
    assert rules['improvmx_whitelabel'] is None
    assert rules['improvmx_dkim_selector'] == 'custom'
    assert rules['improvmx_alias_count'] == 3
    assert 'improvmx_aliases' not in rules
    plain = hostvars['d000.example.com']
    assert plain['improvmx_active'] is True
    assert plain['improvmx_routing_engine'] == 'alias'  # the API's empty value
    assert plain['improvmx_alias_count'] == 1  # the catch-all
    assert all(name.startswith('improvmx_') for name in plain)
    assert 'improvmx_dns_valid' not in plain  # no DNS check unless asked


def test_a_domain_with_more_aliases_than_the_list_embeds_is_counted_through_its_alias_list(inventory, simulator):
    simulator.seed_domain('many.example.com', aliases={'a%03d' % n: 'x@example.org' for n in range(230)})
    simulator.clear_requests()

    result = inventory('plugin: improvmx.email.improvmx\n', simulator)

    assert result.rc == 0, result
    assert result.hostvars['many.example.com']['improvmx_alias_count'] == 230
    assert any(r['path'].startswith('/domains/many.example.com/aliases') for r in simulator.requests)


def test_filters_is_active_and_q_are_passed_to_the_domain_list(inventory, simulator):
    seed_account(simulator, 6)
    simulator.seed_domain('shop.example.org', active=True)
    simulator.seed_domain('shop2.example.org', active=False)
    simulator.clear_requests()

    result = inventory({'plugin': 'improvmx.email.improvmx', 'is_active': True, 'q': 'shop'}, simulator,
                       name='shops.improvmx.yaml')

    assert result.rc == 0, result
    assert sorted(result.hostvars) == ['shop.example.org']
    [listing] = domain_lists(simulator)
    assert listing['query']['q'] == 'shop'
    assert listing['query']['is_active'] in ('1', 'true', 'True')

    inactive = inventory({'plugin': 'improvmx.email.improvmx', 'is_active': False}, simulator, name='inactive.improvmx.yml')
    assert inactive.rc == 0, inactive
    assert sorted(inactive.hostvars) == ['d001.example.com', 'd003.example.com', 'd005.example.com', 'shop2.example.org']


def test_keyed_groups_groups_and_compose(inventory, simulator):
    simulator.seed_domain('a.example.com', active=True)
    simulator.seed_domain('b.example.com', active=False, routing_engine='rules')
    simulator.seed_domain('c.example.com', active=False, webhook='https://hooks.example.org/c')
    config = {
        'plugin': 'improvmx.email.improvmx',
        'compose': {'ansible_connection': "'local'", 'mail_domain': 'improvmx_domain | upper'},
        'groups': {'inactive': 'not improvmx_active', 'webhooks': 'improvmx_webhook is truthy'},
        'keyed_groups': [{'key': 'improvmx_routing_engine', 'prefix': 'routing'},
                         {'key': "improvmx_active | ternary('on', 'off')", 'prefix': 'forwarding'}],
        'strict': True,
    }

    result = inventory(config, simulator)

    assert result.rc == 0, result
    assert result.group('routing_alias') == ['a.example.com', 'c.example.com']
    assert result.group('routing_rules') == ['b.example.com']
    assert result.group('forwarding_on') == ['a.example.com']
    assert result.group('forwarding_off') == ['b.example.com', 'c.example.com']
    assert result.group('inactive') == ['b.example.com', 'c.example.com']
    assert result.group('webhooks') == ['c.example.com']
    assert result.hostvars['a.example.com']['ansible_connection'] == 'local'
    assert result.hostvars['a.example.com']['mail_domain'] == 'A.EXAMPLE.COM'

    graph = inventory(config, simulator, args=('--graph', 'routing_rules'))
    assert graph.rc == 0, graph
    assert graph.stdout.split() == ['@routing_rules:', '|--b.example.com']

    # strict: an expression that cannot be evaluated fails the inventory, naming it
    broken = dict(config, keyed_groups=[{'key': 'no_such_variable.field', 'prefix': 'x'}])
    failed = inventory(broken, simulator, env={'ANSIBLE_INVENTORY_UNPARSED_FAILED': 'true'})
    assert failed.rc != 0, failed
    assert 'no_such_variable' in failed.output


def test_check_dns_reports_only_the_checks_that_matter(inventory, simulator):
    simulator.seed_domain('valid.example.com', active=True)
    simulator.seed_domain('nospf.example.com')
    simulator.set_dns('nospf.example.com', mx=True, spf=False, dkim1=False, dkim2=False, dmarc=False)
    simulator.seed_domain('smtp.example.com', credentials=['newsletter'])
    simulator.set_dns('smtp.example.com', mx=True, spf=True, dkim1=False, dkim2=True, dmarc=False)
    simulator.seed_domain('smtp-ok.example.com', credentials=['mailer'])
    simulator.set_dns('smtp-ok.example.com', mx=True, spf=True, dkim1=True, dkim2=True, dmarc=False)
    config = {
        'plugin': 'improvmx.email.improvmx',
        'check_dns': True,
        'groups': {'dns_invalid': 'not improvmx_dns_valid'},
        'keyed_groups': [{'key': 'improvmx_dns_invalid_checks', 'prefix': 'missing'}],
    }
    simulator.clear_requests()

    result = inventory(config, simulator)

    assert result.rc == 0, result
    hostvars = result.hostvars
    valid = hostvars['valid.example.com']
    assert valid['improvmx_dns_valid'] is True
    assert valid['improvmx_dns_checks'] == ['mx', 'spf']
    assert valid['improvmx_dns_invalid_checks'] == []
    assert valid['improvmx_dns_missing_records'] == []
    assert valid['improvmx_credential_count'] == 0

    nospf = hostvars['nospf.example.com']
    assert nospf['improvmx_dns_valid'] is False
    assert nospf['improvmx_dns_invalid_checks'] == ['spf']  # no dkim without credentials, never dmarc
    [record] = nospf['improvmx_dns_missing_records']
    assert (record['check'], record['type'], record['name']) == ('spf', 'TXT', 'nospf.example.com')
    assert 'include:spf.improvmx.com' in record['value']

    smtp = hostvars['smtp.example.com']
    assert smtp['improvmx_credential_count'] == 1
    assert smtp['improvmx_dns_checks'] == ['mx', 'spf', 'dkim1', 'dkim2']
    assert smtp['improvmx_dns_invalid_checks'] == ['dkim1']
    assert [(r['type'], r['name']) for r in smtp['improvmx_dns_missing_records']] == \
        [('CNAME', 'dkimprovmx1._domainkey.smtp.example.com')]
    assert hostvars['smtp-ok.example.com']['improvmx_dns_valid'] is True  # dmarc is not valid, and does not count

    assert result.group('dns_invalid') == ['nospf.example.com', 'smtp.example.com']
    assert result.group('missing_spf') == ['nospf.example.com']
    assert result.group('missing_dkim1') == ['smtp.example.com']
    assert 'missing_dmarc' not in result.data
    paths = sorted(r['path'] for r in simulator.requests)
    assert paths.count('/domains/smtp.example.com/check') == 1
    assert paths.count('/domains/smtp.example.com/credentials') == 1
    assert simulator.writes() == []


def test_check_dns_on_an_account_without_smtp_credentials(inventory, simulator_factory):
    sim = simulator_factory(premium=False)
    sim.seed_domain('free.example.com')
    sim.set_dns('free.example.com', mx=True, spf=True, dkim1=False, dkim2=False)

    result = inventory({'plugin': 'improvmx.email.improvmx', 'dns_check': True}, sim)

    assert result.rc == 0, result
    free = result.hostvars['free.example.com']
    assert free['improvmx_credential_count'] == 0
    assert free['improvmx_dns_valid'] is True
    assert free['improvmx_dns_checks'] == ['mx', 'spf']


def test_the_cache_answers_the_second_run_without_a_request(inventory, simulator, tmp_path):
    seed_account(simulator, 105)
    cache_dir = tmp_path / 'inventory-cache'
    config = {
        'plugin': 'improvmx.email.improvmx',
        'cache': True,
        'cache_plugin': 'ansible.builtin.jsonfile',
        'cache_connection': str(cache_dir),
        'check_dns': True,
        'keyed_groups': [{'key': "improvmx_active | ternary('yes', 'no')", 'prefix': 'active'}],
    }
    simulator.clear_requests()

    first = inventory(config, simulator)
    assert first.rc == 0, first
    assert len(first.hostvars) == 105, first.stderr[:3000]
    assert len(domain_lists(simulator)) == 2
    cached_files = os.listdir(str(cache_dir))
    assert cached_files
    for name in cached_files:
        text = (cache_dir / name).read_text(encoding='utf-8')
        assert simulator.api_key not in text and simulator.api_key not in name

    simulator.clear_requests()
    simulator.seed_domain('late.example.com')
    second = inventory(config, simulator)
    assert second.rc == 0, second
    assert simulator.requests == []
    assert second.data == first.data  # the cached inventory, groups included; the new domain is not in it

    # --flush-cache reads the account again (and refreshes the cache)
    flushed = inventory(config, simulator, args=('--list', '--flush-cache'))
    assert flushed.rc == 0, flushed
    assert 'late.example.com' in flushed.hostvars
    assert len(domain_lists(simulator)) == 2

    # Another account (another key) read with the same file gets its own cache entry.
    simulator.clear_requests()
    other = inventory(config, simulator, api_key='another-key')
    assert other.rc != 0 or other.hostvars == {}, other
    assert len(domain_lists(simulator)) == 1


def _no_key(result, key):
    for form in (key, base64.b64encode(('api:' + key).encode()).decode(), base64.b64encode(key.encode()).decode()):
        assert form not in result.stdout
        assert form not in result.stderr


def test_a_bad_key_fails_with_a_clear_error_without_the_key(inventory, simulator):
    simulator.seed_domain('example.com')
    bad_key = 'sk-inv-wrong-key-0123456789abcdef'

    result = inventory('plugin: improvmx.email.improvmx\n', simulator, api_key=bad_key,
                       env={'ANSIBLE_INVENTORY_UNPARSED_FAILED': 'true'}, args=('--list', '-vvv'))

    assert result.rc != 0, result
    assert 'improvmx.email.improvmx inventory: could not read the ImprovMX account' in result.stderr
    assert 'the API key was rejected (HTTP 401' in result.stderr
    assert 'IMPROVMX_API_KEY' in result.stderr
    _no_key(result, bad_key)

    # Without ANSIBLE_INVENTORY_UNPARSED_FAILED, Ansible goes on with an empty inventory, but says why.
    warned = inventory('plugin: improvmx.email.improvmx\n', simulator, api_key=bad_key)
    assert 'the API key was rejected (HTTP 401' in warned.stderr
    assert warned.data['_meta']['hostvars'] == {}
    _no_key(warned, bad_key)


def test_a_missing_key_names_where_it_comes_from(inventory, simulator):
    result = inventory('plugin: improvmx.email.improvmx\n', simulator, env={'IMPROVMX_API_KEY': None,
                                                                            'ANSIBLE_INVENTORY_UNPARSED_FAILED': 'true'})

    assert result.rc != 0, result
    assert 'api_key is missing' in result.stderr and 'IMPROVMX_API_KEY' in result.stderr
    assert simulator.requests == []


@pytest.mark.parametrize('options, message', [
    ({'api_url': 'ftp://api.example.com/v3/'}, "api_url 'ftp://api.example.com/v3/' is not an http:// or https:// URL"),
    ({'api_url': 'https://user:pw@api.example.com/v3/'}, 'api_url must not hold a user name or password'),
    ({'timeout': 0}, 'timeout must be more than 0'),
    ({'max_retries': -1}, 'max_retries must be 0 or more'),
    ({'rate_limit_state': 'relative/dir'}, 'rate_limit_state must be off or the absolute path of a directory'),
], ids=['url-scheme', 'url-credentials', 'timeout', 'max-retries', 'rate-limit-state'])
def test_bad_options_fail_naming_the_option_before_any_request(inventory, simulator, options, message):
    config = dict({'plugin': 'improvmx.email.improvmx'}, **options)

    result = inventory(config, simulator, env={'ANSIBLE_INVENTORY_UNPARSED_FAILED': 'true'})

    assert result.rc != 0, result
    assert message in result.stderr, result
    assert simulator.requests == []


def test_the_key_never_appears_at_vvv_succeeding_or_failing(inventory, simulator_factory):
    sim = simulator_factory(api_key=API_KEY)
    sim.seed_domain('example.com', credentials=['newsletter'])
    config = {'plugin': 'improvmx.email.improvmx', 'check_dns': True,
              'keyed_groups': [{'key': 'improvmx_dns_invalid_checks', 'prefix': 'missing'}]}

    ok = inventory(config, sim, args=('--list', '-vvv'))
    assert ok.rc == 0, ok
    assert 'example.com' in ok.hostvars
    _no_key(ok, API_KEY)

    graph = inventory(config, sim, args=('--graph', '--vars', '-vvv'))
    assert graph.rc == 0, graph
    _no_key(graph, API_KEY)

    # The key in the file instead of the environment, and an API that echoes it back in its errors.
    sim.add_fault('GET', r'^/domains', count=None, status=401,
                  body={'error': 'Invalid API key %s (Authorization: Basic %s)'
                                 % (API_KEY, base64.b64encode(('api:' + API_KEY).encode()).decode()),
                        'code': 401, 'success': False})
    failed = inventory(dict(config, api_key=API_KEY), sim, args=('--list', '-vvv'),
                       env={'IMPROVMX_API_KEY': None, 'ANSIBLE_INVENTORY_UNPARSED_FAILED': 'true'})
    assert failed.rc != 0, failed
    assert 'HTTP 401' in failed.stderr
    assert 'Invalid API key ********' in failed.stderr
    _no_key(failed, API_KEY)


def test_only_files_named_improvmx_yml_are_taken(inventory, simulator):
    simulator.seed_domain('example.com')

    result = inventory('plugin: improvmx.email.improvmx\n', simulator, name='inventory.yml', args=('--list', '-vvv'))

    assert 'example.com' not in result.data['_meta']['hostvars']
    assert simulator.requests == []


def test_a_vault_encrypted_key_in_the_file(inventory, simulator, tmp_path):
    simulator.seed_domain('example.com')
    password_file = tmp_path / 'vault-password'
    password_file.write_text('inventory-vault-password\n', encoding='utf-8')
    encrypted = subprocess.run([os.path.join(BIN, 'ansible-vault'), 'encrypt_string', '--vault-password-file',
                                str(password_file), '--name', 'api_key', simulator.api_key],
                               capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL,
                               env=dict(os.environ, ANSIBLE_NOCOLOR='1')).stdout

    result = inventory('plugin: improvmx.email.improvmx\n' + encrypted, simulator, env={'IMPROVMX_API_KEY': None},
                       args=('--list', '--vault-password-file', str(password_file)))

    assert result.rc == 0, result
    assert list(result.hostvars) == ['example.com']


# -- docs/awx.md: the inventory source ------------------------------------------------------------------------

AWX_DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'docs', 'awx.md')
INJECTORS = os.path.join(os.path.dirname(AWX_DOC), '..', 'extensions', 'awx', 'injectors.json')


def fenced_block(language, marker):
    """The one fenced block of docs/awx.md in this language that contains marker."""
    with open(AWX_DOC, encoding='utf-8') as handle:
        text = handle.read()
    blocks = [body for lang, body in re.findall(r'^```(\w*)\n(.*?)^```', text, re.S | re.M)
              if lang == language and marker in body]
    assert len(blocks) == 1, '%d %s blocks of docs/awx.md contain %r' % (len(blocks), language, marker)
    return blocks[0]


def test_awx_doc_inventory_source_as_an_inventory_update_runs_it(inventory, simulator_factory):
    """The project file of docs/awx.md, with the credential's injectors rendered as AWX renders them."""
    config = fenced_block('yaml', '# inventories/improvmx.yml')
    source = yaml.safe_load(fenced_block('yaml', 'awx.awx.inventory_source'))[1]['awx.awx.inventory_source']
    assert source['source'] == 'scm' and source['source_path'] == 'inventories/improvmx.yml'
    assert source['enabled_var'] == 'improvmx_active'
    with open(INJECTORS, encoding='utf-8') as handle:
        injectors = json.load(handle)['env']
    sandbox = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    sim = simulator_factory(api_key=API_KEY)
    injected = {name: sandbox.from_string(template).render(api_key=API_KEY, api_url=sim.url)
                for name, template in injectors.items()}
    sim.seed_domain('ready.example.com', active=True)
    sim.seed_domain('waiting.example.com')
    sim.set_dns('waiting.example.com', mx=True, spf=False)
    sim.seed_domain('smtp.example.com', credentials=['newsletter'], routing_engine='rules')
    sim.set_dns('smtp.example.com', mx=True, spf=True, dkim1=False, dkim2=False)

    # AWX runs ansible-inventory on the file, with ANSIBLE_INVENTORY_UNPARSED_FAILED set.
    result = inventory(config, sim, name=os.path.join('project', 'inventories', 'improvmx.yml'),
                       args=('--list', '--export'), env=dict(injected, ANSIBLE_INVENTORY_UNPARSED_FAILED='True'),
                       api_key=injected['IMPROVMX_API_KEY'])

    assert result.rc == 0, result
    assert sorted(result.hostvars) == ['ready.example.com', 'smtp.example.com', 'waiting.example.com']
    assert result.group('dns_invalid') == ['smtp.example.com', 'waiting.example.com']
    assert result.group('missing_spf') == ['waiting.example.com']
    assert result.group('missing_dkim1') == ['smtp.example.com']
    assert result.group('routing_rules') == ['smtp.example.com']
    assert result.hostvars['ready.example.com']['improvmx_active'] is True  # the enabled variable
    assert result.hostvars['waiting.example.com']['improvmx_active'] is False
    assert result.hostvars['ready.example.com']['ansible_connection'] == 'local'
    _no_key(result, API_KEY)


def plugin_examples():
    """(file name, text) of each configuration file in the plugin's EXAMPLES (YAML documents starting '# NAME: ...')."""
    from ansible_collections.improvmx.email.plugins.inventory import improvmx  # pylint: disable=import-outside-toplevel
    examples = []
    for block in improvmx.EXAMPLES.strip().split('\n---\n'):
        block = block.strip()
        name = re.match(r'# (\S*improvmx\.ya?ml):', block)
        assert name, 'each example starts with "# <file name>: ...": %r' % block[:80]
        examples.append((name.group(1), block + '\n'))
    return examples


@pytest.mark.parametrize('name, text', plugin_examples(), ids=[name for name, text in plugin_examples()])
def test_the_plugins_examples_work_as_written(inventory, simulator, name, text):
    simulator.seed_domain('shop.example.com', active=True, webhook='https://hooks.example.org/shop')
    simulator.seed_domain('shop-eu.example.com', active=True, credentials=['mailer'])
    simulator.set_dns('shop-eu.example.com', mx=True, spf=True, dkim1=False, dkim2=True)
    simulator.seed_domain('other.example.org')

    result = inventory(text, simulator, name=name, env={'ANSIBLE_INVENTORY_UNPARSED_FAILED': 'true'})

    assert result.rc == 0, result
    if 'q: shop' in text:
        # shop-eu's DKIM is not valid and it has SMTP credentials: it is not active, so is_active leaves it out
        assert sorted(result.hostvars) == ['shop.example.com']
        assert result.hostvars['shop.example.com']['improvmx_dns_valid'] is True
        assert result.group('dns_invalid') == []
        assert result.group('webhooks') == ['shop.example.com']
        assert result.group('routing_alias') == ['shop.example.com']
        assert result.hostvars['shop.example.com']['ansible_connection'] == 'local'
    else:
        assert sorted(result.hostvars) == ['other.example.org', 'shop-eu.example.com', 'shop.example.com']
    if 'cache: true' in text:
        simulator.clear_requests()
        again = inventory(text, simulator, name=name)
        assert again.rc == 0 and again.data == result.data, again
        assert simulator.requests == []


def test_values_from_the_api_are_never_templated(inventory, simulator):
    webhook = 'https://hooks.example.org/{{ 6 * 7 }}/{{ lookup("ansible.builtin.env", "HOME") }}'
    simulator.seed_domain('hooked.example.com', webhook=webhook)
    config = {'plugin': 'improvmx.email.improvmx', 'compose': {'hook': 'improvmx_webhook'}, 'strict': True}

    result = inventory(config, simulator)

    assert result.rc == 0, result
    assert result.hostvars['hooked.example.com']['improvmx_webhook'] == webhook
    assert result.hostvars['hooked.example.com']['hook'] == webhook
    assert '/42/' not in result.stdout
