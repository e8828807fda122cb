# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role's shipped DNS task files, run by the real DNS modules against local stand-ins (issue 23).

* files/dns_tasks_route53.yml with amazon.aws.route53 against moto's server;
* files/dns_tasks_cloudflare.yml with community.general.cloudflare_dns against a stand-in of Cloudflare's
  API (tests/integration/dns_standins.py: an HTTPS proxy with a CA made for the test).

The collections come from the `ansible` package on PyPI (scripts/dns_test_collections.py). Each test
starts from a zone a Google Workspace user has: Google's MX at priority 1, an SPF for Google, a
google-site-verification TXT, a strict DMARC and an unrelated A record. The simulator's zone hook makes
ImprovMX's check read what the task file published, so the role runs until "DNS valid". Then:
the MX set is both sets plus a warning (replace_mx false) or exactly ImprovMX's (replace_mx true); one
SPF including both; the verification TXT, the DMARC and the A record intact; a rerun writes nothing.
"""

from __future__ import annotations

import os
import sys

import pytest

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILES = os.path.join(REPO, 'roles', 'domain_onboarding', 'files')
sys.path.insert(0, os.path.join(REPO, 'scripts'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dns_standins  # noqa: E402  pylint: disable=wrong-import-position
from dns_test_collections import collections_path  # noqa: E402  pylint: disable=wrong-import-position

DOMAIN = 'example.com'
VERIFY = 'google-site-verification=rXOxyZounnZasA8Z7oaD3c14JdjS9aKSWvsR1EbUSIQ'
GOOGLE_SPF = 'v=spf1 include:_spf.google.com ~all'
STRICT_DMARC = 'v=DMARC1; p=reject; rua=mailto:dmarc@example.com'
MERGED_SPF = 'v=spf1 include:_spf.google.com include:spf.improvmx.com ~all'
IMPROVMX_MX = ['10 mx1.improvmx.com', '20 mx2.improvmx.com']

PLAYBOOK = """
- name: Onboard with a DNS provider
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws: "{{ aws_defaults | default({}) }}"
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: improvmx.email.domain_onboarding
    - name: Report
      ansible.builtin.debug:
        msg: "{{ domain_onboarding_result }}"
"""


@pytest.fixture(scope='session')
def dns_collections():
    try:
        return collections_path()
    except Exception as exc:  # pylint: disable=broad-except
        pytest.fail('the DNS collections could not be had from the ansible package (scripts/dns_test_collections.py): %s' % exc)


def role_vars(task_file, replace_mx, **extra):
    variables = {
        'domain_onboarding_domain': DOMAIN,
        'domain_onboarding_dns_tasks': os.path.join(FILES, task_file),
        'domain_onboarding_dns_replace_mx': replace_mx,
        'domain_onboarding_check_retries': 2,
        'domain_onboarding_check_delay': 0,
    }
    variables.update(extra)
    return variables


def run_role(run_playbook, env, variables):
    result = run_playbook(PLAYBOOK, extra_vars=variables, env=env, callback='default')
    assert result.rc == 0, result
    return result


def txt(values):
    """TXT values as their text (Route 53 keeps them quoted)."""
    return sorted(value[1:-1] if value.startswith('"') and value.endswith('"') else value for value in values)


# -- Route 53 ---------------------------------------------------------------------------------------------

@pytest.fixture
def route53(tmp_path):
    pytest.importorskip('moto', reason='moto[server] and boto3 are test requirements (requirements-dev.txt)')
    server, endpoint = dns_standins.moto_server()
    client = dns_standins.route53_client(endpoint)
    zone_id = client.create_hosted_zone(Name=DOMAIN + '.', CallerReference='improvmx-test')['HostedZone']['Id']
    dns_standins.route53_change(client, zone_id, DOMAIN, 'MX', ['1 aspmx.l.google.com.'])
    dns_standins.route53_change(client, zone_id, DOMAIN, 'TXT', ['"%s"' % VERIFY, '"%s"' % GOOGLE_SPF])
    dns_standins.route53_change(client, zone_id, '_dmarc.' + DOMAIN, 'TXT', ['"%s"' % STRICT_DMARC])
    dns_standins.route53_change(client, zone_id, 'www.' + DOMAIN, 'A', ['192.0.2.10'])
    feed = dns_standins.ZoneFeed(lambda: dns_standins.route53_records(client, zone_id))
    yield endpoint, client, zone_id, feed
    feed.stop()
    server.stop()


def r53_sets(client, zone_id):
    return {(item['name'], item['type']): item['values'] for item in dns_standins.route53_records(client, zone_id)}


def test_route53_file_reaches_dns_valid_and_keeps_the_zone(run_playbook, simulator, sim_env, collections_root,
                                                           dns_collections, route53):
    endpoint, client, zone_id, feed = route53
    simulator.set_dns(DOMAIN, zone_url=feed.url)
    env = dict(sim_env, ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([collections_root, dns_collections]), ANSIBLE_PIPELINING='1',
               **dns_standins.AWS_ENV)
    aws = {'aws_defaults': {'endpoint_url': endpoint, 'access_key': 'testing', 'secret_key': 'testing'}}

    # 1. Old MX kept (the default): both sets, and the role warns naming Google's host.
    first = run_role(run_playbook, env, role_vars('dns_tasks_route53.yml', False, **aws))
    outcome = first.result('Report')['msg']
    assert outcome['valid'] is True
    sets = r53_sets(client, zone_id)
    assert sorted(sets[(DOMAIN, 'MX')]) == ['1 aspmx.l.google.com.'] + IMPROVMX_MX
    assert outcome['foreign_mx'] == ['aspmx.l.google.com']
    assert 'still publishes other MX hosts next to ImprovMX\'s: aspmx.l.google.com' in first.output
    assert txt(sets[(DOMAIN, 'TXT')]) == sorted([VERIFY, MERGED_SPF])
    assert sets[('_dmarc.' + DOMAIN, 'TXT')] == ['"%s"' % STRICT_DMARC]
    assert sets[('www.' + DOMAIN, 'A')] == ['192.0.2.10']

    # 2. Replacing asked: the MX set is exactly ImprovMX's; nothing else moves.
    second = run_role(run_playbook, env, role_vars('dns_tasks_route53.yml', True, **aws))
    assert second.result('Report')['msg']['valid'] is True
    assert second.result('Report')['msg']['foreign_mx'] == []
    after = r53_sets(client, zone_id)
    assert sorted(after[(DOMAIN, 'MX')]) == IMPROVMX_MX
    assert {key: value for key, value in after.items() if key != (DOMAIN, 'MX')} == {
        key: value for key, value in sets.items() if key != (DOMAIN, 'MX')}
    assert 'still publishes other MX hosts' not in second.output

    # 3. A rerun changes nothing, at ImprovMX or in Route 53.
    simulator.clear_requests()
    third = run_role(run_playbook, env, role_vars('dns_tasks_route53.yml', True, **aws))
    assert third.total('changed') == 0, third
    assert simulator.writes() == []
    assert r53_sets(client, zone_id) == after


# -- Cloudflare ---------------------------------------------------------------------------------------------

@pytest.fixture
def cloudflare(tmp_path):
    standin = dns_standins.CloudflareStandIn(str(tmp_path))
    standin.add_zone(DOMAIN)
    standin.add_record(DOMAIN, 'MX', DOMAIN, 'aspmx.l.google.com', priority=1)
    standin.add_record(DOMAIN, 'TXT', DOMAIN, VERIFY)
    standin.add_record(DOMAIN, 'TXT', DOMAIN, GOOGLE_SPF)
    standin.add_record(DOMAIN, 'TXT', '_dmarc.' + DOMAIN, STRICT_DMARC)
    standin.add_record(DOMAIN, 'A', 'www.' + DOMAIN, '192.0.2.10')
    feed = dns_standins.ZoneFeed(lambda: standin.zone_records(DOMAIN))
    yield standin, feed
    feed.stop()
    standin.stop()


def test_cloudflare_file_reaches_dns_valid_and_keeps_the_zone(run_playbook, simulator, sim_env, collections_root,
                                                              dns_collections, cloudflare):
    standin, feed = cloudflare
    simulator.set_dns(DOMAIN, zone_url=feed.url)
    env = dict(sim_env, ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([collections_root, dns_collections]), ANSIBLE_PIPELINING='1',
               **standin.env())
    token = {'cloudflare_api_token': standin.token}

    # 1. Old MX kept (the default): both sets, and the role warns naming Google's host.
    first = run_role(run_playbook, env, role_vars('dns_tasks_cloudflare.yml', False, **token))
    outcome = first.result('Report')['msg']
    assert outcome['valid'] is True
    assert standin.values(DOMAIN, DOMAIN, 'MX') == ['1 aspmx.l.google.com'] + IMPROVMX_MX
    assert outcome['foreign_mx'] == ['aspmx.l.google.com']
    assert "still publishes other MX hosts next to ImprovMX's: aspmx.l.google.com" in first.output
    # One SPF, including both; the verification TXT, the DMARC and the A record untouched.
    assert standin.values(DOMAIN, DOMAIN, 'TXT') == sorted([VERIFY, MERGED_SPF])
    assert standin.values(DOMAIN, '_dmarc.' + DOMAIN, 'TXT') == [STRICT_DMARC]
    assert standin.values(DOMAIN, 'www.' + DOMAIN, 'A') == ['192.0.2.10']
    # The old SPF was deleted before its extended form was created: never two SPF records.
    assert [w for w in standin.writes if w[1] == 'TXT ' + DOMAIN] == [('DELETE', 'TXT example.com'), ('POST', 'TXT example.com')]

    # 2. Replacing asked: the MX set is exactly ImprovMX's; the rest stays.
    del standin.writes[:]
    second = run_role(run_playbook, env, role_vars('dns_tasks_cloudflare.yml', True, **token))
    assert second.result('Report')['msg']['valid'] is True
    assert second.result('Report')['msg']['foreign_mx'] == []
    assert standin.values(DOMAIN, DOMAIN, 'MX') == IMPROVMX_MX
    assert standin.writes == [('DELETE', 'MX example.com')]
    assert standin.values(DOMAIN, DOMAIN, 'TXT') == sorted([VERIFY, MERGED_SPF])

    # 3. A rerun changes nothing, at ImprovMX or at Cloudflare.
    del standin.writes[:]
    simulator.clear_requests()
    third = run_role(run_playbook, env, role_vars('dns_tasks_cloudflare.yml', True, **token))
    assert third.total('changed') == 0, third
    assert standin.writes == []
    assert simulator.writes() == []


# -- every shipped file: syntax -----------------------------------------------------------------------------

def test_every_shipped_dns_task_file_passes_syntax_check(run_playbook, collections_root, dns_collections):
    """The three files, community.dns' included (not run against a stand-in), parse and name existing modules."""
    files = sorted(name for name in os.listdir(FILES) if name.startswith('dns_tasks_') and name.endswith('.yml'))
    assert files == ['dns_tasks_cloudflare.yml', 'dns_tasks_community_dns.yml', 'dns_tasks_route53.yml']
    playbook = '\n'.join(['- name: Syntax', '  hosts: localhost', '  gather_facts: false', '  tasks:'] + [
        '    - name: Import %s\n      ansible.builtin.import_tasks: %s' % (name, os.path.join(FILES, name)) for name in files])
    env = {'ANSIBLE_COLLECTIONS_PATH': os.pathsep.join([collections_root, dns_collections])}
    result = run_playbook(playbook, env=env, args=['--syntax-check'], callback='default')
    assert result.rc == 0, result
