# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The /domains/:d/rules endpoints and the rule checks."""

from __future__ import absolute_import, division, print_function

import copy
import math
import re

from ..common import ApiError, _body_object, _paginate, parse_forward, _q_int, RULE_CONFIG_KEYS, RULE_SCOPES, RULE_TYPES, validate_alias_name
from ..state import RULE_WRITABLE

__metaclass__ = type  # pylint: disable=invalid-name


def _rule_search_text(rule):
    config = rule['config'] if isinstance(rule.get('config'), dict) else {}
    return ' '.join(str(config.get(key) or '') for key in ('alias', 'regex', 'expression', 'forward')).lower()


def h_list_rules(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    sim.require_plan_for_rules()
    search = (query.get('search') or query.get('q') or '').strip().lower()
    items = [rule for rule in sim.sorted_rules(dom) if not search or search in _rule_search_text(rule)]
    if sim.rules_page_size is not None:
        # As public clients show the live list: limit ignored, pages of the API's own size, no paging fields.
        page = _q_int(query, 'page', 1, 1)
        start = (page - 1) * sim.rules_page_size
        return {'rules': [copy.deepcopy(rule) for rule in items[start:start + sim.rules_page_size]], 'success': True}
    page_items, limit, page = _paginate(items, query)
    return {
        'rules': [copy.deepcopy(rule) for rule in page_items],
        'limit': limit,
        'page': page,
        'total': len(items),
        'success': True,
    }


def h_get_rule(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    sim.require_plan_for_rules()
    # The live API answers the rule itself, at the top level (no "rule" key), with "success" beside its
    # fields (api-facts.md: "strip the envelope keys from a top-level object").
    return dict(copy.deepcopy(sim.find_rule(dom, params['rule'])), success=True)


def _rule_answer(sim, rule):
    if sim.rule_envelope == 'top':
        return dict(copy.deepcopy(rule), success=True)
    return {'rule': copy.deepcopy(rule), 'success': True}


def h_create_rule(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    sim.require_plan_for_rules()
    body = _body_object(body)
    fields = validate_rule(body, sim.destinations_limit, current=None)
    if 'rank' not in fields:
        fields['rank'] = float(max([r['rank'] for r in dom['rules'].values()] or [0.0]) + 1)
    rule = sim.add_rule(dom, fields['type'], fields['config'], rank=fields['rank'], active=fields.get('active', True))
    return _rule_answer(sim, rule)


def h_update_rule(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    sim.require_plan_for_rules()
    rule = sim.find_rule(dom, params['rule'])
    body = _body_object(body)
    fields = validate_rule(body, sim.destinations_limit, current=rule)
    rule.update(fields)
    return _rule_answer(sim, rule)


def h_delete_rule(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    sim.require_plan_for_rules()
    rule = sim.find_rule(dom, params['rule'])
    del dom['rules'][rule['id']]
    return {'success': True}


def h_delete_all_rules(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    sim.require_plan_for_rules()
    dom['rules'] = {}
    return {'success': True}


def validate_rule(body, destinations_limit, current=None):
    """Validate a rule POST (current None) or PUT body; return the fields to store or raise ApiError(400).

    POST needs ``type`` and ``config``; a PUT takes any of ``type``, ``config``, ``active``, ``rank``:
    a ``config`` without a type change is merged into the rule's config, a type change needs the
    whole new config.
    """
    errors = {}
    fields = {}
    unknown = sorted(set(body) - RULE_WRITABLE)
    if unknown:
        errors['body'] = ['Unknown field(s): %s.' % ', '.join(unknown)]
    rule_type = body.get('type') if 'type' in body else (current['type'] if current else None)
    if rule_type not in RULE_TYPES:
        errors['type'] = ['"%s" is not a rule type: use one of %s.' % (rule_type, ', '.join(RULE_TYPES))]
        rule_type = None
    elif 'type' in body:
        fields['type'] = rule_type
    config = body.get('config') if 'config' in body else None
    if current is None and config is None:
        errors['config'] = ['This field is required.']
    elif config is not None and not isinstance(config, dict):
        errors['config'] = ['Must be an object.']
    elif rule_type is not None and (config is not None or (current is not None and rule_type != current['type'])):
        if config is None:
            errors['config'] = ['A new type needs its whole config.']
        else:
            merged = dict(config)
            if current is not None and rule_type == current['type']:
                merged = dict(current['config'], **config)
            checked = _validate_rule_config(rule_type, merged, destinations_limit, errors)
            if checked is not None:
                fields['config'] = checked
    if 'active' in body:
        if not isinstance(body['active'], bool):
            errors['active'] = ['Must be a boolean.']
        else:
            fields['active'] = body['active']
    elif current is None:
        fields['active'] = True
    if 'rank' in body:
        rank = body['rank']
        if isinstance(rank, bool) or not isinstance(rank, (int, float)) or not math.isfinite(rank):
            errors['rank'] = ['Must be a number.']
        else:
            fields['rank'] = float(rank)
    if errors:
        raise ApiError.fields(errors)
    return fields


def _validate_rule_config(rule_type, config, destinations_limit, errors):
    """The config of a rule of ``rule_type``, normalized; None (with ``errors`` filled) when invalid."""
    before = len(errors)
    unknown = sorted(set(config) - set(RULE_CONFIG_KEYS[rule_type]))
    if unknown:
        errors['config'] = ['Unknown key(s) for a %s rule: %s.' % (rule_type, ', '.join(unknown))]
    result = {}
    try:
        result['forward'] = parse_forward(config.get('forward'), destinations_limit, field='config.forward')
    except ApiError as err:
        errors.update(err.payload['errors'])
    if rule_type == 'alias':
        try:
            # Alias rules take wildcard and regex patterns, kept as written (rules guide; api-facts.md).
            result['alias'] = validate_alias_name(config.get('alias'), field='config.alias', allow_regex=True)
        except ApiError as err:
            errors.update(err.payload['errors'])
    elif rule_type == 'regex':
        regex = config.get('regex')
        if not isinstance(regex, str) or not regex.strip():
            errors['config.regex'] = ['This field is required.']
        else:
            try:
                re.compile(regex)
                result['regex'] = regex
            except re.error as err:
                errors['config.regex'] = ['Invalid regular expression "%s": %s.' % (regex, err)]
        scopes = config.get('scopes')
        if not isinstance(scopes, list) or not scopes:
            errors['config.scopes'] = ['A non-empty list among %s.' % ', '.join(RULE_SCOPES)]
        else:
            bad = [scope for scope in scopes if scope not in RULE_SCOPES]
            if bad:
                errors['config.scopes'] = ['Unknown scope(s) %s: use %s.' % (', '.join(map(str, bad)), ', '.join(RULE_SCOPES))]
            else:
                result['scopes'] = [scope for index, scope in enumerate(scopes) if scope not in scopes[:index]]
    else:
        expression = config.get('expression')
        if not isinstance(expression, str) or not expression.strip():
            errors['config.expression'] = ['This field is required: a CEL expression.']
        else:
            result['expression'] = expression.strip()
    if len(errors) > before:
        return None
    return result
