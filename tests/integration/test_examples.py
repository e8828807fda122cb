# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module's EXAMPLES run, as a playbook, against the API simulator.

For each module its ``EXAMPLES`` YAML is read from the module file and becomes the
task list of one play.  The simulator is seeded with what the examples take for
granted (``example.com`` in the account, its aliases, SMTP credentials or logs, DNS
records that turn valid) and the variables they use are given as extra vars:
``improvmx_api_key`` (the only way the key reaches the modules: ``IMPROVMX_API_KEY``
is not set, so an example without ``api_key`` fails), ``newsletter_smtp_password`` and
``billing_smtp_password``.

Only ansible-core and this collection are installed here.  Example tasks that call a
module of another collection are removed from the play by the explicit list
``OTHER_COLLECTION_TASKS`` below, which names each such task and its module; the test
fails when an example calls another collection's module that is not on the list, or
when a listed task is no longer in the examples, so nothing is ever skipped silently.

After the run the test checks that every remaining task ran (none failed or was
skipped) and that the simulator's state is what the examples describe.
"""

from __future__ import annotations

import ast
import os
import typing as t

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES_DIR = os.path.join(REPO, 'plugins', 'modules')
MODULES = sorted(name[:-3] for name in os.listdir(MODULES_DIR) if name.endswith('.py') and not name.startswith('_'))

# Collections whose modules the examples may call: the ones installed in the test run.
RUNNABLE_PREFIXES = ('ansible.builtin.', 'improvmx.email.')

# module -> {example task name: the other collection's module it calls}.  These tasks are
# removed from the play (and reported in the test's output); everything else must run.
OTHER_COLLECTION_TASKS: dict[str, dict[str, str]] = {
    'improvmx_domain_check': {
        'Read the TXT set at the apex (Route 53)': 'amazon.aws.route53',
        'Publish the SPF merged into the apex TXT set (Route 53)': 'amazon.aws.route53',
    },
}

# Task keywords (anything else in a task is its action).
TASK_KEYWORDS = {
    'name', 'register', 'when', 'loop', 'loop_control', 'vars', 'check_mode', 'diff', 'until', 'retries',
    'delay', 'changed_when', 'failed_when', 'ignore_errors', 'no_log', 'tags', 'environment', 'become',
    'delegate_to', 'run_once', 'notify', 'module_defaults', 'with_items', 'args', 'any_errors_fatal',
    'throttle', 'timeout', 'block', 'rescue', 'always',
}

SMTP_PASSWORD = 'correct-horse-battery-staple'


def module_examples(module: str) -> str:
    """The EXAMPLES string of a module, read without importing it."""
    path = os.path.join(MODULES_DIR, module + '.py')
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(target, 'id', None) == 'EXAMPLES' for target in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f'{module} has no EXAMPLES')


def task_action(task: dict[str, t.Any]) -> str:
    actions = [key for key in task if key not in TASK_KEYWORDS]
    assert len(actions) == 1, f'cannot tell the action of example task {task.get("name")!r}: {actions}'
    return actions[0]


def runnable_tasks(module: str) -> tuple[list[dict[str, t.Any]], list[str]]:
    """The example tasks this test runs, and a description of the ones it removes."""
    tasks = yaml.safe_load(module_examples(module))
    assert isinstance(tasks, list) and tasks, f'{module}: EXAMPLES is not a list of tasks'
    allowed = OTHER_COLLECTION_TASKS.get(module, {})
    kept, removed = [], []
    for task in tasks:
        name = task.get('name')
        assert name, f'{module}: an example task has no name: {task}'
        action = task_action(task)
        if action.startswith(RUNNABLE_PREFIXES):
            assert name not in allowed, f'{module}: {name!r} is listed in OTHER_COLLECTION_TASKS but calls {action}'
            kept.append(task)
            continue
        assert allowed.get(name) == action, (
            f'{module}: example task {name!r} calls {action}, which is not installed in this test; '
            'list it in OTHER_COLLECTION_TASKS (with the reason) or use a module of ansible.builtin / improvmx.email')
        removed.append(f'{name} ({action})')
    stale = set(allowed) - {task['name'] for task in tasks}
    assert not stale, f'{module}: OTHER_COLLECTION_TASKS lists tasks that are not in its EXAMPLES: {sorted(stale)}'
    return kept, removed


# --- what each module's examples need, and what they must leave behind -----------------------------


def seed_account_info(sim):
    sim.seed_whitelabel('mail.example.net')


def check_account_info(sim, result):
    assert result.result('Read the account')['account']['premium'] is True
    assert result.result('List the whitelabel names')['msg'] == ['mail.example.net']


def seed_alias(sim):
    sim.seed_domain('example.com')


def check_alias(sim, result):
    aliases = {a['alias']: a['forward'] for a in sim.state_snapshot()['domains']['example.com']['aliases']}
    assert aliases == {'*': 'postmaster@example.org', 'help': 'helpdesk@example.org',
                       'orders': 'orders@example.org,https://hooks.example.org/improvmx/orders',
                       '^invoice-.*$': 'billing@example.org', 'noreply': 'null'}
    assert result.result('The same, with destinations as one string (the order does not matter)')['changed'] is False


def seed_alias_info(sim):
    sim.seed_domain('example.com', aliases={'*': 'owner@example.org', 'sales': 'alice@example.org,bob@example.org',
                                            'sales-eu': 'carol@example.org', 'alice': 'alice@example.org',
                                            '^invoice-.*$': 'billing@example.org,https://hooks.example.org/bills'})


def check_alias_info(sim, result):
    assert result.result('Show where each alias forwards to')['msg']['sales-eu'] == 'carol@example.org'
    assert sorted(a['alias'] for a in result.result('Aliases whose name starts with sales')['aliases']) == ['sales', 'sales-eu']
    found = sorted(a['alias'] for a in result.result('Aliases that forward to alice (or whose name starts with alice)')['aliases'])
    assert 'alice' in found
    regex = result.result('The regular expression alias ^invoice-.*$ and any other alias whose name starts with ^invoice')
    assert [a['alias'] for a in regex['aliases']] == ['^invoice-.*$']
    hooks = result.result('Aliases that forward to a webhook of hooks.example.org')
    assert [a['alias'] for a in hooks['aliases']] == ['^invoice-.*$']


def seed_aliases(sim):
    sim.seed_domain('example.com', aliases={'*': 'owner@example.org', 'legacy': 'old@example.org'})


def check_aliases(sim, result):
    aliases = {a['alias']: a['forward'] for a in sim.state_snapshot()['domains']['example.com']['aliases']}
    assert 'legacy' not in aliases  # the purge example removed it
    assert aliases['alice'] == 'alice@example.org'
    assert set(aliases['bob'].split(',')) == {'bob@example.org', 'bob.backup@example.org'}
    preview = result.result('Preview what purging would delete, without changing anything')
    assert preview['changed'] is True
    assert sorted(preview['removed']) == ['*', 'alice', 'bob', 'support']


def seed_credential(sim):
    sim.seed_domain('example.com')


def check_credential(sim, result):
    assert result.result('Create an SMTP credential (an existing one is left as it is)')['requires_new_mx_check'] is True
    assert result.task('Show the DNS records the first credential requires')['status'] == {'localhost': 'ok'}
    left = sim.state_snapshot()['domains']['example.com']['credentials']
    assert [(c['username'], c['is_limited']) for c in left] == [('billing', True)]  # the last example removed newsletter
    assert len(sim.writes(r'/credentials')) == 4  # create, create billing, password set (update_password=always), delete


def seed_credential_info(sim):
    sim.seed_domain('example.com', credentials=['newsletter', 'billing'])


def check_credential_info(sim, result):
    assert sorted(result.result('Show their user names')['msg']) == ['billing', 'newsletter']


def seed_domain(sim):
    sim.seed_domain('old-brand.example')


def check_domain(sim, result):
    domains = sim.state_snapshot()['domains']
    assert sorted(domains) == ['example.com']
    assert domains['example.com']['notification_email'] == 'postmaster@example.org'
    assert domains['example.com']['routing_engine'] == 'rules'
    assert not domains['example.com']['webhook']


def seed_domain_check(sim):
    sim.seed_domain('example.com')
    # The first check sees no record; every later one sees them all (as if the DNS task had published them).
    sim.set_dns('example.com', valid=False, valid_after=1)


def check_domain_check(sim, result):
    first = result.result('Check the DNS records of a domain')
    assert first['valid'] is False
    shown = result.result('Show what is still missing')['results']
    assert len(shown) == len([r for r in first['dns_records'] if not r['valid']]) > 0
    waited = result.result('Wait until ImprovMX sees the records that matter (DNS takes a while to propagate)')
    assert waited['valid'] is True and waited['invalid_checks'] == [] and len(waited['polls']) >= 1


def seed_domain_info(sim):
    sim.seed_domain('example.com', active=True)
    sim.seed_domain('example.net', active=False)
    sim.seed_domain('example-shop.com', active=False)
    sim.seed_domain('other.org', active=False)


def check_domain_info(sim, result):
    assert result.result('Say whether it exists')['msg'] == 'example.com is in the account'
    names = sorted(d['domain'] for d in result.result('The inactive domains whose name starts with "example"')['domains'])
    assert names == ['example-shop.com', 'example.net']
    export = result.result("Export the account in improvmx_domains' input format")['export']
    assert sorted(entry['domain'] for entry in export) == ['example-shop.com', 'example.com', 'example.net', 'other.org']
    assert result.result('Converge on the export (nothing changes; only the domain list is read)')['changed'] is False
    assert sim.writes() == []


def seed_domains(sim):
    sim.seed_domain('example.com', aliases={'*': 'owner@example.org', 'old': 'owner@example.org'})
    sim.seed_domain('old-brand.example')


def check_domains(sim, result):
    assert result.result('Show them')['msg'] == 'A purge would delete old-brand.example'
    assert result.result('The account is exactly these domains (the others are deleted)')['removed'] == ['old-brand.example']
    domains = sim.state_snapshot()['domains']
    assert sorted(domains) == ['example.com', 'example.net']
    assert domains['example.com']['notification_email'] == 'postmaster@example.org'
    assert {a['alias']: a['forward'] for a in domains['example.com']['aliases']} == {
        '*': 'owner@example.org', 'old': 'owner@example.org', 'sales': 'alice@example.org,bob@example.org',
        'support': 'helpdesk@example.org'}
    assert domains['example.net']['webhook'] == 'https://hooks.example.org/improvmx'
    assert {a['alias']: a['forward'] for a in domains['example.net']['aliases']} == {'*': 'owner@example.org'}


def seed_log_info(sim):
    sim.seed_domain('example.com', aliases={'*': 'owner@example.org', 'contact': 'owner@example.org'})
    sim.seed_logs('example.com', 50, alias='contact')


def check_log_info(sim, result):
    first = result.result('The logs of one alias, 20 at a time')['logs']
    second = result.result('The next 20 (when there are more)')['logs']
    assert len(first) == len(second) == 20
    assert not {entry['id'] for entry in first} & {entry['id'] for entry in second}
    assert len(result.result('The 100 newest log entries of a domain')['logs']) == 50
    failures = result.result('Only the failed deliveries of the domain')['logs']
    assert failures and all(entry['events'][-1]['status'] in ('REFUSED', 'SOFT-BOUNCE', 'HARD-BOUNCE') for entry in failures)
    assert len(result.result('Show when each failed e-mail arrived (created is in milliseconds since the epoch)')['results']) \
        == len(failures)


def seed_rule(sim):
    sim.seed_domain('example.com', routing_engine='rules')


def check_rule(sim, result):
    rules = sim.state_snapshot()['domains']['example.com']['rules']
    assert [(r['type'], r['active']) for r in rules] == [('regex', True), ('cel', True)]
    assert rules[0]['config']['forward'] == 'accounting@example.org,https://hooks.example.org/invoices'
    assert result.result('Switch it on, by its id')['changed'] is True


def seed_rules(sim):
    sim.seed_domain('example.com', routing_engine='rules', rules=[
        {'id': 'legacy', 'type': 'alias', 'config': {'alias': 'old', 'forward': 'old@example.org'}, 'rank': 9}])


def check_rules(sim, result):
    rules = sim.state_snapshot()['domains']['example.com']['rules']
    assert [r['type'] for r in rules] == ['alias', 'regex', 'cel', 'alias']  # the preview deleted nothing
    preview = result.result('Preview making the domain have exactly these rules')
    assert preview['changed'] is True and len(preview['removed']) == 2 and not sim.writes(r'/rules/')


def seed_rule_info(sim):
    sim.seed_domain('example.com', routing_engine='rules', rules=[
        {'id': 'r-sales', 'type': 'alias', 'config': {'alias': 'sales', 'forward': 'alice@example.org'}, 'rank': 2},
        {'id': 'r-invoice', 'type': 'regex', 'rank': 1,
         'config': {'regex': '(?i)invoice', 'scopes': ['subject'], 'forward': 'accounting@example.org'}}])


def check_rule_info(sim, result):
    assert result.result('Show them')['msg'] == ['regex', 'alias']
    assert [r['id'] for r in result.result('The rules that mention invoice')['rules']] == ['r-invoice']
    assert result.result('One rule by its id')['rules'][0]['config']['scopes'] == ['subject']


SCENARIOS = {name: (globals()['seed_' + name[len('improvmx_'):]], globals()['check_' + name[len('improvmx_'):]])
             for name in MODULES}


def test_every_module_has_a_scenario():
    assert sorted(SCENARIOS) == MODULES


@pytest.mark.integration
@pytest.mark.parametrize('module', MODULES)
def test_examples_run(module, simulator, run_playbook):
    seed, check = SCENARIOS[module]
    tasks, removed = runnable_tasks(module)
    if removed:
        # Shown with -rP / in the captured output of a failure: what this test did not run, and why.
        print(f'{module}: removed from the play (other collections are not installed): {removed}')
    seed(simulator)
    simulator.clear_requests()

    playbook = [{'name': f'EXAMPLES of {module}', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]
    url = simulator.url if simulator.url.endswith('/') else simulator.url + '/'
    result = run_playbook(yaml.safe_dump(playbook, sort_keys=False),
                          extra_vars={'improvmx_api_key': simulator.api_key, 'newsletter_smtp_password': SMTP_PASSWORD,
                                      'billing_smtp_password': SMTP_PASSWORD + '-billing'},
                          env={'IMPROVMX_API_URL': url})

    assert result.rc == 0, result
    statuses = {task['name']: task['status'].get('localhost') for task in result.tasks}
    assert list(statuses) == [task['name'] for task in tasks], result
    assert all(status in ('ok', 'changed') for status in statuses.values()), statuses
    assert simulator.requests, 'the examples sent no request to the simulator'
    check(simulator, result)


def test_other_collection_filter_is_explicit():
    """The only example tasks not run are the listed ones, and they really call other collections."""
    removed = {module: runnable_tasks(module)[1] for module in MODULES}
    assert {module: names for module, names in removed.items() if names} == {
        module: [f'{name} ({action})' for name, action in tasks.items()] for module, tasks in OTHER_COLLECTION_TASKS.items()
    }
