# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""SMTP credentials: reading them, deciding what to do, and reporting errors without the password.

The API never gives a password back, so the only facts a module can read are which
user names exist on a domain; everything here works from that.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.improvmx.email.plugins.module_utils import api
from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError, ImprovMXNotFound, api_path

REDACTED = api.REDACTED

PUBLIC_FIELDS_EXCLUDED = ('password',)

PREMIUM_REQUIRED = ('SMTP credentials need a premium ImprovMX plan, and this account does not have one '
                    '(or its plan does not include SMTP credentials); upgrade the account on the ImprovMX '
                    'dashboard to manage them')


class DomainMissing(Exception):
    """The domain whose credentials were asked for is not in the account."""

    def __init__(self, domain):
        super(DomainMissing, self).__init__(
            'the domain %s is not in the ImprovMX account; add it first with improvmx.email.improvmx_domain' % domain)
        self.domain = domain


def credentials_path(domain, username=None):
    """The API path of a domain's credential list, or of one credential."""
    if username is None:
        return api_path('domains', domain, 'credentials', collection=True)
    return api_path('domains', domain, 'credentials', username)


def public_credential(obj):
    """A credential as modules return it: what the API gave, minus anything that could hold a password."""
    if not isinstance(obj, dict):
        return {}
    return dict((key, value) for key, value in obj.items()
                if not any(word in str(key).lower() for word in PUBLIC_FIELDS_EXCLUDED))


def list_credentials(client, domain):
    """Every credential of the domain (public fields only); DomainMissing when the domain does not exist."""
    try:
        answer = client.get(credentials_path(domain))
    except ImprovMXNotFound:
        raise DomainMissing(domain)
    items = (answer or {}).get('credentials') or []
    return [public_credential(item) for item in items if isinstance(item, dict)]


def find_credential(credentials, username):
    """The credential with this user name (compared without case), or None."""
    wanted = username.lower()
    for credential in credentials:
        if str(credential.get('username', '')).lower() == wanted:
            return credential
    return None


def plan_present(exists, update_password, password_given):
    """What state=present must do: 'create', 'update' or None (nothing).

    Raises ValueError with the sentence to show when the password is needed and missing.
    """
    if not exists:
        if not password_given:
            raise ValueError('password is required to create the SMTP credential, which does not exist yet')
        return 'create'
    if update_password == 'always':
        if not password_given:
            raise ValueError('password is required with update_password=always')
        return 'update'
    return None


def check_password(value):
    """Reject a password that cannot be meant; its value never appears in the message."""
    if not isinstance(value, str):
        raise ValueError('must be a string')
    if value == '':
        raise ValueError('is empty: give the password the SMTP credential should have')
    if not value.strip():
        raise ValueError('is only white space: give the password the SMTP credential should have')
    return value


def redact(value, secrets):
    """Replace every secret found in value (a string, or lists and dicts of them) with REDACTED.

    The mechanism lives in the client (api.redact): every form of a secret (as is, with white
    space changed, JSON-escaped, URL-encoded) is replaced. A module that holds a password should
    also register it with client.add_secret(), so that the client's own messages and api_retries
    never show it.
    """
    return api.redact(value, secrets)


def explain_error(error, secrets=()):
    """An ImprovMXError fit to show: the premium plan spelled out for 403, secrets removed."""
    if not isinstance(error, ImprovMXError):
        return error
    message = str(error)
    if error.status == 403:
        message = '%s. The API answered: %s' % (PREMIUM_REQUIRED, message)
    explained = ImprovMXError(
        redact(message, secrets),
        method=error.method,
        path=error.path,
        status=error.status,
        errors=redact(error.errors, secrets) if error.errors else error.errors,
        ambiguous=error.ambiguous,
        timeout=error.timeout,
    )
    return explained


def dkim_warning(domain, username, check_mode=False):
    """The warning for requires_new_mx_check: the domain's first credential needs two DKIM CNAME records."""
    verb = 'would be' if check_mode else 'is'
    return ('The SMTP credential %s@%s %s the first of the domain, so ImprovMX now signs its mail with DKIM: '
            'the domain needs two new DKIM CNAME records in its DNS and is marked invalid until they exist. '
            'Run improvmx.email.improvmx_domain_check for domain %s to see the exact records to add.'
            % (username, domain, verb, domain))
