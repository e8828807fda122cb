# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The /domains endpoints (the DNS check: handlers/dns_check.py)."""

from __future__ import absolute_import, division, print_function

from ..common import ApiError, DOMAINS_LIMIT_MESSAGE, _body_object, normalize_domain, _paginate, _q_bool
from ..state import domain_changes

__metaclass__ = type  # pylint: disable=invalid-name


def h_list_domains(sim, params, query, body):
    prefix = (query.get('q') or '').strip().lower()
    is_active = _q_bool(query, 'is_active')
    items = []
    for dom in sim.domains.values():
        if prefix and not (dom['domain'].startswith(prefix) or dom['display'].lower().startswith(prefix)):
            continue
        if is_active is not None and sim.domain_active(dom) != is_active:
            continue
        items.append(dom)
    page_items, limit, page = _paginate(items, query)
    return {
        'domains': [sim.domain_object(dom) for dom in page_items],
        'total': len(items),
        'limit': limit,
        'page': page,
        'success': True,
    }


def h_create_domain(sim, params, query, body):
    body = _body_object(body)
    raw = body.get('domain')
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ApiError.field('domain', 'This field is required.')
    norm = normalize_domain(raw)
    if norm is None:
        raise ApiError.field('domain', '"%s" is not a valid domain name.' % raw)
    name = norm[0]
    if name in sim.domains:
        raise ApiError.field('domain', 'The domain %s is already registered.' % name)
    if sim.domains_limit is not None and len(sim.domains) >= sim.domains_limit:
        raise ApiError.field('domain', DOMAINS_LIMIT_MESSAGE % sim.domains_limit)
    dom = sim.create_domain(name, **domain_changes(sim, name, body, 'create'))
    return {'domain': sim.domain_object(dom), 'success': True}


def h_get_domain(sim, params, query, body):
    return {'domain': sim.domain_object(sim.get_domain(params['domain'])), 'success': True}


def h_update_domain(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    body = _body_object(body)
    if 'domain' in body:
        norm = normalize_domain(body['domain']) if body['domain'] else None
        if norm is None or norm[0] != dom['domain']:
            raise ApiError.field('domain', 'It is not possible to change the domain name.')
    changes = domain_changes(sim, dom['domain'], body, 'update')
    dom.update(changes)
    return {'domain': sim.domain_object(dom), 'success': True}


def h_delete_domain(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    del sim.domains[dom['domain']]
    return {'success': True}
