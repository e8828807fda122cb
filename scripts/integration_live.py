"""Run the ansible-test integration targets against a real ImprovMX account (``make test-live``).

It reads ``tests/integration/integration_config.yml`` (copy the ``.template`` next to it):
``improvmx_api_key``, ``improvmx_test_domain`` (a domain of the account that already exists
and that the run may change) and ``improvmx_api_url`` (default: the real API). Then:

1. it records the test domain as it is: its settings, its aliases, its SMTP credentials, its
   routing rules;
2. it picks a per-run prefix (``ait`` and 6 random hex digits) and writes the configuration,
   with that prefix, into the installed copy of the collection the targets run from;
3. it runs ``ansible-test integration`` there: every alias and credential the targets create
   starts with the prefix, no other domain is touched, purge is not used;
4. whatever happened in 3 (a failed target, Ctrl-C, SIGTERM), it removes the configuration file,
   deletes every alias and credential of the test domain whose name starts with the prefix and
   every rule whose alias, regex or expression holds it, puts the domain's settings back
   (routing_engine too, when the API returns it), and compares the domain with what it recorded in 1.

The exit status is ansible-test's, or 1 when the domain is not left as it was found; the
comparison is printed either way. API requests made by 1 and 4 are counted and printed.

    python3 scripts/integration_live.py --collection-dir build/collections/ansible_collections/improvmx/email
    python3 scripts/integration_live.py ... -- improvmx_alias improvmx_aliases   # some targets
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time

import requests
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_API_URL = 'https://api.improvmx.com/v3/'
DOMAIN_SETTINGS = ('notification_email', 'webhook', 'whitelabel')
# Recorded and restored only when the API returns it; unset ('') is alias routing.
ROUTING_ENGINE_DEFAULT = 'alias'


class Account(object):
    """The few API calls the snapshot and the sweep need, with 429 handling; counts requests."""

    def __init__(self, api_url: str, api_key: str, domain: str):
        self.base = api_url.rstrip('/') + '/'
        self.domain = domain
        self.session = requests.Session()
        self.session.auth = ('api', api_key)
        self.requests = 0

    def call(self, method: str, path: str, body: dict | None = None, params: dict | None = None, ok=(200,)):
        for dummy in range(10):
            self.requests += 1
            answer = self.session.request(method, self.base + path, json=body, params=params, timeout=30)
            if answer.status_code == 429:
                time.sleep(min(float(answer.headers.get('Retry-After') or 5), 60))
                continue
            if answer.status_code not in ok:
                raise RuntimeError('%s %s: HTTP %d %s' % (method, path, answer.status_code, answer.text[:300]))
            return answer.status_code, (answer.json() if answer.content else {})
        raise RuntimeError('%s %s: still rate limited after 10 tries' % (method, path))

    def settings(self) -> dict:
        body = self.call('GET', 'domains/%s' % self.domain)[1]
        domain = body.get('domain', body)
        found = {key: domain.get(key) or '' for key in DOMAIN_SETTINGS}
        if 'routing_engine' in domain:
            found['routing_engine'] = domain['routing_engine'] or ROUTING_ENGINE_DEFAULT
        return found

    def aliases(self) -> dict:
        found, page = {}, 1
        while True:
            body = self.call('GET', 'domains/%s/aliases' % self.domain, params={'page': page, 'limit': 100})[1]
            batch = body.get('aliases') or []
            for alias in batch:
                found[alias['alias']] = alias['forward']
            if len(batch) < 100:
                return found
            page += 1

    def credentials(self) -> list | None:
        """Usernames, or None when the account may not have credentials (403)."""
        status, body = self.call('GET', 'domains/%s/credentials' % self.domain, ok=(200, 403))
        if status == 403:
            return None
        return sorted(c['username'] for c in body.get('credentials') or [])

    def rules(self) -> list | None:
        """The domain's routing rules, or None when the API does not serve them to this account."""
        found, page = [], 1
        while True:
            status, body = self.call('GET', 'domains/%s/rules' % self.domain, params={'page': page, 'limit': 100},
                                     ok=(200, 403, 404))
            if status != 200:
                return None
            batch = body.get('rules') or []
            found.extend(batch)
            if len(batch) < 100:
                return found
            page += 1

    def snapshot(self) -> dict:
        rules = self.rules()
        return {'settings': self.settings(), 'aliases': self.aliases(), 'credentials': self.credentials(),
                'rules': None if rules is None else sorted(rule_view(rule) for rule in rules)}

    def sweep(self, prefix: str, before: dict) -> list[str]:
        """Delete what starts with the prefix and restore the settings; returns what was done."""
        done = []
        mine = prefix + '-'
        for name in sorted(self.aliases()):
            if name.startswith(mine):
                self.call('DELETE', 'domains/%s/aliases/%s' % (self.domain, name), ok=(200, 404))
                done.append('deleted alias %s' % name)
        for username in self.credentials() or []:
            if username.startswith(mine):
                self.call('DELETE', 'domains/%s/credentials/%s' % (self.domain, username), ok=(200, 404))
                done.append('deleted credential %s' % username)
        for rule in self.rules() or []:
            if mine in rule_key(rule):
                self.call('DELETE', 'domains/%s/rules/%s' % (self.domain, rule['id']), ok=(200, 404))
                done.append('deleted %s rule %s' % (rule.get('type'), rule_key(rule)))
        settings = self.settings()
        changed = [k for k in before['settings'] if settings.get(k) != before['settings'][k]]
        if changed:
            self.call('PUT', 'domains/%s' % self.domain, body={k: before['settings'][k] for k in changed})
            done.append('restored the settings %s' % ', '.join(changed))
        return done


def rule_key(rule: dict) -> str:
    """The field a rule is known by (its alias, regex or CEL expression): the targets put the prefix there."""
    config = rule.get('config') or {}
    return str(config.get('alias') or config.get('regex') or config.get('expression') or '')


def rule_view(rule: dict) -> str:
    """One rule as a comparable line: id, type, config, rank and state."""
    return '%s %s %s rank %s%s' % (rule.get('id'), rule.get('type'), json.dumps(rule.get('config'), sort_keys=True),
                                   rule.get('rank'), '' if rule.get('active', True) else ' (inactive)')


def differences(before: dict, after: dict) -> list[str]:
    found = []
    for key in before['settings']:
        if before['settings'][key] != after['settings'].get(key):
            found.append('%s: %r, was %r' % (key, after['settings'].get(key), before['settings'][key]))
    for name in sorted(set(before['aliases']) | set(after['aliases'])):
        if before['aliases'].get(name) != after['aliases'].get(name):
            found.append('alias %s: %r, was %r' % (name, after['aliases'].get(name), before['aliases'].get(name)))
    if before['credentials'] != after['credentials']:
        found.append('credentials: %r, were %r' % (after['credentials'], before['credentials']))
    if before['rules'] != after['rules']:
        found.append('rules: %r, were %r' % (after['rules'], before['rules']))
    return found


def load_config(path: str) -> dict:
    if not os.path.exists(path):
        raise SystemExit('%s does not exist: copy %s.template there and fill it in' % (path, os.path.basename(path)))
    with open(path) as handle:
        config = yaml.safe_load(handle) or {}
    for key in ('improvmx_api_key', 'improvmx_test_domain'):
        if not config.get(key):
            raise SystemExit('%s: %s is not set' % (path, key))
    config['improvmx_api_url'] = config.get('improvmx_api_url') or DEFAULT_API_URL
    config['improvmx_test_domain'] = str(config['improvmx_test_domain']).lower()
    return config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--config', default=os.path.join(ROOT, 'tests', 'integration', 'integration_config.yml'))
    parser.add_argument('--collection-dir', required=True, help='the installed copy the targets run from')
    parser.add_argument('--python', default='%d.%d' % sys.version_info[:2], help='for ansible-test --python')
    parser.add_argument('--prefix', help='the per-run prefix (default: ait and 6 random hex digits)')
    parser.add_argument('targets', nargs='*', help='targets to run (default: all)')
    args = parser.parse_args()

    config = load_config(args.config)
    prefix = (args.prefix or 'ait' + secrets.token_hex(3)).lower()
    domain = config['improvmx_test_domain']
    account = Account(config['improvmx_api_url'], config['improvmx_api_key'], domain)
    print('==> live run %s on %s at %s' % (prefix, domain, config['improvmx_api_url']), flush=True)
    before = account.snapshot()
    print('==> %s as found: %d aliases, credentials %s' % (
        domain, len(before['aliases']), 'not available (no premium plan)' if before['credentials'] is None
        else len(before['credentials'])), flush=True)

    config_path = os.path.join(args.collection_dir, 'tests', 'integration', 'integration_config.yml')
    live_vars = {'improvmx_api_url': config['improvmx_api_url'], 'improvmx_api_key': config['improvmx_api_key'],
                 'improvmx_test_domain': domain, 'improvmx_resource_prefix': prefix}
    fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as handle:
        json.dump(live_vars, handle)  # JSON is YAML

    rc = 1
    child = None

    def stop(signum, frame):  # pylint: disable=unused-argument
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, stop)
    try:
        cmd = ['ansible-test', 'integration', '--python', args.python, '--local', '--color', 'no',
               '--continue-on-error'] + args.targets
        child = subprocess.Popen(cmd, cwd=args.collection_dir, start_new_session=True)  # pylint: disable=consider-using-with
        rc = child.wait()
    except KeyboardInterrupt:
        print('==> interrupted: stopping ansible-test, then cleaning up', flush=True)
        if child is not None and child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        rc = 130
    finally:
        os.remove(config_path)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for line in account.sweep(prefix, before):
            print('==> clean-up: %s' % line, flush=True)
        left = differences(before, account.snapshot())
    if left:
        print('==> %s is NOT as found:\n    %s' % (domain, '\n    '.join(left)), flush=True)
        rc = rc or 1
    else:
        print('==> %s is as found (settings, %d aliases, credentials)' % (domain, len(before['aliases'])), flush=True)
    print('==> the snapshot, clean-up and check made %d API requests (the targets\' own are not counted here)'
          % account.requests, flush=True)
    print('==> ansible-test integration: %s' % ('passed' if rc == 0 else 'exit status %d' % rc), flush=True)
    return rc


if __name__ == '__main__':
    sys.exit(main())
