# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The /domains/:d/credentials endpoints (SMTP credentials, premium only)."""

from __future__ import absolute_import, division, print_function

from ..common import ApiError, _body_object, CREDENTIALS_LIMIT_MESSAGE, MIN_PASSWORD, validate_alias_name

__metaclass__ = type  # pylint: disable=invalid-name


def h_list_credentials(sim, params, query, body):
    sim.require_premium()
    dom = sim.get_domain(params['domain'])
    return {'credentials': [sim.credential_object(c) for c in dom['credentials'].values()], 'success': True}


def _validate_password(value):
    if value is None or value == '':
        raise ApiError.field('password', 'This field is required.')
    if not isinstance(value, str):
        raise ApiError.field('password', 'Must be a string.')
    if len(value) < MIN_PASSWORD:
        raise ApiError.field('password', 'The password must be at least %d characters long.' % MIN_PASSWORD)
    return value


def _validate_is_limited(body, errors):
    """The optional ``is_limited`` flag: a boolean, or None when not given."""
    value = body.get('is_limited')
    if value is None or isinstance(value, bool):
        return value
    errors['is_limited'] = ['Must be a boolean.']
    return None


def h_create_credential(sim, params, query, body):
    sim.require_premium()
    dom = sim.get_domain(params['domain'])
    body = _body_object(body)
    errors = {}
    username = password = None
    is_limited = _validate_is_limited(body, errors)
    try:
        username = validate_alias_name(body.get('username'), field='username', allow_star=False)
    except ApiError as err:
        errors.update(err.payload['errors'])
    try:
        password = _validate_password(body.get('password'))
    except ApiError as err:
        errors.update(err.payload['errors'])
    if errors:
        raise ApiError.fields(errors)
    if username in dom['credentials']:
        raise ApiError.field('username', 'The SMTP account %s already exists.' % username)
    if len(dom['credentials']) >= sim.credentials_limit:
        raise ApiError.field('username', CREDENTIALS_LIMIT_MESSAGE)
    first = not dom['credentials']
    cred = sim.add_credential(dom, username, password, is_limited=bool(is_limited))
    return {'credential': sim.credential_object(cred), 'requires_new_mx_check': first, 'success': True}


def h_update_credential(sim, params, query, body):
    sim.require_premium()
    dom = sim.get_domain(params['domain'])
    cred = sim.find_credential(dom, params['username'])
    body = _body_object(body)
    errors = {}
    is_limited = _validate_is_limited(body, errors)
    password = None
    if body.get('password') not in (None, '') or is_limited is None:
        try:
            password = _validate_password(body.get('password'))
        except ApiError as err:
            errors.update(err.payload['errors'])
    if errors:
        raise ApiError.fields(errors)
    if password is not None:
        cred['password'] = password
    if is_limited is not None:
        cred['is_limited'] = is_limited
    return {'credential': sim.credential_object(cred), 'success': True}


def h_delete_credential(sim, params, query, body):
    sim.require_premium()
    dom = sim.get_domain(params['domain'])
    cred = sim.find_credential(dom, params['username'])
    del dom['credentials'][cred['username']]
    return {'success': True}
