# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""SMTP credentials of a domain: /domains/:domain/credentials/, what to do, and errors without the password.

The API never gives a password back, so the only facts a module can read are which
user names exist on a domain; everything here works from that.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.improvmx.email.plugins.module_utils import api
from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError, api_path
from ansible_collections.improvmx.email.plugins.module_utils.resource import Confirmed, DomainMissing, DomainResource, TaskError, unwrap

REDACTED = api.REDACTED

PUBLIC_FIELDS_EXCLUDED = ('password',)

PREMIUM_REQUIRED = ('SMTP credentials need a premium ImprovMX plan, and this account does not have one '
                    '(or its plan does not include SMTP credentials); upgrade the account on the ImprovMX '
                    'dashboard to manage them')


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
    with DomainResource(client, domain).settled():
        answer = client.get(credentials_path(domain))
    items = (answer or {}).get('credentials') or []
    return [public_credential(item) for item in items if isinstance(item, dict)]


def credential_view(domain, credential, password_set):
    """What the diff shows of a credential ({} when absent): never a password, only whether one was set."""
    if not credential:
        return {}
    return {'domain': domain, 'username': credential.get('username'), 'password_set': password_set}


def limited_flag(credential):
    """(known, value) of a credential's is_limited: known is False when the API did not report it."""
    credential = credential or {}
    return 'is_limited' in credential, credential.get('is_limited')


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


class Credentials(DomainResource):
    """The SMTP credentials of one domain; objects are the public fields of the API's credentials."""

    def list(self):
        """Every credential of the domain; DomainMissing when the domain is not in the account."""
        return list_credentials(self.client, self.domain)

    def fetch(self, username):
        """One credential, or None when it (or its domain) is not there."""
        try:
            return find_credential(self.list(), username)
        except DomainMissing:
            return None

    def create(self, username, password, first, is_limited=None):
        """Add a credential: (created, credential, requires_new_mx_check).

        first says whether the domain had no credential before (the one that requires the
        new DKIM check, when the answer is lost). created is False when another run added it first.
        is_limited (a bool) is sent when given.
        """
        data = {'username': username, 'password': password}
        if is_limited is not None:
            data['is_limited'] = is_limited
        created, answer = super(Credentials, self).create(
            credentials_path(self.domain), data, 'credential',
            reread=lambda: self.fetch(username), raw=True)
        if not created:
            return False, answer, False
        if isinstance(answer, Confirmed):
            return True, answer.value, first
        credential = public_credential(unwrap(answer, 'credential')) or self.fetch(username) or {'username': username}
        return True, credential, bool((answer or {}).get('requires_new_mx_check'))

    def set_password(self, username, password, current):
        """PUT a new password; returns the credential.

        The password cannot be read back to confirm a PUT whose answer was lost; the same PUT
        again sets the same password, so the client sends it once more instead.
        """
        try:
            answer = self.write('PUT', credentials_path(self.domain, username), {'password': password},
                                'credential', idempotent=True)
        except ImprovMXError as exc:
            if exc.ambiguous:
                exc.message = ('%s. The password cannot be read back, so whether it was changed is unknown; '
                               'running the task again is safe (it sets the same password)' % exc.message)
            raise
        return public_credential(answer) or current

    def set_limited(self, username, is_limited, current):
        """PUT is_limited (whether the credential may only send as the domain's aliases); returns the credential."""
        answer = self.write('PUT', credentials_path(self.domain, username), {'is_limited': is_limited}, 'credential',
                            reread=lambda: self.fetch(username),
                            applied=lambda now: now is not None and now.get('is_limited') == is_limited)
        return public_credential(answer) or dict(current or {}, is_limited=is_limited)

    def discard(self, username):
        """Delete a credential: True when this run removed it, False when another run had."""
        return self.delete(credentials_path(self.domain, username), reread=lambda: self.fetch(username))


class CredentialTask(object):
    """One SMTP credential made present (with its password and is_limited) or absent: what improvmx_credential runs.

    run() returns (changed, before, after, password_set, requires_check); warnings collects what the
    module should warn about.
    """

    def __init__(self, credentials, username, password=None, update_password='on_create', is_limited=None, check_mode=False):
        self.credentials = credentials
        self.username = username
        self.password = password
        self.always = update_password == 'always'
        self.update_password = update_password
        self.is_limited = is_limited
        self.check_mode = check_mode
        self.warnings = []

    def who(self):
        return '%s@%s' % (self.username, self.credentials.domain)

    def existing(self, state):
        """The domain's credentials; a domain that is not there has none (in check mode, or to make one absent)."""
        try:
            return self.credentials.list()
        except DomainMissing:
            if state == 'present' and not self.check_mode:
                raise
            return []

    def absent(self):
        before = find_credential(self.existing('absent'), self.username)
        # discard() is False when someone else removed it meanwhile: absent all the same.
        changed = before is not None and (self.check_mode or self.credentials.discard(self.username))
        return changed, before, None, False, False

    def present(self):
        existing = self.existing('present')
        before = after = find_credential(existing, self.username)
        requires_check = False
        try:
            action = plan_present(before is not None, self.update_password, self.password is not None)
        except ValueError as exc:
            raise TaskError('%s (SMTP credential %s)' % (exc, self.who()))
        changed = password_set = action is not None
        if self.check_mode and changed:
            after = before or {'username': self.username}
            requires_check = action == 'create' and not existing
        elif action == 'create':
            changed, after, requires_check = self.credentials.create(self.username, self.password, not existing,
                                                                     is_limited=self.is_limited)
            if not changed and self.always:
                changed, after = True, self.credentials.set_password(self.username, self.password, after)
            password_set = changed
        elif action == 'update':
            after = self.credentials.set_password(self.username, self.password, before)
        if self.is_limited is not None:
            flag_changed, after = self.converge_limited(before, after, action)
            changed = changed or flag_changed
        return changed, before, after, password_set, requires_check

    def converge_limited(self, before, after, action):
        """Make is_limited the wanted value: (changed, credential after)."""
        wanted = self.is_limited
        if action == 'create' and self.check_mode:
            return False, dict(after, is_limited=wanted)
        current = after or before or {}
        known, value = limited_flag(current)
        if not known:
            if action != 'create':
                self.warnings.append('the API does not report is_limited for the SMTP credential %s, so it cannot be '
                                     'compared; it was left as it is' % self.who())
            return False, after
        if value == wanted:
            return False, after
        if self.check_mode:
            return True, dict(current, is_limited=wanted)
        return True, self.credentials.set_limited(self.username, wanted, current)
