# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The /domains/:d/aliases endpoints (bulk included)."""

from __future__ import absolute_import, division, print_function

from ..common import (
    ALIASES_LIMIT_MESSAGE,
    ApiError,
    _body_object,
    _first_error_message,
    MAX_BULK,
    _paginate,
    parse_forward,
    _q_bool,
    validate_alias_name,
)

__metaclass__ = type  # pylint: disable=invalid-name


def h_list_aliases(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    prefix = (query.get('q') or '').strip().lower()
    alias_prefix = (query.get('alias') or '').strip().lower()
    is_active = _q_bool(query, 'is_active')
    items = []
    for alias in sim.sorted_aliases(dom):
        if prefix:
            destinations = alias['forward'].lower().split(',')
            if not (alias['alias'].lower().startswith(prefix) or any(d.startswith(prefix) for d in destinations)):
                continue
        if alias_prefix and not alias['alias'].lower().startswith(alias_prefix):
            continue
        if is_active is False:  # aliases have no inactive state: every alias is active
            continue
        items.append(alias)
    page_items, limit, page = _paginate(items, query)
    return {
        'aliases': [dict(alias) for alias in page_items],
        'limit': limit,
        'page': page,
        'total': len(items),
        'success': True,
    }


def h_create_alias(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    body = _body_object(body)
    errors = {}
    name = forward = None
    try:
        name = validate_alias_name(body.get('alias'), allow_regex=True)
    except ApiError as err:
        errors.update(err.payload['errors'])
    try:
        forward = parse_forward(body.get('forward'), sim.destinations_limit)
    except ApiError as err:
        errors.update(err.payload['errors'])
    if errors:
        raise ApiError.fields(errors)
    if name in dom['aliases']:
        raise ApiError.field('alias', 'This alias already exists.')
    if sim.aliases_full(dom):
        raise ApiError.field('alias', ALIASES_LIMIT_MESSAGE % sim.aliases_limit)
    alias = sim.add_alias(dom, name, forward)
    return {'alias': dict(alias), 'success': True}


def h_bulk_aliases(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    body = _body_object(body)
    entries = body.get('aliases')
    if not isinstance(entries, list):
        raise ApiError.field('aliases', 'This field is required and must be a list of {"alias", "forward"} objects.')
    if len(entries) > MAX_BULK:
        raise ApiError.field('aliases', 'You can send at most %d aliases at once (got %d).' % (MAX_BULK, len(entries)))
    behavior = body.get('behavior')
    if behavior is None or behavior == '':
        behavior = 'add'
    if behavior not in ('add', 'update'):
        raise ApiError.field('behavior', 'Must be "add" or "update".')
    added, updated, failed = [], [], []
    for entry in entries:
        if not isinstance(entry, dict):
            failed.append({'alias': None, 'forward': None, 'error': 'Each entry must be an object with "alias" and "forward".'})
            continue
        raw_alias, raw_forward = entry.get('alias'), entry.get('forward')
        try:
            name = validate_alias_name(raw_alias, allow_regex=True)
            forward = parse_forward(raw_forward, sim.destinations_limit)
        except ApiError as err:
            failed.append({'alias': raw_alias, 'forward': raw_forward, 'error': _first_error_message(err)})
            continue
        existing = dom['aliases'].get(name)
        if existing is None and sim.aliases_full(dom):
            failed.append({'alias': name, 'forward': forward, 'error': ALIASES_LIMIT_MESSAGE % sim.aliases_limit})
        elif existing is None:
            alias = sim.add_alias(dom, name, forward)
            added.append({'alias': name, 'forward': forward, 'id': alias['id']})
        elif behavior == 'update':
            existing['forward'] = forward
            updated.append({'alias': name, 'forward': forward, 'id': existing['id']})
        else:
            failed.append({'alias': name, 'forward': forward, 'id': existing['id'], 'error': 'This alias already exists.'})
    return {'added': added, 'failed': failed, 'success': True, 'updated': updated}


def h_get_alias(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    alias, _how = sim.find_alias(dom, params['alias'])
    return {'alias': dict(alias), 'success': True}


def h_update_alias(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    alias, how = sim.find_alias(dom, params['alias'])
    body = _body_object(body)
    if how == 'name':
        forward = parse_forward(body.get('forward'), sim.destinations_limit)
        alias['forward'] = forward
        return {'alias': dict(alias), 'success': True}
    # Update by id: alias (rename) and forward are both optional.
    errors = {}
    new_name = new_forward = None
    if body.get('alias') not in (None, ''):
        try:
            new_name = validate_alias_name(body['alias'], allow_regex=True)
        except ApiError as err:
            errors.update(err.payload['errors'])
    if body.get('forward') not in (None, ''):
        try:
            new_forward = parse_forward(body['forward'], sim.destinations_limit)
        except ApiError as err:
            errors.update(err.payload['errors'])
    if errors:
        raise ApiError.fields(errors)
    if new_name is not None and new_name != alias['alias']:
        if new_name in dom['aliases']:
            raise ApiError.field('alias', 'This alias already exists.')
        del dom['aliases'][alias['alias']]
        alias['alias'] = new_name
        dom['aliases'][new_name] = alias
    if new_forward is not None:
        alias['forward'] = new_forward
    return {'alias': dict(alias), 'success': True}


def h_delete_alias(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    alias, _how = sim.find_alias(dom, params['alias'])
    del dom['aliases'][alias['alias']]
    return {'success': True}
