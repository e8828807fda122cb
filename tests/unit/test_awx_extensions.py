# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The AWX / Automation Controller files in extensions/awx: credential type and execution environment."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX = os.path.join(REPO, 'extensions', 'awx')
DEFAULT_URL = 'https://api.improvmx.com/v3/'


def load_yaml(*path):
    with open(os.path.join(*path), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def load_json(*path):
    with open(os.path.join(*path), encoding='utf-8') as handle:
        return json.load(handle)


def render_injectors(injectors, **inputs):
    """Render the env injectors as AWX does: Jinja2 in a sandbox, the credential's inputs as variables."""
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    return {name: env.from_string(template).render(**inputs) for name, template in injectors['env'].items()}


def test_credential_type_inputs_and_injectors():
    credential_type = load_yaml(AWX, 'credential_type.yml')

    assert credential_type['name'] == 'ImprovMX API'
    assert credential_type['kind'] == 'cloud'
    fields = {field['id']: field for field in credential_type['inputs']['fields']}
    assert sorted(fields) == ['api_key', 'api_url']
    assert fields['api_key']['secret'] is True
    assert fields['api_key']['type'] == 'string'
    assert not fields['api_url'].get('secret', False)
    assert fields['api_url']['default'] == DEFAULT_URL
    assert credential_type['inputs']['required'] == ['api_key']
    # Only environment variables: nothing lands in extra_vars (where it could be printed) or files.
    assert sorted(credential_type['injectors']) == ['env']
    assert sorted(credential_type['injectors']['env']) == ['IMPROVMX_API_KEY', 'IMPROVMX_API_URL']


def test_json_copies_match_the_yaml_definition():
    credential_type = load_yaml(AWX, 'credential_type.yml')

    assert load_json(AWX, 'inputs.json') == credential_type['inputs']
    assert load_json(AWX, 'injectors.json') == credential_type['injectors']


@pytest.mark.parametrize('inputs, expected_url', [
    ({'api_key': 'key-1', 'api_url': 'http://127.0.0.1:8765/v3/'}, 'http://127.0.0.1:8765/v3/'),
    ({'api_key': 'key-1', 'api_url': ''}, DEFAULT_URL),
    ({'api_key': 'key-1'}, DEFAULT_URL),
])
def test_injectors_render_the_environment_the_modules_read(inputs, expected_url):
    injectors = load_yaml(AWX, 'credential_type.yml')['injectors']

    assert render_injectors(injectors, **inputs) == {'IMPROVMX_API_KEY': 'key-1', 'IMPROVMX_API_URL': expected_url}


def test_execution_environment_definition_and_collection_requirements():
    definition = load_yaml(AWX, 'execution-environment.yml')
    assert definition['version'] == 3
    assert definition['images']['base_image']['name']
    galaxy = load_yaml(AWX, definition['dependencies']['galaxy'])
    assert [c['name'] for c in galaxy['collections']] == ['improvmx.email']

    # ansible-builder reads the collection's own Python requirements from meta/execution-environment.yml.
    collection_ee = load_yaml(REPO, 'meta', 'execution-environment.yml')
    with open(os.path.join(REPO, collection_ee['dependencies']['python']), encoding='utf-8') as handle:
        requirements = [line.split('#')[0].strip() for line in handle]
    assert any(line.startswith('requests') for line in requirements)


def _ansible_builder():
    candidate = os.path.join(os.path.dirname(sys.executable), 'ansible-builder')
    return candidate if os.path.exists(candidate) else shutil.which('ansible-builder')


def test_ansible_builder_create_and_introspect(tmp_path, collections_root):
    builder = _ansible_builder()
    if builder is None:
        pytest.skip('ansible-builder is not installed (pip install ansible-builder to run this check)')

    introspected = subprocess.run([builder, 'introspect', '--sanitize', collections_root], check=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True).stdout
    assert 'requests>=2.25.0  # from collection improvmx.email' in introspected

    for name in ('execution-environment.yml', 'requirements.yml'):
        shutil.copy(os.path.join(AWX, name), str(tmp_path))
    subprocess.run([builder, 'create', '-f', 'execution-environment.yml', '-c', 'context'], cwd=str(tmp_path), check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    context = tmp_path / 'context'
    build_file = next(p for p in (context / 'Containerfile', context / 'Dockerfile') if p.exists())
    instructions = build_file.read_text(encoding='utf-8')
    assert 'ansible-galaxy collection install' in instructions
    assert 'introspect' in instructions
    assert yaml.safe_load((context / '_build' / 'requirements.yml').read_text(encoding='utf-8')) == load_yaml(AWX, 'requirements.yml')


def _awx_doc():
    with open(os.path.join(REPO, 'docs', 'awx.md'), encoding='utf-8') as handle:
        return handle.read()


def _role_options():
    return load_yaml(REPO, 'roles', 'domain_onboarding', 'meta', 'argument_specs.yml')['argument_specs']['main']['options']


def test_survey_json_is_the_one_in_docs_awx_md():
    survey = load_json(AWX, 'survey.json')
    blocks = [json.loads(body) for body in re.findall(r'^```json\n(.*?)^```', _awx_doc(), re.S | re.M)]
    assert blocks.count(survey) == 1, 'docs/awx.md must show extensions/awx/survey.json as it is'
    assert "lookup('ansible.builtin.file', 'survey.json')" in _awx_doc()


def test_survey_table_of_docs_awx_md_agrees_with_survey_json():
    survey = load_json(AWX, 'survey.json')['spec']
    doc = _awx_doc()
    header = '| question | answer variable name | type | required | default |'
    table = doc[doc.index(header):].split('\n\n', 1)[0].splitlines()[2:]
    rows = []
    for line in table:
        question, variable, _type, required, default = [cell.strip() for cell in line.strip('|').split('|')]
        default = default.strip('`')
        rows.append({'question_name': question, 'variable': variable.strip('`'), 'required': required == 'yes',
                     'default': '' if default in ('', '(empty)') else default})
    assert rows == [{name: question.get(name, '') for name in ('question_name', 'variable', 'required', 'default')}
                    for question in survey]


def test_survey_questions_are_role_variables_and_their_defaults_keep_the_domain():
    options = _role_options()
    for question in load_json(AWX, 'survey.json')['spec']:
        variable = question['variable']
        assert variable in options, variable
        if options[variable].get('required'):
            assert question['required'], variable
        # AWX sends every default as a string; an unanswered optional question must not clear anything.
        assert isinstance(question['default'], str)
        if question['type'] == 'multiplechoice':
            assert question['default'] in question['choices'].split('\n')
    notification = next(q for q in load_json(AWX, 'survey.json')['spec'] if q['variable'] == 'domain_onboarding_notification_email')
    assert notification['default'] == '' and not notification['required']
