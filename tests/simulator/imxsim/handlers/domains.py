# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The /domains endpoints and the DNS check."""

from __future__ import absolute_import, division, print_function

from ..common import (
    ApiError,
    _body_object,
    _clean_optional,
    DOMAINS_LIMIT_MESSAGE,
    _is_http_url,
    normalize_domain,
    _paginate,
    _q_bool,
    ROUTING_ENGINES,
)

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
    errors = {}
    notification_email = _clean_optional(body.get('notification_email'))
    whitelabel = _clean_optional(body.get('whitelabel'))
    try:
        notification_email = sim.validate_notification_email(name, notification_email)
    except ApiError as err:
        errors.update(err.payload['errors'])
    try:
        whitelabel = sim.validate_whitelabel(whitelabel)
    except ApiError as err:
        errors.update(err.payload['errors'])
    if errors:
        raise ApiError.fields(errors)
    dom = sim.create_domain(name, notification_email=notification_email, whitelabel=whitelabel)
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
    errors = {}
    changes = {}
    if 'notification_email' in body:
        try:
            changes['notification_email'] = sim.validate_notification_email(dom['domain'], _clean_optional(body['notification_email']))
        except ApiError as err:
            errors.update(err.payload['errors'])
    if 'webhook' in body:
        webhook = _clean_optional(body['webhook'])
        if webhook is not None and (not isinstance(webhook, str) or not _is_http_url(webhook)):
            errors['webhook'] = ['"%s" is not a valid http(s) URL.' % (webhook,)]
        else:
            changes['webhook'] = webhook
    if 'whitelabel' in body:
        try:
            changes['whitelabel'] = sim.validate_whitelabel(_clean_optional(body['whitelabel']))
        except ApiError as err:
            errors.update(err.payload['errors'])
    if 'routing_engine' in body:
        engine = body['routing_engine']
        if engine is None:
            engine = ''
        if not isinstance(engine, str) or engine.strip().lower() not in ROUTING_ENGINES:
            errors['routing_engine'] = ['"%s" is not a routing engine: use "alias" or "rules".' % (engine,)]
        else:
            changes['routing_engine'] = engine.strip().lower()
    if errors:
        raise ApiError.fields(errors)
    dom.update(changes)
    return {'domain': sim.domain_object(dom), 'success': True}


def h_delete_domain(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    del sim.domains[dom['domain']]
    return {'success': True}


def h_check_domain(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    dns = sim.dns_state(dom['domain'])
    records = sim.dns_records(dom, dns)
    dns['checks'] += 1
    # The reference: "The endpoint will return true in success when the MX are well
    # configured, false otherwise" (HTTP 200 either way, with the records).
    if sim.check_shape == 'top':
        # The vendor's CLI reads valid, mx and spf at the top of the answer (api-facts.md).
        return dict(records, success=bool(records['valid']))
    return {'records': records, 'success': bool(records['valid'])}
