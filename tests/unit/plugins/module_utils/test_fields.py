# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fields declared as data drive the options, the checks, the comparison, the payloads and the diff."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.improvmx.email.plugins.module_utils import fields as F
from ansible_collections.improvmx.email.plugins.module_utils.domains import DOMAIN_FIELDS


def test_options_come_from_the_fields():
    assert F.field_options(DOMAIN_FIELDS) == {'notification_email': {'type': 'str'}, 'webhook': {'type': 'str'},
                                              'whitelabel': {'type': 'str'},
                                              'routing_engine': {'type': 'str', 'choices': ['alias', 'rules']}}


def test_wanted_values_checks_and_names_the_option():
    params = {'notification_email': ' Ops@Example.ORG ', 'webhook': '', 'whitelabel': None}
    assert F.wanted_values(params, DOMAIN_FIELDS) == {'notification_email': 'Ops@example.org', 'webhook': ''}
    with pytest.raises(ValueError, match=r'^webhook .*not an http'):
        F.wanted_values({'webhook': 'ftp://x.example'}, DOMAIN_FIELDS)


def test_comparison_without_case_only_where_declared():
    stored = {'notification_email': 'OPS@example.org', 'webhook': 'https://h.example/A', 'whitelabel': None}
    wanted = {'notification_email': 'ops@example.org', 'webhook': 'https://h.example/a', 'whitelabel': ''}
    assert F.changed_values(DOMAIN_FIELDS, stored, wanted) == {'webhook': 'https://h.example/a'}
    assert not F.has_values(DOMAIN_FIELDS, stored, wanted) and not F.has_values(DOMAIN_FIELDS, None, {})


def test_create_payload_leaves_out_update_only_and_empty_fields():
    wanted = {'notification_email': 'a@example.org', 'webhook': 'https://h.example/', 'whitelabel': ''}
    assert F.create_values(DOMAIN_FIELDS, wanted) == {'notification_email': 'a@example.org'}


def test_view_shows_identity_and_managed_fields_only():
    obj = {'domain': 'example.com', 'notification_email': 'a@example.org', 'webhook': None, 'active': True}
    assert F.field_view(DOMAIN_FIELDS, obj, ['webhook'], domain='example.com') == {'domain': 'example.com', 'webhook': None}
    assert F.field_view(DOMAIN_FIELDS, None, ['webhook'], domain='example.com') == {}


def test_a_new_field_is_one_declaration():
    extra = DOMAIN_FIELDS + (F.Field('note', lambda value: value.strip(), on_create=False, clearable=False),)
    assert F.field_options(extra)['note'] == {'type': 'str'}
    assert F.wanted_values({'note': ' hi '}, extra) == {'note': 'hi'}
    assert F.create_values(extra, {'note': 'hi'}) == {}
    assert F.changed_values(extra, {'note': 'Hi'}, {'note': 'hi'}) == {'note': 'hi'}


def _flag(value):
    if not isinstance(value, bool):
        raise ValueError('must be a boolean')
    return value


def test_none_empty_and_false_are_kept_apart():
    text = F.Field('notification_email', str)
    flag = F.Field('spam_filter', _flag, clearable=False, spec=dict(type='bool'))
    quota = F.Field('daily_quota', int, clearable=False, spec=dict(type='int'))
    # A text field: None and '' both mean unset.
    assert text.same(None, '') and text.same('', None)
    # A bool or a number: unset is not False, not 0.
    assert not flag.same(None, False) and flag.same(False, False) and not flag.same(True, False)
    assert not quota.same(None, 0) and quota.same(0, 0)
    # A create sends False and 0; it leaves out only what is unset.
    wanted = {'notification_email': '', 'spam_filter': False, 'daily_quota': 0}
    assert F.create_values((text, flag, quota), wanted) == {'spam_filter': False, 'daily_quota': 0}
    # And an update of a stored None to False is a change.
    assert F.changed_values((flag,), {'spam_filter': None}, {'spam_filter': False}) == {'spam_filter': False}
    assert F.changed_values((flag,), {'spam_filter': False}, {'spam_filter': False}) == {}
