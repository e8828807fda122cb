# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The documentation of the options follows the field tables.

The options and the returned objects are generated from the tables (scripts/field_docs.py; make
docs-check fails when a generated part is stale). This checks what the generator cannot: that what
it wrote is what the modules and the role take - every writable field is documented with its type,
elements, choices and aliases, the modules' argument specs are the tables' own, and the role offers
the fields its tasks pass on.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import os

import pytest
import yaml

from ansible_collections.improvmx.email.plugins.module_utils.alias_sets import ALIAS_OBJECT, alias_options
from ansible_collections.improvmx.email.plugins.module_utils.credential_sets import CREDENTIAL_ENTRY, CREDENTIAL_OBJECT
from ansible_collections.improvmx.email.plugins.module_utils.domains import DOMAIN_FIELDS
from ansible_collections.improvmx.email.plugins.module_utils.fields import writable
from ansible_collections.improvmx.email.plugins.module_utils.rule_model import ITEM_ARGUMENT_SPEC, ITEM_OPTIONS, RULE_OBJECT

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
COMPARED = ('type', 'elements', 'choices', 'aliases', 'no_log')


def _docs(module):
    tree = ast.parse(open(os.path.join(REPO, 'plugins', 'modules', module + '.py'), encoding='utf-8').read())
    docs = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', None) in ('DOCUMENTATION', 'RETURN'):
            docs[node.targets[0].id] = yaml.safe_load(node.value.value)
    return docs


def _options(module, *path):
    options = _docs(module)['DOCUMENTATION']['options']
    for name in path:
        options = options[name]['suboptions']
    return options


def _same(field, doc, where, ignore=()):
    for key in COMPARED:
        if key in ignore:
            continue
        wanted = field.spec.get(key)
        if key == 'no_log' and not wanted:
            wanted = None
        got = doc.get(key)
        if key == 'no_log' and not got:
            got = None
        if key in ('choices', 'aliases') and wanted is not None:
            wanted, got = list(wanted), list(got or [])
        assert got == wanted, '%s: %s of %s is %r, the table says %r' % (where, key, field.name, got, wanted)


CASES = (
    ('improvmx_alias', (), ALIAS_OBJECT),
    ('improvmx_aliases', ('aliases',), ALIAS_OBJECT),
    ('improvmx_domains', ('domains', 'aliases'), ALIAS_OBJECT),
    ('improvmx_rule', (), RULE_OBJECT),
    ('improvmx_rules', ('rules',), RULE_OBJECT),
    ('improvmx_credential', (), CREDENTIAL_OBJECT),
    ('improvmx_domains', ('domains', 'credentials'), CREDENTIAL_OBJECT),
)


@pytest.mark.parametrize('module, path, table', CASES, ids=['%s:%s' % (case[0], '.'.join(case[1])) for case in CASES])
def test_options_follow_the_table(module, path, table):
    options = _options(module, *path)
    for field in writable(table):
        assert field.name in options, '%s %s: the field %s is not documented' % (module, '.'.join(path), field.name)
        # module docs do not carry no_log (the argument spec does, from the table); improvmx_credential's
        # username has no alias, improvmx_domains' credential entries take name too
        ignore = ('no_log', 'aliases') if path == ('domains', 'credentials') and field.name == 'username' else ('no_log',)
        _same(field, options[field.name], '%s %s' % (module, '.'.join(path)), ignore)


def test_the_argument_specs_are_the_tables():
    assert alias_options() == dict((field.name, field.spec) for field in writable(ALIAS_OBJECT))
    assert alias_options(forward_required=True)['forward']['required'] is True
    assert 'required' not in dict(writable(ALIAS_OBJECT)[1].spec)
    assert set(ITEM_ARGUMENT_SPEC) == set(ITEM_OPTIONS) == set(field.name for field in writable(RULE_OBJECT))
    assert CREDENTIAL_ENTRY['username']['aliases'] == ['name']
    assert 'aliases' not in CREDENTIAL_OBJECT[0].spec


def test_the_password_is_write_only():
    password = [field for field in CREDENTIAL_OBJECT if field.name == 'password'][0]
    assert password.spec.get('no_log') is True and password.returned is None
    for module, key in (('improvmx_credential', 'credential'), ('improvmx_credential_info', 'credentials')):
        assert 'password' not in _docs(module)['RETURN'][key]['contains']


def _field_docs():
    import importlib.util  # pylint: disable=import-outside-toplevel
    spec = importlib.util.spec_from_file_location('field_docs', os.path.join(REPO, 'scripts', 'field_docs.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The credential fields the role's task does not pass on (scripts/field_docs.py's ROLE_OFFERS names those it does).
ROLE_NOT_OFFERED = {'domain_onboarding_credentials': tuple(
    field.name for field in writable(CREDENTIAL_OBJECT) if field.name not in _field_docs().ROLE_OFFERS['credential'])}


def test_the_role_passes_the_credential_fields_it_offers():
    """The role's credential task passes each offered field to improvmx_credential, and no other field."""
    path = os.path.join(REPO, 'roles', 'domain_onboarding', 'tasks', 'onboard.yml')
    tasks = yaml.safe_load(open(path, encoding='utf-8'))
    block = [task for task in tasks if task.get('name') == 'Ensure the SMTP credentials'][0]['block']
    passed = set(block[0]['improvmx.email.improvmx_credential'])
    fields = set(field.name for field in writable(CREDENTIAL_OBJECT))
    assert passed & fields == set(_field_docs().ROLE_OFFERS['credential'])


def test_the_role_offers_its_domain_settings_from_the_domain_table():
    """The role's domain task passes the offered domain fields, each from a documented variable with a null default."""
    role = os.path.join(REPO, 'roles', 'domain_onboarding')
    tasks = yaml.safe_load(open(os.path.join(role, 'tasks', 'onboard.yml'), encoding='utf-8'))
    task = [task for task in tasks if 'improvmx.email.improvmx_domain' in task][0]
    offered = _field_docs().ROLE_OFFERS['domain']
    assert set(task['improvmx.email.improvmx_domain']) - set(['domain']) == set(offered)
    assert set(offered) <= set(field.name for field in DOMAIN_FIELDS)
    options = yaml.safe_load(open(os.path.join(role, 'meta', 'argument_specs.yml'), encoding='utf-8'))
    options = options['argument_specs']['main']['options']
    defaults = yaml.safe_load(open(os.path.join(role, 'defaults', 'main.yml'), encoding='utf-8'))
    readme = open(os.path.join(role, 'README.md'), encoding='utf-8').read()
    for name in offered:
        variable = 'domain_onboarding_' + name
        assert options[variable]['type'] == 'str', variable
        assert variable in defaults and defaults[variable] is None, variable
        assert '| `%s` | `null` |' % variable in readme, variable
        assert '%s }}' % variable in task['improvmx.email.improvmx_domain'][name], (name, variable)


@pytest.mark.parametrize('variable, table', (('domain_onboarding_aliases', ALIAS_OBJECT),
                                             ('domain_onboarding_rules', RULE_OBJECT),
                                             ('domain_onboarding_credentials', CREDENTIAL_OBJECT)))
def test_the_role_follows_the_table(variable, table):
    """The role's entries mirror the modules' options (aliases are not offered by the role's specs)."""
    path = os.path.join(REPO, 'roles', 'domain_onboarding', 'meta', 'argument_specs.yml')
    options = yaml.safe_load(open(path, encoding='utf-8'))['argument_specs']['main']['options'][variable]['options']
    for field in writable(table):
        if field.name in ROLE_NOT_OFFERED.get(variable, ()):
            assert field.name not in options
            continue
        assert field.name in options, '%s: the field %s is not documented' % (variable, field.name)
        _same(field, options[field.name], variable, ignore=('aliases',))
