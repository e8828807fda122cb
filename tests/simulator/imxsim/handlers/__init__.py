# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""API handlers: handler(sim, params, query, body) -> payload (200) or raise ApiError; all run with sim._lock held."""

from __future__ import absolute_import, division, print_function

from .account import h_account, h_whitelabels
from .aliases import h_bulk_aliases, h_create_alias, h_delete_alias, h_get_alias, h_list_aliases, h_update_alias
from .credentials import h_create_credential, h_delete_credential, h_list_credentials, h_update_credential
from .dns_check import h_check_domain
from .domains import h_create_domain, h_delete_domain, h_get_domain, h_list_domains, h_update_domain
from .logs import h_logs
from .rules import h_create_rule, h_delete_all_rules, h_delete_rule, h_get_rule, h_list_rules, h_update_rule

__metaclass__ = type  # pylint: disable=invalid-name


API_ROUTES = [
    ('GET', 'account', h_account),
    ('GET', 'account/whitelabels', h_whitelabels),
    ('GET', 'domains', h_list_domains),
    ('POST', 'domains', h_create_domain),
    ('GET', 'domains/{domain}', h_get_domain),
    ('PUT', 'domains/{domain}', h_update_domain),
    ('DELETE', 'domains/{domain}', h_delete_domain),
    ('GET', 'domains/{domain}/check', h_check_domain),
    ('GET', 'domains/{domain}/aliases', h_list_aliases),
    ('POST', 'domains/{domain}/aliases', h_create_alias),
    ('POST', 'domains/{domain}/aliases/bulk', h_bulk_aliases),
    ('GET', 'domains/{domain}/aliases/{alias}', h_get_alias),
    ('PUT', 'domains/{domain}/aliases/{alias}', h_update_alias),
    ('DELETE', 'domains/{domain}/aliases/{alias}', h_delete_alias),
    ('GET', 'domains/{domain}/rules', h_list_rules),
    ('POST', 'domains/{domain}/rules', h_create_rule),
    ('GET', 'domains/{domain}/rules/{rule}', h_get_rule),
    ('PUT', 'domains/{domain}/rules/{rule}', h_update_rule),
    ('DELETE', 'domains/{domain}/rules/{rule}', h_delete_rule),
    ('DELETE', 'domains/{domain}/rules-all', h_delete_all_rules),
    ('GET', 'domains/{domain}/logs', h_logs),
    ('GET', 'domains/{domain}/logs/{alias}', h_logs),
    ('GET', 'domains/{domain}/credentials', h_list_credentials),
    ('POST', 'domains/{domain}/credentials', h_create_credential),
    ('PUT', 'domains/{domain}/credentials/{username}', h_update_credential),
    ('DELETE', 'domains/{domain}/credentials/{username}', h_delete_credential),
]
